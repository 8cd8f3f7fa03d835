/**
 * The job Decider (STYLE.md, "functional event sourcing"): `initialState`,
 * `evolve(state, event) -> state` and `decide(command, state) -> events | error`.
 * Pure: time and ids arrive in the command; nothing here reads a clock, a database or
 * randomness.
 */
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import { type ChangeSummary, WORKTREE_KEY } from "./changes.js"
import type { Denial, JobEvent, OutputLine } from "./events.js"
import { type Budget, budgetRefusal, type ErrorKind, type JobStatus, MAX_PROMPT_BYTES, type Permissions, permissionsRefusal, type Provider } from "./job.js"
import { abandonDelayMs, agentRetry, MAX_ABANDONED_IN_ROW, type RetryHint } from "./retryPolicy.js"
import type { LastSession, SessionPlan } from "./session.js"

/**
 * What decide needs to know about one job, folded from its events. The read models carry
 * the same facts (the `jobs` row, and the statuses of the job's `job_executions` rows), so a
 * command handler may load this from them (snapshots written in the same transaction as the
 * events) instead of folding the stream.
 */
export interface JobState {
  /** Number of events in the stream (0 = no such job). */
  readonly version: number
  readonly status: JobStatus | null
  readonly maxAttempts: number
  /** JobQueued `retry_timeouts`: a timed-out execution is retried automatically. */
  readonly retryTimeouts: boolean
  /** Executions opened so far (the last one's `attempt`). */
  readonly attempts: number
  /** Executions ended by aidp's own side (ExecutionAbandoned); they spend no attempt. */
  readonly abandoned: number
  /** Abandoned executions since the last one the agent ended (succeeded, failed or cancelled). */
  readonly abandonedInRow: number
  readonly currentExecutionId: string | null
  readonly cancelRequested: boolean
  /** The agent session of the last execution (chosen or resumed at its start, or as the CLI reported it); null when it had none. */
  readonly lastSession: LastSession | null
  /** The pending retry asked for a fresh start (JobRetryRequested `fresh`); cleared when an execution starts. */
  readonly retryFresh: boolean
  /** The job's git worktree: none recorded, open (an execution's changes named it), merged, or removed. */
  readonly worktree: WorktreeState
}

/** Where a job's worktree stands (ExecutionChanges with a worktree, WorktreeMerged, WorktreeRemoved). */
export type WorktreeState = "none" | "open" | "merged" | "removed"

/** Attempts of `max_attempts` spent: executions the agent ended, the running one included. */
export const spentAttempts = (state: JobState): number => state.attempts - state.abandoned

/** State of a stream with no events. */
export const initialState: JobState = {
  version: 0,
  status: null,
  maxAttempts: 1,
  retryTimeouts: false,
  attempts: 0,
  abandoned: 0,
  abandonedInRow: 0,
  currentExecutionId: null,
  cancelRequested: false,
  lastSession: null,
  retryFresh: false,
  worktree: "none"
}

/** The last session after an outcome: the one the CLI reported for the current attempt, else as it was. */
const reportedSession = (state: JobState, sessionId: string | undefined): LastSession | null =>
  sessionId === undefined ? state.lastSession : { attempt: state.attempts, sessionId }

/** Folds one event into the state. Total: every stored event has a defined effect. */
export const evolve = (state: JobState, event: JobEvent): JobState => {
  const next = { ...state, version: state.version + 1 }
  switch (event.type) {
    case "JobQueued":
      return {
        ...next,
        status: "queued",
        maxAttempts: event.data.max_attempts,
        retryTimeouts: event.data.retry_timeouts === true
      }
    case "ExecutionStarted":
      return {
        ...next,
        status: "running",
        attempts: event.data.attempt,
        currentExecutionId: event.data.execution_id,
        cancelRequested: false,
        lastSession: event.data.session_id === undefined ? null : { attempt: event.data.attempt, sessionId: event.data.session_id },
        retryFresh: false
      }
    case "ExecutionOutput":
    case "ExecutionProgress":
      return next
    case "ExecutionChanges":
      return event.data.changes.worktree === undefined ? next : { ...next, worktree: "open" }
    case "WorktreeMerged":
      return { ...next, worktree: "merged" }
    case "WorktreeRemoved":
      return { ...next, worktree: "removed" }
    // An ended execution ends its pending cancel too (as the `jobs` row does).
    case "ExecutionSucceeded":
      return { ...next, status: "completed", currentExecutionId: null, cancelRequested: false, abandonedInRow: 0, lastSession: reportedSession(state, event.data.session_id) }
    case "ExecutionFailed":
      return { ...next, status: "failed", currentExecutionId: null, cancelRequested: false, abandonedInRow: 0, lastSession: reportedSession(state, event.data.session_id) }
    case "ExecutionAbandoned":
      return {
        ...next,
        status: "failed",
        currentExecutionId: null,
        cancelRequested: false,
        abandoned: state.abandoned + 1,
        abandonedInRow: state.abandonedInRow + 1
      }
    case "JobRetryRequested":
      return { ...next, status: "queued", cancelRequested: false, retryFresh: event.data.fresh === true }
    case "JobCancelRequested":
      return { ...next, cancelRequested: true }
    case "JobCancelled":
      return {
        ...next,
        status: "cancelled",
        currentExecutionId: null,
        cancelRequested: false,
        abandonedInRow: event.data.execution_id === null ? state.abandonedInRow : 0
      }
  }
}

/** Folds a whole stream, oldest first. */
export const fold = (events: Iterable<JobEvent>): JobState => {
  let state = initialState
  for (const event of events) state = evolve(state, event)
  return state
}

/** What an ending execution reports about its session (optional in Succeed and Fail). */
export interface SessionOutcome {
  /** The session id the CLI reported. */
  readonly sessionId?: string | undefined
  /** A resumed session was gone and the execution started fresh instead. */
  readonly sessionGone?: boolean | undefined
}

/** The outcome events' session fields: only those that are known. */
const sessionFields = (command: SessionOutcome) => ({
  ...(command.sessionId === undefined ? {} : { session_id: command.sessionId }),
  ...(command.sessionGone === true ? { session_gone: true } : {})
})

/** ExecutionStarted's session fields for a plan: the session when known, and the attempt it resumes. */
const startedSessionFields = (plan: SessionPlan | undefined) => {
  if (plan === undefined) return {}
  if (plan._tag === "Resume") return { session_id: plan.sessionId, resumed_attempt: plan.attempt }
  return plan.sessionId === undefined ? {} : { session_id: plan.sessionId }
}

/** Commands a job accepts. `now` is the caller's clock; ids are made by the caller. */
export type JobCommand =
  | {
    readonly _tag: "Enqueue"
    readonly provider: Provider
    readonly model: string | null
    readonly prompt: string
    readonly cwd: string
    readonly step: string | null
    readonly priority: number
    readonly maxAttempts: number
    readonly timeoutMs: number
    readonly metadata: Record<string, unknown>
    readonly permissions: Permissions
    /** `--retry-timeouts`: retry an execution that ran past `timeoutMs` automatically. */
    readonly retryTimeouts?: boolean
    /** `--max-cost`, `--max-turns`: one execution's limits; refused for a provider outside BUDGET_PROVIDERS. */
    readonly budget?: Budget
    /** `--worktree`: run in a git worktree of its own; `key` (default: the job's id) names it, so jobs may share one. */
    readonly worktree?: { readonly key?: string | undefined } | undefined
  }
  | {
    readonly _tag: "Start"
    readonly executionId: string
    readonly workerId: string
    readonly host: string
    readonly pid: number
    readonly argv: ReadonlyArray<string>
    /** How the execution uses the agent's session (see session.ts planSession); absent = fresh, session unknown. */
    readonly session?: SessionPlan | undefined
  }
  | { readonly _tag: "RecordOutput"; readonly executionId: string; readonly lines: ReadonlyArray<OutputLine> }
  | { readonly _tag: "RecordProgress"; readonly executionId: string; readonly message: string }
  /** What the ending execution changed (recorded before its outcome). */
  | { readonly _tag: "RecordChanges"; readonly executionId: string; readonly changes: ChangeSummary }
  /** A person merged the job's branch `branch` into `into`, making `commit`; `requestedBy`: user or monitor. */
  | { readonly _tag: "MergeWorktree"; readonly requestedBy: string; readonly branch: string; readonly into: string; readonly commit: string }
  /** A person removed the job's worktree and branch: one job (`discard`) or in bulk (`clean`). */
  | { readonly _tag: "RemoveWorktree"; readonly requestedBy: string; readonly branch: string; readonly reason: "discard" | "clean" }
  | {
    readonly _tag: "Succeed"
    readonly executionId: string
    readonly exitCode: number | null
    readonly result: string
    readonly usage: unknown
    readonly costUsd: number | null
    readonly durationMs: number
    readonly cliVersion: string | null
    /** Tool calls the agent was refused (empty: none). */
    readonly denials: ReadonlyArray<Denial>
  } & SessionOutcome
  | {
    readonly _tag: "Fail"
    readonly executionId: string
    readonly exitCode: number | null
    readonly signal: string | null
    readonly errorKind: ErrorKind
    readonly error: string
    readonly durationMs: number
    readonly cliVersion: string | null
    readonly now: Date
    /** A time the provider named for trying again (from its output), if any. */
    readonly retryHint?: RetryHint | undefined
    /** What the run had cost, USD, when the CLI reported it (a run stopped at its budget spent it). */
    readonly costUsd?: number | undefined
    /** Token counts, when the CLI reported them (shape differs per provider). */
    readonly usage?: Record<string, unknown> | undefined
  } & SessionOutcome
  /** A person's retry; `fresh`: resume no session (`aidp jobs retry --fresh`). */
  | { readonly _tag: "Retry"; readonly now: Date; readonly fresh?: boolean | undefined }
  | { readonly _tag: "RequestCancel"; readonly requestedBy: string }
  /** The worker stopped the process; `executionId` null confirms for the current execution. */
  | { readonly _tag: "ConfirmCancel"; readonly executionId: string | null }
  | {
    readonly _tag: "Abandon"
    readonly executionId: string
    readonly reason: string
    readonly now: Date
    /**
     * The worker is shutting down on purpose (SIGINT/SIGTERM): the job is queued again at
     * once rather than after a backoff.
     */
    readonly workerStopping?: boolean
  }

/** The command names a job that has no events. */
export class JobNotFound extends Schema.TaggedError<JobNotFound>()("JobNotFound", {
  message: Schema.String
}) {}

/** The command is not allowed in the job's current status (e.g. retrying a running job). */
export class IllegalTransition extends Schema.TaggedError<IllegalTransition>()("IllegalTransition", {
  message: Schema.String
}) {}

/** Errors {@link decide} can return. */
export type DecideError = JobNotFound | IllegalTransition

const illegal = (message: string) => Result.fail(new IllegalTransition({ message }))

/** The execution named by a worker's command must be the job's current one, and running. */
const checkCurrent = (state: JobState, executionId: string): IllegalTransition | null =>
  state.status === "running" && state.currentExecutionId === executionId
    ? null
    : new IllegalTransition({
      message: `Execution ${executionId} is not the running execution of this job (status ${state.status}).`
    })

const policyRetry = (runAt: Date, reason: string): JobEvent => ({
  type: "JobRetryRequested",
  data: { requested_by: "policy", run_at: runAt.toISOString(), reason }
})

/**
 * The agent's failure, followed by a policy retry when the policy says so
 * ({@link agentRetry}). A job whose cancel was requested is never re-queued: the person
 * asked it to stop.
 */
const failedWithPolicy = (
  state: JobState,
  failure: JobEvent,
  command: Extract<JobCommand, { readonly _tag: "Fail" }>
): ReadonlyArray<JobEvent> => {
  const retry = state.cancelRequested
    ? undefined
    : agentRetry({
      errorKind: command.errorKind,
      spentAttempts: spentAttempts(state),
      maxAttempts: state.maxAttempts,
      retryTimeouts: state.retryTimeouts,
      hint: command.retryHint,
      executionId: command.executionId,
      now: command.now
    })
  return retry === undefined ? [failure] : [failure, policyRetry(retry.runAt, retry.reason)]
}

/**
 * An execution ended by aidp's own side (shutdown, lost worker, lost lease): the job is
 * queued again without spending an attempt — at once after a shutdown, after a backoff
 * otherwise — unless a cancel was requested or this is the {@link MAX_ABANDONED_IN_ROW}th
 * such ending in a row (then it stays failed, `worker_lost`).
 */
const abandonedWithPolicy = (state: JobState, abandoned: JobEvent, now: Date, workerStopping: boolean): ReadonlyArray<JobEvent> => {
  const inRow = state.abandonedInRow + 1
  if (state.cancelRequested || inRow >= MAX_ABANDONED_IN_ROW) return [abandoned]
  const runAt = workerStopping ? now : new Date(now.getTime() + abandonDelayMs(inRow))
  return [abandoned, policyRetry(runAt, workerStopping ? "its worker shut down" : "its worker was lost")]
}

/**
 * Why the job's worktree cannot be merged or removed now, in a sentence; undefined when it can:
 * the job has finished (completed, failed or cancelled) and has a worktree that was not removed.
 */
export const worktreeRefusal = (status: JobStatus | null, worktree: WorktreeState): string | undefined => {
  if (status === "queued" || status === "running") return `The job is ${status}; wait until it has finished (or cancel it) first.`
  if (worktree === "none") return "The job has no worktree (it was not enqueued with --worktree, or no execution of it ended)."
  if (worktree === "removed") return "The job's worktree and branch were already removed."
  return undefined
}

/**
 * Decides which events a command produces in `state`, or why it is refused.
 * Errors: JobNotFound when the stream is empty (except Enqueue); IllegalTransition with a
 * sentence a user can act on.
 */
export const decide = (
  command: JobCommand,
  state: JobState
): Result.Result<ReadonlyArray<JobEvent>, DecideError> => {
  if (command._tag === "Enqueue") {
    if (state.version > 0) return illegal("A job with this id already exists.")
    const refusal = permissionsRefusal(command.provider, command.permissions) ?? budgetRefusal(command.provider, command.budget ?? {})
    if (refusal !== undefined) return illegal(refusal)
    if (Buffer.byteLength(command.prompt, "utf8") > MAX_PROMPT_BYTES) {
      return illegal(`The prompt is longer than ${MAX_PROMPT_BYTES / 1024 / 1024} MiB, the most a job takes; shorten it, or point the agent at files to read instead.`)
    }
    const key = command.worktree?.key
    if (key !== undefined && !WORKTREE_KEY.test(key)) {
      return illegal(`The worktree key ${JSON.stringify(key)} is not a name: use up to 100 letters, digits, - and _, starting with a letter or digit.`)
    }
    return Result.succeed([{
      type: "JobQueued",
      data: {
        provider: command.provider,
        model: command.model,
        prompt: command.prompt,
        cwd: command.cwd,
        step: command.step,
        priority: command.priority,
        max_attempts: command.maxAttempts,
        timeout_ms: command.timeoutMs,
        metadata: command.metadata,
        permissions: command.permissions,
        ...(command.retryTimeouts === true ? { retry_timeouts: true } : {}),
        ...(command.budget?.maxCostUsd === undefined ? {} : { max_cost_usd: command.budget.maxCostUsd }),
        ...(command.budget?.maxTurns === undefined ? {} : { max_turns: command.budget.maxTurns }),
        ...(command.worktree === undefined ? {} : { worktree: command.worktree.key === undefined ? {} : { key: command.worktree.key } })
      }
    }])
  }
  if (state.version === 0) return Result.fail(new JobNotFound({ message: "No such job." }))
  switch (command._tag) {
    case "Start":
      if (state.status !== "queued") return illegal(`Only a queued job can start; this one is ${state.status}.`)
      return Result.succeed([{
        type: "ExecutionStarted",
        data: {
          execution_id: command.executionId,
          attempt: state.attempts + 1,
          worker_id: command.workerId,
          host: command.host,
          pid: command.pid,
          argv: command.argv,
          cli_version: null,
          ...startedSessionFields(command.session)
        }
      }])
    case "RecordOutput": {
      const error = checkCurrent(state, command.executionId)
      if (error) return Result.fail(error)
      return Result.succeed([{ type: "ExecutionOutput", data: { execution_id: command.executionId, lines: command.lines } }])
    }
    case "RecordProgress": {
      const error = checkCurrent(state, command.executionId)
      if (error) return Result.fail(error)
      return Result.succeed([{
        type: "ExecutionProgress",
        data: { execution_id: command.executionId, message: command.message }
      }])
    }
    case "RecordChanges": {
      const error = checkCurrent(state, command.executionId)
      if (error) return Result.fail(error)
      return Result.succeed([{ type: "ExecutionChanges", data: { execution_id: command.executionId, changes: command.changes } }])
    }
    case "MergeWorktree":
    case "RemoveWorktree": {
      const refusal = worktreeRefusal(state.status, state.worktree)
      if (refusal !== undefined) return illegal(refusal)
      return Result.succeed([command._tag === "MergeWorktree"
        ? { type: "WorktreeMerged", data: { requested_by: command.requestedBy, branch: command.branch, into: command.into, commit: command.commit } }
        : { type: "WorktreeRemoved", data: { requested_by: command.requestedBy, branch: command.branch, reason: command.reason } }])
    }
    case "Succeed": {
      const error = checkCurrent(state, command.executionId)
      if (error) return Result.fail(error)
      return Result.succeed([{
        type: "ExecutionSucceeded",
        data: {
          execution_id: command.executionId,
          exit_code: command.exitCode,
          result: command.result,
          usage: command.usage ?? null,
          cost_usd: command.costUsd,
          duration_ms: command.durationMs,
          cli_version: command.cliVersion,
          ...(command.denials.length === 0 ? {} : { denials: command.denials }),
          ...sessionFields(command)
        }
      }])
    }
    case "Fail": {
      const error = checkCurrent(state, command.executionId)
      if (error) return Result.fail(error)
      return Result.succeed(failedWithPolicy(state, {
        type: "ExecutionFailed",
        data: {
          execution_id: command.executionId,
          exit_code: command.exitCode,
          signal: command.signal,
          error_kind: command.errorKind,
          error: command.error,
          duration_ms: command.durationMs,
          cli_version: command.cliVersion,
          ...(command.costUsd === undefined ? {} : { cost_usd: command.costUsd }),
          ...(command.usage === undefined ? {} : { usage: command.usage }),
          ...sessionFields(command)
        }
      }, command))
    }
    case "Abandon": {
      const error = checkCurrent(state, command.executionId)
      if (error) return Result.fail(error)
      return Result.succeed(abandonedWithPolicy(state, {
        type: "ExecutionAbandoned",
        data: { execution_id: command.executionId, reason: command.reason }
      }, command.now, command.workerStopping === true))
    }
    case "Retry":
      if (state.status !== "failed" && state.status !== "cancelled") {
        return illegal(`Only a failed or cancelled job can be retried; this one is ${state.status}.`)
      }
      return Result.succeed([{
        type: "JobRetryRequested",
        data: { requested_by: "user", run_at: command.now.toISOString(), ...(command.fresh === true ? { fresh: true } : {}) }
      }])
    case "RequestCancel":
      if (state.status === "queued") {
        return Result.succeed([
          { type: "JobCancelRequested", data: { requested_by: command.requestedBy } },
          { type: "JobCancelled", data: { execution_id: null } }
        ])
      }
      if (state.status !== "running") return illegal(`Only a queued or running job can be cancelled; this one is ${state.status}.`)
      if (state.cancelRequested) return illegal("Cancellation of this job was already requested.")
      return Result.succeed([{ type: "JobCancelRequested", data: { requested_by: command.requestedBy } }])
    case "ConfirmCancel": {
      if (state.status !== "running" || !state.cancelRequested) {
        return illegal(`There is no pending cancellation to confirm; the job is ${state.status}.`)
      }
      // A stale worker (its execution abandoned, the job restarted) must not cancel the new one.
      const error = command.executionId === null ? null : checkCurrent(state, command.executionId)
      if (error) return Result.fail(error)
      return Result.succeed([{ type: "JobCancelled", data: { execution_id: state.currentExecutionId } }])
    }
  }
}
