/**
 * aidp beside its peer on the same work (issue 8): graphile-worker (a devDependency used by the
 * bench only) on the same PostgreSQL, and the bare spawns with no queue at all (the ceiling).
 * Every job runs the same near-zero agent (bench/agent.ts). A whole-path figure is measured
 * from the first job's start to the last job's end, so neither side's process start-up counts.
 */
import { spawn, spawnSync } from "node:child_process"
import { randomBytes } from "node:crypto"
import { readFile, writeFile } from "node:fs/promises"
import path from "node:path"
import { performance } from "node:perf_hooks"
import { Effect, ManagedRuntime } from "effect"
import { Logger, makeWorkerUtils, run } from "graphile-worker"
import { CommandHandler, type EnqueueCommand } from "../src/projections/commandHandler.js"
import { jobServicesLayer } from "../src/projections/services.js"
import { commandsFor } from "../test/support/commands.js"
import { cliEnv, CLI } from "../test/support/cli.js"
import type { TestDb } from "../test/support/db.js"
import { runAgent } from "./agent.js"
import { peakRssMb, perSecond } from "./stats.js"

/** graphile-worker's logs would drown the table. */
const silent = new Logger(() => () => {})


/** Runs `n` tasks, `concurrency` at a time; resolves when all are done. */
const pool = async (n: number, concurrency: number, task: (i: number) => Promise<unknown>): Promise<void> => {
  let next = 0
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) await task(next++)
  }))
}

/** The agent spawned `n` times, `concurrency` at a time, with no queue: jobs/s. */
export const spawnsAlone = async (bin: string, n: number, concurrency: number): Promise<number> => {
  const start = performance.now()
  await pool(n, concurrency, (i) => runAgent(bin, `bench job ${i}`))
  return perSecond(n, performance.now() - start)
}

/**
 * Runs one `aidp worker --count concurrency` process (the built CLI) with `bin` as
 * AIDP_CLAUDE_BIN in `cwd` until no job of `db` is queued or running; throws if one failed.
 * Returns the span from the first execution's start to the last one's end (job_executions),
 * ms, and the worker's peak RSS, MB (null where /proc is missing). BENCH_PROFILE_DIR: the
 * worker writes a V8 CPU profile there (node --cpu-prof).
 */
export const drainWithWorker = async (db: TestDb, bin: string, cwd: string, concurrency: number): Promise<{ ms: number; peakRssMb: number | null }> => {
  const profile = process.env.BENCH_PROFILE_DIR ? ["--cpu-prof", "--cpu-prof-dir", process.env.BENCH_PROFILE_DIR] : []
  const worker = spawn(process.execPath, [...profile, CLI, "worker", "--count", String(concurrency)], {
    cwd,
    env: { ...process.env, AIDP_DATABASE_URL: db.url, AIDP_DB_SCHEMA: db.schema, AIDP_CLAUDE_BIN: bin },
    stdio: "ignore"
  })
  const exited = new Promise((resolve) => worker.once("exit", resolve))
  let peak: number | null = null
  try {
    for (;;) {
      const [row] = await db.sql<Array<{ open: number; failed: number }>>`
        select count(*) filter (where status in ('queued', 'running'))::int as open,
               count(*) filter (where status in ('failed', 'cancelled'))::int as failed from jobs`
      if (row!.failed > 0) throw new Error(`${row!.failed} aidp bench jobs failed`)
      if (row!.open === 0) break
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    peak = await readFile(`/proc/${worker.pid}/status`, "utf8").then(peakRssMb, () => null)
  } finally {
    worker.kill("SIGTERM")
    await exited
  }
  const [span] = await db.sql<Array<{ ms: number }>>`
    select extract(epoch from max(completed_at) - min(started_at)) * 1000 as ms from job_executions`
  return { ms: Number(span!.ms), peakRssMb: peak }
}

/**
 * `n` claude jobs queued in `db`, run by one `aidp worker --count concurrency` process (the
 * built CLI) with the agent as AIDP_CLAUDE_BIN in `cwd`: jobs/s from the first execution's
 * start to the last one's end (job_executions).
 */
export const aidpWholePath = async (db: TestDb, bin: string, cwd: string, n: number, concurrency: number): Promise<number> => {
  const commands = commandsFor(db)
  try {
    for (let i = 0; i < n; i++) await commands.enqueue({ prompt: `bench job ${i}`, cwd })
  } finally {
    await commands.dispose()
  }
  return perSecond(n, (await drainWithWorker(db, bin, cwd, concurrency)).ms)
}

/** A graphile-worker schema of its own in the test database, dropped by `release`. */
const graphileSchema = async (url: string) => {
  const schema = `gw_${randomBytes(5).toString("hex")}`
  const utils = await makeWorkerUtils({ connectionString: url, schema, logger: silent })
  await utils.migrate()
  return {
    schema,
    utils,
    release: async () => {
      await utils.withPgClient((client) => client.query(`drop schema if exists ${schema} cascade`))
      await utils.release()
    }
  }
}

/**
 * The same `n` jobs through graphile-worker 0.17.3 (`run` with `concurrency`, in this
 * process), each task spawning the agent: jobs/s from the first task's start to the last
 * one's end.
 */
export const graphileWholePath = async (url: string, bin: string, n: number, concurrency: number): Promise<number> => {
  const gw = await graphileSchema(url)
  try {
    for (let i = 0; i < n; i++) await gw.utils.addJob("agent", { prompt: `bench job ${i}` })
    let first = Number.POSITIVE_INFINITY
    let last = 0
    let done = 0
    let finish: () => void = () => {}
    const allDone = new Promise<void>((resolve) => (finish = resolve))
    const runner = await run({
      connectionString: url,
      schema: gw.schema,
      concurrency,
      noHandleSignals: true,
      logger: silent,
      taskList: {
        agent: async (payload) => {
          first = Math.min(first, performance.now())
          await runAgent(bin, (payload as { prompt: string }).prompt)
          last = Math.max(last, performance.now())
          if (++done === n) finish()
        }
      }
    })
    await allDone
    await runner.stop()
    return perSecond(n, last - first)
  } finally {
    await gw.release()
  }
}

/** aidp: `n` jobs enqueued one per transaction (the command handler, as `jobs enqueue` does): jobs/s. */
export const aidpEnqueue = async (db: TestDb, cwd: string, n: number): Promise<number> => {
  // A channel nobody listens on: the figure is the append, not a woken worker.
  const commands = commandsFor(db, { channel: `bench_${randomBytes(4).toString("hex")}` })
  try {
    const start = performance.now()
    for (let i = 0; i < n; i++) await commands.enqueue({ prompt: `enqueue ${i}`, cwd })
    return perSecond(n, performance.now() - start)
  } finally {
    await commands.dispose()
  }
}

/** graphile-worker: `n` jobs added one per transaction (`addJob`): jobs/s. */
export const graphileEnqueue = async (url: string, n: number): Promise<number> => {
  const gw = await graphileSchema(url)
  try {
    const start = performance.now()
    for (let i = 0; i < n; i++) await gw.utils.addJob("agent", { prompt: `enqueue ${i}` })
    return perSecond(n, performance.now() - start)
  } finally {
    await gw.release()
  }
}

/** The Enqueue command of bulk job `i` in `cwd` (what a `--from` line {provider, prompt, cwd} becomes). */
const bulkCommand = (i: number, cwd: string): EnqueueCommand => ({
  _tag: "Enqueue", provider: "claude", model: null, prompt: `bulk job ${i}`, cwd, step: null,
  priority: 0, maxAttempts: 3, timeoutMs: 1_800_000, metadata: {}, permissions: "edit"
})

/**
 * aidp: `n` jobs in one transaction through the command handler's enqueueAll (what
 * `jobs enqueue --from` calls), in this process, on a channel nobody listens on: jobs/s.
 */
export const aidpBulkEnqueue = async (db: TestDb, cwd: string, n: number): Promise<number> => {
  const channel = `bench_${randomBytes(4).toString("hex")}`
  const runtime = ManagedRuntime.make(jobServicesLayer({ sql: db.sql, schema: db.schema, channel }))
  try {
    const jobs = Array.from({ length: n }, (_, i) => ({ jobId: crypto.randomUUID(), command: bulkCommand(i, cwd) }))
    const start = performance.now()
    await runtime.runPromise(Effect.gen(function*() {
      const handler = yield* CommandHandler
      return yield* handler.enqueueAll(jobs, new Date())
    }))
    return perSecond(n, performance.now() - start)
  } finally {
    await runtime.dispose()
  }
}

/**
 * aidp: the whole command `aidp jobs enqueue --from FILE` (the built CLI, a process of its
 * own) over a file of `n` JSON lines written in `dir`: jobs/s from spawn to exit, start-up,
 * reading and checking every line included.
 */
export const aidpBulkEnqueueCommand = async (db: TestDb, dir: string, n: number): Promise<number> => {
  const file = path.join(dir, "bulk.jsonl")
  await writeFile(file, Array.from({ length: n }, (_, i) => `${JSON.stringify({ provider: "claude", prompt: `bulk job ${i}`, cwd: dir })}\n`).join(""))
  const start = performance.now()
  const result = spawnSync(process.execPath, [CLI, "jobs", "enqueue", "--from", file], { cwd: dir, env: cliEnv(db), stdio: ["ignore", "ignore", "pipe"] })
  const ms = performance.now() - start
  if (result.status !== 0) throw new Error(`aidp jobs enqueue --from exited ${result.status}: ${result.stderr}`)
  return perSecond(n, ms)
}

/** graphile-worker: `n` jobs added in one call of `addJobs` (one statement, one transaction): jobs/s. */
export const graphileBulkEnqueue = async (url: string, n: number): Promise<number> => {
  const gw = await graphileSchema(url)
  try {
    const specs = Array.from({ length: n }, (_, i) => ({ identifier: "agent", payload: { prompt: `bulk job ${i}` } }))
    const start = performance.now()
    await gw.utils.addJobs(specs)
    return perSecond(n, performance.now() - start)
  } finally {
    await gw.release()
  }
}
