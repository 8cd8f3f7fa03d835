/**
 * Heartbeat: registers a worker process in `workers` and renews its lease every
 * `intervalMs` using the database clock, so liveness is judged on one clock across hosts.
 * Marks the worker stopped when its scope closes (graceful shutdown).
 */
import { performance } from "node:perf_hooks"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import type { ProviderLimits } from "../config/env.js"
import type { DatabaseError } from "../events/errors.js"
import { databaseError } from "../events/store.js"
import { SqlClient } from "../events/sqlClient.js"
import type { WorkerIdentity } from "./claimer.js"

/** Longest wait for the shutdown's `stopped_at` write; a partitioned worker must still exit, ms. */
const STOP_WRITE_TIMEOUT_MS = 2_000

/** What the heartbeat tells its process. */
export interface Heartbeat {
  /**
   * Monotonic time (performance.now()) at which the last successful renewal was sent. The
   * lease other workers judge runs from a moment after it, so "now minus this" never
   * underestimates how long this worker has looked silent.
   */
  readonly lastRenewedAt: () => number
  /**
   * Renews the lease now (a worker does so before it claims anything after a missed beat, so
   * an execution never starts under a lease the rescuers may judge lost). Fails with
   * DatabaseError.
   */
  readonly renew: Effect.Effect<void, DatabaseError>
  /** Notes a renewal made by another statement sent at `sentAt` (performance.now()): a claim. */
  readonly renewedAfter: (sentAt: number) => void
}

/**
 * Registers `identity` (with the per-provider `concurrency` limits it enforces, for the
 * monitor) and keeps renewing `heartbeat_at` in a background fiber for the lifetime of the
 * enclosing Scope. A failed renewal is logged by `onError` and retried on the next beat (the
 * rescuer decides what a missed lease means; the pool fences itself).
 */
export const heartbeat = (
  identity: WorkerIdentity,
  intervalMs: number,
  concurrency: ProviderLimits,
  onError: (error: DatabaseError) => void
): Effect.Effect<Heartbeat, DatabaseError, SqlClient | Scope.Scope> =>
  Effect.gen(function*() {
    const { sql } = yield* SqlClient
    let lastRenewedAt = performance.now()
    const beat = Effect.suspend(() => {
      const sentAt = performance.now()
      return Effect.tryPromise({
        try: () =>
          sql`
            insert into workers (id, host, pid, started_at, heartbeat_at, concurrency)
            values (${identity.workerId}, ${identity.host}, ${identity.pid}, now(), now(), ${sql.json(concurrency)})
            on conflict (id) do update set heartbeat_at = now(), stopped_at = null`,
        catch: databaseError("Worker heartbeat")
      }).pipe(Effect.tap(() => Effect.sync(() => void (lastRenewedAt = Math.max(lastRenewedAt, sentAt)))))
    })
    yield* beat
    // Finalizers run last-added first: the beats stop before `stopped_at` is written, so a
    // late beat cannot clear it.
    yield* Effect.addFinalizer(() =>
      Effect.tryPromise(() => sql`update workers set stopped_at = now() where id = ${identity.workerId}`).pipe(
        Effect.timeoutOption(STOP_WRITE_TIMEOUT_MS),
        Effect.ignore
      )
    )
    yield* beat.pipe(
      Effect.catch((error) => Effect.sync(() => onError(error))),
      Effect.repeat(Schedule.spaced(intervalMs)),
      Effect.forkScoped
    )
    return {
      lastRenewedAt: () => lastRenewedAt,
      renew: Effect.asVoid(beat),
      renewedAfter: (sentAt) => void (lastRenewedAt = Math.max(lastRenewedAt, sentAt))
    }
  })
