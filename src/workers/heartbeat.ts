/**
 * Heartbeat: registers a worker process in `workers` and renews its lease every
 * `intervalMs` using the database clock, so liveness is judged on one clock across hosts.
 * Marks the worker stopped when its scope closes (graceful shutdown).
 */
import { Effect, Schedule, type Scope } from "effect"
import type { DatabaseError } from "../events/errors.js"
import { databaseError } from "../events/store.js"
import { SqlClient } from "../events/sqlClient.js"
import type { WorkerIdentity } from "./claimer.js"

/**
 * Registers `identity` and keeps renewing `heartbeat_at` in a background fiber for the
 * lifetime of the enclosing Scope. A failed renewal is logged by `onError` and retried on
 * the next beat (the rescuer decides what a missed lease means).
 */
export const heartbeat = (
  identity: WorkerIdentity,
  intervalMs: number,
  onError: (error: DatabaseError) => void
): Effect.Effect<void, DatabaseError, SqlClient | Scope.Scope> =>
  Effect.gen(function*() {
    const { sql } = yield* SqlClient
    const beat = Effect.tryPromise({
      try: () =>
        sql`
          insert into workers (id, host, pid, started_at, heartbeat_at)
          values (${identity.workerId}, ${identity.host}, ${identity.pid}, now(), now())
          on conflict (id) do update set heartbeat_at = now(), stopped_at = null`,
      catch: databaseError("Worker heartbeat")
    })
    yield* beat
    yield* beat.pipe(
      Effect.catch((error) => Effect.sync(() => onError(error))),
      Effect.repeat(Schedule.spaced(intervalMs)),
      Effect.forkScoped
    )
    yield* Effect.addFinalizer(() =>
      Effect.tryPromise(() => sql`update workers set stopped_at = now() where id = ${identity.workerId}`).pipe(Effect.ignore)
    )
  })
