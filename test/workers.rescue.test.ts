/**
 * DESIGN.md invariant 2: a job whose worker dies does not stay `running`. With a 2 s lease,
 * a worker killed with SIGKILL mid-job has its execution abandoned (worker_lost) by another
 * worker's rescuer within the lease, the retry policy re-queues the job and it completes on
 * attempt 2. A worker stopped with SIGTERM mid-job stops the provider's whole process group
 * and records the execution abandoned, so the job is queued again. Invariant 1 at the
 * edges of liveness: a worker cut off from the database stops its provider before the job
 * can run elsewhere, and a worker that was paused past its lease stops its provider when it
 * resumes instead of running the job alongside its new owner. Attempts count the agent's
 * failures only: a job whose one attempt was ended by a shutdown runs again and completes, and
 * a second SIGTERM kills the agents at once and still records their executions.
 */
import assert from "node:assert/strict"
import type { ChildProcess } from "node:child_process"
import { randomInt, randomUUID } from "node:crypto"
import { execFileSync } from "node:child_process"
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises"
import os, { tmpdir } from "node:os"
import { join } from "node:path"
import { after, before, beforeEach, test, type TestContext } from "node:test"
import postgres from "postgres"
import { processTag } from "../src/config/database.js"
import { BASE_BACKOFF_MS } from "../src/domain/retryPolicy.js"
import { finished, runJson, startCli, type CliResult } from "./support/cli.js"
import { cmd } from "./support/commandBuilders.js"
import { createTestDb, type TestDb } from "./support/db.js"
import { testServices } from "./support/layers.js"
import { startDbProxy } from "./support/proxy.js"
import { exited, isRunning, killChild, killFakeRun, readRecords, waitFor, waitForRuns } from "./support/wait.js"

const LEASE_MS = 2_000
/**
 * Longest a re-queued job may take to run again: the first backoff (src/domain/retryPolicy.ts),
 * up to one poll of an idle worker (5 s, src/workers/pool.ts) and the run itself, with room for
 * a loaded machine. An upper bound only: a passing run takes as long as the work does.
 */
const RERUN_MS = BASE_BACKOFF_MS + 5_000 + 30_000
/** Time limit of each test and of each worker it starts (killed after it, whatever happens). */
const TEST_MS = 120_000
let db: TestDb
let dir: string
const started: ChildProcess[] = []
const records: string[] = []

const dbs: TestDb[] = []

// A schema per test: a job left behind by a failed test cannot be claimed by the next one's worker.
beforeEach(async () => {
  db = await createTestDb()
  dbs.push(db)
})

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "aidp-rescue-"))
})

after(async () => {
  for (const child of started) killChild(child)
  for (const file of records) for (const run of readRecords(file)) killFakeRun(run)
  for (const each of dbs) await each.drop()
  await rm(dir, { recursive: true, force: true })
})

/** Starts `aidp worker` with a 2 s lease; killed after the test `t` unless it has exited. */
const worker = (t: TestContext, env: NodeJS.ProcessEnv): { child: ChildProcess; result: Promise<CliResult> } => {
  const child = startCli(db, ["worker"], { env: { AIDP_WORKER_LEASE_MS: String(LEASE_MS), ...env }, cwd: dir })
  started.push(child)
  const result = finished(child, { timeoutMs: TEST_MS })
  t.after(async () => {
    killChild(child)
    await result
  })
  return { child, result }
}

/**
 * A pid no process can have (above Linux's largest pid_max, 2^22), drawn at random: the
 * sessions a test fakes for a lost worker are found by application_name across the whole
 * database, where another suite may run the same test at the same time.
 */
const unusedPid = (): number => 4_194_304 + randomInt(1_000_000_000)

const enqueue = async (prompt: string, ...options: ReadonlyArray<string>): Promise<string> =>
  (await runJson<{ id: string }>(db, ["jobs", "enqueue", "--provider", "claude", "--prompt", prompt, "--cwd", dir, ...options, "--json"])).id

const job = async (id: string) =>
  (await db.sql<Array<{ status: string; attempts: number; error_kind: string | null }>>`
    select status, attempts, error_kind from jobs where id = ${id}`)[0]!

/** Waits until the job runs and its provider's first output is stored: from then on the slow fake is silent. */
const silentlyRunning = (id: string) =>
  waitFor("the job's first output", async () => {
    const [row] = await db.sql<Array<{ lines: number }>>`
      select count(*)::int as lines from job_logs where job_id = ${id} and stream = 'stdout'`
    return (await job(id)).status === "running" && row!.lines > 0
  })

const executions = (id: string) =>
  db.sql<Array<{ attempt: number; status: string; error_kind: string | null; error: string | null; worker_id: string }>>`
    select attempt, status, error_kind, error, worker_id from job_executions where job_id = ${id} order by attempt`

test("a worker killed with SIGKILL: its execution is abandoned within the lease and the job completes on attempt 2", { timeout: TEST_MS }, async (t) => {
  const record = join(dir, "killed.jsonl")
  records.push(record)
  const id = await enqueue("slow job")
  const first = worker(t, { FAKE_AGENT_MODE: "slow,leave_child", FAKE_AGENT_DELAY_MS: "60000", FAKE_AGENT_RECORD: record })
  const [run] = await waitForRuns(record)
  await waitFor("the job to run", async () => (await job(id)).status === "running")

  // The worker process dies without a word; its provider runs on in its own process group.
  first.child.kill("SIGKILL")
  await exited(first.child)
  assert.ok(isRunning(run!.pid) && isRunning(run!.grandchildPid!), "the orphaned provider is still running")
  assert.equal((await job(id)).status, "running", "nobody noticed yet")

  // Another worker on this host stops the orphaned provider group (child and grandchild).
  const second = worker(t, { FAKE_AGENT_MODE: "success", FAKE_AGENT_RECORD: record })
  await waitFor("the orphaned provider to be stopped", async () => !isRunning(run!.pid) && !isRunning(run!.grandchildPid!), 20_000)
  const [abandoned] = await waitFor("the execution to be abandoned", async () => {
    const [execution] = await executions(id)
    return execution?.status === "abandoned" ? [execution] : null
  }, 20_000, 50)
  // Within the lease of the rescuer being there: from the second worker's first heartbeat to
  // the abandon, both stamped on this host (how long a loaded machine takes to start a
  // process is not the rescuer's doing).
  const [detection] = await db.sql<Array<{ ms: number }>>`
    select (extract(epoch from e.occurred_at - w.started_at) * 1000)::float8 as ms
    from job_events e, workers w
    where e.job_id = ${id} and e.type = 'ExecutionAbandoned' and w.pid = ${second.child.pid!}`
  assert.ok(detection && detection.ms <= LEASE_MS, `abandoned ${detection?.ms} ms after the rescuing worker started (lease ${LEASE_MS} ms)`)
  assert.equal(abandoned!.error_kind, "worker_lost")
  assert.match(abandoned!.error ?? "", /lost/)

  // The retry policy re-queues it (worker_lost is transient), and the healthy worker completes it.
  await waitFor("the job to complete", async () => (await job(id)).status === "completed", RERUN_MS)
  const rows = await executions(id)
  assert.deepEqual(rows.map((e) => [e.attempt, e.status]), [[1, "abandoned"], [2, "succeeded"]])
  assert.notEqual(rows[1]!.worker_id, rows[0]!.worker_id)
  assert.equal((await job(id)).attempts, 2)
  const [retry] = await db.sql<Array<{ data: { requested_by: string } }>>`
    select data from job_events where job_id = ${id} and type = 'JobRetryRequested'`
  assert.equal(retry?.data.requested_by, "policy")

  second.child.kill("SIGTERM")
  assert.equal((await second.result).code, 0)
})

test("on the same host, a worker killed with SIGKILL is rescued at once, without waiting for its lease", { timeout: TEST_MS }, async (t) => {
  const record = join(dir, "killed-long-lease.jsonl")
  records.push(record)
  const id = await enqueue("slow job, long lease")
  const longLease = { AIDP_WORKER_LEASE_MS: "600000" }
  const first = worker(t, { ...longLease, FAKE_AGENT_MODE: "slow", FAKE_AGENT_DELAY_MS: "60000", FAKE_AGENT_RECORD: record })
  await waitForRuns(record)
  await waitFor("the job to run", async () => (await job(id)).status === "running")
  first.child.kill("SIGKILL")
  await exited(first.child)

  const second = worker(t, { ...longLease, FAKE_AGENT_MODE: "success", FAKE_AGENT_RECORD: record })
  await waitFor("the job to complete on attempt 2", async () => (await job(id)).status === "completed", RERUN_MS)
  const [abandoned] = await executions(id)
  assert.equal(abandoned!.status, "abandoned")
  assert.match(abandoned!.error ?? "", /process \d+ is gone/)
  second.child.kill("SIGTERM")
  assert.equal((await second.result).code, 0)
})

for (const signal of ["SIGTERM", "SIGHUP"] as const) test(`a worker stopped with ${signal} mid-job stops the process group and records the execution abandoned`, { timeout: TEST_MS }, async (t) => {
  // SIGHUP: the terminal the worker was started in was closed.
  const record = join(dir, `stopped-${signal}.jsonl`)
  records.push(record)
  const id = await enqueue("stopped job")
  const running = worker(t, { FAKE_AGENT_MODE: "slow,leave_child", FAKE_AGENT_DELAY_MS: "60000", FAKE_AGENT_RECORD: record })
  const [run] = await waitForRuns(record)
  await waitFor("the job to run", async () => (await job(id)).status === "running")
  assert.ok(run!.grandchildPid !== undefined && isRunning(run!.grandchildPid))

  running.child.kill(signal)
  const result = await running.result
  assert.equal(result.code, 0, `worker exited ${result.code}: ${result.stderr.slice(-2000)}`)
  assert.ok(!isRunning(run!.pid), "the fake claude is stopped")
  assert.ok(!isRunning(run!.grandchildPid!), "the fake's grandchild is stopped")

  const [execution] = await executions(id)
  assert.equal(execution?.status, "abandoned")
  assert.equal(execution?.error_kind, "worker_lost")
  assert.match(execution?.error ?? "", /worker shut down/)
  const after = await job(id)
  assert.equal(after.status, "queued", "re-queued by the retry policy")
  assert.equal(after.attempts, 1)
  const [stopped] = await db.sql<Array<{ stopped: boolean }>>`
    select stopped_at is not null as stopped from workers where id = ${execution!.worker_id}`
  assert.equal(stopped?.stopped, true, "the worker marked itself stopped")
})

test("a worker cut off from the database stops its provider before the job can run elsewhere, and still stops on SIGTERM", { timeout: TEST_MS }, async (t) => {
  const record = join(dir, "partitioned.jsonl")
  records.push(record)
  const proxy = await startDbProxy()
  try {
    const id = await enqueue("partitioned job")
    const cutOff = worker(t, { AIDP_DATABASE_URL: proxy.url, FAKE_AGENT_MODE: "slow,leave_child", FAKE_AGENT_DELAY_MS: "60000", FAKE_AGENT_RECORD: record })
    const [run] = await waitForRuns(record)
    await silentlyRunning(id)

    proxy.partition()
    const partitionedAt = Date.now()
    const healthy = worker(t, { FAKE_AGENT_MODE: "success", FAKE_AGENT_RECORD: record })
    await waitFor("the cut-off worker to stop its provider", () => !isRunning(run!.pid) && !isRunning(run!.grandchildPid!), LEASE_MS + 3_000, 50)
    const stoppedAt = Date.now()

    await waitFor("the job to complete on the healthy worker", async () => (await job(id)).status === "completed", RERUN_MS).catch(async (error: Error) => {
      // What the job and both workers went through, to tell a slow machine from a stuck rescue.
      const events = await db.sql<Array<{ type: string; at: Date }>>`select type, occurred_at as at from job_events where job_id = ${id} order by version`
      const sessions = await db.sql`
        select pid, application_name as app, state, wait_event_type as wait_type, wait_event as wait, pg_blocking_pids(pid) as blocked_by,
               xact_start, state_change, left(query, 160) as query
        from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and state <> 'idle'`
      healthy.child.kill("SIGTERM")
      cutOff.child.kill("SIGKILL")
      const [healthyEnd, cutOffEnd] = await Promise.all([healthy.result, cutOff.result])
      throw new Error(`${error.message}\njob: ${JSON.stringify(await job(id))}\nexecutions: ${JSON.stringify(await executions(id))}\nevents (partition at ${new Date(partitionedAt).toISOString()}): ${events.map((e) => `${e.type}@${e.at.toISOString()}`).join(" ")}\nsessions: ${JSON.stringify(sessions)}\nhealthy worker: ${healthyEnd.stderr.slice(-3000)}\ncut-off worker: ${cutOffEnd.stderr.slice(-2000)}`)
    })
    const rows = await db.sql<Array<{ attempt: number; status: string; started_at: Date }>>`
      select attempt, status, started_at from job_executions where job_id = ${id} order by attempt`
    assert.deepEqual(rows.map((e) => [e.attempt, e.status]), [[1, "abandoned"], [2, "succeeded"]])
    assert.ok(rows[1]!.started_at.getTime() > stoppedAt, `attempt 2 started ${rows[1]!.started_at.getTime() - stoppedAt} ms after attempt 1's provider was stopped (partition at ${stoppedAt - partitionedAt} ms before)`)
    assert.equal(readRecords(record).length, 2, "the provider ran twice, one after the other")

    // Still cut off, the worker stops when told to: nothing waits on the database for ever.
    cutOff.child.kill("SIGTERM")
    const stopped = await cutOff.result
    assert.equal(stopped.code, 0, stopped.stderr.slice(-1500))
    healthy.child.kill("SIGTERM")
    assert.equal((await healthy.result).code, 0)
  } finally {
    proxy.heal()
    await proxy.close()
  }
})

test("a claim whose commit reply is lost still runs once: the worker finds its execution open and runs it, nothing abandoned", { timeout: TEST_MS }, async (t) => {
  const record = join(dir, "lost-commit-reply.jsonl")
  records.push(record)
  const proxy = await startDbProxy()
  try {
    const id = await enqueue("lost commit reply")
    const lost = proxy.loseCommitReply("ExecutionStarted")
    const w = worker(t, { AIDP_DATABASE_URL: proxy.url, FAKE_AGENT_MODE: "success", FAKE_AGENT_RECORD: record })
    await lost
    await waitFor("the job to complete", async () => (await job(id)).status === "completed", RERUN_MS)
    const rows = await executions(id)
    assert.deepEqual(rows.map((e) => [e.attempt, e.status]), [[1, "succeeded"]])
    assert.equal(readRecords(record).length, 1, "the provider ran once")
    w.child.kill("SIGTERM")
    const result = await w.result
    assert.equal(result.code, 0, result.stderr.slice(-1500))
    assert.match(result.stderr, /a claim whose commit went unanswered did commit: running it/)
  } finally {
    await proxy.close()
  }
})

test("a worker paused past its lease stops its provider when it resumes; the job runs to completion once", { timeout: TEST_MS }, async (t) => {
  const record = join(dir, "paused.jsonl")
  records.push(record)
  const id = await enqueue("paused job")
  const paused = worker(t, { FAKE_AGENT_MODE: "slow,leave_child", FAKE_AGENT_DELAY_MS: "60000", FAKE_AGENT_RECORD: record })
  const [run] = await waitForRuns(record)
  await silentlyRunning(id)

  paused.child.kill("SIGSTOP")
  try {
    const healthy = worker(t, { FAKE_AGENT_MODE: "success", FAKE_AGENT_RECORD: record })
    await waitFor("the job to complete on the healthy worker", async () => (await job(id)).status === "completed", RERUN_MS)
    assert.ok(isRunning(run!.pid), "the paused worker's provider still runs (nobody could stop it)")
    paused.child.kill("SIGCONT")
    await waitFor("the resumed worker to stop its provider", () => !isRunning(run!.pid) && !isRunning(run!.grandchildPid!), LEASE_MS + 3_000, 50)

    paused.child.kill("SIGTERM")
    healthy.child.kill("SIGTERM")
    const results = await Promise.all([paused.result, healthy.result])
    assert.deepEqual(results.map((r) => r.code), [0, 0], results.map((r) => r.stderr.slice(-1500)).join("\n---\n"))
    const rows = await executions(id)
    assert.deepEqual(rows.map((e) => [e.attempt, e.status]), [[1, "abandoned"], [2, "succeeded"]])
    assert.equal((await job(id)).status, "completed")
  } finally {
    paused.child.kill("SIGCONT")
  }
})

test("SIGTERM during attempt 1 of a --max-attempts 1 job: the shutdown spends no attempt, the job completes on the next worker", { timeout: 40_000 }, async (t) => {
  const record = join(dir, "one-attempt.jsonl")
  records.push(record)
  const id = await enqueue("one attempt only", "--max-attempts", "1")
  const first = worker(t, { FAKE_AGENT_MODE: "slow", FAKE_AGENT_DELAY_MS: "60000", FAKE_AGENT_RECORD: record })
  await waitForRuns(record)
  await waitFor("the job to run", async () => (await job(id)).status === "running", 10_000)
  first.child.kill("SIGTERM")
  assert.equal((await first.result).code, 0)
  assert.equal((await job(id)).status, "queued", "queued again at once, though its one attempt was running")

  const second = worker(t, { FAKE_AGENT_MODE: "success", FAKE_AGENT_RECORD: record })
  await waitFor("the job to complete", async () => (await job(id)).status === "completed", 15_000)
  const rows = await executions(id)
  assert.deepEqual(rows.map((e) => [e.attempt, e.status, e.error_kind]), [[1, "abandoned", "worker_lost"], [2, "succeeded", null]])
  assert.match(rows[0]!.error ?? "", /worker shut down/)
  second.child.kill("SIGTERM")
  assert.equal((await second.result).code, 0)
})

test("a second SIGTERM kills the agents at once and records their executions: the job is queued again within 2 s, no process left", { timeout: 40_000 }, async (t) => {
  const record = join(dir, "double-sigterm.jsonl")
  records.push(record)
  const id = await enqueue("double SIGTERM")
  // The fake and its grandchild ignore SIGTERM: a graceful stop would wait the 10 s grace.
  const running = worker(t, { FAKE_AGENT_MODE: "ignore_sigterm,leave_child", FAKE_AGENT_RECORD: record })
  const [run] = await waitForRuns(record)
  await waitFor("the job to run", async () => (await job(id)).status === "running", 10_000)

  let stderr = ""
  running.child.stderr!.on("data", (chunk: string) => (stderr += chunk))
  running.child.kill("SIGTERM")
  await waitFor("the worker to say it is stopping", () => stderr.includes("stopping"), 10_000, 20)
  running.child.kill("SIGTERM")
  const secondAt = Date.now()
  await waitFor("the job to be queued again", async () => (await job(id)).status === "queued", 2_000, 20)
  const requeuedAfter = Date.now() - secondAt
  const result = await running.result
  assert.ok(Date.now() - secondAt <= 2_500, `the worker exited ${Date.now() - secondAt} ms after the second signal`)
  assert.equal(result.code, 130, result.stderr.slice(-1500))
  assert.ok(!isRunning(run!.pid), "the fake claude is gone")
  assert.ok(!isRunning(run!.grandchildPid!), "its grandchild is gone")
  const [execution] = await executions(id)
  assert.equal(execution?.status, "abandoned")
  assert.match(execution?.error ?? "", /worker shut down/)
  assert.ok(requeuedAfter <= 2_000, `queued again ${requeuedAfter} ms after the second signal`)
})

test("after an outage longer than the lease the worker renews before it claims: a job queued meanwhile runs once, nothing abandoned", { timeout: 50_000 }, async (t) => {
  const record = join(dir, "outage-claim.jsonl")
  records.push(record)
  const proxy = await startDbProxy()
  try {
    // Each run lasts seconds, longer than the fence's half lease: a fence would stop it.
    const cutOff = worker(t, { AIDP_DATABASE_URL: proxy.url, FAKE_AGENT_MODE: "slow", FAKE_AGENT_DELAY_MS: "800", FAKE_AGENT_RECORD: record })
    await waitFor("the worker to register", async () => (await db.sql`select 1 from workers where stopped_at is null`).length > 0, 15_000)
    proxy.partition()
    await waitFor("the worker's lease to lapse", async () =>
      (await db.sql`select 1 from workers where heartbeat_at < now() - make_interval(secs => ${(LEASE_MS + 500) / 1000})`).length > 0, 15_000)
    const id = await enqueue("queued during the outage")
    proxy.heal()
    await waitFor("the job to complete", async () => (await job(id)).status === "completed", 30_000)
    const rows = await executions(id)
    assert.deepEqual(rows.map((e) => [e.attempt, e.status]), [[1, "succeeded"]], JSON.stringify(rows))
    cutOff.child.kill("SIGTERM")
    const stopped = await cutOff.result
    assert.equal(stopped.code, 0, stopped.stderr.slice(-1500))
    assert.doesNotMatch(stopped.stderr, /lease lost/)
  } finally {
    proxy.heal()
    await proxy.close()
  }
})

test("a lost worker's session stuck inside a statement holding its job's lock is ended, so the job is rescued and runs again", { timeout: TEST_MS }, async (t) => {
  // What a partition in the middle of a pipelined statement leaves on the server: a session
  // that holds the job's row lock and that no timeout ends (here: a statement that sleeps).
  const services = testServices(db)
  t.after(() => services.dispose())
  const id = randomUUID()
  const lostPid = unusedPid()
  await db.sql`insert into workers (id, host, pid, started_at, heartbeat_at) values ('lost', ${os.hostname()}, ${lostPid}, now() - interval '1 hour', now() - interval '1 hour')`
  await services.handle(id, cmd.enqueue({ cwd: dir }), new Date())
  await services.handle(id, cmd.start(randomUUID(), { workerId: "lost", host: os.hostname(), pid: lostPid }), new Date())
  const stuck = postgres(db.url, { max: 1, onnotice: () => {}, connection: { application_name: `aidp ${processTag(lostPid, os.hostname())} worker`, search_path: db.schema } })
  t.after(() => stuck.end({ timeout: 1 }))
  // One simple-protocol message: the transaction takes the row lock, then sleeps inside it.
  const held = stuck.unsafe(`begin; select 1 from jobs where id = '${id}' for update; select pg_sleep(3600)`).simple()
  held.catch(() => undefined)
  await waitFor("the stuck session to hold the job's lock", async () =>
    (await db.sql`select 1 from pg_stat_activity where application_name = ${`aidp ${processTag(lostPid, os.hostname())} worker`} and query like '%pg_sleep%' and wait_event = 'PgSleep'`).length > 0)

  const healthy = worker(t, { FAKE_AGENT_MODE: "success" })
  await waitFor("the job to complete on the healthy worker", async () => (await job(id)).status === "completed", RERUN_MS)
  await assert.rejects(held, "the stuck session's statement never ends by itself")
  assert.equal((await db.sql`select pid from pg_stat_activity where application_name = ${`aidp ${processTag(lostPid, os.hostname())} worker`}`).length, 0, "the rescuer ended the stuck session")
  const rows = await executions(id)
  assert.deepEqual(rows.map((e) => [e.attempt, e.status]), [[1, "abandoned"], [2, "succeeded"]])
  assert.match(rows[0]!.error ?? "", /lost \(no heartbeat/)
  healthy.child.kill("SIGTERM")
  const stopped = await healthy.result
  assert.equal(stopped.code, 0)
  assert.match(stopped.stderr, /ended the database sessions of lost workers/)
})

test("a lost worker's session that does not hold its job's lock is left alone: the job is rescued without ending it", { timeout: TEST_MS }, async (t) => {
  // A worker back from a pause renews its lease in new transactions; a rescuer that saw its
  // lease expired must not end them unless one of them holds the job (LOCK_PROBE_MS).
  const services = testServices(db)
  t.after(() => services.dispose())
  const id = randomUUID()
  const lostPid = unusedPid()
  const applicationName = `aidp ${processTag(lostPid, os.hostname())} worker`
  await db.sql`insert into workers (id, host, pid, started_at, heartbeat_at) values ('lost-free', ${os.hostname()}, ${lostPid}, now() - interval '1 hour', now() - interval '1 hour')`
  await services.handle(id, cmd.enqueue({ cwd: dir }), new Date())
  await services.handle(id, cmd.start(randomUUID(), { workerId: "lost-free", host: os.hostname(), pid: lostPid }), new Date())
  const busy = postgres(db.url, { max: 1, onnotice: () => {}, connection: { application_name: applicationName, search_path: db.schema } })
  t.after(async () => {
    await db.sql`select pg_terminate_backend(pid) from pg_stat_activity where application_name = ${applicationName}`
    await busy.end({ timeout: 1 })
  })
  const held = busy.unsafe(`begin; select pg_sleep(3600)`).simple()
  held.catch(() => undefined)
  await waitFor("the lost worker's session to be inside its transaction", async () =>
    (await db.sql`select 1 from pg_stat_activity where application_name = ${applicationName} and wait_event = 'PgSleep'`).length > 0)

  const healthy = worker(t, { FAKE_AGENT_MODE: "success" })
  await waitFor("the job to complete on the healthy worker", async () => (await job(id)).status === "completed", RERUN_MS)
  assert.equal((await db.sql`select pid from pg_stat_activity where application_name = ${applicationName}`).length, 1, "the session that held nothing is still there")
  const rows = await executions(id)
  assert.deepEqual(rows.map((e) => [e.attempt, e.status]), [[1, "abandoned"], [2, "succeeded"]])
  healthy.child.kill("SIGTERM")
  const stopped = await healthy.result
  assert.equal(stopped.code, 0)
  assert.doesNotMatch(stopped.stderr, /ended the database sessions of lost workers/)
})

test("a claim whose workspace takes seconds to prepare (a slow git) runs once: its own worker's rescuer leaves it alone", { timeout: TEST_MS }, async (t) => {
  // Between the claim and the canceller's registration the worker snapshots the job's git
  // repository; on a loaded machine that took longer than the rescuer's grace for an own
  // execution it does not run (5 s), and the worker abandoned its own job ("claim not seen
  // through"). Here every git call of the worker takes 2 s: several of them come before the run.
  const repo = await mkdtemp(join(tmpdir(), "aidp-slow-git-"))
  const bin = await mkdtemp(join(tmpdir(), "aidp-slow-git-bin-"))
  t.after(() => Promise.all([rm(repo, { recursive: true, force: true }), rm(bin, { recursive: true, force: true })]))
  const realGit = execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim()
  execFileSync(realGit, ["init", "-q", repo])
  await writeFile(join(bin, "git"), `#!/bin/sh\nsleep 2\nexec ${realGit} "$@"\n`)
  await chmod(join(bin, "git"), 0o755)
  const id = (await runJson<{ id: string }>(db, ["jobs", "enqueue", "--provider", "claude", "--prompt", "slow git", "--cwd", repo, "--json"])).id
  const slow = worker(t, { FAKE_AGENT_MODE: "success", PATH: `${bin}:${process.env.PATH}` })
  await waitFor("the job to complete", async () => (await job(id)).status === "completed", RERUN_MS)
  const rows = await executions(id)
  assert.deepEqual(rows.map((e) => [e.attempt, e.status]), [[1, "succeeded"]], JSON.stringify(rows))
  slow.child.kill("SIGTERM")
  const stopped = await slow.result
  assert.equal(stopped.code, 0, stopped.stderr.slice(-1500))
  assert.doesNotMatch(stopped.stderr, /not seen through|abandoned executions/)
})
