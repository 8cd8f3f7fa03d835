/**
 * Read-side queries over the read models, for the command line and the monitor. Every
 * query is served by an index in `sql/002_read_models.sql` or `sql/004_list_filters_and_spend.sql`
 * (columns added by `sql/005_permissions.sql` and later migrations are read with their rows);
 * lists are bounded (LIMIT, keyset), never OFFSET or a count over history.
 */
import type { ChangeSummary, JobChanges } from "../domain/changes.js"
import type { Denial } from "../domain/events.js"
import type { ErrorKind, ExecutionStatus, JobStatus, LogStream, Permissions, Provider } from "../domain/job.js"
import type { Queryable } from "../events/sqlClient.js"

/** One row of `jobs`, camelCased. Times are Dates, durations ms. */
export interface JobRecord {
  readonly id: string
  readonly provider: Provider
  readonly model: string | null
  readonly status: JobStatus
  readonly step: string | null
  readonly promptSummary: string
  readonly cwd: string
  readonly priority: number
  readonly maxAttempts: number
  readonly timeoutMs: number
  /** JobQueued `retry_timeouts` (`--retry-timeouts`). */
  readonly retryTimeouts: boolean
  /** Earliest time the job (re)runs; after a policy retry, the time the policy chose. */
  readonly runAt: Date
  /** Why the retry policy queued the job again (JobRetryRequested `reason`); null otherwise. */
  readonly retryReason: string | null
  readonly createdAt: Date
  readonly startedAt: Date | null
  readonly completedAt: Date | null
  readonly durationMs: number | null
  readonly error: string | null
  readonly errorKind: ErrorKind | null
  readonly attempts: number
  readonly currentExecutionId: string | null
  readonly cancelRequested: boolean
  /** Latest progress message of the running execution. */
  readonly progress: string | null
  readonly metadata: Record<string, unknown>
  readonly version: number
  /** What the agent may do. */
  readonly permissions: Permissions
  /** Tool calls the latest execution was refused (a completed job with a warning); 0 when none. */
  readonly denied: number
  /** JobQueued `max_cost_usd` (`--max-cost`): one execution's most US dollars; null = no limit. */
  readonly maxCostUsd: number | null
  /** JobQueued `max_turns` (`--max-turns`): one execution's most agent turns; null = no limit. */
  readonly maxTurns: number | null
  /** The latest execution's changes (ExecutionChanges) without the file list; null when none was recorded. */
  readonly changes: JobChanges | null
  /** The job's worktree: open, merged or removed; null when it has none. */
  readonly worktreeState: "open" | "merged" | "removed" | null
}

/** One row of `job_executions`, camelCased. */
export interface ExecutionRecord {
  readonly id: string
  readonly jobId: string
  readonly attempt: number
  readonly status: ExecutionStatus
  readonly workerId: string
  readonly host: string
  readonly pid: number
  readonly argv: ReadonlyArray<string>
  readonly cliVersion: string | null
  readonly startedAt: Date
  readonly completedAt: Date | null
  readonly durationMs: number | null
  readonly exitCode: number | null
  readonly signal: string | null
  readonly error: string | null
  readonly errorKind: ErrorKind | null
  readonly result: string | null
  readonly usage: unknown
  readonly costUsd: number | null
  /** Tool calls the agent was refused in this execution (empty: none). */
  readonly denials: ReadonlyArray<Denial>
  /** The agent's session id (chosen up front, resumed, or as the CLI reported it); null when unknown. */
  readonly sessionId: string | null
  /** The attempt whose session this execution resumed; null for a fresh start. */
  readonly resumedAttempt: number | null
  /** The resumed session was gone, so the execution started fresh instead. */
  readonly sessionGone: boolean
  /** What the execution changed (ExecutionChanges); null when it was not recorded. */
  readonly changes: ChangeSummary | null
}

/** One row of `job_logs`. */
export interface LogRecord {
  readonly jobId: string
  readonly seq: number
  readonly executionId: string | null
  readonly at: Date
  readonly stream: LogStream
  readonly level: string
  readonly message: string
}

const numOrNull = (value: string | number | null): number | null => value === null ? null : Number(value)

const jobColumns = (sql: Queryable) =>
  sql`id, provider, model, status, step, prompt_summary, cwd, priority, max_attempts, timeout_ms, retry_timeouts, run_at, retry_reason,
      created_at, started_at, completed_at, duration_ms, error, error_kind, attempts, current_execution_id,
      cancel_requested, progress, metadata, version, permissions, denied, max_cost_usd, max_turns, changes, worktree_state`

// Rows as postgres.js returns them (bigint/numeric as strings).
type JobRow = Record<string, any>

/**
 * A `jobs` row (snake_case columns, as postgres.js returns it or as src/projections/rows.ts
 * holds it; bigint and numeric as strings or numbers) as a {@link JobRecord}.
 */
export const jobRecordOf = (r: JobRow): JobRecord => ({
  id: r.id,
  provider: r.provider,
  model: r.model,
  status: r.status,
  step: r.step,
  promptSummary: r.prompt_summary,
  cwd: r.cwd,
  priority: r.priority,
  maxAttempts: r.max_attempts,
  timeoutMs: r.timeout_ms,
  retryTimeouts: r.retry_timeouts,
  runAt: r.run_at,
  retryReason: r.retry_reason,
  createdAt: r.created_at,
  startedAt: r.started_at,
  completedAt: r.completed_at,
  durationMs: numOrNull(r.duration_ms),
  error: r.error,
  errorKind: r.error_kind,
  attempts: r.attempts,
  currentExecutionId: r.current_execution_id,
  cancelRequested: r.cancel_requested,
  progress: r.progress,
  metadata: r.metadata,
  version: r.version,
  permissions: r.permissions,
  denied: r.denied,
  maxCostUsd: numOrNull(r.max_cost_usd),
  maxTurns: r.max_turns,
  changes: r.changes ?? null,
  worktreeState: r.worktree_state ?? null
})

const toExecution = (r: JobRow): ExecutionRecord => ({
  id: r.id,
  jobId: r.job_id,
  attempt: r.attempt,
  status: r.status,
  workerId: r.worker_id,
  host: r.host,
  pid: r.pid,
  argv: r.argv,
  cliVersion: r.cli_version,
  startedAt: r.started_at,
  completedAt: r.completed_at,
  durationMs: numOrNull(r.duration_ms),
  exitCode: r.exit_code,
  signal: r.signal,
  error: r.error,
  errorKind: r.error_kind,
  result: r.result,
  usage: r.usage,
  costUsd: numOrNull(r.cost_usd),
  denials: r.denials ?? [],
  sessionId: r.session_id,
  resumedAttempt: r.resumed_attempt,
  sessionGone: r.session_gone,
  changes: r.changes ?? null
})

/**
 * Filter of {@link listJobs}: newest first, optionally by status, provider, project directory
 * (`cwd`, an absolute path as stored) and step name, at most `limit` (1..1000).
 */
export interface JobFilter {
  readonly status?: JobStatus | undefined
  readonly provider?: Provider | undefined
  readonly cwd?: string | undefined
  readonly step?: string | undefined
  readonly limit: number
  /** Keyset cursor: only jobs created before this (createdAt, id). */
  readonly before?: { readonly createdAt: Date; readonly id: string } | undefined
}

/**
 * Jobs newest first: index jobs_cwd_step with a cwd and a step, jobs_cwd_created with a cwd,
 * jobs_step_created with a step, jobs_status_created with a status.
 */
export const listJobs = async (sql: Queryable, filter: JobFilter): Promise<Array<JobRecord>> => {
  const rows = await sql<Array<JobRow>>`
    select ${jobColumns(sql)} from jobs
    where true
      ${filter.cwd !== undefined ? sql`and cwd = ${filter.cwd}` : sql``}
      ${filter.step !== undefined ? sql`and step = ${filter.step}` : sql``}
      ${filter.status ? sql`and status = ${filter.status}` : sql``}
      ${filter.provider ? sql`and provider = ${filter.provider}` : sql``}
      ${filter.before ? sql`and (created_at, id) < (${filter.before.createdAt}, ${filter.before.id})` : sql``}
    order by created_at desc, id desc
    limit ${filter.limit}`
  return rows.map(jobRecordOf)
}

/** How many rows each monitor group shows at most. */
export const MONITOR_GROUP_LIMIT = 200

/**
 * The monitor's four groups: running (oldest start first), queued (next to run first),
 * recently completed (newest first) and failed or cancelled (newest first), each bounded by
 * `limit`; each status is read through its own index (jobs_status_completed for the finished).
 */
export const monitorGroups = async (sql: Queryable, limit = MONITOR_GROUP_LIMIT) => {
  const [running, queued, recent, failed] = await Promise.all([
    sql<Array<JobRow>>`select ${jobColumns(sql)} from jobs where status = 'running'
      order by started_at, id limit ${limit}`,
    sql<Array<JobRow>>`select ${jobColumns(sql)} from jobs where status = 'queued'
      order by priority desc, run_at, created_at, id limit ${limit}`,
    sql<Array<JobRow>>`select ${jobColumns(sql)} from jobs where status = 'completed'
      order by completed_at desc, id desc limit ${limit}`,
    sql<Array<JobRow>>`(select ${jobColumns(sql)} from jobs where status = 'failed'
        order by completed_at desc, id desc limit ${limit})
      union all
      (select ${jobColumns(sql)} from jobs where status = 'cancelled'
        order by completed_at desc, id desc limit ${limit})
      order by completed_at desc, id desc limit ${limit}`
  ])
  return { running: running.map(jobRecordOf), queued: queued.map(jobRecordOf), recent: recent.map(jobRecordOf), failed: failed.map(jobRecordOf) }
}

/**
 * What the executions that ended at or after `since` cost, in USD, and how many of them
 * reported a cost (0: no provider reported one, so there is no spend to show). Index-only
 * scan of job_executions_cost_completed over that range (sql/004), never over history.
 */
export const spendSince = async (sql: Queryable, since: Date): Promise<{ readonly costUsd: number; readonly executions: number }> => {
  const [row] = await sql<Array<{ cost: string | null; executions: string }>>`
    select sum(cost_usd) as cost, count(*) as executions from job_executions
    where completed_at >= ${since} and cost_usd is not null`
  return { costUsd: Number(row?.cost ?? 0), executions: Number(row?.executions ?? 0) }
}

/** Midnight at the start of `now`'s day in the local time zone. */
export const startOfLocalDay = (now: Date): Date => new Date(now.getFullYear(), now.getMonth(), now.getDate())

/**
 * How many worker processes are alive: registered, not stopped, their heartbeat within the
 * lease (`leaseMs`). Counts `aidp worker` and the workers an `aidp execute` runs for its own jobs.
 */
export const liveWorkers = async (sql: Queryable, leaseMs: number): Promise<number> => {
  const [row] = await sql<Array<{ live: string }>>`
    select count(*) as live from workers
    where stopped_at is null and heartbeat_at > now() - ${leaseMs} * interval '1 millisecond'`
  return Number(row?.live ?? 0)
}

/**
 * The providers whose jobs wait for a concurrency limit now, with that limit: the smallest
 * AIDP_<PROVIDER>_CONCURRENCY among the workers whose lease (`leaseMs`) is current
 * (`workers.concurrency`), for each provider already running that many jobs.
 */
export const providersAtLimit = async (sql: Queryable, leaseMs: number): Promise<Partial<Record<Provider, number>>> => {
  const rows = await sql<Array<{ provider: Provider; limit: number }>>`
    with limits as (
      select key as provider, min(value::int) as "limit"
      from workers, jsonb_each_text(concurrency)
      where stopped_at is null and heartbeat_at > now() - ${leaseMs} * interval '1 millisecond'
      group by key)
    select provider, "limit" from limits
    where (select count(*) from jobs where status = 'running' and jobs.provider = limits.provider) >= "limit"`
  return Object.fromEntries(rows.map((row) => [row.provider, row.limit]))
}

/**
 * Everything the monitor's list shows: {@link monitorGroups}, today's spend (executions that
 * ended since local midnight of `now`, USD; null when none of them reported a cost), and for
 * each runnable queued job held back by a provider's concurrency limit, `waiting` (`claude
 * limit 2`; see {@link providersAtLimit}, `leaseMs` the workers' lease).
 */
export const monitorSnapshot = async (sql: Queryable, now: Date, leaseMs: number, limit = MONITOR_GROUP_LIMIT) => {
  const [groups, spend, held] = await Promise.all([
    monitorGroups(sql, limit),
    spendSince(sql, startOfLocalDay(now)),
    providersAtLimit(sql, leaseMs)
  ])
  const queued = groups.queued.map((job): JobRecord & { readonly waiting?: string } => {
    const limitOf = held[job.provider]
    return limitOf !== undefined && job.runAt <= now ? { ...job, waiting: `${job.provider} limit ${limitOf}` } : job
  })
  return { ...groups, queued, spendTodayUsd: spend.executions > 0 ? spend.costUsd : null }
}

/** One job by full id, or null. */
export const getJob = async (sql: Queryable, id: string): Promise<JobRecord | null> => {
  const [row] = await sql<Array<JobRow>>`select ${jobColumns(sql)} from jobs where id = ${id}`
  return row ? jobRecordOf(row) : null
}

/** The jobs with `ids`, in the order of `ids` (an id with no job is left out). */
export const getJobs = async (sql: Queryable, ids: ReadonlyArray<string>): Promise<Array<JobRecord>> => {
  const rows = await sql<Array<JobRow>>`select ${jobColumns(sql)} from jobs where id = any(${sql.array([...ids])}::uuid[])`
  const byId = new Map(rows.map((row) => [row.id as string, jobRecordOf(row)]))
  return ids.flatMap((id) => byId.get(id) ?? [])
}

/**
 * Why a job reference did not resolve to exactly one job. `too_short` covers every
 * reference that cannot name a job: fewer than {@link MIN_PREFIX} hex digits, other
 * characters, or more digits than an id has.
 */
export type JobRefProblem = "too_short" | "not_found" | "ambiguous"

/** Smallest accepted id prefix, characters (DESIGN.md, Command line). */
export const MIN_PREFIX = 6

/** A full UUID in lower case, as ids are stored and printed. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/**
 * Resolves a full UUID or a unique prefix of at least {@link MIN_PREFIX} hex characters
 * to a job id. Returns the id, or the problem (the CLI words the sentence).
 */
export const resolveJobId = async (
  sql: Queryable,
  ref: string
): Promise<{ readonly id: string } | { readonly problem: JobRefProblem }> => {
  const needle = ref.trim().toLowerCase()
  if (!/^[0-9a-f-]+$/.test(needle) || needle.replace(/-/g, "").length < MIN_PREFIX) return { problem: "too_short" }
  if (UUID.test(needle)) {
    const [row] = await sql<Array<{ id: string }>>`select id from jobs where id = ${needle}`
    return row ? { id: row.id } : { problem: "not_found" }
  }
  // A uuid prefix maps to a uuid range, so the primary key index answers it.
  const hex = needle.replace(/-/g, "")
  if (hex.length > 32) return { problem: "too_short" } // longer than any id: not a prefix of one
  const low = (hex + "0".repeat(32)).slice(0, 32)
  const high = (hex + "f".repeat(32)).slice(0, 32)
  const asUuid = (h: string) => `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
  const rows = await sql<Array<{ id: string }>>`
    select id from jobs where id between ${asUuid(low)}::uuid and ${asUuid(high)}::uuid limit 2`
  if (rows.length === 0) return { problem: "not_found" }
  if (rows.length > 1) return { problem: "ambiguous" }
  return { id: rows[0]!.id }
}

/** A job's executions in attempt order. */
export const getExecutions = async (sql: Queryable, jobId: string): Promise<Array<ExecutionRecord>> => {
  const rows = await sql<Array<JobRow>>`select * from job_executions where job_id = ${jobId} order by attempt`
  return rows.map(toExecution)
}

const toLog = (r: JobRow): LogRecord => ({
  jobId: r.job_id,
  seq: Number(r.seq),
  executionId: r.execution_id,
  at: r.at,
  stream: r.stream,
  level: r.level,
  message: r.message
})

/** The last `limit` log lines of a job, oldest first. */
export const logTail = async (sql: Queryable, jobId: string, limit: number): Promise<Array<LogRecord>> => {
  const rows = await sql<Array<JobRow>>`
    select * from (select * from job_logs where job_id = ${jobId} order by seq desc limit ${limit}) t order by seq`
  return rows.map(toLog)
}

/** Log lines of a job after `afterSeq`, oldest first, at most `limit` (for `jobs logs --follow`). */
export const logsAfter = async (sql: Queryable, jobId: string, afterSeq: number, limit: number): Promise<Array<LogRecord>> => {
  const rows = await sql<Array<JobRow>>`
    select * from job_logs where job_id = ${jobId} and seq > ${afterSeq} order by seq limit ${limit}`
  return rows.map(toLog)
}

/**
 * The job that stands for each step of a project directory (for `aidp execute`), keyed by
 * step name (index jobs_cwd_step): a queued or running one if there is one, else the one that
 * ended last (a retried older job that completed after a newer one was cancelled stands).
 */
export const latestJobPerStep = async (sql: Queryable, cwd: string): Promise<Map<string, JobRecord>> => {
  const rows = await sql<Array<JobRow>>`
    select distinct on (step) ${jobColumns(sql)} from jobs
    where cwd = ${cwd} and step is not null
    order by step, status in ('queued', 'running') desc, coalesce(completed_at, created_at) desc, id desc`
  return new Map(rows.map((r) => [r.step as string, jobRecordOf(r)]))
}

/**
 * The step names a project directory's jobs carry and its workflows recorded when they
 * started, in no order: the steps `jobs list --step` finds jobs of, whatever the project's
 * aidp.workflow.json says now.
 */
export const stepsOfProject = async (sql: Queryable, cwd: string): Promise<Array<string>> => {
  const rows = await sql<Array<{ step: string }>>`
    select step from jobs where cwd = ${cwd} and step is not null
    union
    select s.step->>'name' from workflows w, jsonb_array_elements(w.steps) as s(step) where w.cwd = ${cwd}`
  return rows.map((r) => r.step)
}

/** Whether a step of a project directory has ever completed. */
export const completedSteps = async (sql: Queryable, cwd: string): Promise<Set<string>> => {
  const rows = await sql<Array<{ step: string }>>`
    select distinct step from jobs where cwd = ${cwd} and step is not null and status = 'completed'`
  return new Set(rows.map((r) => r.step))
}
