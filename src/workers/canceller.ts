/**
 * Canceller: knows which executions this process is running and tells one to stop when
 *  - its job gets JobCancelRequested (woken by NOTIFY) — a graceful stop, then JobCancelled;
 *  - its job moved on without it (another worker's rescuer abandoned the execution, say):
 *    the process must stop at once, since the job may already run elsewhere (invariant 1);
 *  - this process lost its lease (`fence`, from the pool's heartbeat check): the rescuers of
 *    other workers are about to hand the job to someone else.
 * `sweep` re-reads the jobs table for the first two, so a lost notification (a reconnect)
 * delays a cancel by at most one sweep interval.
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import type { DatabaseError } from "../events/errors.js"
import { databaseError } from "../events/store.js"
import { SqlClient } from "../events/sqlClient.js"

/** Why a running execution must stop. The first reason given wins. */
export type StopReason =
  /** A person asked to cancel the job: stop the process gracefully, then confirm. */
  | { readonly _tag: "Cancel" }
  /** The job's current execution is no longer this one: stop at once, record nothing. */
  | { readonly _tag: "MovedOn"; readonly reason: string }
  /** This worker's lease lapsed: stop at once and record the execution abandoned. */
  | { readonly _tag: "LeaseLost"; readonly reason: string }

/** Per-process registry of running executions and their stop signals. */
export interface Canceller {
  /** Registers a running execution; the returned Deferred completes when it must stop. */
  readonly register: (jobId: string, executionId: string) => Effect.Effect<Deferred.Deferred<StopReason>>
  /** Forgets a job whose execution ended. */
  readonly unregister: (jobId: string) => Effect.Effect<void>
  /** Signals cancellation of `jobId` if this process runs it. */
  readonly request: (jobId: string) => Effect.Effect<void>
  /** Signals LeaseLost to every running execution; returns how many were still running. */
  readonly fence: (reason: string) => Effect.Effect<number>
  /** How many executions are registered. */
  readonly size: () => number
  /** Whether this process runs execution `executionId`. */
  readonly runs: (executionId: string) => boolean
  /**
   * Signals every registered execution whose job row says cancel_requested (Cancel) or
   * names another current execution, or is gone (MovedOn). Fails with DatabaseError.
   */
  readonly sweep: Effect.Effect<void, DatabaseError, SqlClient>
}

interface Running {
  readonly executionId: string
  readonly signal: Deferred.Deferred<StopReason>
}

/** Makes an empty registry. */
export const makeCanceller = Effect.sync((): Canceller => {
  const running = new Map<string, Running>()
  const signal = (entry: Running, reason: StopReason) => Deferred.succeed(entry.signal, reason)
  const request = (jobId: string) =>
    Effect.suspend(() => {
      const entry = running.get(jobId)
      return entry ? signal(entry, { _tag: "Cancel" }).pipe(Effect.asVoid) : Effect.void
    })
  return {
    register: (jobId, executionId) =>
      Effect.gen(function*() {
        const entry: Running = { executionId, signal: yield* Deferred.make<StopReason>() }
        running.set(jobId, entry)
        return entry.signal
      }),
    unregister: (jobId) => Effect.sync(() => void running.delete(jobId)),
    request,
    size: () => running.size,
    runs: (executionId) => [...running.values()].some((entry) => entry.executionId === executionId),
    fence: (reason) =>
      Effect.gen(function*() {
        let stopped = 0
        for (const entry of [...running.values()]) {
          if (yield* signal(entry, { _tag: "LeaseLost", reason })) stopped += 1
        }
        return stopped
      }),
    sweep: Effect.gen(function*() {
      if (running.size === 0) return
      const { sql } = yield* SqlClient
      const entries = [...running.entries()]
      const rows = yield* Effect.tryPromise({
        try: () =>
          sql<Array<{ id: string; status: string; current_execution_id: string | null; cancel_requested: boolean }>>`
            select id, status, current_execution_id, cancel_requested
            from jobs where id = any(${sql.array(entries.map(([jobId]) => jobId))}::uuid[])`,
        catch: databaseError("Checking running jobs for cancel requests")
      })
      const byId = new Map(rows.map((row) => [row.id, row]))
      for (const [jobId, entry] of entries) {
        // The execution may have ended (and another of the same job begun) while we queried.
        if (running.get(jobId) !== entry) continue
        const row = byId.get(jobId)
        if (!row || row.current_execution_id !== entry.executionId) {
          yield* signal(entry, {
            _tag: "MovedOn",
            reason: row
              ? `Execution ${entry.executionId} is no longer the job's current execution (the job is ${row.status}).`
              : "The job no longer exists."
          })
        } else if (row.cancel_requested) yield* signal(entry, { _tag: "Cancel" })
      }
    })
  }
})
