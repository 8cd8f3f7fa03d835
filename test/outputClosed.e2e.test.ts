/**
 * End to end: a reader of aidp's output that goes away (`aidp execute next | head -2`,
 * `aidp worker 2>&1 | head`) stops the command as Ctrl-C would, rather than leaving a job
 * running under a process that has exited; the command exits 141 (SIGPIPE's convention).
 */
import assert from "node:assert/strict"
import { once } from "node:events"
import { describe, test } from "node:test"
import { finished, runCli, runJson, startCli } from "./support/cli.js"
import { e2eSuite, showJob } from "./support/e2e.js"

describe("output closed by its reader", () => {
  const suite = e2eSuite()

  test("execute cancels its job and exits 141 when its stdout is closed", async () => {
    const cwd = await suite.dirs.make()
    const child = startCli(suite.db, ["execute", "next"], { cwd, env: { FAKE_AGENT_MODE: "slow", FAKE_AGENT_DELAY_MS: "1000" } })
    const done = finished(child, { timeoutMs: 30_000 })
    // The reader leaves after the first line, as `head -1` does; the next line meets EPIPE.
    await once(child.stdout!, "data")
    child.stdout!.destroy()
    const result = await done
    assert.equal(result.code, 141, result.stderr)
    assert.match(result.stderr, /^aidp: Step 00_PRD was cancelled \(job [0-9a-f-]{36}\)\.\n$/)
    const [job] = (await runJson<Array<any>>(suite.db, ["jobs", "list", "--json"])).filter((j) => j.cwd === cwd)
    assert.equal(job.status, "cancelled")
    assert.equal(job.error, "Cancelled by user (output closed).")
  })

  test("execute whose reader is gone before its first line (| true) cancels its job too", async () => {
    const cwd = await suite.dirs.make()
    const child = startCli(suite.db, ["execute", "next"], { cwd, env: { FAKE_AGENT_MODE: "slow", FAKE_AGENT_DELAY_MS: "1000" } })
    child.stdout!.destroy()
    const result = await finished(child, { timeoutMs: 30_000 })
    assert.equal(result.code, 141, result.stderr)
    const [job] = (await runJson<Array<any>>(suite.db, ["jobs", "list", "--json"])).filter((j) => j.cwd === cwd)
    assert.equal(job.status, "cancelled")
  })

  test("a worker whose stderr is closed stops gracefully: its execution abandoned, the job queued again, exit 141", async () => {
    const worker = startCli(suite.db, ["worker"], { env: { FAKE_AGENT_MODE: "slow", FAKE_AGENT_DELAY_MS: "1000" } })
    const done = finished(worker, { timeoutMs: 30_000 })
    await once(worker.stderr!, "data") // "workers started"
    worker.stderr!.destroy()
    // The claim's log line ("execution started") is the first write to meet the closed pipe.
    const enqueued = await runCli(suite.db, ["jobs", "enqueue", "--provider", "claude", "--prompt", "Wait."])
    assert.equal(enqueued.code, 0, enqueued.stderr)
    const result = await done
    assert.equal(result.code, 141)
    // Recorded before the worker exited.
    const job = await showJob(suite.db, enqueued.stdout.trim())
    assert.equal(job.status, "queued")
    assert.equal(job.executions[0].status, "abandoned")
    assert.equal(job.executions[0].error, "The worker shut down during the execution.")
  })
})
