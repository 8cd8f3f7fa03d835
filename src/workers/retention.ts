/**
 * Retention in the worker (AIDP_RETENTION): once at start and then once a day, prunes the
 * finished jobs that ended longer ago than the retention (src/projections/prune.ts), logging
 * what went. Several worker processes may each do it; batches take rows with SKIP LOCKED, so
 * they share the work and never block each other or the jobs being run.
 */
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type { Logger } from "pino"
import { SqlClient } from "../events/sqlClient.js"
import { prune } from "../projections/prune.js"

/** How often a worker prunes, ms. */
export const RETENTION_EVERY_MS = 86_400_000

/**
 * Prunes now and every {@link RETENTION_EVERY_MS} until interrupted; a failed prune (database
 * trouble) is logged and tried again at the next turn. Never fails.
 */
export const retentionLoop = (retentionMs: number, logger: Logger) =>
  Effect.gen(function*() {
    const { sql } = yield* SqlClient
    const once = Effect.tryPromise(() => prune(sql, { endedBefore: new Date(Date.now() - retentionMs), outputOnly: false, dryRun: false })).pipe(
      Effect.tap((report) => Effect.sync(() => report.jobs > 0 && logger.info({ ...report, retentionMs }, "pruned finished jobs past AIDP_RETENTION"))),
      Effect.catch((error) => Effect.sync(() => logger.warn({ err: String(error.cause ?? error) }, "pruning past AIDP_RETENTION failed; trying again tomorrow")))
    )
    yield* once.pipe(Effect.repeat(Schedule.spaced(RETENTION_EVERY_MS)))
  })
