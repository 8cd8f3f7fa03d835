/**
 * The rebuild figure (issue 8): a history of `events` generated straight into `job_events` of
 * a throwaway schema by one INSERT ... SELECT (so a million events take seconds, not the hours
 * the command path would), then `rebuildReadModels` twice: the first fills the empty read
 * models, the second (the figure) replaces them and must find them identical.
 *
 * The shapes are a worker's: per job JobQueued, ExecutionStarted, four ExecutionOutput of
 * {@link LINES_PER_OUTPUT} ~90-character lines (a claude run's stream-json arrives a line or
 * two per 100 ms batch window), ExecutionProgress, then ExecutionSucceeded (with usage and cost), or on
 * every tenth job ExecutionFailed (network) followed by the policy's JobRetryRequested.
 */
import { performance } from "node:perf_hooks"
import { rebuildReadModels } from "../src/projections/rebuild.js"
import type { TestDb } from "../test/support/db.js"
import { perSecond } from "./stats.js"

/** Events per generated job (the tenth jobs have one more: the policy retry). */
const EVENTS_PER_JOB = 8
/** Output lines per ExecutionOutput event. */
const LINES_PER_OUTPUT = 3

/** Inserts about `events` events of `events / 8` jobs into `db`'s job_events; returns the exact count. */
export const generateHistory = async (db: TestDb, events: number): Promise<number> => {
  const jobs = Math.max(1, Math.round(events / EVENTS_PER_JOB))
  // Jobs interleave in blocks of 50 (as concurrent workers' appends do); every value is a
  // function of (g, v) so a run is reproducible.
  await db.sql`
    insert into job_events (job_id, version, type, data, occurred_at)
    select md5(g::text)::uuid, v, type, data, ts
    from (
      select g, v, ts, e,
        case when v = 1 then 'JobQueued' when v = 2 then 'ExecutionStarted' when v <= 6 then 'ExecutionOutput'
             when v = 7 then 'ExecutionProgress' when v = 8 and g % 10 = 0 then 'ExecutionFailed'
             when v = 8 then 'ExecutionSucceeded' else 'JobRetryRequested' end as type,
        case
          when v = 1 then jsonb_build_object('provider', 'claude', 'model', null, 'prompt', 'Bench job ' || g || E'\nDo the thing.',
            'cwd', '/srv/bench/project-' || (g % 7), 'step', case when g % 3 = 0 then '01_ARCH' end, 'priority', g % 3,
            'max_attempts', 3, 'timeout_ms', 600000, 'metadata', jsonb_build_object('n', g), 'permissions', 'edit')
          when v = 2 then jsonb_build_object('execution_id', e, 'attempt', 1, 'worker_id', 'bench-worker', 'host', 'bench-host',
            'pid', 4242, 'argv', jsonb_build_array('claude', '-p', '--output-format', 'stream-json'), 'cli_version', '2.1.0')
          when v <= 6 then jsonb_build_object('execution_id', e, 'lines', (
            select jsonb_agg(jsonb_build_object('stream', case when i = ${LINES_PER_OUTPUT}::int then 'stderr' else 'stdout' end,
              'text', '{"type":"assistant","n":' || i || ',"text":"' || repeat('x', 60) || '"}',
              'at', to_char((ts + i * interval '1 ms') at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) order by i)
            from generate_series(1, ${LINES_PER_OUTPUT}::int) i))
          when v = 7 then jsonb_build_object('execution_id', e, 'message', 'Tool call: Edit src/file' || g || '.ts')
          when v = 8 and g % 10 = 0 then jsonb_build_object('execution_id', e, 'exit_code', 1, 'signal', null,
            'error_kind', 'network', 'error', 'ECONNRESET', 'duration_ms', 1234, 'cli_version', '2.1.0')
          when v = 8 then jsonb_build_object('execution_id', e, 'exit_code', 0, 'result', 'Done: ' || g, 'usage',
            jsonb_build_object('input_tokens', 1200 + g % 100, 'output_tokens', 345), 'cost_usd', 0.0421,
            'duration_ms', 5432, 'cli_version', '2.1.0')
          else jsonb_build_object('requested_by', 'policy', 'run_at',
            to_char((ts + interval '30 s') at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'reason', 'network error')
        end as data
      from generate_series(1, ${jobs}::int) g
      cross join lateral (select md5(g::text || 'e')::uuid::text as e) ex
      cross join generate_series(1, case when g % 10 = 0 then ${EVENTS_PER_JOB + 1}::int else ${EVENTS_PER_JOB}::int end) v
      cross join lateral (select timestamptz '2026-01-01T00:00:00Z' + ((g / 50) * 60000 + v * 1000 + g % 50) * interval '1 ms' as ts) t
    ) s
    order by g / 50, v, g`
  const [row] = await db.sql<Array<{ n: string }>>`select count(*) as n from job_events`
  return Number(row!.n)
}

/** What {@link rebuildFigure} measured: events, the replacing rebuild's events/s, and whether it matched. */
export interface RebuildFigure {
  readonly events: number
  readonly generateMs: number
  readonly firstPerSecond: number
  readonly perSecond: number
  readonly identical: boolean
}

/** Generates about `events` events in `db`, rebuilds twice; the second rebuild is the figure. */
export const rebuildFigure = async (db: TestDb, events: number): Promise<RebuildFigure> => {
  const generateStart = performance.now()
  const count = await generateHistory(db, events)
  await db.sql`analyze job_events`
  const generateMs = performance.now() - generateStart
  const firstStart = performance.now()
  await rebuildReadModels(db.sql)
  const firstMs = performance.now() - firstStart
  const start = performance.now()
  const report = await rebuildReadModels(db.sql)
  const ms = performance.now() - start
  return {
    events: count,
    generateMs,
    firstPerSecond: perSecond(count, firstMs),
    perSecond: perSecond(count, ms),
    identical: report.tables.every((t) => t.identical)
  }
}
