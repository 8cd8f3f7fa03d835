/**
 * The monitor's log view in a pseudo-terminal (built CLI, fake cursor-agent, real
 * PostgreSQL): `l` shows the agent's activity, `v` the stored lines and back.
 */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { CLI, cliEnv, runJson } from "./support/cli.js"
import { e2eSuite, waitForStatus, withWorker } from "./support/e2e.js"
import { spawnInPty } from "./support/pty.js"

describe("the monitor's log view in a pseudo-terminal", { timeout: 90_000 }, () => {
  const suite = e2eSuite()

  it("l shows the activity, v the stored lines, v again the activity", async () => {
    const cwd = await suite.dirs.make({ git: false })
    const job = await runJson(suite.db, ["jobs", "enqueue", "--provider", "cursor", "--prompt", "Look at the docs.", "--cwd", cwd, "--json"])
    await withWorker(suite.db, { FAKE_AGENT_MODE: "activity" }, () => waitForStatus(suite.db, job.id, "completed"))
    const env = Object.fromEntries(Object.entries(cliEnv(suite.db)).filter((entry): entry is [string, string] => entry[1] !== undefined))
    const monitor = spawnInPty(process.execPath, [CLI, "jobs"], { cols: 80, rows: 24, env })
    try {
      await monitor.waitForText(job.id.slice(0, 8), 20_000)
      await monitor.press("l")
      await monitor.waitForText(/result {3}succeeded in 5\.1s/, 20_000)
      const activity = monitor.screenText()
      assert.match(activity, /agent {4}I'll list the docs\./)
      assert.match(activity, /tool {5}shell ls docs/)
      assert.doesNotMatch(activity, /\{"type"/)
      await monitor.press("v")
      await monitor.waitForText(/stdout \{"type":"result","subtype":"success"/, 10_000)
      assert.match(monitor.screenText(), /v activity/)
      await monitor.press("v")
      await monitor.waitForText(/result {3}succeeded in 5\.1s/, 10_000)
      // q leaves the details for the list; a second q quits.
      await monitor.press("q")
      await monitor.waitForText(/Recently completed \(1\)/, 10_000)
      await monitor.press("q")
      assert.equal(await monitor.exitCode, 0)
    } finally {
      monitor.kill("SIGKILL")
    }
  })
})
