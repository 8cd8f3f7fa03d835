/**
 * Rebuild, the projections' second driver (DESIGN.md, Projections): fold the whole event log
 * in memory, stream by stream, with the same pure projection the live appends run
 * (evolveRows.ts), into fresh tables in a schema of their own, written in bulk with COPY; then
 * compare them row by row with the live tables, and (asked to) swap them in. Proves (or
 * disproves) DESIGN.md invariant 3: replay(job_events) == live read models.
 *
 * Workers and monitors go on meanwhile. The fold reads the log in one snapshot and the
 * comparison sees the live tables in the same one, so both sides stand for the same events.
 * The swap is one short transaction that locks the live tables (appends and readers wait for
 * it, never fail), projects onto the fresh tables the events committed since the snapshot
 * (with the live driver), and moves the fresh tables in place of the live ones. A prune, which
 * removes events, waits for a rebuild (and a rebuild for a prune) on an advisory lock.
 *
 * The fresh tables get their keys, foreign keys and indexes (with the live ones' names) after
 * the load: PostgreSQL then checks every row in one join and builds each index in one sort.
 */
import { once } from "node:events"
import type postgres from "postgres"
import { decodeWorkflowEvent, foldWorkflow } from "../domain/workflow.js"
import { readLogIn, type LogRow as EventLogRow } from "../events/store.js"
import { workflowRow } from "../events/workflowStore.js"
import { copyLine } from "./copyText.js"
import { emptyStreamRows, evolveRows, type StreamRows } from "./evolveRows.js"
import { project } from "./project.js"
import { REBUILD_LOCK } from "./rebuildLock.js"
import { columnNames, EXECUTIONS, type ExecutionRow, JOBS, type JobRow, LOGS, type LogRow, type Table } from "./rows.js"

type Tx = postgres.TransactionSql

/**
 * Read-model tables, parents first; `workflows` first of all, since a workflow's writers lock
 * its row before they append to its step jobs (the swap locks the tables in this order).
 */
const TABLES = ["workflows", "jobs", "job_executions", "job_logs"] as const
type TableName = (typeof TABLES)[number]

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
  /** Swap the rebuilt tables in (default); false: compare only, and drop them, changing nothing. */
  readonly apply?: boolean
  /** Compare row by row and report the differences (else only whether each table is identical). */
  readonly differences?: boolean
}

/** Most rows whose differences are listed (all are counted). */
export const MAX_LISTED_ROWS = 100

/** Each table's key columns, to pair a live row with its rebuilt one. */
const KEYS: Readonly<Record<TableName, ReadonlyArray<string>>> = {
  workflows: ["id"],
  jobs: ["id"],
  job_executions: ["id"],
  job_logs: ["job_id", "seq"]
}

/** Double-quotes an SQL identifier. */
const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`

/** The schema a rebuild of `live` builds in (PostgreSQL names are at most 63 bytes). */
const freshSchemaOf = (live: string): string => `${live.slice(0, 40)}_rebuild`

/** The schemas of one rebuild, quoted: the live read models' and the fresh one's. */
interface Schemas {
  readonly live: string
  readonly fresh: string
}

/**
 * Row by row, `table` rebuilt against live: how many rows differ, and the first
 * {@link MAX_LISTED_ROWS} of them column by column.
 */
const compareRows = async (tx: Tx, schemas: Schemas, table: TableName): Promise<{ count: number; differences: RowDifference[] }> => {
  const keys = KEYS[table]
  const on = keys.map((k) => `a.${k} = b.${k}`).join(" and ")
  const differ = `from ${schemas.fresh}.${table} a full join ${schemas.live}.${table} b on ${on} where to_jsonb(a) is distinct from to_jsonb(b)`
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

/** Thrown to roll a compare-only rebuild back. */
class RolledBack extends Error {}

/** Events read and folded per page. */
const PAGE = 20_000

/**
 * A digest of every row of a table: the sum of a 64-bit hash of each row's text form, which
 * needs no sort (the rows' order does not count; the primary key makes each row distinct).
 */
const digest = async (tx: Tx, qualified: string): Promise<{ rows: number; hash: string }> => {
  const [row] = await tx.unsafe<Array<{ rows: string; hash: string | null }>>(
    `select count(*) as rows, sum(hashtextextended(t::text, 0))::text as hash from ${qualified} t`
  )
  return { rows: Number(row!.rows), hash: row!.hash ?? "" }
}

/** An open COPY into one table: `write` queues rows (waiting only when PostgreSQL lags), `end` finishes it. */
interface Copy<R> {
  readonly write: (rows: Iterable<R>) => Promise<void>
  readonly end: () => Promise<void>
}

/** Opens a COPY into `table` of `schema` (quoted) on `tx`; rows go out in chunks of about 1 MB. */
const openCopy = async <R>(tx: Tx, schema: string, table: Table<R>): Promise<Copy<R>> => {
  const line = copyLine(table)
  const writable = await tx.unsafe(`copy ${schema}.${table.name} (${columnNames(table).join(", ")}) from stdin`).writable()
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

/** Writes `rows` into `table` of `schema` with one COPY. */
const copyRows = async <R>(tx: Tx, schema: string, table: Table<R>, rows: Iterable<R>): Promise<void> => {
  const copy = await openCopy(tx, schema, table)
  await copy.write(rows)
  await copy.end()
}

/**
 * Creates the fresh schema's tables as copies of the live ones' columns, defaults and checks,
 * without keys or indexes (added by {@link addKeysAndIndexes} after the load).
 */
const createFreshTables = async (tx: Tx, schemas: Schemas): Promise<void> => {
  await tx.unsafe(`drop schema if exists ${schemas.fresh} cascade`)
  await tx.unsafe(`create schema ${schemas.fresh}`)
  for (const table of TABLES) {
    await tx.unsafe(`create table ${schemas.fresh}.${table} (like ${schemas.live}.${table} including defaults including constraints including generated including storage including comments)`)
  }
}

/**
 * Runs `work` with the search path `fresh, live`: unqualified read-model names then mean the
 * fresh tables, and `job_events` the live log. The path is put back after.
 */
const inFreshSchema = async <A>(tx: Tx, schemas: Schemas, work: () => Promise<A>): Promise<A> => {
  const [saved] = await tx<Array<{ path: string }>>`select current_setting('search_path') as path`
  await tx.unsafe(`set local search_path to ${schemas.fresh}, ${schemas.live}`)
  const result = await work()
  await tx`select set_config('search_path', ${saved!.path}, true)`
  return result
}

/**
 * Gives the fresh tables the live ones' primary keys, unique and foreign keys among the read
 * models, and other indexes, under the same names, keys first (a foreign key needs its
 * parent's). Definitions are read from the catalogue; run in the fresh schema's search path,
 * the names they give resolve to the fresh tables.
 */
const addKeysAndIndexes = async (tx: Tx, schemas: Schemas): Promise<void> => {
  const tables = TABLES.map((t) => `${schemas.live}.${t}`)
  const defined = await tx<Array<{ statement: string }>>`
    select statement from (
      select 'alter table ' || quote_ident(r.relname) || ' add constraint ' || quote_ident(c.conname) || ' ' ||
               replace(pg_get_constraintdef(c.oid), ' REFERENCES ' || quote_ident(n.nspname) || '.', ' REFERENCES ') as statement,
             case c.contype when 'f' then 2 else 1 end as phase
      from pg_constraint c join pg_class r on r.oid = c.conrelid join pg_namespace n on n.oid = r.relnamespace
      where c.conrelid = any(${tables}::regclass[]) and c.contype in ('p', 'u', 'f', 'x')
      union all
      select replace(pg_get_indexdef(x.indexrelid), ' ON ' || quote_ident(n.nspname) || '.' || quote_ident(r.relname) || ' ', ' ON ' || quote_ident(r.relname) || ' '), 3
      from pg_index x join pg_class r on r.oid = x.indrelid join pg_namespace n on n.oid = r.relnamespace
      where x.indrelid = any(${tables}::regclass[]) and not exists (select 1 from pg_constraint c where c.conindid = x.indexrelid)
    ) d order by phase`
  // Index builds and foreign key checks sort; give them room (this transaction only).
  await tx`set local maintenance_work_mem = '256MB'`
  await inFreshSchema(tx, schemas, async () => {
    for (const { statement } of defined) await tx.unsafe(statement)
  })
}

/** A rebuild that would not give faithful read models (a bad row in the log); `message` names the row. Nothing was changed. */
export class RebuildRefused extends Error {
  override readonly name = "RebuildRefused"
}

/** An event the rebuild cannot take: refuses, naming it. */
const refuse = (row: EventLogRow, problem?: unknown): never => {
  if (!row.ok) {
    const bad = row.undecodable
    throw new RebuildRefused(`Event ${bad.position} (${bad.type}, job ${bad.jobId} v${bad.version}) does not decode as an aidp event (${bad.problem}); a rebuild would lose it, so nothing was changed. Repair or remove that row of job_events first (aidp jobs replay names every such row).`)
  }
  const recorded = row.event
  throw new RebuildRefused(`Event ${recorded.position} (${recorded.event.type}, job ${recorded.jobId} v${recorded.version}) cannot be projected: ${problem instanceof Error ? problem.message : String(problem)} Nothing was changed.`)
}

/** What the fold saw of the log: its events, the last position, and the positions it skipped (inclusive ranges). */
interface Folded {
  readonly events: number
  readonly last: number
  readonly gaps: ReadonlyArray<readonly [number, number]>
}

/**
 * Folds every event of the log (in position order, read through `reader`) into `streams`,
 * writing log lines into the fresh schema through `tx` page by page. The next page is read
 * while this one is folded and written: two connections, two PostgreSQL backends at work.
 * The gaps between positions are kept: an append that had not committed when the snapshot was
 * taken holds such a position, and the swap projects it.
 */
const foldLog = async (tx: Tx, reader: postgres.Sql, schemas: Schemas, streams: Map<string, StreamRows>): Promise<Folded> => {
  const read = (after: number): Promise<Array<EventLogRow>> => {
    const page = readLogIn(reader, { after, limit: PAGE })
    page.catch(() => undefined) // awaited below; a fold that fails first must not leave it unhandled
    return page
  }
  const logs = await openCopy(tx, schemas.fresh, LOGS)
  let events = 0
  let last = 0
  const gaps: Array<readonly [number, number]> = []
  try {
    let pending = read(0)
    for (;;) {
      const page = await pending
      if (page.length === 0) break
      pending = read(page[page.length - 1]!.position)
      const lines: Array<LogRow> = []
      for (const row of page) {
        const recorded = row.ok ? row.event : refuse(row)
        if (row.position > last + 1) gaps.push([last + 1, row.position - 1])
        last = row.position
        let next: ReturnType<typeof evolveRows>
        try {
          next = evolveRows(streams.get(recorded.jobId) ?? emptyStreamRows, recorded)
        } catch (error) {
          next = refuse(row, error)
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
  return { events, last, gaps }
}

/** A `workflow_events` row as the rebuild reads it. */
interface WorkflowLogRow {
  readonly workflow_id: string
  readonly version: number
  readonly type: string
  readonly data: unknown
  readonly occurred_at: Date
  readonly position: string
}

/**
 * Folds every workflow's stream in the live `workflow_events` (as `tx` sees it) into the fresh
 * `workflows` table, emptied first, with the rows the live append writes (workflowRow).
 * Workflows are few (one per `aidp execute all`): one read, one insert. Rejects with
 * {@link RebuildRefused} naming an event that does not decode.
 */
const writeWorkflows = async (tx: Tx, schemas: Schemas): Promise<number> => {
  const log = await tx.unsafe<Array<WorkflowLogRow>>(
    `select workflow_id, version, type, data, occurred_at, position from ${schemas.live}.workflow_events order by workflow_id, version`
  )
  const rows: Array<ReturnType<typeof workflowRow>> = []
  for (let first = 0; first < log.length;) {
    const id = log[first]!.workflow_id
    let last = first
    while (last + 1 < log.length && log[last + 1]!.workflow_id === id) last += 1
    const stream = log.slice(first, last + 1)
    const events = stream.map((row) => {
      try {
        return decodeWorkflowEvent({ type: row.type, data: row.data })
      } catch (error) {
        throw new RebuildRefused(`Workflow event ${row.position} (${row.type}, workflow ${id} v${row.version}) does not decode as an aidp event (${error instanceof Error ? error.message : String(error)}); a rebuild would lose it, so nothing was changed. Repair or remove that row of workflow_events first.`)
      }
    })
    rows.push(workflowRow(id, foldWorkflow(events), stream[0]!.occurred_at, stream[stream.length - 1]!.occurred_at, Math.max(...stream.map((row) => Number(row.position)))))
    first = last + 1
  }
  await tx.unsafe(`truncate ${schemas.fresh}.workflows`)
  await tx.unsafe(
    `insert into ${schemas.fresh}.workflows select * from jsonb_populate_recordset(null::${schemas.fresh}.workflows, $1::text::jsonb)`,
    [JSON.stringify(rows)]
  )
  return log.length
}

function* jobRows(streams: Map<string, StreamRows>): Generator<JobRow> {
  for (const rows of streams.values()) yield rows.job!
}

function* executionRows(streams: Map<string, StreamRows>): Generator<ExecutionRow> {
  for (const rows of streams.values()) yield* rows.executions.values()
}

/**
 * Builds the fresh tables from the log in one repeatable-read transaction on `sql` (committed
 * when `keep`, else rolled back), the log read on `reader` in the same snapshot, and compares
 * them with the live tables as that snapshot sees them.
 */
const build = async (
  sql: postgres.Sql,
  reader: postgres.ReservedSql,
  schemas: Schemas,
  keep: boolean,
  compare: boolean
): Promise<{ report: RebuildReport; folded: Folded }> => {
  let built: { report: RebuildReport; folded: Folded } | undefined
  await sql.begin("isolation level repeatable read", async (tx) => {
    // The first statement fixes the snapshot; the reader imports it.
    const [exported] = await tx<Array<{ id: string }>>`select pg_export_snapshot() as id`
    await createFreshTables(tx, schemas)
    const streams = new Map<string, StreamRows>()
    await reader`begin isolation level repeatable read read only`
    let folded: Folded
    try {
      await reader.unsafe(`set transaction snapshot '${exported!.id}'`)
      folded = await foldLog(tx, reader, schemas, streams)
    } finally {
      await reader`rollback`.catch(() => undefined)
    }
    await copyRows(tx, schemas.fresh, JOBS, jobRows(streams))
    await copyRows(tx, schemas.fresh, EXECUTIONS, executionRows(streams))
    streams.clear()
    const workflowEvents = await writeWorkflows(tx, schemas)
    await addKeysAndIndexes(tx, schemas)
    const tables = []
    const differences: RowDifference[] = []
    for (const table of TABLES) {
      const live = await digest(tx, `${schemas.live}.${table}`)
      const rebuilt = await digest(tx, `${schemas.fresh}.${table}`)
      const identical = live.hash === rebuilt.hash && live.rows === rebuilt.rows
      if (!compare) {
        tables.push({ table, rows: rebuilt.rows, identical })
        continue
      }
      const compared = identical ? { count: 0, differences: [] } : await compareRows(tx, schemas, table)
      tables.push({ table, rows: rebuilt.rows, identical, differingRows: compared.count })
      differences.push(...compared.differences)
    }
    built = { report: { events: folded.events + workflowEvents, tables, differences, applied: keep }, folded }
    if (!keep) throw new RolledBack()
    // The planner's statistics, so the swapped-in tables are queried well from the start.
    for (const table of TABLES) await tx.unsafe(`analyze ${schemas.fresh}.${table}`)
  }).catch((error: unknown) => {
    if (!(error instanceof RolledBack)) throw error
  })
  return built!
}

/**
 * Swaps the fresh tables in, in one transaction: locks the live read models (appends and
 * readers wait) and the log against appends, projects the events the fold's snapshot did not
 * see (with the live driver, onto the fresh tables), drops the live tables and moves the fresh
 * ones into their schema. Foreign keys that other tables hold on the read models are moved to
 * the new tables. Statements of other sessions prepared against the old tables are planned
 * again by PostgreSQL on their next use.
 */
const swap = (sql: postgres.Sql, schemas: Schemas, folded: Folded): Promise<void> =>
  sql.begin(async (tx) => {
    // A workflow's writers lock its `workflows` row, then append to its step jobs; appends lock
    // a `jobs` row, then insert into job_events, then write the other read models: take the
    // tables in that order too, or a swap and an append can deadlock.
    await tx.unsafe(`lock table ${TABLES.map((t) => `${schemas.live}.${t}`).join(", ")} in access exclusive mode`)
    await tx.unsafe(`lock table ${schemas.live}.job_events in share mode`)
    await inFreshSchema(tx, schemas, async () => {
      let after = folded.last
      let within = folded.gaps
      for (;;) {
        const page = await readLogIn(tx, { after, limit: PAGE, alsoWithin: within })
        if (page.length === 0) break
        const events = page.map((row) => (row.ok ? row.event : refuse(row)))
        await project(tx, events)
        // Skipped positions come first (they are below the snapshot's last), then later ones.
        const read = page[page.length - 1]!.position
        after = Math.max(after, read)
        within = within.filter(([, hi]) => hi > read).map(([lo, hi]) => [Math.max(lo, read + 1), hi] as const)
      }
    })
    // Workflow events committed since the snapshot: the (small) table is folded again.
    await writeWorkflows(tx, schemas)
    const tables = TABLES.map((t) => `${schemas.live}.${t}`)
    const held = await tx<Array<{ table: string; name: string; definition: string }>>`
      select conrelid::regclass::text as table, quote_ident(conname) as name, pg_get_constraintdef(oid) as definition
      from pg_constraint
      where contype = 'f' and confrelid = any(${tables}::regclass[]) and conrelid <> all(${tables}::regclass[])`
    for (const fk of held) await tx.unsafe(`alter table ${fk.table} drop constraint ${fk.name}`)
    await tx.unsafe(`drop table ${[...tables].reverse().join(", ")}`)
    for (const table of TABLES) await tx.unsafe(`alter table ${schemas.fresh}.${table} set schema ${schemas.live}`)
    await tx.unsafe(`drop schema ${schemas.fresh}`)
    for (const fk of held) await tx.unsafe(`alter table ${fk.table} add constraint ${fk.name} ${fk.definition}`)
  })

/**
 * Rebuilds `jobs`, `job_executions` and `job_logs` from `job_events`, and `workflows` from
 * `workflow_events`, into a fresh schema
 * (`<schema>_rebuild`), compares them with the live tables and (with `apply`, the default)
 * swaps them in (see the module comment). Uses two connections of `sql` (its pool needs at
 * least two) and a role that may create a schema and owns the read models. Rejects with
 * {@link RebuildRefused} when an event cannot be decoded or projected, else with the
 * driver's error; either way the live tables are as they were and the fresh schema is gone.
 */
export const rebuildReadModels = async (sql: postgres.Sql, options: RebuildOptions = {}): Promise<RebuildReport> => {
  // A pool of one would wait forever for the reader's connection.
  if (sql.options.max < 2) throw new Error(`Rebuild needs a connection pool of at least 2; this one has ${sql.options.max}.`)
  const apply = options.apply ?? true
  const reader = await sql.reserve()
  try {
    const [current] = await reader<Array<{ schema: string }>>`select current_schema() as schema`
    const schemas: Schemas = { live: ident(current!.schema), fresh: ident(freshSchemaOf(current!.schema)) }
    await reader.unsafe(`select pg_advisory_lock(${REBUILD_LOCK})`)
    try {
      const { report, folded } = await build(sql, reader, schemas, apply, options.differences ?? false)
      if (apply) {
        await swap(sql, schemas, folded).catch(async (error: unknown) => {
          await sql.unsafe(`drop schema if exists ${schemas.fresh} cascade`).catch(() => undefined)
          throw error
        })
      }
      return report
    } finally {
      await reader.unsafe(`select pg_advisory_unlock(${REBUILD_LOCK})`).catch(() => undefined)
    }
  } finally {
    reader.release()
  }
}
