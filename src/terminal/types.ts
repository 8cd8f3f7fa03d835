/**
 * The data the monitor shows: read-model rows shaped for display. Filled by the
 * queries behind {@link MonitorSource} (src/terminal/adapter.ts); pure data, no I/O.
 * All text fields come straight from the database and are untrusted: views pass them
 * through `sanitize` before display (DESIGN.md, invariant 5).
 */
import type { ErrorKind, ExecutionStatus, JobStatus, LogStream, Provider } from "../domain/job.js"

/** One job as a row of the monitor's table. Times are absolute; durations in milliseconds. */
export interface JobSummary {
  readonly id: string
  readonly provider: Provider
  readonly status: JobStatus
  readonly step: string | null
  readonly promptSummary: string
  readonly createdAt: Date
  readonly startedAt: Date | null
  readonly completedAt: Date | null
  readonly durationMs: number | null
  readonly error: string | null
  readonly errorKind: ErrorKind | null
  readonly attempts: number
  /** Latest progress line of the running execution; null when not running or none yet. */
  readonly progress: string | null
}

/** One execution (attempt) of a job, as listed in the details view. */
export interface ExecutionSummary {
  readonly id: string
  readonly attempt: number
  readonly status: ExecutionStatus
  readonly workerId: string | null
  readonly startedAt: Date
  readonly completedAt: Date | null
  readonly durationMs: number | null
  readonly exitCode: number | null
  readonly signal: string | null
  readonly error: string | null
  readonly errorKind: ErrorKind | null
  readonly costUsd: number | null
}

/** One line of a job's log (`job_logs`). */
export interface LogLine {
  readonly at: Date
  readonly stream: LogStream
  readonly message: string
}

/** Everything the details view shows about one job. */
export interface JobDetails extends JobSummary {
  readonly cwd: string
  readonly metadata: Readonly<Record<string, unknown>>
  /** Every execution, oldest attempt first. */
  readonly executions: readonly ExecutionSummary[]
  /** The last lines of the log, oldest first. */
  readonly logTail: readonly LogLine[]
}

/** The monitor's list, grouped; each group ordered as the monitor shows it. */
export interface Snapshot {
  readonly running: readonly JobSummary[]
  readonly queued: readonly JobSummary[]
  /** Recently completed or cancelled jobs, newest first. */
  readonly recent: readonly JobSummary[]
  readonly failed: readonly JobSummary[]
}
