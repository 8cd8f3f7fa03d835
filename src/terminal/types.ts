/**
 * The data the monitor shows: read-model rows shaped for display. Filled by the
 * queries behind {@link MonitorSource} (src/terminal/adapter.ts); pure data, no I/O.
 * All text fields come straight from the database and are untrusted: views pass them
 * through `sanitize` before display (DESIGN.md, invariant 5).
 */
import type { ExecutionRecord, JobRecord, LogRecord } from "../projections/queries.js"

/**
 * One job as a row of the monitor's table: the `jobs` read model's fields it shows. Times
 * are absolute; durations in milliseconds; `progress` is the running execution's latest
 * progress line; `cwd` the job's project directory (absolute path); `denied` how many tool
 * calls the latest execution was refused; `waiting`, for a runnable queued job, the
 * concurrency limit that holds it back (`claude limit 2`); `changes` the latest execution's
 * totals (src/domain/changes.ts) and `worktreeState` where its worktree stands.
 */
export type JobSummary = { readonly waiting?: string | undefined } & Partial<Pick<JobRecord, "metadata">> & Pick<
  JobRecord,
  | "id"
  | "provider"
  | "status"
  | "step"
  | "cwd"
  | "promptSummary"
  | "createdAt"
  | "startedAt"
  | "completedAt"
  | "durationMs"
  | "error"
  | "errorKind"
  | "attempts"
  | "progress"
  | "denied"
  | "runAt"
  | "retryReason"
  | "changes"
  | "worktreeState"
>

/** One execution (attempt) of a job, as listed in the details view. */
export type ExecutionSummary = Pick<
  ExecutionRecord,
  | "id"
  | "attempt"
  | "status"
  | "workerId"
  | "startedAt"
  | "completedAt"
  | "durationMs"
  | "exitCode"
  | "signal"
  | "error"
  | "errorKind"
  | "usage"
  | "costUsd"
  | "denials"
  | "sessionId"
  | "resumedAttempt"
  | "sessionGone"
  | "changes"
>

/** One line of a job's log (`job_logs`); `executionId` groups the activity by attempt. */
export type LogLine = Pick<LogRecord, "at" | "stream" | "message"> & Partial<Pick<LogRecord, "executionId">>

/**
 * The workflow a job is a step of, as its details show it: where the workflow stands
 * (`pausedReason` when paused) and each step's name and job status (`pending`: no job yet).
 */
export interface WorkflowSummary {
  readonly id: string
  readonly status: "running" | "paused" | "completed" | "cancelled"
  readonly pausedReason: string | null
  readonly steps: ReadonlyArray<{ readonly name: string; readonly status: string }>
}

/** Everything the details view shows about one job. */
export interface JobDetails extends JobSummary, Pick<JobRecord, "permissions" | "maxAttempts" | "timeoutMs" | "priority" | "retryTimeouts" | "maxCostUsd" | "maxTurns"> {
  readonly metadata: Readonly<Record<string, unknown>>
  /** Every execution, oldest attempt first. */
  readonly executions: readonly ExecutionSummary[]
  /** The last lines of the log, oldest first. */
  readonly logTail: readonly LogLine[]
  /** The workflow the job is a step of; absent or null for a job of no workflow. */
  readonly workflow?: WorkflowSummary | null
}

/** The monitor's list, grouped; each group ordered as the monitor shows it. */
export interface Snapshot {
  readonly running: readonly JobSummary[]
  readonly queued: readonly JobSummary[]
  /** Recently completed jobs, newest first. */
  readonly recent: readonly JobSummary[]
  /** Failed and cancelled jobs, newest first. */
  readonly failed: readonly JobSummary[]
  /**
   * What the executions that ended today (local day) cost, USD; null when none of them
   * reported a cost.
   */
  readonly spendTodayUsd: number | null
}
