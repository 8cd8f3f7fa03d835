/**
 * DESIGN.md invariant 4: a cancelled or timed-out job leaves no provider process (or
 * grandchild) running. The fake claude ignores SIGTERM and leaves a grandchild that ignores
 * it too, so only the SIGKILL to the process group after the grace (10 s) ends them.
 * Also: a cancel whose notification never arrives is honoured by the periodic sweep, and
 * Ctrl-C on `aidp execute` cancels its job and exits non-zero.
 */
import assert from "node:assert/strict"
import type { ChildProcess } from "node:child_process"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { after, before, beforeEach, test, type TestContext } from "node:test"
import { DEFAULT_GRACE_MS } from "../src/workers/runner.js"
import { finished, runCli, startCli } from "./support/cli.js"
import { commandsFor, type Commands } from "./support/commands.js"
import { createTestDb, type TestDb } from "./support/db.js"
import { isRunning, killChild, killFakeRun, readRecords, signalDelivered, waitFor, waitForRuns } from "./support/wait.js"

const LEASE_MS = 2_000
/**
 * Longest a stopped provider may take to end: SIGTERM, the grace (src/workers/runner.ts)
 * and SIGKILL, with room for a loaded machine. An upper bound only.
 */
const ENDED_MS = DEFAULT_GRACE_MS + 30_000
/** Time limit of each test and of each worker it starts (killed after it, whatever happens). */
const TEST_MS = 120_000
let db: TestDb
let dir: string
let commands: Commands
const started: ChildProcess[] = []
const records: string[] = []

const dbs: TestDb[] = []
const handlers: Commands[] = []

// A schema per test: a job left behind by a failed test cannot be claimed by the next one's worker.
beforeEach(async () => {
  db = await createTestDb()
  dbs.push(db)
  commands = commandsFor(db)
  handlers.push(commands)
})

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "aidp-cancel-"))
})

after(async () => {
  for (const child of started) killChild(child)
  for (const file of records) for (const run of readRecords(file)) killFakeRun(run)
  for (const each of handlers) await each.dispose()
  for (const each of dbs) await each.drop()
  await rm(dir, { recursive: true, force: true })
})

/** Starts a worker whose fake claude runs in `mode`, recording into a new file. */
const worker = (t: TestContext, name: string, mode: string) => {
  const record = join(dir, `${name}.jsonl`)
  records.push(record)
  const child = startCli(db, ["worker"], {
    env: { AIDP_WORKER_LEASE_MS: String(LEASE_MS), FAKE_AGENT_MODE: mode, FAKE_AGENT_DELAY_MS: "60000", FAKE_AGENT_RECORD: record },
    cwd: dir
  })
  started.push(child)
  const result = finished(child, { timeoutMs: TEST_MS })
  // What the worker said so far, for a failure's message (finished() has the rest at exit).
  let said = ""
  child.stderr?.on("data", (chunk: string | Buffer) => (said += String(chunk)))
  // A failed assertion must not leave this worker claiming the next test's job.
  t.after(async () => {
    killChild(child)
    await result
  })
  const stop = async () => {
    child.kill("SIGTERM")
    const done = await result
    assert.equal(done.code, 0, `worker exited ${done.code}: ${done.stderr.slice(-2000)}`)
  }
  /** `wait`, or its failure with the job's row, its executions and the worker's last words. */
  const explained = async <T>(jobId: string, wait: Promise<T>): Promise<T> =>
    wait.catch(async (error: unknown) => {
      const state = { job: await job(jobId), executions: await executions(jobId) }
      throw new Error(`${error instanceof Error ? error.message : String(error)}\n${JSON.stringify(state)}\nworker stderr (end):\n${said.slice(-4000)}`)
    })
  return { child, record, result, stop, explained }
}

const job = async (id: string) =>
  (await db.sql<Array<{ status: string; error_kind: string | null; error: string | null }>>`
    select status, error_kind, error from jobs where id = ${id}`)[0]!

const executions = async (id: string) =>
  [...await db.sql<Array<{ status: string; error_kind: string | null }>>`
    select status, error_kind from job_executions where job_id = ${id} order by attempt`]

const running = (id: string) => waitFor(`job ${id} to run`, async () => (await job(id)).status === "running")

test("cancel stops a provider that ignores SIGTERM, and its grandchild", { timeout: TEST_MS }, async (t) => {
  const id = await commands.enqueue({ prompt: "cancel me", cwd: dir })
  const w = worker(t, "cancel", "ignore_sigterm,leave_child")
  const [run] = await waitForRuns(w.record)
  await running(id)
  assert.ok(run!.grandchildPid !== undefined && isRunning(run!.grandchildPid), "the grandchild runs")

  const cancel = await runCli(db, ["jobs", "cancel", id.slice(0, 8)])
  assert.equal(cancel.code, 0, cancel.stderr)
  assert.match(cancel.stdout, /requested/)
  await w.explained(id, waitFor("the job to be cancelled", async () => (await job(id)).status === "cancelled", ENDED_MS))

  const rows = await executions(id)
  assert.deepEqual(rows.map((e) => e.status), ["cancelled"])
  assert.ok(!isRunning(run!.pid), `the fake claude ${run!.pid} is gone`)
  assert.ok(!isRunning(run!.grandchildPid!), `its grandchild ${run!.grandchildPid} is gone`)
  await w.stop()
})

test("a timed-out job fails with errorKind timeout and leaves no process", { timeout: TEST_MS }, async (t) => {
  const id = await commands.enqueue({ prompt: "time me out", cwd: dir, timeoutMs: 2_000, maxAttempts: 1 })
  const w = worker(t, "timeout", "slow,leave_child")
  const [run] = await waitForRuns(w.record)
  await waitFor("the job to fail", async () => (await job(id)).status === "failed", ENDED_MS)
  const failed = await job(id)
  assert.equal(failed.error_kind, "timeout")
  assert.deepEqual(await executions(id), [{ status: "failed", error_kind: "timeout" }])
  assert.ok(!isRunning(run!.pid), "the fake claude is gone")
  assert.ok(!isRunning(run!.grandchildPid!), "its grandchild is gone")
  await w.stop()
})

test("aidp jobs enqueue --timeout: a hanging provider times out through the CLI too", { timeout: TEST_MS }, async (t) => {
  const enqueued = await runCli(db, ["jobs", "enqueue", "--provider", "claude", "--prompt", "hang", "--cwd", dir, "--timeout", "2", "--max-attempts", "1"])
  assert.equal(enqueued.code, 0, enqueued.stderr)
  const id = enqueued.stdout.trim()
  const w = worker(t, "timeout-cli", "ignore_sigterm,leave_child")
  const [run] = await waitForRuns(w.record)
  // SIGTERM is ignored: the group is killed after the 10 s grace.
  await waitFor("the job to fail", async () => (await job(id)).status === "failed", ENDED_MS, 200)
  assert.equal((await job(id)).error_kind, "timeout")
  assert.ok(!isRunning(run!.pid), "the fake claude is gone")
  assert.ok(!isRunning(run!.grandchildPid!), "its grandchild is gone")
  await w.stop()
})

test("a cancel that arrives during a timeout's grace ends the job cancelled, not timed out", { timeout: TEST_MS }, async (t) => {
  const enqueued = await runCli(db, ["jobs", "enqueue", "--provider", "claude", "--prompt", "hang", "--cwd", dir, "--timeout", "3", "--max-attempts", "1"])
  assert.equal(enqueued.code, 0, enqueued.stderr)
  const id = enqueued.stdout.trim()
  const w = worker(t, "timeout-then-cancel", "ignore_sigterm")
  const [run] = await waitForRuns(w.record)
  // The timeout fires after 3 s (time for the fake to start and install its SIGTERM handler,
  // even on a loaded machine) and sends SIGTERM, which the fake ignores (saying so on
  // stderr, which lands in the job's log): from then on the 10 s grace is under way.
  await waitFor("the timeout's SIGTERM to be ignored", async () => {
    const [row] = await db.sql<Array<{ n: number }>>`
      select count(*)::int as n from job_logs where job_id = ${id} and stream = 'stderr' and message like '%ignoring SIGTERM%'`
    return row!.n > 0
  })
  assert.equal((await job(id)).status, "running")
  // Requested in-process, not through a CLI that may take seconds to start on a loaded
  // machine: the request must land inside the grace (aidp jobs cancel is tested above).
  await commands.handle(id, { _tag: "RequestCancel", requestedBy: "user" })
  await w.explained(id, waitFor("the job to end", async () => ["failed", "cancelled"].includes((await job(id)).status), ENDED_MS, 200))
  assert.equal((await job(id)).status, "cancelled", JSON.stringify(await executions(id)))
  assert.ok(!isRunning(run!.pid), "the fake claude is gone")
  await w.stop()
})

test("a cancel whose notification is lost is honoured by the periodic sweep", { timeout: TEST_MS }, async (t) => {
  const id = await commands.enqueue({ prompt: "cancel me quietly", cwd: dir })
  const w = worker(t, "sweep", "slow")
  const [run] = await waitForRuns(w.record)
  await running(id)
  // Appended with its NOTIFY on a channel nobody listens to: only the sweep (every lease/2) can see it.
  const quiet = commandsFor(db, { channel: `${db.schema}_nobody` })
  try {
    await quiet.handle(id, { _tag: "RequestCancel", requestedBy: "test" })
  } finally {
    await quiet.dispose()
  }
  await waitFor("the job to be cancelled", async () => (await job(id)).status === "cancelled", LEASE_MS * 2 + 15_000)
  assert.ok(!isRunning(run!.pid), "the fake claude is gone")
  await w.stop()
})

test("a second SIGTERM stops the worker at once and still kills the provider's process group", { timeout: TEST_MS }, async (t) => {
  const id = await commands.enqueue({ prompt: "stop me twice", cwd: dir })
  const w = worker(t, "twice", "ignore_sigterm,leave_child")
  const [run] = await waitForRuns(w.record)
  await running(id)
  w.child.kill("SIGTERM")
  // The graceful stop waits out the provider's 10 s grace; the impatient user signals again,
  // once the first signal has been delivered (two pending at once would merge into one).
  await signalDelivered(w.child.pid!, "SIGTERM")
  w.child.kill("SIGTERM")
  const done = await w.result
  assert.equal(done.code, 130, done.stderr.slice(-1500))
  await waitFor("the provider and its grandchild to be gone", () => !isRunning(run!.pid) && !isRunning(run!.grandchildPid!), 10_000, 50)
})

for (const [signal, code, by] of [["SIGINT", 130, "Ctrl-C"], ["SIGHUP", 129, "terminal closed"]] as const) test(`${signal} on aidp execute cancels its job and exits ${code}`, { timeout: TEST_MS }, async () => {
  // SIGHUP: the terminal aidp execute ran in was closed.
  const project = await mkdtemp(join(tmpdir(), "aidp-execute-"))
  const record = join(dir, `execute-${signal}.jsonl`)
  records.push(record)
  try {
    const child = startCli(db, ["execute", "next"], {
      cwd: project,
      env: { AIDP_WORKER_LEASE_MS: String(LEASE_MS), FAKE_AGENT_MODE: "slow,leave_child", FAKE_AGENT_DELAY_MS: "60000", FAKE_AGENT_RECORD: record }
    })
    started.push(child)
    const result = finished(child, { timeoutMs: TEST_MS })
    const [run] = await waitForRuns(record)
    const [row] = await db.sql<Array<{ id: string }>>`select id from jobs where cwd = ${project} and status = 'running'`
    assert.ok(row, "the step's job runs")
    child.kill(signal)
    const done = await result
    assert.equal(done.code, code, `exit ${done.code}: ${done.stderr}`)
    assert.match(done.stderr, /cancelled/)
    const cancelled = await db.sql<Array<{ status: string; error: string | null }>>`select status, error from jobs where id = ${row.id}`
    assert.equal(cancelled[0]!.status, "cancelled")
    assert.match(cancelled[0]!.error ?? "", new RegExp(`\\(${by}\\)`))
    assert.ok(!isRunning(run!.pid), "the fake claude is gone")
    assert.ok(!isRunning(run!.grandchildPid!), "its grandchild is gone")
  } finally {
    await rm(project, { recursive: true, force: true })
  }
})
