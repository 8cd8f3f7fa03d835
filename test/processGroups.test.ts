/**
 * Orphaned provider process groups (src/workers/processGroups.ts) are stopped by the workers
 * of their own installation only: a group recorded by a worker of schema A that died
 * (SIGKILL, no exit hook) is left alone by a worker of schema B on the same host, and stopped
 * by the next worker of A. Two aidp installations (or two test runs) on one host therefore
 * never stop each other's agents.
 */
import assert from "node:assert/strict"
import { spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { test } from "node:test"
import { reapOrphans } from "../src/workers/processGroups.js"
import { exited, isRunning, killGroup, waitFor } from "./support/wait.js"

/** A schema name of this test alone (no database needed: the records are files of this host). */
const schemaName = () => `t_${randomBytes(6).toString("hex")}`

/**
 * Runs a stand-in worker of `schema` in a child process: it starts a provider-like process
 * in a group of its own, tracks it as a worker does, and dies by SIGKILL. Resolves to the
 * orphaned group's id.
 */
const orphanOf = async (schema: string): Promise<number> => {
  const module = new URL("../src/workers/processGroups.ts", import.meta.url).href
  const script = `import { spawn } from "node:child_process"
import { trackGroup } from ${JSON.stringify(module)}
const agent = spawn(process.execPath, ["-e", "setInterval(() => {}, 1 << 30)"], { detached: true, stdio: "ignore" })
trackGroup(${JSON.stringify(schema)}, agent.pid)
process.stdout.write(agent.pid + "\\n", () => process.kill(process.pid, "SIGKILL"))`
  const worker = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] })
  let stdout = ""
  worker.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
  const { signal } = await exited(worker)
  assert.equal(signal, "SIGKILL", `the stand-in worker died by SIGKILL (stdout ${JSON.stringify(stdout)})`)
  const pgid = Number(stdout.trim())
  assert.ok(Number.isInteger(pgid) && pgid > 0, `the agent's pid, got ${JSON.stringify(stdout)}`)
  return pgid
}

test("a dead worker's provider group is stopped by its own installation's reaper, never by another's", async (t) => {
  const own = schemaName()
  const other = schemaName()
  const pgid = await orphanOf(own)
  t.after(() => killGroup(pgid))
  assert.ok(isRunning(pgid), "the orphaned agent runs on after its worker died")

  assert.deepEqual(reapOrphans(other), [], "another installation's worker stops nothing")
  assert.ok(isRunning(pgid), "another installation's worker left the agent alone")

  assert.deepEqual(reapOrphans(own), [pgid])
  await waitFor("the orphaned agent to be stopped", () => !isRunning(pgid), 10_000, 20)
  assert.deepEqual(reapOrphans(own), [], "a stopped group's record is forgotten")
})
