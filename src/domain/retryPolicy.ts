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
 * Whether a failure of `errorKind` on attempt `attempt` (1-based) of a job allowing
 * `maxAttempts` is re-queued automatically. Only transient kinds are; the rest wait for a person.
 */
export const shouldRetry = (errorKind: ErrorKind, attempt: number, maxAttempts: number): boolean =>
  TRANSIENT_ERROR_KINDS.has(errorKind) && attempt < maxAttempts
