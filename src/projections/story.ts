/**
 * A job's story for `aidp jobs replay JOB`: its events (oldest first) folded into what a person
 * asks — when it was queued and with what limits, each attempt (worker, host, how long it waited
 * in the queue, its activity counted: tool calls and assistant messages), how each ended (error,
 * tokens, cost), why it was retried or cancelled — each at its offset from the first event.
 * Pure; the activity comes from the same per-provider renderers as `aidp jobs logs`.
 */
import { endActivity, startActivity, stepActivity, type ActivityState } from "../domain/activity/fold.js"
import type { ActivityEntry } from "../domain/activity/types.js"
import { compactChanges } from "../domain/changes.js"
import type { RecordedEvent } from "../domain/events.js"
import type { JobStatus, Provider } from "../domain/job.js"
import { DEFAULT_PERMISSIONS } from "../domain/job.js"
import { addUsage, type Usage, usageOf } from "../domain/usage.js"
import { STATUS_AFTER } from "./history.js"

/** How an execution ended. */
export type ExecutionEnding = "succeeded" | "failed" | "abandoned" | "cancelled"

/** One moment of the story; `offsetMs` is from the story's first event. */
export type StoryEntry = { readonly at: Date; readonly offsetMs: number } & (
  | {
    readonly kind: "queued"
    readonly provider: Provider
    readonly step: string | null
    readonly cwd: string
    readonly priority: number
    readonly maxAttempts: number
    readonly timeoutMs: number
    readonly permissions: string
    /** Budget per execution (`--max-cost`, `--max-turns`); null when none. */
    readonly maxCostUsd: number | null
    readonly maxTurns: number | null
  }
  | {
    readonly kind: "started"
    readonly attempt: number
    readonly executionId: string
    readonly workerId: string
    readonly host: string
    /** From when the job could run (queued, or its retry's `run_at`) to this start; null when unseen. */
    readonly waitedMs: number | null
    /** The attempt whose agent session it resumes; null for a fresh start. */
    readonly resumedAttempt: number | null
  }
  /** What the agent did (only with `full`), as `aidp jobs logs` renders it. */
  | { readonly kind: "activity"; readonly entry: ActivityEntry }
  | {
    readonly kind: "ended"
    readonly attempt: number | null
    readonly executionId: string
    readonly ending: ExecutionEnding
    readonly durationMs: number | null
    readonly errorKind: string | null
    readonly error: string | null
    readonly toolCalls: number
    readonly messages: number
    readonly tokens: Usage | null
    readonly costUsd: number | null
    readonly denials: number
    /** The session it was to resume was gone, so it started fresh. */
    readonly sessionGone: boolean
    /** Output lines removed by `aidp jobs prune --output-only` (its activity is no longer counted). */
    readonly prunedLines: number
  }
  | {
    readonly kind: "retry"
    readonly requestedBy: "user" | "policy"
    readonly runAt: Date
    readonly reason: string | null
    /** A person asked for a fresh start (`jobs retry --fresh`): no session resumed. */
    readonly fresh: boolean
  }
  | { readonly kind: "cancelRequested"; readonly requestedBy: string }
  /** A cancel of a job that was not running (a running one's ends its execution). */
  | { readonly kind: "cancelled" }
  /** What an ending execution changed (ExecutionChanges): its totals, and its branch in a worktree. */
  | { readonly kind: "changes"; readonly summary: string; readonly branch: string | null }
  /** A person merged the job's branch (`into`: the branch it went into) or removed its worktree. */
  | { readonly kind: "worktree"; readonly action: "merged" | "discarded" | "cleaned"; readonly branch: string; readonly by: string; readonly into: string | null }
)

/** The story of one job. */
export interface JobStory {
  readonly jobId: string
  /** Null when its JobQueued lies before the window read. */
  readonly provider: Provider | null
  readonly status: JobStatus | null
  readonly executions: number
  readonly tokens: Usage | null
  /** What the executions that reported a cost spent, USD; null when none reported one. */
  readonly costUsd: number | null
  readonly entries: ReadonlyArray<StoryEntry>
}

/** What the fold keeps of a running execution. */
interface Open {
  readonly attempt: number
  readonly startedAt: Date
  toolCalls: number
  messages: number
  prunedLines: number
}

/**
 * An accumulator for one job: `add` its events oldest first, then `story()`. With `full`, the
 * agent's activity entries are kept in the story (memory grows with the output); without, only
 * counted.
 */
export const storyAccumulator = (jobId: string, full: boolean) => {
  const entries: StoryEntry[] = []
  const open = new Map<string, Open>()
  let firstAt: Date | null = null
  let provider: Provider | null = null
  let status: JobStatus | null = null
  let activity: ActivityState | null = null
  let runnableAt: number | null = null
  let executions = 0
  let tokens: Usage | null = null
  let costUsd: number | null = null

  const push = (at: Date, entry: DistributiveOmit<StoryEntry, "at" | "offsetMs">) =>
    entries.push({ ...entry, at, offsetMs: at.getTime() - firstAt!.getTime() } as StoryEntry)
  const take = (executionEntries: ReadonlyArray<ActivityEntry>, executionId: string | null) => {
    const counts = executionId === null ? undefined : open.get(executionId)
    for (const entry of executionEntries) {
      if (entry.kind === "attempt") continue
      if (counts && entry.kind === "tool") counts.toolCalls += 1
      if (counts && entry.kind === "text") counts.messages += 1
      if (full) push(entry.at, { kind: "activity", entry })
    }
  }
  /** Ends the text the activity fold is still joining, counted for the execution it belongs to. */
  const flushActivity = () => {
    if (activity === null) return
    const step = endActivity(activity)
    activity = step.state
    take(step.entries, activity.executionId)
  }
  const end = (at: Date, executionId: string, ending: ExecutionEnding, fields: {
    durationMs?: number | null
    errorKind?: string | null
    error?: string | null
    usage?: unknown
    costUsd?: number | null
    denials?: number
    sessionGone?: boolean | undefined
  }) => {
    flushActivity()
    const run = open.get(executionId)
    open.delete(executionId)
    const usage = usageOf(fields.usage ?? null)
    if (usage) tokens = tokens ? addUsage(tokens, usage) : usage
    if (fields.costUsd !== undefined && fields.costUsd !== null) costUsd = (costUsd ?? 0) + fields.costUsd
    push(at, {
      kind: "ended",
      attempt: run?.attempt ?? null,
      executionId,
      ending,
      durationMs: fields.durationMs ?? (run ? at.getTime() - run.startedAt.getTime() : null),
      errorKind: fields.errorKind ?? null,
      error: fields.error ?? null,
      toolCalls: run?.toolCalls ?? 0,
      messages: run?.messages ?? 0,
      tokens: usage,
      costUsd: fields.costUsd ?? null,
      denials: fields.denials ?? 0,
      sessionGone: fields.sessionGone === true,
      prunedLines: run?.prunedLines ?? 0
    })
  }

  return {
    /** Folds the job's next event. Events of other jobs are ignored. */
    add(recorded: RecordedEvent): void {
      if (recorded.jobId !== jobId) return
      const { event, occurredAt: at } = recorded
      firstAt ??= at
      status = STATUS_AFTER[event.type] ?? status
      switch (event.type) {
        case "JobQueued":
          provider = event.data.provider
          runnableAt = at.getTime()
          push(at, {
            kind: "queued",
            provider: event.data.provider,
            step: event.data.step,
            cwd: event.data.cwd,
            priority: event.data.priority,
            maxAttempts: event.data.max_attempts,
            timeoutMs: event.data.timeout_ms,
            permissions: event.data.permissions ?? DEFAULT_PERMISSIONS,
            maxCostUsd: event.data.max_cost_usd ?? null,
            maxTurns: event.data.max_turns ?? null
          })
          break
        case "ExecutionStarted":
          flushActivity()
          executions += 1
          open.set(event.data.execution_id, { attempt: event.data.attempt, startedAt: at, toolCalls: 0, messages: 0, prunedLines: 0 })
          push(at, {
            kind: "started",
            attempt: event.data.attempt,
            executionId: event.data.execution_id,
            workerId: event.data.worker_id,
            host: event.data.host,
            waitedMs: runnableAt === null ? null : Math.max(0, at.getTime() - runnableAt),
            resumedAttempt: event.data.resumed_attempt ?? null
          })
          runnableAt = null
          break
        case "ExecutionOutput": {
          const run = open.get(event.data.execution_id)
          if (run) run.prunedLines += event.data.pruned_lines ?? 0
          if (provider === null) break
          activity ??= startActivity(provider)
          for (const line of event.data.lines) {
            const step = stepActivity(activity, { at: new Date(line.at), stream: line.stream, message: line.text, executionId: event.data.execution_id })
            activity = step.state
            take(step.entries, event.data.execution_id)
          }
          break
        }
        case "ExecutionSucceeded":
          end(at, event.data.execution_id, "succeeded", {
            durationMs: event.data.duration_ms,
            usage: event.data.usage,
            costUsd: event.data.cost_usd,
            denials: event.data.denials?.length ?? 0,
            sessionGone: event.data.session_gone
          })
          break
        case "ExecutionFailed":
          end(at, event.data.execution_id, "failed", {
            durationMs: event.data.duration_ms,
            errorKind: event.data.error_kind,
            error: event.data.error,
            costUsd: event.data.cost_usd ?? null,
            usage: event.data.usage,
            sessionGone: event.data.session_gone
          })
          break
        case "ExecutionAbandoned":
          end(at, event.data.execution_id, "abandoned", { errorKind: "worker_lost", error: event.data.reason })
          break
        case "JobRetryRequested": {
          const runAt = new Date(event.data.run_at)
          runnableAt = Math.max(at.getTime(), runAt.getTime())
          push(at, { kind: "retry", requestedBy: event.data.requested_by, runAt, reason: event.data.reason ?? null, fresh: event.data.fresh === true })
          break
        }
        case "JobCancelRequested":
          push(at, { kind: "cancelRequested", requestedBy: event.data.requested_by })
          break
        case "JobCancelled":
          if (event.data.execution_id !== null) end(at, event.data.execution_id, "cancelled", {})
          else push(at, { kind: "cancelled" })
          break
        case "ExecutionChanges":
          push(at, { kind: "changes", summary: compactChanges(event.data.changes), branch: event.data.changes.worktree?.branch ?? null })
          break
        case "WorktreeMerged":
          push(at, { kind: "worktree", action: "merged", branch: event.data.branch, by: event.data.requested_by, into: event.data.into })
          break
        case "WorktreeRemoved":
          push(at, { kind: "worktree", action: event.data.reason === "clean" ? "cleaned" : "discarded", branch: event.data.branch, by: event.data.requested_by, into: null })
          break
        case "ExecutionProgress":
          break
      }
    },
    /** The story so far; text still being joined by the activity fold is counted. */
    story(): JobStory {
      flushActivity()
      return { jobId, provider, status, executions, tokens, costUsd, entries: [...entries] }
    }
  }
}

/** `Omit` applied to each member of a union. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never
