/**
 * Retention (`aidp jobs prune`, `AIDP_RETENTION`): removes finished jobs that ended before a
 * cutoff — their whole stream and read-model rows — or only their agents' output. The one
 * exception to an append-only log (DESIGN.md, Retention): output pruning empties each
 * ExecutionOutput event's `lines` but aidp's own (`system`) ones (the event and its version
 * stay; `pruned_lines` counts what went) and deletes the matching `job_logs` lines, renumbering the job's remaining lines, so a
 * rebuild still gives the live tables. Works in small batches, one transaction each, taking
 * the jobs' rows with SKIP LOCKED: a job that a worker or a person is appending to is left for
 * the next run, and nobody waits on a prune.
 */
import type postgres from "postgres"
import { REBUILD_LOCK } from "./rebuildLock.js"

/** Jobs per batch (one transaction). */
export const PRUNE_BATCH = 200

/** What to prune. */
export interface PruneOptions {
  /** Jobs that ended (completed, failed, cancelled) before this time. */
  readonly endedBefore: Date
  /** Only the agents' output lines; the jobs, their story, outcome, usage and cost stay. */
  readonly outputOnly: boolean
  /** Count what would go; change nothing. */
  readonly dryRun: boolean
  /** Jobs per transaction (default {@link PRUNE_BATCH}). */
  readonly batch?: number
}

/** What a prune removed (or, dry, would remove). `bytes` is the size of the removed row data. */
export interface PruneReport {
  readonly jobs: number
  readonly events: number
  readonly outputLines: number
  readonly logLines: number
  readonly executions: number
  readonly bytes: number
}

const FINISHED = ["completed", "failed", "cancelled"] as const

type Sums = { events: string; output_lines: string; log_lines: string; executions: string; bytes: string }

const toReport = (jobs: number, sums: Sums): PruneReport => ({
  jobs,
  events: Number(sums.events),
  outputLines: Number(sums.output_lines),
  logLines: Number(sums.log_lines),
  executions: Number(sums.executions),
  bytes: Number(sums.bytes)
})

const add = (a: PruneReport, b: PruneReport): PruneReport => ({
  jobs: a.jobs + b.jobs,
  events: a.events + b.events,
  outputLines: a.outputLines + b.outputLines,
  logLines: a.logLines + b.logLines,
  executions: a.executions + b.executions,
  bytes: a.bytes + b.bytes
})

/** Nothing pruned. */
export const NOTHING_PRUNED: PruneReport = { jobs: 0, events: 0, outputLines: 0, logLines: 0, executions: 0, bytes: 0 }

/**
 * What pruning `ids` removes: whole jobs (every event, execution, log line and the job row,
 * with their sizes), or their output (the output lines inside ExecutionOutput events and the
 * stdout/stderr log lines, with their sizes). Output already pruned counts 0.
 */
const measure = async (sql: postgres.Sql | postgres.TransactionSql, ids: ReadonlyArray<string>, outputOnly: boolean): Promise<Sums> => {
  const [sums] = outputOnly
    ? await sql<[Sums]>`
      select
        (select count(distinct e.position) from job_events e, jsonb_array_elements(e.data->'lines') l
          where e.job_id = any(${ids}::uuid[]) and e.type = 'ExecutionOutput' and l->>'stream' <> 'system') as events,
        (select count(*) from job_events e, jsonb_array_elements(e.data->'lines') l
          where e.job_id = any(${ids}::uuid[]) and e.type = 'ExecutionOutput' and l->>'stream' <> 'system') as output_lines,
        (select count(*) from job_logs where job_id = any(${ids}::uuid[]) and stream <> 'system') as log_lines,
        0 as executions,
        (select coalesce(sum(pg_column_size(data->'lines')), 0) from job_events where job_id = any(${ids}::uuid[]) and type = 'ExecutionOutput') +
        (select coalesce(sum(pg_column_size(l.*)), 0) from job_logs l where job_id = any(${ids}::uuid[]) and stream <> 'system') as bytes`
    : await sql<[Sums]>`
      select
        (select count(*) from job_events where job_id = any(${ids}::uuid[])) as events,
        (select coalesce(sum(jsonb_array_length(data->'lines')), 0) from job_events where job_id = any(${ids}::uuid[]) and type = 'ExecutionOutput') as output_lines,
        (select count(*) from job_logs where job_id = any(${ids}::uuid[])) as log_lines,
        (select count(*) from job_executions where job_id = any(${ids}::uuid[])) as executions,
        (select coalesce(sum(pg_column_size(e.*)), 0) from job_events e where job_id = any(${ids}::uuid[])) +
        (select coalesce(sum(pg_column_size(l.*)), 0) from job_logs l where job_id = any(${ids}::uuid[])) +
        (select coalesce(sum(pg_column_size(x.*)), 0) from job_executions x where job_id = any(${ids}::uuid[])) +
        (select coalesce(sum(pg_column_size(j.*)), 0) from jobs j where id = any(${ids}::uuid[])) as bytes`
  return sums
}

/** Removes the output of `ids` (locked by the caller): see the module comment. */
const pruneOutput = async (tx: postgres.TransactionSql, ids: ReadonlyArray<string>): Promise<void> => {
  // aidp's own lines (stream `system`, e.g. a resumed session that was gone) stay in the
  // event, as their job_logs rows stay: a rebuild gives them back.
  await tx`
    update job_events e
    set data = jsonb_set(e.data, '{lines}', k.kept)
      || jsonb_build_object('pruned_lines', coalesce((e.data->>'pruned_lines')::int, 0) + k.dropped)
    from (
      select e.position,
             coalesce(jsonb_agg(l.line order by l.n) filter (where l.line->>'stream' = 'system'), '[]'::jsonb) as kept,
             (count(*) filter (where l.line->>'stream' <> 'system'))::int as dropped
      from job_events e, jsonb_array_elements(e.data->'lines') with ordinality as l(line, n)
      where e.job_id = any(${ids}::uuid[]) and e.type = 'ExecutionOutput'
      group by e.position
    ) k
    where e.position = k.position and k.dropped > 0`
  await tx`delete from job_logs where job_id = any(${ids}::uuid[]) and stream <> 'system'`
  // Number the remaining lines 1, 2, 3, ... per job, as a rebuild would: through negative
  // numbers, so (job_id, seq) stays unique at every step.
  await tx`
    update job_logs l set seq = -r.n
    from (select job_id, seq, row_number() over (partition by job_id order by seq) as n
          from job_logs where job_id = any(${ids}::uuid[])) r
    where l.job_id = r.job_id and l.seq = r.seq`
  await tx`update job_logs set seq = -seq where job_id = any(${ids}::uuid[]) and seq < 0`
}

/** Removes the jobs `ids` (locked by the caller): every log line, execution, event and the job row. */
const pruneJobs = async (tx: postgres.TransactionSql, ids: ReadonlyArray<string>): Promise<void> => {
  await tx`delete from job_logs where job_id = any(${ids}::uuid[])`
  await tx`delete from job_executions where job_id = any(${ids}::uuid[])`
  await tx`delete from job_events where job_id = any(${ids}::uuid[])`
  await tx`delete from jobs where id = any(${ids}::uuid[])`
}

/**
 * Prunes in batches until no finished job that ended before the cutoff (with output left, for
 * output pruning) remains unlocked; returns the totals. Jobs that are running, queued, or
 * locked by a writer are never touched. Rejects with the driver's error; batches already
 * committed stay pruned.
 */
export const prune = async (sql: postgres.Sql, options: PruneOptions): Promise<PruneReport> => {
  const batch = options.batch ?? PRUNE_BATCH
  const candidates = (q: postgres.Sql | postgres.TransactionSql, after: string | null, lock: boolean) => q<Array<{ id: string }>>`
    select id from jobs
    where status in ${q(FINISHED)} and completed_at < ${options.endedBefore}
      ${after === null ? q`` : q`and id > ${after}`}
      ${options.outputOnly ? q`and exists (select 1 from job_logs l where l.job_id = jobs.id and l.stream <> 'system')` : q``}
    order by id
    limit ${batch}
    ${lock ? q`for update skip locked` : q``}`
  let total = NOTHING_PRUNED
  let after: string | null = null
  for (;;) {
    const done: { report: PruneReport; last: string | null } = options.dryRun
      ? await (async () => {
        const rows = await candidates(sql, after, false)
        const ids = rows.map((r) => r.id)
        return { report: ids.length === 0 ? NOTHING_PRUNED : toReport(ids.length, await measure(sql, ids, options.outputOnly)), last: ids.at(-1) ?? null }
      })()
      : await sql.begin(async (tx) => {
        // A rebuild in progress would keep what this batch removes: wait for it.
        await tx.unsafe(`select pg_advisory_xact_lock_shared(${REBUILD_LOCK})`)
        const rows = await candidates(tx, after, true)
        const ids = rows.map((r) => r.id)
        if (ids.length === 0) return { report: NOTHING_PRUNED, last: null }
        const report = toReport(ids.length, await measure(tx, ids, options.outputOnly))
        if (options.outputOnly) await pruneOutput(tx, ids)
        else await pruneJobs(tx, ids)
        return { report, last: ids.at(-1)! }
      })
    if (done.last === null) return total
    total = add(total, done.report)
    after = done.last
  }
}
