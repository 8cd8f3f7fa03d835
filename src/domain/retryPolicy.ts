/**
 * Automatic retry policy: which failures re-queue a job by themselves, when the job runs
 * again and why. Pure (no clock, no randomness: time arrives as `now`, jitter comes from the
 * execution id); the decider calls it, so `aidp jobs replay` and live runs agree.
 *
 * An agent CLI retries API errors itself before it gives up (PROVIDERS.md: claude about 3 min
 * for a 429, gemini about 5 min), so aidp's own retry of an agent failure waits longer than a
 * generic queue would, and honours any time the provider named.
 */
import { type ErrorKind, TRANSIENT_ERROR_KINDS } from "./job.js"

/** First requeue delay after an execution ended on aidp's side (lost worker, lost lease), ms. */
export const BASE_BACKOFF_MS = 5_000
/** Largest requeue delay after an execution ended on aidp's side, ms. */
export const MAX_BACKOFF_MS = 5 * 60_000

/**
 * Requeue delay after the `inRow`th execution in a row ended on aidp's side (lost worker,
 * lost lease), ms: 5 s, 10 s, 20 s, ... capped at 5 min. Short on purpose: the agent did not
 * fail, its worker did. Deterministic (no jitter).
 */
export const abandonDelayMs = (inRow: number): number =>
  Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** Math.max(0, inRow - 1))

/** Shortest wait before an automatic retry of an agent's failure when the provider named no time, ms. */
export const AGENT_RETRY_FLOOR_MS = 60_000
/** Longest wait before an automatic retry of an agent's failure when the provider named no time, ms. */
export const AGENT_RETRY_MAX_MS = 30 * 60_000
/** Added to a time the provider named, so the retry lands after it, ms. */
export const RETRY_MARGIN_MS = 5_000
/** Jitter adds up to this share of the delay (never less than the delay itself). */
const JITTER_SHARE = 0.25

/**
 * A time the provider named for trying again (PROVIDERS.md): a delay (claude's
 * `retry_delay_ms` in `system/api_retry`, gemini's `Suggested retry after 1s.` / `Please retry
 * in 38.4s.`) or a wall-clock reset (claude's `You've hit your limit · resets 4pm
 * (Europe/Berlin)`). `said` is what a person reads: `claude asked for 38 s`.
 */
export type RetryHint =
  | { readonly _tag: "Delay"; readonly ms: number; readonly said: string }
  | {
    readonly _tag: "Reset"
    /** Hour 0-23 and minute 0-59 on the wall clock of `timeZone` (an IANA name; UTC when the provider named none). */
    readonly hour: number
    readonly minute: number
    readonly timeZone: string
    readonly said: string
  }

/** Wall-clock fields of `at` in `timeZone`, as if that wall clock were UTC (ms); UTC when the zone is unknown. */
const wallClockMs = (at: Date, timeZone: string): number => {
  let parts: Intl.DateTimeFormatPart[]
  try {
    parts = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric"
    }).formatToParts(at)
  } catch {
    return at.getTime()
  }
  const field = (type: string): number => Number(parts.find((part) => part.type === type)?.value ?? 0)
  return Date.UTC(field("year"), field("month") - 1, field("day"), field("hour"), field("minute"), field("second"), at.getUTCMilliseconds())
}

/** The moment a hint names, the first one after `now`. */
export const hintTime = (hint: RetryHint, now: Date): Date => {
  if (hint._tag === "Delay") return new Date(now.getTime() + hint.ms)
  const wallNow = wallClockMs(now, hint.timeZone)
  const offset = wallNow - now.getTime()
  const day = new Date(wallNow)
  let target = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), hint.hour, hint.minute)
  if (target <= wallNow) target += 24 * 60 * 60_000
  return new Date(target - offset)
}

/** A number in [0, 1) from `seed` (FNV-1a), so the jitter of a decision is the same on replay. */
const jitterOf = (seed: string): number => {
  let hash = 0x811c9dc5
  for (let i = 0; i < seed.length; i++) hash = Math.imul(hash ^ seed.charCodeAt(i), 0x01000193) >>> 0
  return hash / 2 ** 32
}

/**
 * Wait before retrying an agent's failure when the provider named no time, ms: 60 s after
 * the first spent attempt, doubling after each further one, plus up to 25 % jitter (from
 * `seed`, the failed execution's id), capped at 30 min.
 */
export const agentBackoffMs = (spentAttempts: number, seed: string): number =>
  Math.min(AGENT_RETRY_MAX_MS, Math.round(AGENT_RETRY_FLOOR_MS * 2 ** Math.max(0, spentAttempts - 1) * (1 + JITTER_SHARE * jitterOf(seed))))

/** `38 s`, `4 min`: a wait in words. */
export const formatWait = (ms: number): string => (ms < 120_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`)

/** What an agent's failure was, for {@link agentRetry}. */
export interface AgentFailure {
  readonly errorKind: ErrorKind
  /** Attempts spent, this one included (1-based). */
  readonly spentAttempts: number
  readonly maxAttempts: number
  /** The job was enqueued with `--retry-timeouts` (JobQueued `retry_timeouts`). */
  readonly retryTimeouts: boolean
  readonly hint: RetryHint | undefined
  /** The failed execution's id: seeds the jitter. */
  readonly executionId: string
  readonly now: Date
}

/** When a job runs again and why, e.g. `rate limit, claude asked for 38 s`. */
export interface RetryDecision {
  readonly runAt: Date
  readonly reason: string
}

/**
 * Whether an agent's failure is retried automatically, and when. Not when the attempts are
 * spent. Transient kinds (rate_limit, overloaded, server_error, network) are; `timeout` (a
 * hang) only with `retryTimeouts`; `quota` only when the provider named its reset; the rest
 * wait for a person (`budget` among them: waiting does not make a run cheaper). The job runs at the time the provider named plus {@link RETRY_MARGIN_MS},
 * else after {@link agentBackoffMs}.
 */
export const agentRetry = (failure: AgentFailure): RetryDecision | undefined => {
  const { errorKind, hint, now } = failure
  if (failure.spentAttempts >= failure.maxAttempts) return undefined
  const retried =
    TRANSIENT_ERROR_KINDS.has(errorKind) ||
    (errorKind === "timeout" && failure.retryTimeouts) ||
    (errorKind === "quota" && hint !== undefined)
  if (!retried) return undefined
  const what = errorKind.replace("_", " ")
  if (hint !== undefined) return { runAt: new Date(hintTime(hint, now).getTime() + RETRY_MARGIN_MS), reason: `${what}, ${hint.said}` }
  const waitMs = agentBackoffMs(failure.spentAttempts, failure.executionId)
  return { runAt: new Date(now.getTime() + waitMs), reason: `${what}, backoff ${formatWait(waitMs)}` }
}

/**
 * Executions ended by aidp's own side (ExecutionAbandoned: shutdown, lost worker, lost lease)
 * in a row after which a job fails with `worker_lost` instead of being queued again, so a job
 * that keeps taking its workers down cannot loop forever. They spend none of `max_attempts`.
 */
export const MAX_ABANDONED_IN_ROW = 10
