/**
 * Database outage reporting for a process that rides one out (workers, a watched job): the first failure of an outage is logged
 * as one line (what failed and that the workers keep retrying), repeats are silent, and
 * the recovery is logged once — instead of a stack trace per failed attempt.
 */
import type { Logger } from "../config/logger.js"

/** How often a process riding out a database outage tries again, ms (workers, a watched job, a Ctrl-C's cancel). */
export const OUTAGE_RETRY_MS = 2_000

/** Tracks whether the database is currently unreachable for this process. */
export interface OutageReporter {
  /** A database operation failed with `message`; logged only when an outage starts. */
  readonly failed: (message: string) => void
  /** A database operation succeeded; logs the end of an outage. */
  readonly succeeded: () => void
  /** Whether an outage is going on. */
  readonly down: () => boolean
}

/** Makes a reporter logging to `logger`; `retryMs` is how often the process retries, ms. */
export const makeOutageReporter = (logger: Logger, retryMs: number): OutageReporter => {
  let since: number | null = null
  return {
    failed: (message) => {
      if (since !== null) return
      since = Date.now()
      logger.warn(`database unreachable (${message}); retrying every ${Math.round(retryMs / 1000)} s`)
    },
    succeeded: () => {
      if (since === null) return
      logger.info(`database reachable again after ${Math.round((Date.now() - since) / 1000)} s`)
      since = null
    },
    down: () => since !== null
  }
}
