/**
 * The projection as a pure function (DESIGN.md, Projections): the rows of one stream an event
 * touches, and the event, give the new rows. Both drivers run it: the live one inside the
 * append transaction (liveProjector.ts), the rebuild over the whole log (rebuild.ts). Every
 * value comes from the event: no clock, no database defaults. No I/O.
 */
import type { EventOf, RecordedEvent } from "../domain/events.js"
import { compactChanges } from "../domain/changes.js"
import { DEFAULT_PERMISSIONS } from "../domain/job.js"
import { denialLabel } from "../domain/tools.js"
import type { ExecutionRow, JobRow, LogRow } from "./rows.js"

/** Longest prompt summary kept in `jobs.prompt_summary`, characters. */
export const PROMPT_SUMMARY_CHARS = 120

/** First non-empty line of a prompt, cut to {@link PROMPT_SUMMARY_CHARS} characters. */
export const promptSummary = (prompt: string): string => {
  const line = prompt.split("\n").map((l) => l.trim()).find((l) => l.length > 0) ?? ""
  return line.length > PROMPT_SUMMARY_CHARS ? `${line.slice(0, PROMPT_SUMMARY_CHARS - 1)}…` : line
}

/**
 * What a stream's next event reads: its job row (undefined before JobQueued), the execution
 * rows it may close (by id; the live driver loads those the events name), its log's last
 * `seq` (0 when empty), and who last asked to cancel it (JobCancelRequested.requested_by,
 * never cleared; a fact of the log, not of a row).
 */
export interface StreamRows {
  readonly job: JobRow | undefined
  readonly executions: ReadonlyMap<string, ExecutionRow>
  readonly lastSeq: number
  readonly cancelRequestedBy: string | undefined
}

/** The rows of a stream with no events yet. */
export const emptyStreamRows: StreamRows = { job: undefined, executions: new Map(), lastSeq: 0, cancelRequestedBy: undefined }

/** The rows after one event, and the log lines it added (numbered after `rows.lastSeq`). */
export interface Evolved {
  readonly rows: StreamRows
  readonly logs: ReadonlyArray<LogRow>
}

/** A log line as an event states it, before it is numbered. */
interface Line {
  readonly at: Date
  readonly stream: LogRow["stream"]
  readonly level: LogRow["level"]
  readonly message: string
}

const system = (at: Date, message: string, level: Line["level"] = "info"): Line => ({ at, stream: "system", level, message })

const formatSeconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`

/** What closing an execution sets besides its status, end and duration. */
interface Closing {
  readonly status: "succeeded" | "failed" | "cancelled" | "abandoned"
  /** The event's own duration, or null: from the execution's start to the event, ms. */
  readonly durationMs: number | null
  readonly exitCode?: number | null
  readonly signal?: string | null
  readonly error?: string | null
  readonly errorKind?: string | null
  readonly result?: string | null
  readonly usage?: unknown
  readonly costUsd?: number | null
  /** Kept from the start when the event has none. */
  readonly cliVersion?: string | null
  readonly denials?: ReadonlyArray<unknown> | undefined
  /** The session the CLI reported; the one from the start is kept when absent. */
  readonly sessionId?: string | undefined
  /** The resumed session was gone (the execution started fresh). */
  readonly sessionGone?: boolean | undefined
}

/** Thrown when an event needs a row the stream does not have (a log no decider wrote). */
const missing = (what: string): Error => new Error(`Projection: ${what} has no row.`)

const closeExecution = (rows: StreamRows, executionId: string, at: Date, c: Closing): ExecutionRow => {
  const execution = rows.executions.get(executionId)
  if (!execution) throw missing(`execution ${executionId}`)
  return {
    ...execution,
    status: c.status,
    completed_at: at,
    duration_ms: c.durationMs ?? at.getTime() - execution.started_at.getTime(),
    exit_code: c.exitCode ?? null,
    signal: c.signal ?? null,
    error: c.error ?? null,
    error_kind: c.errorKind ?? null,
    result: c.result ?? null,
    usage: c.usage ?? null,
    cost_usd: c.costUsd ?? null,
    cli_version: c.cliVersion ?? execution.cli_version,
    denials: c.denials ?? null,
    session_id: c.sessionId ?? execution.session_id,
    session_gone: c.sessionGone === true
  }
}

/** The job finished with `status`, with its execution's duration, error and refused calls. */
const finishJob = (
  job: JobRow,
  at: Date,
  status: "completed" | "failed" | "cancelled",
  execution: ExecutionRow | undefined,
  denied = 0
): JobRow => ({
  ...job,
  status,
  completed_at: at,
  duration_ms: execution?.duration_ms ?? null,
  error: execution?.error ?? null,
  error_kind: execution?.error_kind ?? null,
  current_execution_id: null,
  cancel_requested: false,
  progress: null,
  denied
})

/** What one event changes: the job row after it, an execution row it opened or closed, its lines. */
interface Change {
  readonly job: JobRow
  readonly execution?: ExecutionRow
  readonly executionId: string | null
  readonly lines: ReadonlyArray<Line>
  readonly cancelRequestedBy?: string
}

const queued = (recorded: RecordedEvent, d: EventOf<"JobQueued">["data"]): Change => {
  const at = recorded.occurredAt
  return {
    job: {
      id: recorded.jobId,
      provider: d.provider,
      model: d.model,
      status: "queued",
      step: d.step,
      prompt_summary: promptSummary(d.prompt),
      cwd: d.cwd,
      priority: d.priority,
      max_attempts: d.max_attempts,
      timeout_ms: d.timeout_ms,
      run_at: at,
      created_at: at,
      started_at: null,
      completed_at: null,
      duration_ms: null,
      error: null,
      error_kind: null,
      attempts: 0,
      current_execution_id: null,
      cancel_requested: false,
      progress: null,
      metadata: d.metadata,
      version: recorded.version,
      last_position: recorded.position,
      permissions: d.permissions ?? DEFAULT_PERMISSIONS,
      denied: 0,
      retry_timeouts: d.retry_timeouts === true,
      retry_reason: null,
      retry_fresh: false,
      max_cost_usd: d.max_cost_usd ?? null,
      max_turns: d.max_turns ?? null,
      changes: null,
      worktree_state: null
    },
    executionId: null,
    lines: [system(at, `Job queued for ${d.provider}${d.step ? ` (step ${d.step})` : ""}.`)]
  }
}

/** The change of an event on a stream that has a job row. */
const change = (rows: StreamRows, job: JobRow, recorded: RecordedEvent): Change => {
  const at = recorded.occurredAt
  const event = recorded.event
  switch (event.type) {
    case "JobQueued":
      throw new Error(`Projection: job ${recorded.jobId} is queued twice.`)
    case "ExecutionStarted": {
      const d = event.data
      if (rows.executions.has(d.execution_id)) throw new Error(`Projection: execution ${d.execution_id} is started twice.`)
      const execution: ExecutionRow = {
        id: d.execution_id,
        job_id: recorded.jobId,
        attempt: d.attempt,
        status: "running",
        worker_id: d.worker_id,
        host: d.host,
        pid: d.pid,
        argv: d.argv,
        cli_version: d.cli_version,
        started_at: at,
        completed_at: null,
        duration_ms: null,
        exit_code: null,
        signal: null,
        error: null,
        error_kind: null,
        result: null,
        usage: null,
        cost_usd: null,
        denials: null,
        session_id: d.session_id ?? null,
        resumed_attempt: d.resumed_attempt ?? null,
        session_gone: false,
        changes: null
      }
      return {
        job: {
          ...job, status: "running", started_at: at, completed_at: null, duration_ms: null, error: null, error_kind: null,
          attempts: d.attempt, current_execution_id: d.execution_id, cancel_requested: false, progress: null, denied: 0,
          retry_fresh: false
        },
        execution,
        executionId: d.execution_id,
        lines: [
          system(at, `Attempt ${d.attempt} started by worker ${d.worker_id} on ${d.host}: ${d.argv.join(" ")}`),
          ...(d.resumed_attempt === undefined ? [] : [system(at, `Resuming attempt ${d.resumed_attempt}'s session ${d.session_id ?? ""} with a prompt to continue the task.`)])
        ]
      }
    }
    case "ExecutionOutput":
      return {
        job,
        executionId: event.data.execution_id,
        lines: event.data.lines.map((line) => ({
          at: new Date(line.at),
          stream: line.stream,
          level: line.stream === "stderr" ? "warn" : "info",
          message: line.text
        }))
      }
    case "ExecutionProgress":
      return { job: { ...job, progress: event.data.message }, executionId: null, lines: [] }
    case "ExecutionChanges": {
      const { changes, execution_id } = event.data
      const execution = rows.executions.get(execution_id)
      if (!execution) throw missing(`execution ${execution_id}`)
      const { files: _files, ...totals } = changes
      return {
        job: { ...job, changes: totals, worktree_state: changes.worktree === undefined ? job.worktree_state : "open" },
        execution: { ...execution, changes },
        executionId: execution_id,
        lines: [system(at, `Changes${changes.worktree === undefined ? "" : ` on branch ${changes.worktree.branch}`}: ${compactChanges(changes)}.`)]
      }
    }
    case "WorktreeMerged": {
      const d = event.data
      return {
        job: { ...job, worktree_state: "merged" },
        executionId: null,
        lines: [system(at, `Branch ${d.branch} merged into ${d.into} by ${d.requested_by} (${d.commit.slice(0, 12)}).`)]
      }
    }
    case "WorktreeRemoved": {
      const d = event.data
      return {
        job: { ...job, worktree_state: "removed" },
        executionId: null,
        lines: [system(at, `Worktree and branch ${d.branch} removed by ${d.requested_by} (${d.reason}).`)]
      }
    }
    case "ExecutionSucceeded": {
      const d = event.data
      const execution = closeExecution(rows, d.execution_id, at, {
        status: "succeeded", durationMs: d.duration_ms, exitCode: d.exit_code, result: d.result, usage: d.usage,
        costUsd: d.cost_usd, cliVersion: d.cli_version, denials: d.denials, sessionId: d.session_id, sessionGone: d.session_gone
      })
      const denials = d.denials ?? []
      return {
        job: finishJob(job, at, "completed", execution, denials.length),
        execution,
        executionId: d.execution_id,
        lines: [
          system(at, `Attempt ${execution.attempt} succeeded in ${formatSeconds(execution.duration_ms!)}.`),
          ...(denials.length === 0
            ? []
            : [system(at, `Warning: the agent was refused ${denials.length} tool call${denials.length === 1 ? "" : "s"}: ${denials.map(denialLabel).join("; ")}.`, "warn")])
        ]
      }
    }
    case "ExecutionFailed": {
      const d = event.data
      const execution = closeExecution(rows, d.execution_id, at, {
        status: "failed", durationMs: d.duration_ms, exitCode: d.exit_code, signal: d.signal, error: d.error,
        errorKind: d.error_kind, cliVersion: d.cli_version, costUsd: d.cost_usd, usage: d.usage, sessionId: d.session_id, sessionGone: d.session_gone
      })
      return {
        job: finishJob(job, at, "failed", execution),
        execution,
        executionId: d.execution_id,
        lines: [system(at, `Attempt ${execution.attempt} failed (${d.error_kind}): ${d.error}`, "error")]
      }
    }
    case "ExecutionAbandoned": {
      const d = event.data
      const execution = closeExecution(rows, d.execution_id, at, { status: "abandoned", durationMs: null, error: d.reason, errorKind: "worker_lost" })
      return {
        job: finishJob(job, at, "failed", execution),
        execution,
        executionId: d.execution_id,
        lines: [system(at, `Attempt ${execution.attempt} abandoned: ${d.reason}`, "error")]
      }
    }
    case "JobRetryRequested": {
      const d = event.data
      // Queued again: nothing is running, so no start, end or duration. A policy retry keeps
      // the error that caused it (the monitor shows why the job waits); a person's clears it
      // (the failed execution keeps it).
      const byUser = d.requested_by === "user"
      return {
        job: {
          ...job, status: "queued", run_at: new Date(d.run_at), retry_reason: d.reason ?? null, retry_fresh: d.fresh === true, started_at: null,
          completed_at: null, duration_ms: null, error: byUser ? null : job.error, error_kind: byUser ? null : job.error_kind
        },
        executionId: null,
        lines: [system(at, byUser ? (d.fresh === true ? "Retry requested (fresh start)." : "Retry requested.") : `Retry scheduled by policy for ${d.run_at}${d.reason === undefined ? "" : `: ${d.reason}`}.`)]
      }
    }
    case "JobCancelRequested":
      return {
        job: { ...job, cancel_requested: true },
        executionId: null,
        lines: [system(at, `Cancellation requested by ${event.data.requested_by}.`)],
        cancelRequestedBy: event.data.requested_by
      }
    case "JobCancelled": {
      const d = event.data
      const error = rows.cancelRequestedBy ? `Cancelled by ${rows.cancelRequestedBy}.` : "Cancelled."
      const execution = d.execution_id === null
        ? undefined
        : closeExecution(rows, d.execution_id, at, { status: "cancelled", durationMs: null, error, errorKind: "cancelled" })
      return {
        job: { ...finishJob(job, at, "cancelled", execution), error, error_kind: "cancelled" },
        ...(execution ? { execution } : {}),
        executionId: d.execution_id,
        lines: [system(at, "Job cancelled.")]
      }
    }
  }
}

/**
 * Applies one recorded event to its stream's rows: the new rows (the job row stamped with the
 * event's version and position) and the log lines it adds. Throws when the event needs a row
 * the stream lacks (an execution never started, a job never queued) or would create one twice.
 */
export const evolveRows = (rows: StreamRows, recorded: RecordedEvent): Evolved => {
  const event = recorded.event
  let c: Change
  if (rows.job !== undefined) c = change(rows, rows.job, recorded)
  else if (event.type === "JobQueued") c = queued(recorded, event.data)
  else throw missing(`job ${recorded.jobId}`)
  const logs = c.lines.map((line, i): LogRow => ({
    job_id: recorded.jobId,
    seq: rows.lastSeq + i + 1,
    execution_id: c.executionId,
    at: line.at,
    stream: line.stream,
    level: line.level,
    message: line.message
  }))
  return {
    rows: {
      job: { ...c.job, version: recorded.version, last_position: recorded.position },
      executions: c.execution ? new Map(rows.executions).set(c.execution.id, c.execution) : rows.executions,
      lastSeq: rows.lastSeq + logs.length,
      cancelRequestedBy: c.cancelRequestedBy ?? rows.cancelRequestedBy
    },
    logs
  }
}
