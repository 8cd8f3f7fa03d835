/**
 * `npm run bench [-- --json]`: aidp's figures beside a peer measured in the same run, on the
 * test database (AIDP_TEST_DATABASE_URL, default postgres://root@127.0.0.1:5432/test), each
 * part in throwaway schemas: the whole path (the same near-zero agent through aidp, through
 * graphile-worker, and spawned with no queue), enqueue one job per transaction and in bulk
 * (`jobs enqueue --from`, one transaction, beside graphile-worker's addJobs), start-up of
 * whole commands beside bare Node, the event store and monitor queries, the monitor in a
 * pseudo-terminal (commit -> repainted screen p50/p99; first screen and peak RSS over
 * BENCH_SCREEN_HISTORY finished jobs, default 100,000 and 1,000,000), an agent printing
 * BENCH_OUTPUT_MB MB (default 50: ingestion MB/s, the worker's peak RSS), and the rebuild of
 * the read models over a generated history (`--events N` or BENCH_EVENTS, default 1,000,000;
 * `--only peers|engine|monitor|output|rebuild` for one part alone).
 * Prints a table (or JSON); asserts nothing (targets belong here, not in unit tests). Needs
 * the built CLI (`npm run build`).
 */
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { performance } from "node:perf_hooks"
import { Effect, ManagedRuntime } from "effect"
import { channelFor } from "../src/events/sqlClient.js"
import { CommandHandler } from "../src/projections/commandHandler.js"
import { monitorGroups, listJobs } from "../src/projections/queries.js"
import { jobServicesLayer } from "../src/projections/services.js"
import { createTestDb, testDatabaseUrl, type TestDb } from "../test/support/db.js"
import { writeAgent } from "./agent.js"
import {
  aidpBulkEnqueue,
  aidpBulkEnqueueCommand,
  aidpEnqueue,
  aidpWholePath,
  graphileBulkEnqueue,
  graphileEnqueue,
  graphileWholePath,
  spawnsAlone
} from "./peers.js"
import { insertHistory } from "./history.js"
import { outputFigure } from "./output.js"
import { rebuildFigure } from "./rebuild.js"
import { replayStatsFigure } from "./replayStats.js"
import { commitToScreenFigure, firstScreenFigure } from "./screen.js"
import { startupFigures } from "./startup.js"
import { percentile, perSecond, ratioText } from "./stats.js"

const JOBS = Number(process.env.BENCH_JOBS ?? 2_000)
const HISTORY = Number(process.env.BENCH_HISTORY ?? 200_000)
/** Jobs per whole-path run and per enqueue run. */
const PATH_JOBS = Number(process.env.BENCH_PATH_JOBS ?? 300)
/** Finished jobs of history under the monitor's first screen, one figure per size. */
const SCREEN_HISTORIES = (process.env.BENCH_SCREEN_HISTORY ?? "100000,1000000").split(",").map(Number)
/** MB printed by the output figure's agent. */
const OUTPUT_MB = Number(process.env.BENCH_OUTPUT_MB ?? 50)
/** Jobs per bulk enqueue (`jobs enqueue --from`, graphile-worker's addJobs). */
const BULK_JOBS = Number(process.env.BENCH_BULK_JOBS ?? 10_000)

/** The value after `flag` on the command line (`--events 20000`), or undefined. */
const flagValue = (flag: string): string | undefined => {
  const i = process.argv.indexOf(flag)
  return i < 0 ? undefined : process.argv[i + 1]
}
/** Events in the rebuild figure's generated history (`--events N` or BENCH_EVENTS). */
const REBUILD_EVENTS = Number(flagValue("--events") ?? process.env.BENCH_EVENTS ?? 1_000_000)

/** One line of the table: aidp's figure, its peer's (when there is one) and aidp / peer. */
interface Row {
  readonly figure: string
  readonly unit: string
  readonly aidp: number
  readonly peer?: { readonly name: string; readonly value: number }
}

const time = async <A>(body: () => Promise<A>): Promise<{ value: A; ms: number }> => {
  const start = performance.now()
  const value = await body()
  const ms = performance.now() - start
  return { value, ms }
}

const median = async (runs: number, body: () => Promise<unknown>): Promise<number> => {
  const samples: Array<number> = []
  for (let i = 0; i < runs; i++) samples.push((await time(body)).ms)
  return percentile(samples, 50)
}

/** Runs `body` with a fresh throwaway schema, dropped after. */
const withDb = async <A>(body: (db: TestDb) => Promise<A>): Promise<A> => {
  const db = await createTestDb()
  try {
    return await body(db)
  } finally {
    await db.drop()
  }
}

/** Whole path at concurrency 1 and 10, enqueue per transaction, start-up: aidp beside its peers. */
const peerRows = async (): Promise<Array<Row>> => {
  const dir = await mkdtemp(path.join(tmpdir(), "aidp-bench-"))
  try {
    const bin = await writeAgent(dir)
    const rows: Array<Row> = []
    for (const concurrency of [1, 10]) {
      const n = concurrency === 1 ? Math.ceil(PATH_JOBS / 3) : PATH_JOBS
      const aidp = await withDb((db) => aidpWholePath(db, bin, dir, n, concurrency))
      const graphile = await graphileWholePath(testDatabaseUrl, bin, n, concurrency)
      const ceiling = await spawnsAlone(bin, n, concurrency)
      rows.push({ figure: `whole path, ${n} jobs, concurrency ${concurrency}`, unit: "jobs/s", aidp, peer: { name: "graphile-worker 0.17.3", value: graphile } })
      rows.push({ figure: `  the same spawns, no queue (ceiling)`, unit: "jobs/s", aidp, peer: { name: "spawns alone", value: ceiling } })
    }
    const enqueueAidp = await withDb((db) => aidpEnqueue(db, dir, PATH_JOBS))
    const enqueueGraphile = await graphileEnqueue(testDatabaseUrl, PATH_JOBS)
    rows.push({ figure: `enqueue, one job per transaction (${PATH_JOBS})`, unit: "jobs/s", aidp: enqueueAidp, peer: { name: "graphile-worker 0.17.3", value: enqueueGraphile } })
    const bulkAidp = await withDb((db) => aidpBulkEnqueue(db, dir, BULK_JOBS))
    const bulkGraphile = await graphileBulkEnqueue(testDatabaseUrl, BULK_JOBS)
    rows.push({ figure: `enqueue, bulk (--from, one transaction) (${BULK_JOBS})`, unit: "jobs/s", aidp: bulkAidp, peer: { name: "graphile-worker 0.17.3 addJobs", value: bulkGraphile } })
    const bulkCommand = await withDb((db) => aidpBulkEnqueueCommand(db, dir, BULK_JOBS))
    rows.push({ figure: "  the whole command, aidp jobs enqueue --from FILE", unit: "jobs/s", aidp: bulkCommand, peer: { name: "in-process, above", value: bulkAidp } })
    const startup = await withDb(async (db) => startupFigures(db))
    const floor = { name: "node -e 0", value: startup.node }
    rows.push({ figure: "start-up: aidp --help", unit: "ms", aidp: startup.help, peer: floor })
    rows.push({ figure: "start-up: aidp --version", unit: "ms", aidp: startup.version, peer: floor })
    rows.push({ figure: "start-up: aidp jobs list", unit: "ms", aidp: startup.jobsList, peer: floor })
    return rows
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** Event store, projections and the monitor's queries (no peer: history and scale). */
const engineRows = async (): Promise<Array<Row>> => {
  const db = await createTestDb()
  try {
    const runtime = ManagedRuntime.make(jobServicesLayer({ sql: db.sql, schema: db.schema, channel: channelFor(db.schema) }))
    const handle = (jobId: string, command: Parameters<CommandHandler["Service"]["handle"]>[1]) =>
      runtime.runPromise(Effect.flatMap(CommandHandler, (h) => h.handle(jobId, command, new Date())))

    const ids = Array.from({ length: JOBS }, () => crypto.randomUUID())
    const enqueue = await time(async () => {
      for (let i = 0; i < ids.length; i += 8) {
        await Promise.all(ids.slice(i, i + 8).map((id, k) =>
          handle(id, {
            _tag: "Enqueue", provider: "claude", model: null, prompt: `bench job ${i + k}`, cwd: "/tmp", step: null,
            priority: 0, maxAttempts: 3, timeoutMs: 60_000, metadata: {}, permissions: "edit"
          })))
      }
    })
    const lines = Array.from({ length: 50 }, (_, i) => ({ stream: "stdout" as const, text: `line ${i} ${"x".repeat(80)}`, at: new Date().toISOString() }))
    const lifecycle = await time(async () => {
      for (let i = 0; i < ids.length; i += 8) {
        await Promise.all(ids.slice(i, i + 8).map(async (id) => {
          const executionId = crypto.randomUUID()
          await handle(id, { _tag: "Start", executionId, workerId: "bench", host: "bench", pid: 1, argv: ["claude"] })
          await handle(id, { _tag: "RecordOutput", executionId, lines })
          await handle(id, { _tag: "Succeed", executionId, exitCode: 0, result: "ok", usage: null, costUsd: 0.01, durationMs: 1000, cliVersion: null, denials: [] })
        }))
      }
    })
    const monitorSmall = await median(15, () => monitorGroups(db.sql))
    const listSmall = await median(15, () => listJobs(db.sql, { status: "completed", limit: 50 }))
    // A large history for the monitor's queries: rows inserted directly (read-model shape only).
    await insertHistory(db, HISTORY)
    const monitorLarge = await median(15, () => monitorGroups(db.sql))
    const listLarge = await median(15, () => listJobs(db.sql, { status: "completed", limit: 50 }))

    await runtime.dispose()
    return [
      { figure: `engine: jobs enqueued, 8 at a time (${JOBS})`, unit: "jobs/s", aidp: perSecond(JOBS, enqueue.ms) },
      { figure: "engine: start + 50 output lines + succeed", unit: "jobs/s", aidp: perSecond(JOBS, lifecycle.ms) },
      { figure: `monitor query at ${JOBS + HISTORY} jobs`, unit: "ms", aidp: monitorLarge, peer: { name: `at ${JOBS} jobs`, value: monitorSmall } },
      { figure: `jobs list --status completed at ${JOBS + HISTORY} jobs`, unit: "ms", aidp: listLarge, peer: { name: `at ${JOBS} jobs`, value: listSmall } }
    ]
  } finally {
    await db.drop()
  }
}

/** Rebuild of the read models, and replay --stats, over a generated history of {@link REBUILD_EVENTS} events (bench/rebuild.ts, bench/replayStats.ts). */
const rebuildRows = async (): Promise<Array<Row>> => {
  const { figure, stats } = await withDb(async (db) => {
    const figure = await rebuildFigure(db, REBUILD_EVENTS)
    return { figure, stats: replayStatsFigure(db, figure.events) }
  })
  return [
    { figure: `rebuild over ${figure.events} events, replacing (identical: ${figure.identical})`, unit: "events/s", aidp: figure.perSecond },
    { figure: `rebuild over ${figure.events} events, into empty tables`, unit: "events/s", aidp: figure.firstPerSecond },
    { figure: `replay --stats over ${figure.events} events, whole command`, unit: "events/s", aidp: stats.perSecond },
    ...(stats.peakRssMb === null ? [] : [{ figure: "  its peak RSS (target: under 200)", unit: "MB", aidp: stats.peakRssMb }])
  ]
}

/** The monitor in a pseudo-terminal: commit -> repainted screen, and the first screen over large histories (bench/screen.ts). */
const monitorRows = async (): Promise<Array<Row>> => {
  const live = await withDb((db) => commitToScreenFigure(db))
  const rows: Array<Row> = [
    { figure: "commit -> repainted monitor screen, p50", unit: "ms", aidp: live.p50 },
    { figure: "commit -> repainted monitor screen, p99 (target: 50)", unit: "ms", aidp: live.p99 }
  ]
  for (const history of SCREEN_HISTORIES) {
    const first = await withDb((db) => firstScreenFigure(db, history))
    rows.push({ figure: `monitor first screen at ${history} jobs, from the command's start (target: 300)`, unit: "ms", aidp: first.ms })
    if (first.peakRssMb !== null) rows.push({ figure: `  its peak RSS (target: 150)`, unit: "MB", aidp: first.peakRssMb })
  }
  return rows
}

/** An agent printing {@link OUTPUT_MB} MB through one worker (bench/output.ts). */
const outputRows = async (): Promise<Array<Row>> => {
  const dir = await mkdtemp(path.join(tmpdir(), "aidp-bench-"))
  try {
    const figure = await withDb((db) => outputFigure(db, dir, OUTPUT_MB))
    return [
      { figure: `an agent printing ${OUTPUT_MB} MB: ingestion`, unit: "MB/s", aidp: figure.mbPerSecond },
      ...(figure.peakRssMb === null ? [] : [{ figure: "  the worker's peak RSS (target: 200)", unit: "MB", aidp: figure.peakRssMb }])
    ]
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

const digits = (value: number): string => (value >= 100 ? value.toFixed(0) : value.toFixed(1))

/** The rows as an aligned text table: figure, aidp, peer, aidp / peer. */
const table = (rows: ReadonlyArray<Row>): string => {
  const cells = [
    ["figure", "aidp", "peer", "aidp / peer"],
    ...rows.map((row) => [
      row.figure,
      `${digits(row.aidp)} ${row.unit}`,
      row.peer ? `${digits(row.peer.value)} ${row.unit} (${row.peer.name})` : "",
      ratioText(row.aidp, row.peer?.value)
    ])
  ]
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((line) => line[i]!.length)))
  return cells.map((line) => line.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n") + "\n"
}

const main = async () => {
  // `--only peers|engine|monitor|output|rebuild` runs that part alone (profiling, quick checks).
  const parts = { peers: peerRows, engine: engineRows, monitor: monitorRows, output: outputRows, rebuild: rebuildRows }
  const only = flagValue("--only")
  if (only !== undefined && !(only in parts)) throw new Error(`--only takes one of ${Object.keys(parts).join(", ")}, not "${only}".`)
  const rows = []
  for (const [name, part] of Object.entries(parts)) if (only === undefined || only === name) rows.push(...(await part()))
  if (process.argv.includes("--json")) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`)
  else process.stdout.write(table(rows))
}

main().catch((error) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`)
  process.exit(1)
})
