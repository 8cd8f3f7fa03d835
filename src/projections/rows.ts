/**
 * The read models' rows as plain values (sql/002..007 define the tables): one row type and one
 * column list per table, both checked against each other by the compiler. The column lists
 * name each column's kind, which says how a value travels: loaded by the live driver
 * (src/projections/liveProjector.ts), written as JSON by it, and as COPY text by the rebuild
 * (src/projections/rebuild.ts). Pure; no I/O.
 *
 * Adding a read-model column: add the field to the row type and the `name: kind` line to its
 * column list (the compiler refuses one without the other), then set it in evolveRows.ts.
 */

/**
 * How a column's value is held in JS: `text` (string, uuid too), `int` (number), `bigint`
 * (number; PostgreSQL sends it as text), `numeric` (number; sent as text), `bool`, `json`
 * (any JSON value, a jsonb column), `time` (Date, a timestamptz column).
 */
export type ColumnKind = "text" | "int" | "bigint" | "numeric" | "bool" | "json" | "time"

/** A row of `jobs`: one per job, the job's state after its stream's last event. */
export interface JobRow {
  readonly id: string
  readonly provider: string
  readonly model: string | null
  readonly status: "queued" | "running" | "completed" | "failed" | "cancelled"
  readonly step: string | null
  readonly prompt_summary: string
  readonly cwd: string
  readonly priority: number
  readonly max_attempts: number
  readonly timeout_ms: number
  readonly run_at: Date
  readonly created_at: Date
  readonly started_at: Date | null
  readonly completed_at: Date | null
  /** ms */
  readonly duration_ms: number | null
  readonly error: string | null
  readonly error_kind: string | null
  readonly attempts: number
  readonly current_execution_id: string | null
  readonly cancel_requested: boolean
  readonly progress: string | null
  readonly metadata: unknown
  /** The stream's version after its last projected event. */
  readonly version: number
  /** The log position of the stream's last projected event. */
  readonly last_position: number
  readonly permissions: string
  /** Tool calls the latest execution was refused (0 when none). */
  readonly denied: number
  readonly retry_timeouts: boolean
  readonly retry_reason: string | null
  /** The pending retry asked for a fresh start (`jobs retry --fresh`): the next execution resumes no session. */
  readonly retry_fresh: boolean
  /** Most US dollars one execution may spend (JobQueued `max_cost_usd`); null: no limit. */
  readonly max_cost_usd: number | null
  /** Most agent turns one execution may take (JobQueued `max_turns`); null: no limit. */
  readonly max_turns: number | null
  /** The latest ExecutionChanges summary without its files (src/domain/changes.ts); null: none recorded. */
  readonly changes: unknown
  /** The job's worktree: open, merged or removed; null when none was recorded. */
  readonly worktree_state: "open" | "merged" | "removed" | null
}

/** Columns of `jobs` and their kinds, in the order COPY writes them. */
export const JOB_COLUMNS = {
  id: "text",
  provider: "text",
  model: "text",
  status: "text",
  step: "text",
  prompt_summary: "text",
  cwd: "text",
  priority: "int",
  max_attempts: "int",
  timeout_ms: "int",
  run_at: "time",
  created_at: "time",
  started_at: "time",
  completed_at: "time",
  duration_ms: "bigint",
  error: "text",
  error_kind: "text",
  attempts: "int",
  current_execution_id: "text",
  cancel_requested: "bool",
  progress: "text",
  metadata: "json",
  version: "int",
  last_position: "bigint",
  permissions: "text",
  denied: "int",
  retry_timeouts: "bool",
  retry_reason: "text",
  retry_fresh: "bool",
  max_cost_usd: "numeric",
  max_turns: "int",
  changes: "json",
  worktree_state: "text"
} as const satisfies Columns<JobRow>

/** A row of `job_executions`: one per execution (attempt) of a job. */
export interface ExecutionRow {
  readonly id: string
  readonly job_id: string
  readonly attempt: number
  readonly status: "running" | "succeeded" | "failed" | "cancelled" | "abandoned"
  readonly worker_id: string
  readonly host: string
  readonly pid: number
  readonly argv: ReadonlyArray<string>
  readonly cli_version: string | null
  readonly started_at: Date
  readonly completed_at: Date | null
  /** ms */
  readonly duration_ms: number | null
  readonly exit_code: number | null
  readonly signal: string | null
  readonly error: string | null
  readonly error_kind: string | null
  readonly result: string | null
  readonly usage: unknown
  /** US dollars. */
  readonly cost_usd: number | null
  /** `[{tool, target}]` refused during the run; null when none were reported. */
  readonly denials: unknown
  /** The agent's session: chosen at start or resumed, then as the CLI reported it; null when unknown. */
  readonly session_id: string | null
  /** The attempt whose session this execution resumed; null for a fresh start. */
  readonly resumed_attempt: number | null
  /** The resumed session was gone, so the execution started fresh. */
  readonly session_gone: boolean
  /** What the execution changed (ExecutionChanges' summary, src/domain/changes.ts); null: not recorded. */
  readonly changes: unknown
}

/** Columns of `job_executions` and their kinds, in the order COPY writes them. */
export const EXECUTION_COLUMNS = {
  id: "text",
  job_id: "text",
  attempt: "int",
  status: "text",
  worker_id: "text",
  host: "text",
  pid: "int",
  argv: "json",
  cli_version: "text",
  started_at: "time",
  completed_at: "time",
  duration_ms: "bigint",
  exit_code: "int",
  signal: "text",
  error: "text",
  error_kind: "text",
  result: "text",
  usage: "json",
  cost_usd: "numeric",
  denials: "json",
  session_id: "text",
  resumed_attempt: "int",
  session_gone: "bool",
  changes: "json"
} as const satisfies Columns<ExecutionRow>

/** A row of `job_logs`: one line of a job's log, numbered from 1 per job (`seq`). */
export interface LogRow {
  readonly job_id: string
  readonly seq: number
  readonly execution_id: string | null
  readonly at: Date
  readonly stream: "stdout" | "stderr" | "system"
  readonly level: "info" | "warn" | "error"
  readonly message: string
}

/** Columns of `job_logs` and their kinds, in the order COPY writes them. */
export const LOG_COLUMNS = {
  job_id: "text",
  seq: "bigint",
  execution_id: "text",
  at: "time",
  stream: "text",
  level: "text",
  message: "text"
} as const satisfies Columns<LogRow>

/** A column list of row type `R`: every field of `R` (and nothing else) with its kind. */
export type Columns<R> = { readonly [K in keyof R]-?: ColumnKind }

/** A read-model table: its name, columns and row type. */
export interface Table<R> {
  readonly name: "jobs" | "job_executions" | "job_logs"
  readonly columns: Columns<R>
}

/** The `jobs` table. */
export const JOBS: Table<JobRow> = { name: "jobs", columns: JOB_COLUMNS }
/** The `job_executions` table. */
export const EXECUTIONS: Table<ExecutionRow> = { name: "job_executions", columns: EXECUTION_COLUMNS }
/** The `job_logs` table. */
export const LOGS: Table<LogRow> = { name: "job_logs", columns: LOG_COLUMNS }

/** The column names of `table`, in order. */
export const columnNames = <R>(table: Table<R>): ReadonlyArray<keyof R & string> =>
  Object.keys(table.columns) as Array<keyof R & string>

/**
 * A row as PostgreSQL sent it (bigint and numeric as text) turned into `table`'s row type.
 * Throws nothing; trusts the table's own types.
 */
export const rowFromDatabase = <R>(table: Table<R>, raw: Record<string, unknown>): R => {
  const row: Record<string, unknown> = {}
  for (const [name, kind] of Object.entries(table.columns) as Array<[string, ColumnKind]>) {
    const value = raw[name] ?? null
    row[name] = value !== null && (kind === "bigint" || kind === "numeric") ? Number(value) : value
  }
  return row as R
}
