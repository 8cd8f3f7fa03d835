/**
 * Rebuild, the projections' second driver (DESIGN.md, Projections): drop the read models'
 * rows and fold the whole event log in memory, stream by stream, with the same pure
 * projection the live appends run (evolveRows.ts), writing rows in bulk with COPY, in one
 * transaction that blocks appends meanwhile. It reports whether the result differs from what
 * was there, which proves (or disproves) DESIGN.md invariant 3: replay(job_events) == live
 * read models.
 *
 * Log lines are written page by page as the fold makes them; job and execution rows, which
 * later events still change, once at the end. The foreign keys between the three tables and
 * their indexes (but the primary keys of jobs and job_executions) are dropped for the load and added back after it (PostgreSQL then checks
 * every row in one join and builds each index in one sort, instead of one lookup and one
 * index insert per row), inside the same transaction: a failure restores them.
 */
import { once } from "node:events"
import type postgres from "postgres"
import { readLogIn, type LogRow as EventLogRow } from "../events/store.js"
import { copyLine } from "./copyText.js"
import { emptyStreamRows, evolveRows, type StreamRows } from "./evolveRows.js"
import { columnNames, EXECUTIONS, type ExecutionRow, JOBS, type JobRow, LOGS, type LogRow, type Table } from "./rows.js"

type Tx = postgres.TransactionSql

/** Read-model tables in dependency order (children first). */
const TABLES = ["job_logs", "job_executions", "jobs"] as const

/** One column of one row that the rebuild gives differently from the live table (values as JSON). */
export interface RowDifference {
  readonly table: string
  /** The row's key: `id`, or `job_id/seq` for job_logs. */
  readonly key: string
  /** The column, or `(row)` when the row is only in the live table or only in the rebuilt one. */
  readonly column: string
  readonly live: unknown
  readonly rebuilt: unknown
}

/**
 * Result of a rebuild: events replayed; per table its rows, whether they were identical and
 * (when asked for) how many rows differ; the first differences column by column; whether the
 * rebuilt rows replaced the live ones.
 */
export interface RebuildReport {
  readonly events: number
  readonly tables: ReadonlyArray<{ readonly table: string; readonly rows: number; readonly identical: boolean; readonly differingRows?: number }>
  readonly differences: ReadonlyArray<RowDifference>
  readonly applied: boolean
}

/** What a rebuild does besides rebuilding. */
export interface RebuildOptions {
  /** Keep the rebuilt rows (default); false: compare only, and roll back, changing nothing. */
  readonly apply?: boolean
  /** Compare row by row and report the differences (costs a copy of the live tables). */
  readonly differences?: boolean
}

/** Most rows whose differences are listed (all are counted). */
export const MAX_LISTED_ROWS = 100

/** Each table's key columns, to pair a live row with its rebuilt one. */
const KEYS: Readonly<Record<(typeof TABLES)[number], ReadonlyArray<string>>> = {
  jobs: ["id"],
  job_executions: ["id"],
  job_logs: ["job_id", "seq"]
}

/** The live rows of `table`, copied before the rebuild replaces them (dropped at commit or rollback). */
const beforeTable = (table: string) => `pg_temp.before_${table}`

/**
 * Row by row, `table` (rebuilt) against its copy made before the rebuild: how many rows
 * differ, and the first {@link MAX_LISTED_ROWS} of them column by column.
 */
const compareRows = async (tx: Tx, table: (typeof TABLES)[number]): Promise<{ count: number; differences: RowDifference[] }> => {
  const keys = KEYS[table]
  const on = keys.map((k) => `a.${k} = b.${k}`).join(" and ")
  const differ = `from ${table} a full join ${beforeTable(table)} b on ${on} where to_jsonb(a) is distinct from to_jsonb(b)`
  // One pass: the window counts every differing row before the limit keeps the first ones.
  const rows = await tx.unsafe<Array<{ live: Record<string, unknown> | null; rebuilt: Record<string, unknown> | null; n: string }>>(
    `select to_jsonb(b) as live, to_jsonb(a) as rebuilt, count(*) over () as n ${differ} order by ${keys.map((k) => `coalesce(a.${k}, b.${k})`).join(", ")} limit ${MAX_LISTED_ROWS}`
  )
  const differences = rows.flatMap(({ live, rebuilt }) => {
    const key = keys.map((k) => String((live ?? rebuilt)![k])).join("/")
    if (live === null || rebuilt === null) return [{ table, key, column: "(row)", live, rebuilt }]
    return Object.keys({ ...live, ...rebuilt })
      .filter((column) => JSON.stringify(live[column]) !== JSON.stringify(rebuilt[column]))
      .map((column) => ({ table, key, column, live: live[column] ?? null, rebuilt: rebuilt[column] ?? null }))
  })
  return { count: Number(rows[0]?.n ?? 0), differences }
}

/** Thrown to roll a compare-only rebuild back; carries its report out of the transaction. */
class RolledBack extends Error {
  constructor(readonly report: RebuildReport) {
    super("rolled back")
  }
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

/** An open COPY into one table: `write` queues rows (waiting only when PostgreSQL lags), `end` finishes it. */
interface Copy<R> {
  readonly write: (rows: Iterable<R>) => Promise<void>
  readonly end: () => Promise<void>
}

/** Opens a COPY into `table` on `tx`; rows go out in chunks of about 1 MB. */
const openCopy = async <R>(tx: Tx, table: Table<R>): Promise<Copy<R>> => {
  const line = copyLine(table)
  const writable = await tx.unsafe(`copy ${table.name} (${columnNames(table).join(", ")}) from stdin`).writable()
  let failure: unknown
  writable.on("error", (error) => (failure ??= error))
  // Waits for the socket to drain only when its buffer is full, so folding goes on meanwhile.
  const send = async (chunk: string) => {
    if (failure !== undefined) throw failure
    // once() rejects on "error" and removes its listeners either way.
    if (!writable.write(chunk)) await once(writable, "drain")
  }
  return {
    write: async (rows) => {
      let chunk = ""
      for (const row of rows) {
        chunk += line(row)
        if (chunk.length >= 1 << 20) {
          await send(chunk)
          chunk = ""
        }
      }
      if (chunk.length > 0) await send(chunk)
    },
    end: () =>
      new Promise<void>((resolve, reject) => {
        if (failure !== undefined) return reject(failure)
        writable.once("error", reject)
        writable.end(() => resolve())
      })
  }
}

/** Writes `rows` into `table` with one COPY. */
const copyRows = async <R>(tx: Tx, table: Table<R>, rows: Iterable<R>): Promise<void> => {
  const copy = await openCopy(tx, table)
  await copy.write(rows)
  await copy.end()
}

/** A constraint or index dropped for the load: the statements that drop it and add it back. */
interface Dropped {
  readonly drop: string
  readonly add: string
}

/**
 * Drops what makes a bulk load slow, returning how to add it back (in that order): the
 * foreign keys among the read-model tables, checked per row on insert, the tables' other
 * indexes, and `job_logs`' primary key (nothing references its rows, which outnumber the
 * others' by far), all updated per row. Added back, each is built or checked in one pass.
 */
const dropForLoad = async (tx: Tx): Promise<ReadonlyArray<Dropped>> => {
  const found = await tx<Array<{ table: string; name: string; definition: string; constraint: boolean }>>`
    select c.conrelid::regclass::text as table, quote_ident(c.conname) as name, pg_get_constraintdef(c.oid) as definition,
           true as constraint
    from pg_constraint c
    where (c.contype = 'f' and c.conrelid = any(${TABLES}::regclass[]) and c.confrelid = any(${TABLES}::regclass[]))
       or (c.contype in ('p', 'u') and c.conrelid = 'job_logs'::regclass)
    union all
    select i.tablename, quote_ident(i.indexname), i.indexdef, false
    from pg_indexes i
    where i.schemaname = current_schema() and i.tablename = any(${TABLES})
      and not exists (select 1 from pg_constraint c where c.conindid = (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass)`
  // Foreign keys go first (they may lean on the keys dropped after them) and come back last.
  const ordered = [...found].sort((a, b) => Number(b.definition.startsWith("FOREIGN KEY")) - Number(a.definition.startsWith("FOREIGN KEY")))
  const dropped = ordered.map((d): Dropped => d.constraint
    ? { drop: `alter table ${d.table} drop constraint ${d.name}`, add: `alter table ${d.table} add constraint ${d.name} ${d.definition}` }
    : { drop: `drop index ${d.name}`, add: d.definition })
  for (const d of dropped) await tx.unsafe(d.drop)
  return dropped.reverse()
}

/** A rebuild that would not give faithful read models (a bad row in the log); `message` names the row. Nothing was changed. */
export class RebuildRefused extends Error {
  override readonly name = "RebuildRefused"
}

/**
 * Folds every event of the log (in position order, read through `reader`) into `streams`,
 * writing log lines through `tx` page by page. The next page is read while this one is
 * folded and written: two connections, two PostgreSQL backends at work.
 */
const foldLog = async (tx: Tx, reader: Tx, streams: Map<string, StreamRows>): Promise<number> => {
  const read = (after: number): Promise<Array<EventLogRow>> => {
    const page = readLogIn(reader, { after, limit: PAGE })
    page.catch(() => undefined) // awaited below; a fold that fails first must not leave it unhandled
    return page
  }
  const logs = await openCopy(tx, LOGS)
  let events = 0
  try {
    let pending = read(0)
    for (;;) {
      const page = await pending
      if (page.length === 0) break
      const last = page[page.length - 1]!
      pending = read(last.position)
      const lines: Array<LogRow> = []
      for (const row of page) {
        if (!row.ok) {
          const bad = row.undecodable
          throw new RebuildRefused(`Event ${bad.position} (${bad.type}, job ${bad.jobId} v${bad.version}) does not decode as an aidp event (${bad.problem}); a rebuild would lose it, so nothing was changed. Repair or remove that row of job_events first (aidp jobs replay names every such row).`)
        }
        const recorded = row.event
        let next: ReturnType<typeof evolveRows>
        try {
          next = evolveRows(streams.get(recorded.jobId) ?? emptyStreamRows, recorded)
        } catch (error) {
          throw new RebuildRefused(`Event ${recorded.position} (${recorded.event.type}, job ${recorded.jobId} v${recorded.version}) cannot be projected: ${error instanceof Error ? error.message : String(error)} Nothing was changed.`)
        }
        streams.set(recorded.jobId, next.rows)
        for (const log of next.logs) lines.push(log)
      }
      await logs.write(lines)
      events += page.length
    }
  } catch (error) {
    // End the COPY first: the transaction can only roll back once it is over.
    await logs.end().catch(() => undefined)
    throw error
  }
  await logs.end()
  return events
}

function* jobRows(streams: Map<string, StreamRows>): Generator<JobRow> {
  for (const rows of streams.values()) yield rows.job!
}

function* executionRows(streams: Map<string, StreamRows>): Generator<ExecutionRow> {
  for (const rows of streams.values()) yield* rows.executions.values()
}

/**
 * Rebuilds `jobs`, `job_executions` and `job_logs` from `job_events`, on two connections of
 * `sql` (its pool needs at least two). Rejects with the driver's error (and changes nothing)
 * when any step fails, e.g. an event its stream cannot take (evolveRows) or a role that does
 * not own the tables.
 */
export const rebuildReadModels = async (sql: postgres.Sql, options: RebuildOptions = {}): Promise<RebuildReport> => {
  // A pool of one would wait forever for the reader's connection.
  if (sql.options.max < 2) throw new Error(`Rebuild needs a connection pool of at least 2; this one has ${sql.options.max}.`)
  const apply = options.apply ?? true
  return sql.begin(async (tx) => {
    // Appends lock a `jobs` row, then insert into job_events, then write the other read
    // models: take the tables in that order too, or a rebuild and an append can deadlock.
    await tx`lock table jobs, job_executions, job_logs in access exclusive mode`
    await tx`lock table job_events in share mode`
    const before = new Map<string, { rows: number; hash: string }>()
    for (const table of TABLES) before.set(table, await digest(tx, table))
    if (options.differences) {
      for (const table of TABLES) await tx.unsafe(`create temp table ${beforeTable(table).slice("pg_temp.".length)} on commit drop as table ${table}`)
    }
    // The log is read on a second connection, in this transaction's snapshot (appends are
    // locked out, so it is the whole log).
    const [exported] = await tx<Array<{ id: string }>>`select pg_export_snapshot() as id`
    await tx.unsafe(`truncate ${TABLES.join(", ")}`)
    const dropped = await dropForLoad(tx)
    const streams = new Map<string, StreamRows>()
    const events = await sql.begin("isolation level repeatable read read only", async (reader) => {
      await reader.unsafe(`set transaction snapshot '${exported!.id}'`)
      return foldLog(tx, reader, streams)
    })
    await copyRows(tx, JOBS, jobRows(streams))
    await copyRows(tx, EXECUTIONS, executionRows(streams))
    // Index builds and foreign key checks sort; give them room (this transaction only).
    await tx`set local maintenance_work_mem = '256MB'`
    for (const d of dropped) await tx.unsafe(d.add)
    const tables = []
    const differences: RowDifference[] = []
    for (const table of [...TABLES].reverse()) {
      const now = await digest(tx, table)
      const identical = now.hash === before.get(table)!.hash && now.rows === before.get(table)!.rows
      if (!options.differences) {
        tables.push({ table, rows: now.rows, identical })
        continue
      }
      const compared = identical ? { count: 0, differences: [] } : await compareRows(tx, table)
      tables.push({ table, rows: now.rows, identical, differingRows: compared.count })
      differences.push(...compared.differences)
    }
    const report: RebuildReport = { events, tables, differences, applied: apply }
    if (!apply) throw new RolledBack(report)
    return report
  }).catch((error: unknown) => {
    if (error instanceof RolledBack) return error.report
    throw error
  })
}
