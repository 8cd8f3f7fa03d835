/**
 * The live projection driver (DESIGN.md, Projections): inside the append transaction it loads
 * the rows the appended events touch, applies the pure projection (evolveRows.ts) event by
 * event, and writes each changed row once: the job rows in one upsert, the execution rows in
 * one, the new log lines in one insert. The loads go out together and so do the writes
 * (postgres.js pipelines the queries of one connection), so an append's projection costs two
 * round trips whatever its number of events.
 */
import type postgres from "postgres"
import type { RecordedEvent } from "../domain/events.js"
import type { Projector } from "../events/store.js"
import { emptyStreamRows, evolveRows, type StreamRows } from "./evolveRows.js"
import { columnNames, EXECUTIONS, type ExecutionRow, JOBS, type JobRow, LOGS, type LogRow, rowFromDatabase, type Table } from "./rows.js"

type Tx = postgres.TransactionSql

/** The execution ids events name, other than an output's or a progress's (they touch no execution row). */
const executionIds = (events: ReadonlyArray<RecordedEvent>): Array<string> => {
  const ids = new Set<string>()
  for (const { event } of events) {
    if (event.type === "ExecutionOutput" || event.type === "ExecutionProgress") continue
    const id = (event.data as { execution_id?: unknown }).execution_id
    if (typeof id === "string") ids.add(id)
  }
  return [...ids]
}

/**
 * The rows of each stream in `events` before the first of them: one query per table, sent
 * together. Who last asked to cancel is read from job_events only for streams whose events
 * cancel the job (the unique (job_id, version) index serves it).
 */
const loadStreams = async (tx: Tx, events: ReadonlyArray<RecordedEvent>): Promise<Map<string, StreamRows>> => {
  const firstVersion = new Map<string, number>()
  for (const r of events) if (!firstVersion.has(r.jobId)) firstVersion.set(r.jobId, r.version)
  const jobIds = [...firstVersion.keys()]
  const cancelling = [...new Set(events.filter((r) => r.event.type === "JobCancelled").map((r) => r.jobId))]
  const execIds = executionIds(events)
  const [jobs, executions, seqs, cancels] = await Promise.all([
    tx<Array<Record<string, unknown>>>`select * from jobs where id = any(${jobIds}::uuid[])`,
    execIds.length === 0
      ? Promise.resolve([])
      : tx<Array<Record<string, unknown>>>`select * from job_executions where id = any(${execIds}::uuid[])`,
    tx<Array<{ id: string; seq: string | null }>>`
      select s.id, (select max(seq) from job_logs where job_id = s.id) as seq from unnest(${jobIds}::uuid[]) as s(id)`,
    cancelling.length === 0
      ? Promise.resolve([])
      : tx<Array<{ id: string; by: string | null }>>`
          select s.id, (select data->>'requested_by' from job_events
                        where job_id = s.id and version < s.version and type = 'JobCancelRequested'
                        order by version desc limit 1) as by
          from unnest(${cancelling}::uuid[], ${cancelling.map((id) => firstVersion.get(id)!)}::int[]) as s(id, version)`
  ])
  const byJob = new Map<string, Map<string, ExecutionRow>>()
  for (const raw of executions) {
    const row = rowFromDatabase(EXECUTIONS, raw)
    const own = byJob.get(row.job_id) ?? new Map<string, ExecutionRow>()
    byJob.set(row.job_id, own.set(row.id, row))
  }
  const jobRows = new Map(jobs.map((raw) => [raw.id as string, rowFromDatabase(JOBS, raw)]))
  const lastSeqs = new Map(seqs.map((r) => [r.id, Number(r.seq ?? 0)]))
  const cancelledBy = new Map(cancels.map((r) => [r.id, r.by ?? undefined]))
  return new Map(jobIds.map((id): [string, StreamRows] => [id, {
    ...emptyStreamRows,
    job: jobRows.get(id),
    executions: byJob.get(id) ?? emptyStreamRows.executions,
    lastSeq: lastSeqs.get(id) ?? 0,
    cancelRequestedBy: cancelledBy.get(id)
  }]))
}

/**
 * Inserts `rows` into `table`, replacing the row of the same id when `upsert` (jobs and
 * executions are rewritten whole; log lines are only ever added). The rows travel as one
 * JSON array that PostgreSQL turns into the table's types (jsonb_populate_recordset).
 */
const writeRows = <R>(tx: Tx, table: Table<R>, rows: ReadonlyArray<R>, upsert: boolean) => {
  const columns = columnNames(table).join(", ")
  const update = upsert
    ? `on conflict (id) do update set ${columnNames(table).filter((c) => c !== "id").map((c) => `${c} = excluded.${c}`).join(", ")}`
    : ""
  return tx.unsafe(
    `insert into ${table.name} (${columns}) select ${columns} from jsonb_populate_recordset(null::${table.name}, $1::text::jsonb) ${update}`,
    [JSON.stringify(rows)]
  )
}

/**
 * The projector the event store runs on every append: events of one or more streams, in
 * order. Throws (rolling the append back) when an event needs a row its stream lacks.
 */
export const project: Projector = async (tx, events) => {
  if (events.length === 0) return
  const streams = await loadStreams(tx, events)
  const loaded = new Map([...streams].map(([id, rows]) => [id, rows.executions]))
  const logs: Array<LogRow> = []
  for (const recorded of events) {
    const next = evolveRows(streams.get(recorded.jobId)!, recorded)
    streams.set(recorded.jobId, next.rows)
    logs.push(...next.logs)
  }
  const jobs: Array<JobRow> = []
  const executions: Array<ExecutionRow> = []
  for (const [id, rows] of streams) {
    jobs.push(rows.job!)
    const before = loaded.get(id)!
    for (const execution of rows.executions.values()) if (before.get(execution.id) !== execution) executions.push(execution)
  }
  // Sent together, in this order: the job rows first, as executions and lines reference them.
  await Promise.all([
    writeRows(tx, JOBS, jobs, true),
    executions.length === 0 ? undefined : writeRows(tx, EXECUTIONS, executions, true),
    logs.length === 0 ? undefined : writeRows(tx, LOGS, logs, false)
  ])
}
