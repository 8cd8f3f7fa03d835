/**
 * Rebuild, the projections' second driver (DESIGN.md, Projections): drop the read models'
 * rows and fold the whole event log in memory, stream by stream, with the same pure
 * projection the live appends run (evolveRows.ts), writing rows in bulk with COPY, in one
 * transaction that blocks appends meanwhile. It reports whether the result differs from what
 * was there, which proves (or disproves) DESIGN.md invariant 3: replay(job_events) == live
 * read models.
 *
 * Log lines are written page by page as the fold makes them; job and execution rows, which
 * later events still change, once at the end. The foreign keys between the three tables are
 * dropped for the load and added back after it (PostgreSQL then checks every row in one join
 * instead of one lookup per row), inside the same transaction: a failure restores them.
 */
import type postgres from "postgres"
import { readAllIn } from "../events/store.js"
import { copyLine } from "./copyText.js"
import { emptyStreamRows, evolveRows, type StreamRows } from "./evolveRows.js"
import { columnNames, EXECUTIONS, type ExecutionRow, JOBS, type JobRow, LOGS, type LogRow, type Table } from "./rows.js"

type Tx = postgres.TransactionSql

/** Read-model tables in dependency order (children first). */
const TABLES = ["job_logs", "job_executions", "jobs"] as const

/** Result of a rebuild: events replayed, and per table whether its rows changed. */
export interface RebuildReport {
  readonly events: number
  readonly tables: ReadonlyArray<{ readonly table: string; readonly rows: number; readonly identical: boolean }>
}

/** Events read and folded per page. */
const PAGE = 20_000

/**
 * A digest of every row of a table: the sum of a 64-bit hash of each row's text form, which
 * needs no sort (the rows' order does not count; the primary key makes each row distinct).
 */
const digest = async (tx: Tx, table: string): Promise<{ rows: number; hash: string }> => {
  const [row] = await tx.unsafe<Array<{ rows: string; hash: string | null }>>(
    `select count(*) as rows, sum(hashtextextended(t::text, 0))::text as hash from ${table} t`
  )
  return { rows: Number(row!.rows), hash: row!.hash ?? "" }
}

/** Writes `rows` into `table` with one COPY. */
const copyRows = async <R>(tx: Tx, table: Table<R>, rows: Iterable<R>): Promise<void> => {
  const line = copyLine(table)
  const writable = await tx.unsafe(`copy ${table.name} (${columnNames(table).join(", ")}) from stdin`).writable()
  let chunk = ""
  const flush = () =>
    new Promise<void>((resolve, reject) => writable.write(chunk, (error) => (error ? reject(error) : resolve())))
  for (const row of rows) {
    chunk += line(row)
    // Chunks of about 1 MB: large enough to keep PostgreSQL busy, small enough to not pile up.
    if (chunk.length >= 1 << 20) {
      await flush()
      chunk = ""
    }
  }
  await new Promise<void>((resolve, reject) => {
    writable.once("error", reject)
    writable.end(chunk, () => resolve())
  })
}

/** A foreign key between two read-model tables, as PostgreSQL defines it. */
interface ForeignKey {
  readonly table: string
  readonly name: string
  readonly definition: string
}

/** The foreign keys among the read-model tables (pg_constraint), dropped; returns them to add back. */
const dropForeignKeys = async (tx: Tx): Promise<ReadonlyArray<ForeignKey>> => {
  const keys = await tx<Array<ForeignKey>>`
    select c.conrelid::regclass::text as table, quote_ident(c.conname) as name, pg_get_constraintdef(c.oid) as definition
    from pg_constraint c
    where c.contype = 'f' and c.conrelid = any(${TABLES}::regclass[]) and c.confrelid = any(${TABLES}::regclass[])
    order by c.conname`
  for (const key of keys) await tx.unsafe(`alter table ${key.table} drop constraint ${key.name}`)
  return keys
}

/** Folds every event of the log (in position order) into `streams`, writing log lines per page. */
const foldLog = async (tx: Tx, streams: Map<string, StreamRows>): Promise<number> => {
  let after = 0
  let events = 0
  for (;;) {
    const page = await readAllIn(tx, { after, limit: PAGE })
    if (page.length === 0) return events
    const logs: Array<LogRow> = []
    for (const recorded of page) {
      const next = evolveRows(streams.get(recorded.jobId) ?? emptyStreamRows, recorded)
      streams.set(recorded.jobId, next.rows)
      for (const log of next.logs) logs.push(log)
    }
    await copyRows(tx, LOGS, logs)
    events += page.length
    after = page[page.length - 1]!.position
  }
}

function* jobRows(streams: Map<string, StreamRows>): Generator<JobRow> {
  for (const rows of streams.values()) yield rows.job!
}

function* executionRows(streams: Map<string, StreamRows>): Generator<ExecutionRow> {
  for (const rows of streams.values()) yield* rows.executions.values()
}

/**
 * Rebuilds `jobs`, `job_executions` and `job_logs` from `job_events`. Rejects with the
 * driver's error (and changes nothing) when any step fails, e.g. an event its stream cannot
 * take (evolveRows) or a role that does not own the tables.
 */
export const rebuildReadModels = (sql: postgres.Sql): Promise<RebuildReport> =>
  sql.begin(async (tx) => {
    // Appends lock a `jobs` row, then insert into job_events, then write the other read
    // models: take the tables in that order too, or a rebuild and an append can deadlock.
    await tx`lock table jobs, job_executions, job_logs in access exclusive mode`
    await tx`lock table job_events in share mode`
    const before = new Map<string, { rows: number; hash: string }>()
    for (const table of TABLES) before.set(table, await digest(tx, table))
    await tx.unsafe(`truncate ${TABLES.join(", ")}`)
    const keys = await dropForeignKeys(tx)
    const streams = new Map<string, StreamRows>()
    const events = await foldLog(tx, streams)
    await copyRows(tx, JOBS, jobRows(streams))
    await copyRows(tx, EXECUTIONS, executionRows(streams))
    for (const key of keys) await tx.unsafe(`alter table ${key.table} add constraint ${key.name} ${key.definition}`)
    const tables = []
    for (const table of [...TABLES].reverse()) {
      const now = await digest(tx, table)
      tables.push({ table, rows: now.rows, identical: now.hash === before.get(table)!.hash && now.rows === before.get(table)!.rows })
    }
    return { events, tables }
  })
