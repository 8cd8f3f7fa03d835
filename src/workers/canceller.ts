/**
 * Canceller: knows which jobs this process is running and stops an execution when its
 * job gets JobCancelRequested. Woken by NOTIFY; `sweep` re-checks the table for requests
 * whose notification was lost (a reconnect), so a cancel never waits for more than one
 * sweep interval.
 */
import { Deferred, Effect } from "effect"
import type { DatabaseError } from "../events/errors.js"
import { databaseError } from "../events/store.js"
import { SqlClient } from "../events/sqlClient.js"

/** Per-process registry of running jobs and their cancel signals. */
export interface Canceller {
  /** Registers a running job; the returned Deferred completes when cancellation is requested. */
  readonly register: (jobId: string) => Effect.Effect<Deferred.Deferred<void>>
  /** Forgets a job whose execution ended. */
  readonly unregister: (jobId: string) => Effect.Effect<void>
  /** Signals cancellation of `jobId` if this process runs it. */
  readonly request: (jobId: string) => Effect.Effect<void>
  /** Signals every registered job whose row says cancel_requested. Fails with DatabaseError. */
  readonly sweep: Effect.Effect<void, DatabaseError, SqlClient>
}

/** Makes an empty registry. */
export const makeCanceller = Effect.sync((): Canceller => {
  const running = new Map<string, Deferred.Deferred<void>>()
  const request = (jobId: string) =>
    Effect.suspend(() => {
      const signal = running.get(jobId)
      return signal ? Deferred.succeed(signal, undefined).pipe(Effect.asVoid) : Effect.void
    })
  return {
    register: (jobId) =>
      Effect.gen(function*() {
        const signal = yield* Deferred.make<void>()
        running.set(jobId, signal)
        return signal
      }),
    unregister: (jobId) => Effect.sync(() => void running.delete(jobId)),
    request,
    sweep: Effect.gen(function*() {
      if (running.size === 0) return
      const { sql } = yield* SqlClient
      const ids = [...running.keys()]
      const rows = yield* Effect.tryPromise({
        try: () => sql<Array<{ id: string }>>`select id from jobs where id = any(${sql.array(ids)}::uuid[]) and cancel_requested`,
        catch: databaseError("Checking for cancel requests")
      })
      yield* Effect.forEach(rows, (row) => request(row.id), { discard: true })
    })
  }
})
