/**
 * Rescuer: finds running executions whose worker lost its lease (no heartbeat for
 * `leaseMs`, judged by the database clock), stopped without finishing them, or — on this
 * host, where it can look — has no process any more (killed with SIGKILL: no need to wait
 * for the lease), and appends ExecutionAbandoned; the retry policy then re-queues or fails the job (DESIGN.md,
 * invariant 2). Every worker process runs one; they race harmlessly, since Abandon only
 * applies to the job's current execution.
 *
 * A worker never judges its own lease (it knows it is alive; it fences itself, see pool.ts):
 * after an outage its heartbeat may not be renewed yet, and its own executions must not be
 * abandoned for that. It abandons an execution of its own only when it does not run it (a
 * claim whose commit it never heard of, in a connection lost at the wrong moment), after
 * {@link OWN_ORPHAN_GRACE_MS}.
 */
import os from "node:os"
import * as Effect from "effect/Effect"
import { processTag } from "../config/database.js"
import { databaseError } from "../events/store.js"
import { SqlClient } from "../events/sqlClient.js"
import { CommandHandler } from "../projections/commandHandler.js"
import { processExists } from "./processGroups.js"

/**
 * How long after its start an execution of this worker that it does not run is left alone
 * (between a claim's commit and its registration in the canceller), ms.
 */
export const OWN_ORPHAN_GRACE_MS = 5_000

/** This worker: its id and whether it runs an execution (the canceller's registry). */
export interface RescuerSelf {
  readonly workerId: string
  readonly runs: (executionId: string) => boolean
}

/** A running execution and what the database knows of its worker. */
interface Running {
  readonly job_id: string
  readonly execution_id: string
  readonly worker_id: string
  readonly host: string
  readonly started_at: Date
  /** The worker's pid, null when the worker never registered. */
  readonly pid: number | null
  readonly stopped: boolean
  readonly expired: boolean
}

/** Why the execution's worker is gone, or null when it may still be running it. */
const lostBecause = (run: Running, leaseMs: number, host: string, self: RescuerSelf): string | null => {
  if (run.worker_id === self.workerId) {
    return self.runs(run.execution_id) || Date.now() - run.started_at.getTime() < OWN_ORPHAN_GRACE_MS
      ? null
      : `Worker ${run.worker_id} on ${run.host} does not run the execution (its claim was not seen through).`
  }
  if (run.pid === null) return `Worker ${run.worker_id} on ${run.host} is not registered.`
  if (run.stopped) return `Worker ${run.worker_id} on ${run.host} stopped without finishing the execution.`
  if (run.expired) return `Worker ${run.worker_id} on ${run.host} was lost (no heartbeat for ${Math.round(leaseMs / 1000)} s).`
  if (run.host === host && !processExists(run.pid)) {
    return `Worker ${run.worker_id} on ${run.host} was lost (its process ${run.pid} is gone).`
  }
  return null
}

/**
 * How long a rescuer waits for a lost worker's job row before it takes the wait as a sign that
 * one of that worker's sessions is stuck holding it, ms (see {@link probeLock}).
 */
export const LOCK_PROBE_MS = 2_000

/** PostgreSQL's SQLSTATE for a lock not obtained within lock_timeout. */
const LOCK_NOT_AVAILABLE = "55P03"

/**
 * Waits at most {@link LOCK_PROBE_MS} for job `jobId`'s row lock and lets it go at once.
 * Resolves to null when the lock came (nobody holds it for long: the Abandon will not hang),
 * or to the probe's start (the database clock) when it did not: whoever holds it has held it
 * since before then. Fails with DatabaseError on anything but the lock timeout.
 */
const probeLock = (sql: SqlClient["Service"]["sql"], jobId: string) =>
  Effect.tryPromise({
    try: async () => {
      let startedAt: Date | null = null
      try {
        await sql.begin(async (tx) => {
          const [row] = await tx<Array<{ started_at: Date }>>`select now() as started_at`
          startedAt = row!.started_at
          await tx`select set_config('lock_timeout', ${`${LOCK_PROBE_MS}ms`}, true)`
          await tx`select 1 from jobs where id = ${jobId} for update`
        })
        return null
      } catch (error) {
        if ((error as { code?: string }).code === LOCK_NOT_AVAILABLE && startedAt !== null) return startedAt as Date
        throw error
      }
    },
    catch: databaseError("Waiting for a lost worker's job")
  })

/**
 * Ends the database sessions of a lost worker (pid `pid` on `host`, told by their
 * application_name, see applicationName) whose transaction began before `before` and still
 * runs: cut off in the middle of a pipelined statement, such a session holds its job's row
 * lock with no timeout to end it (idle_in_transaction_session_timeout only counts once the
 * server has answered; TCP keepalives take hours, and never fire while a proxy or NAT keeps the
 * connection up), so no Abandon could ever be appended. Only called once {@link probeLock}
 * found the job's row held since `before`; the worker's newer sessions (renewing its lease
 * after a pause, say) are left alone. A worker that lost its lease has already stopped its
 * executions (pool.ts), so nothing of its own is lost. Best effort: a role that may not end
 * those sessions is reported (RescuePass.fenceFailures), and the Abandon then waits as before.
 * Resolves to the number of sessions ended.
 */
const fenceSessions = (sql: SqlClient["Service"]["sql"], pid: number, host: string, before: Date) =>
  Effect.tryPromise({
    try: async () => {
      const [row] = await sql<Array<{ ended: number }>>`
        select count(*) filter (where pg_terminate_backend(pid))::int as ended
        from pg_stat_activity
        where datname = current_database() and pid <> pg_backend_pid() and state <> 'idle'
          and xact_start <= ${before}
          and starts_with(application_name, ${`aidp ${processTag(pid, host)} `})`
      return row!.ended
    },
    catch: databaseError(`Ending the database sessions of lost worker ${pid} on ${host}`)
  })

/** What one rescue pass did: executions abandoned, sessions of lost workers ended, and why ending some failed. */
export interface RescuePass {
  readonly rescued: number
  readonly endedSessions: number
  readonly fenceFailures: ReadonlyArray<string>
}

/**
 * One rescue pass of worker `self`: ends the sessions of lost workers that hold their jobs'
 * locks (see {@link probeLock}), then abandons every orphaned execution (see {@link RescuePass}).
 * Fails with DatabaseError when the scan fails; a job that changed meanwhile is skipped.
 */
export const rescueOnce = (leaseMs: number, self: RescuerSelf) =>
  Effect.gen(function*() {
    const { sql } = yield* SqlClient
    const handler = yield* CommandHandler
    // Running jobs are few (at most one per worker), so every one is looked at.
    const running = yield* Effect.tryPromise({
      try: () =>
        sql<Array<Running>>`
          select j.id as job_id, e.id as execution_id, e.worker_id, e.host, e.started_at, w.pid,
                 coalesce(w.stopped_at is not null, false) as stopped,
                 coalesce(w.heartbeat_at < now() - make_interval(secs => ${leaseMs / 1000}), false) as expired
          from jobs j
          join job_executions e on e.id = j.current_execution_id
          left join workers w on w.id = e.worker_id
          where j.status = 'running'`,
      catch: databaseError("Scanning for lost workers")
    })
    const host = os.hostname()
    let rescued = 0
    let endedSessions = 0
    const fenceFailures: Array<string> = []
    for (const orphan of running) {
      const reason = lostBecause(orphan, leaseMs, host, self)
      if (reason === null) continue
      if (orphan.expired && orphan.worker_id !== self.workerId && orphan.pid !== null) {
        const fenced = yield* Effect.result(probeLock(sql, orphan.job_id).pipe(
          Effect.flatMap((heldSince) => heldSince === null ? Effect.succeed(0) : fenceSessions(sql, orphan.pid!, orphan.host, heldSince))
        ))
        if (fenced._tag === "Success") endedSessions += fenced.success
        else fenceFailures.push(fenced.failure.message)
      }
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
    return { rescued, endedSessions, fenceFailures } satisfies RescuePass
  })
