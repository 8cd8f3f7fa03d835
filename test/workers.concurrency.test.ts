/**
 * DESIGN.md invariant 1: a job is executed by at most one worker at a time. 200 jobs, two
 * `aidp worker --count 2` processes (four workers racing for every claim) and the fake
 * claude: every job completes with exactly one execution, the fake ran exactly 200 times
 * with 200 distinct prompts, and both workers stop cleanly on SIGTERM.
 */
import assert from "node:assert/strict"
import { join } from "node:path"
import { test } from "node:test"
import { finished, startCli, type CliResult } from "./support/cli.js"
import { workerFleet } from "./support/fleet.js"
import { isRunning, readRecords, waitForProgress } from "./support/wait.js"

const JOBS = 200
const fleet = workerFleet("aidp-concurrency-")

test("200 jobs on 4 workers in 2 processes: each runs exactly once", { timeout: 600_000 }, async () => {
  const { db, commands, dir, workers } = fleet
  const record = join(dir, "record.jsonl")
  for (let n = 0; n < JOBS; n++) await commands.enqueue({ prompt: `job ${n}`, cwd: dir })

  const env = { FAKE_AGENT_MODE: "success", FAKE_AGENT_RECORD: record, QUE_WORKER_COUNT: "1" }
  const outputs: Array<Promise<CliResult>> = []
  for (let i = 0; i < 2; i++) {
    const worker = startCli(db, ["worker", "--count", "2"], { env, cwd: dir })
    workers.push(worker)
    outputs.push(finished(worker, { timeoutMs: 590_000 }))
  }

  // However long a loaded machine takes, as long as jobs keep finishing.
  await waitForProgress("every job to finish", async () => {
    const [row] = await db.sql<Array<{ open: number }>>`
      select count(*)::int as open from jobs where status not in ('completed', 'failed', 'cancelled')`
    return row!.open
  }, 30_000)

  for (const worker of workers) worker.kill("SIGTERM")
  const results = await Promise.all(outputs)
  for (const result of results) {
    assert.equal(result.code, 0, `a worker exited ${result.code} (${result.signal}): ${result.stderr.slice(-2000)}`)
  }

  const jobs = await db.sql<Array<{ id: string; status: string; attempts: number }>>`select id, status, attempts from jobs`
  assert.equal(jobs.length, JOBS)
  assert.deepEqual(jobs.filter((job) => job.status !== "completed" || job.attempts !== 1), [], "jobs not completed on their first attempt")

  const executions = await db.sql<Array<{ job_id: string; status: string; worker_id: string }>>`
    select job_id, status, worker_id from job_executions`
  assert.equal(executions.length, JOBS, "one execution per job")
  assert.equal(new Set(executions.map((e) => e.job_id)).size, JOBS, "executions of distinct jobs")
  assert.ok(executions.every((e) => e.status === "succeeded"))
  // Both processes took part (otherwise the race was never run).
  assert.equal(new Set(executions.map((e) => e.worker_id)).size, 2, "both worker processes claimed jobs")

  const runs = readRecords(record)
  assert.equal(runs.length, JOBS, "the fake claude ran once per job")
  const prompts = new Set(runs.map((run) => run.prompt))
  assert.equal(prompts.size, JOBS, "every prompt ran once")
  for (let n = 0; n < JOBS; n++) assert.ok(prompts.has(`job ${n}`), `job ${n} ran`)

  // Each started execution's events: one ExecutionStarted and one ExecutionSucceeded per job.
  const [counts] = await db.sql<Array<{ started: number; succeeded: number }>>`
    select count(*) filter (where type = 'ExecutionStarted')::int as started,
           count(*) filter (where type = 'ExecutionSucceeded')::int as succeeded
    from job_events`
  assert.deepEqual(counts, { started: JOBS, succeeded: JOBS })

  assert.ok(runs.every((run) => !isRunning(run.pid)), "no fake claude is left running")
})
