/**
 * Rescuer: finds running executions whose worker lost its lease (no heartbeat for
 * `leaseMs`, judged by the database clock) or stopped without finishing them, and appends
 * ExecutionAbandoned; the retry policy then re-queues or fails the job (DESIGN.md,
 * invariant 2). Every worker process runs one; they race harmlessly, since Abandon only
 * applies to the job's current execution.
 */
import { Effect } from "effect"
import { databaseError } from "../events/store.js"
import { SqlClient } from "../events/sqlClient.js"
import { CommandHandler } from "../projections/commandHandler.js"

/** A running execution whose worker is gone. */
interface Orphan {
  readonly job_id: string
  readonly execution_id: string
  readonly worker_id: string
  readonly host: string
  readonly stopped: boolean
}

/**
 * One rescue pass: abandons every orphaned execution, returning how many. Fails with
 * DatabaseError when the scan fails; a job that changed meanwhile is skipped.
 */
export const rescueOnce = (leaseMs: number) =>
  Effect.gen(function*() {
    const { sql } = yield* SqlClient
    const handler = yield* CommandHandler
    const orphans = yield* Effect.tryPromise({
      try: () =>
        sql<Array<Orphan>>`
          select j.id as job_id, e.id as execution_id, e.worker_id, e.host, (w.stopped_at is not null) as stopped
          from jobs j
          join job_executions e on e.id = j.current_execution_id
          left join workers w on w.id = e.worker_id
          where j.status = 'running'
            and (w.id is null or w.stopped_at is not null
                 or w.heartbeat_at < now() - make_interval(secs => ${leaseMs / 1000}))`,
      catch: databaseError("Scanning for lost workers")
    })
    let rescued = 0
    for (const orphan of orphans) {
      const reason = orphan.stopped
        ? `Worker ${orphan.worker_id} on ${orphan.host} stopped without finishing the execution.`
        : `Worker ${orphan.worker_id} on ${orphan.host} was lost (no heartbeat for ${Math.round(leaseMs / 1000)} s).`
      const applied = yield* handler.handle(orphan.job_id, {
        _tag: "Abandon",
        executionId: orphan.execution_id,
        reason,
        now: new Date()
      }, new Date()).pipe(
        Effect.as(true),
        Effect.catchTag(["IllegalTransition", "JobNotFound"], () => Effect.succeed(false))
      )
      if (applied) rescued += 1
    }
    return rescued
  })
