/**
 * Automatic retry policy: which failures re-queue a job by themselves and how long the
 * job waits first. Pure; the decider calls it, so `aidp jobs replay` and live runs agree.
 */
import { type ErrorKind, TRANSIENT_ERROR_KINDS } from "./job.js"

/** First backoff delay, ms. */
export const BASE_BACKOFF_MS = 5_000
/** Largest backoff delay, ms. */
export const MAX_BACKOFF_MS = 5 * 60_000

/**
 * Backoff before attempt `attempt + 1`, ms: 5 s, 10 s, 20 s, ... capped at 5 min.
 * Deterministic (no jitter) so that the decision is reproducible from the log.
 */
export const backoffMs = (attempt: number): number =>
  Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** Math.max(0, attempt - 1))

/**
 * Whether an agent's failure of `errorKind` is re-queued automatically, when it has now spent
 * `spentAttempts` (1-based, this one included) of a job allowing `maxAttempts`. Only transient
 * kinds are; the rest wait for a person.
 */
export const shouldRetry = (errorKind: ErrorKind, spentAttempts: number, maxAttempts: number): boolean =>
  TRANSIENT_ERROR_KINDS.has(errorKind) && spentAttempts < maxAttempts

/**
 * Executions ended by aidp's own side (ExecutionAbandoned: shutdown, lost worker, lost lease)
 * in a row after which a job fails with `worker_lost` instead of being queued again, so a job
 * that keeps taking its workers down cannot loop forever. They spend none of `max_attempts`.
 */
export const MAX_ABANDONED_IN_ROW = 10
