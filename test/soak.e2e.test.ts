/**
 * The database's bad days (issue 6), for real: a private PostgreSQL (test/support/
 * privateServer.ts) is restarted over and over (pg_ctl restart -m fast and -m immediate),
 * has every aidp connection terminated, and is stopped for 20 s, while 2 `aidp worker`
 * processes run slow fake jobs. Zero worker processes die, every job completes, no execution
 * started after a recovery is abandoned, and each job runs once (attempts 1).
 *
 * Scaled for a CI budget on a loaded machine; the full run (200 jobs, 30 restarts, two
 * 20 s stops) is `AIDP_SOAK=full node --import tsx --test test/soak.e2e.test.ts`. The figures
 * are printed as one `soak:` JSON line.
 */
import assert from "node:assert/strict"
import type { ChildProcess } from "node:child_process"
import { randomUUID } from "node:crypto"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { after, before, test } from "node:test"
import type { Sql } from "postgres"
import { openSql } from "../src/config/database.js"
import { migrate } from "../src/config/migrate.js"
import { guardDriverFault } from "../src/config/supervisedSql.js"
import { finished, startCli, type CliResult } from "./support/cli.js"
import { cmd } from "./support/commandBuilders.js"
import { type ServicesRuntime, testServices } from "./support/layers.js"
import { type PrivateServer, startPrivateServer } from "./support/privateServer.js"
import { killChild, waitFor } from "./support/wait.js"

const FULL = process.env.AIDP_SOAK === "full"
const JOBS = FULL ? 200 : 40
const RESTARTS = FULL ? 30 : 8
/** The restarts after which the server is also stopped for {@link STOP_MS}. */
const STOPS_AFTER: ReadonlyArray<number> = FULL ? [5, 17] : [5]
const STOP_MS = 20_000
/** Each job: the fake claude's 6 lines, 1 s apart (about 5 s). */
const FAKE_DELAY_MS = "1000"
const SCHEMA = "aidp_soak"

let server: PrivateServer | undefined
let sql: Sql | undefined
let services: ServicesRuntime | undefined
let dir: string
const workers: Array<{ child: ChildProcess; result: Promise<CliResult>; stderr: () => string }> = []

before(async () => {
  // This process talks to the server while it is restarted, through the same driver.
  guardDriverFault()
  dir = await mkdtemp(path.join(tmpdir(), "aidp-soak-"))
  server = await startPrivateServer()
  sql = openSql(server.url, SCHEMA)
  await migrate(sql, SCHEMA)
  services = testServices({ sql, schema: SCHEMA })
})

after(async () => {
  for (const worker of workers) killChild(worker.child)
  await Promise.all(workers.map((worker) => worker.result))
  await services?.dispose()
  await sql?.end({ timeout: 1 })
  await server?.destroy()
  await rm(dir, { recursive: true, force: true })
})

/** A query that waits out the faults: retried until the server answers. */
const query = <T>(what: string, run: (sql: Sql) => Promise<T>): Promise<NonNullable<T>> =>
  waitFor(what, async () => (await run(sql!)) ?? undefined, 120_000, 200) as Promise<NonNullable<T>>

const completed = () =>
  query("the completed count", async (db) => ({ n: (await db<Array<{ n: number }>>`select count(*)::int as n from jobs where status = 'completed'`)[0]!.n })).then((r) => r.n)

/** Waits until more jobs than `count` have completed: the workers are working again. */
const progressPast = (count: number) =>
  query("a job to complete after the fault", async (db) =>
    (await db<Array<{ n: number }>>`select count(*)::int as n from jobs where status = 'completed'`)[0]!.n > count || undefined)

test(`${JOBS} slow jobs on 2 worker processes through ${RESTARTS} restarts, a termination of every connection and ${STOPS_AFTER.length === 1 ? "a" : STOPS_AFTER.length} ${STOP_MS / 1000} s ${STOPS_AFTER.length === 1 ? "stop" : "stops"}`, { timeout: FULL ? 1_500_000 : 420_000 }, async () => {
  const startedAt = Date.now()
  const ids = Array.from({ length: JOBS }, () => randomUUID())
  for (const [i, id] of ids.entries()) {
    await services!.handle(id, cmd.enqueue({ provider: "claude", model: null, prompt: `soak job ${i}`, cwd: dir, step: null, maxAttempts: 3, metadata: {} }), new Date())
  }
  const db = { url: server!.url, schema: SCHEMA }
  for (let i = 0; i < 2; i++) {
    const child = startCli(db, ["worker"], { cwd: dir, env: { QUE_WORKER_COUNT: "2", FAKE_AGENT_MODE: "slow", FAKE_AGENT_DELAY_MS: FAKE_DELAY_MS } })
    let stderr = ""
    child.stderr!.on("data", (chunk: Buffer | string) => (stderr += chunk.toString()))
    workers.push({ child, result: finished(child, { timeoutMs: FULL ? 1_500_000 : 600_000 }), stderr: () => stderr })
  }
  // Faults begin once both workers are up: a worker that cannot reach the database as it
  // starts says so and exits 1 (DESIGN.md invariant 6); from then on it must ride them out.
  await query("both workers to register and a job to run", async (db) =>
    ((await db`select 1 from workers where stopped_at is null`).length === 2 &&
      (await db`select 1 from jobs where status = 'running'`).length > 0) || undefined)

  // Each fault: [when it began, when the server accepted connections again].
  const faults: Array<{ kind: string; from: number; to: number }> = []
  const fault = async (kind: string, inject: () => Promise<unknown>) => {
    const before = await completed()
    const from = Date.now()
    await inject()
    faults.push({ kind, from, to: Date.now() })
    await progressPast(before)
  }
  let terminated = 0
  for (let i = 0; i < RESTARTS; i++) {
    const mode = i % 2 === 0 ? "fast" : "immediate"
    await fault(`restart -m ${mode}`, () => server!.restart(mode))
    if (i === 3) await fault("pg_terminate_backend", async () => (terminated = await server!.terminate("^aidp [0-9]+@[^ ]* worker")))
    if (STOPS_AFTER.includes(i)) {
      await fault(`stop ${STOP_MS / 1000} s`, async () => {
        await server!.stop("fast")
        // The outage itself: the server stays down this long, whatever the workers do.
        await new Promise((resolve) => setTimeout(resolve, STOP_MS))
        await server!.start()
      })
    }
  }

  await waitFor("every job to complete", async () => (await completed()) === JOBS, FULL ? 900_000 : 240_000, 500)
  const deaths = workers.filter((worker) => worker.child.exitCode !== null || worker.child.signalCode !== null).length
  const executions = await sql!<Array<{ job_id: string; status: string; started_at: Date; error: string | null }>>`
    select job_id, status, started_at, error from job_executions`
  const abandoned = executions.filter((e) => e.status === "abandoned")
  // Started after a recovery: not within any fault (between its start and the server's return).
  const abandonedAfterRecovery = abandoned.filter((e) => !faults.some((f) => e.started_at.getTime() >= f.from && e.started_at.getTime() <= f.to))
  const [attempts] = await sql!<Array<{ max: number; min: number }>>`select max(attempts)::int as max, min(attempts)::int as min from jobs`
  process.stdout.write(`soak: ${JSON.stringify({
    jobs: JOBS,
    completed: await completed(),
    restarts: faults.filter((f) => f.kind.startsWith("restart")).length,
    stops: faults.filter((f) => f.kind.startsWith("stop")).length,
    connectionsTerminated: terminated,
    workerProcesses: workers.length,
    workerDeaths: deaths,
    executions: executions.length,
    abandoned: abandoned.length,
    abandonedAfterRecovery: abandonedAfterRecovery.length,
    attemptsPerJob: [attempts!.min, attempts!.max],
    seconds: Math.round((Date.now() - startedAt) / 1000)
  })}\n`)

  assert.equal(deaths, 0, workers.map((w) => w.stderr().slice(-3000)).join("\n---\n"))
  for (const worker of workers) worker.child.kill("SIGTERM")
  const results = await Promise.all(workers.map((worker) => worker.result))
  assert.deepEqual(results.map((r) => r.code), [0, 0], results.map((r) => r.stderr.slice(-3000)).join("\n---\n"))
  for (const result of results) assert.doesNotMatch(result.stderr, /TypeError|Unexpected error|\n\s+at .+:\d+:\d+/, result.stderr.slice(-3000))
  assert.deepEqual(abandonedAfterRecovery, [], "no execution started after a recovery is abandoned")
  assert.deepEqual(abandoned.map((e) => e.error), [], "no execution is abandoned at all")
  assert.deepEqual([attempts!.min, attempts!.max], [1, 1], "each job ran once")
  assert.equal(faults.filter((f) => f.kind.startsWith("restart")).length, RESTARTS)
  assert.ok(terminated > 0, "aidp connections were terminated")
})
