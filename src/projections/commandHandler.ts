/**
 * The command handler: load a job's state, decide, append with the expected version, and
 * on a version conflict (someone appended first) load and decide again.
 * State comes from the job's `jobs` row, a snapshot the projection writes in the same
 * transaction as the events, so handling a command never folds a long stream.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Result from "effect/Result"
import { decide, type DecideError, evolve, initialState, type JobCommand, type JobState } from "../domain/decider.js"
import type { JobEvent } from "../domain/events.js"
import type { RecordedEvent } from "../domain/events.js"
import type { JobStatus } from "../domain/job.js"
import type { DatabaseError } from "../events/errors.js"
import { databaseError, EventStore } from "../events/store.js"
import { type Queryable, SqlClient } from "../events/sqlClient.js"

/** Attempts before a command that keeps conflicting gives up (a defect, not a user error). */
const MAX_CONFLICT_RETRIES = 20

/**
 * Reads the decide-state of a job from its `jobs` row and its executions' statuses (an
 * abandoned execution after the last one the agent ended counts in `abandonedInRow`, as
 * `evolve` does; the last execution's `session_id` is `lastSession`); the empty state when
 * there is no such job.
 */
export const loadState = async (sql: Queryable, jobId: string): Promise<JobState> => {
  const [row] = await sql<Array<{
    version: number
    status: JobStatus
    max_attempts: number
    retry_timeouts: boolean
    attempts: number
    abandoned: number
    abandoned_in_row: number
    current_execution_id: string | null
    cancel_requested: boolean
    retry_fresh: boolean
    last_session_id: string | null
    worktree_state: "open" | "merged" | "removed" | null
  }>>`
    select j.version, j.status, j.max_attempts, j.retry_timeouts, j.attempts, j.current_execution_id, j.cancel_requested,
           j.retry_fresh, j.worktree_state, coalesce(e.abandoned, 0)::int as abandoned, coalesce(e.abandoned_in_row, 0)::int as abandoned_in_row,
           (select session_id from job_executions last where last.job_id = j.id and last.attempt = j.attempts) as last_session_id
    from jobs j
    left join lateral (
      select count(*) filter (where status = 'abandoned') as abandoned,
             count(*) filter (where status = 'abandoned' and attempt > coalesce(
               (select max(attempt) from job_executions ended
                where ended.job_id = j.id and ended.status in ('succeeded', 'failed', 'cancelled')), 0)) as abandoned_in_row
      from job_executions where job_id = j.id
    ) e on true
    where j.id = ${jobId}`
  if (!row) return initialState
  return {
    version: row.version,
    status: row.status,
    maxAttempts: row.max_attempts,
    retryTimeouts: row.retry_timeouts,
    attempts: row.attempts,
    abandoned: row.abandoned,
    abandonedInRow: row.abandoned_in_row,
    currentExecutionId: row.current_execution_id,
    cancelRequested: row.cancel_requested,
    lastSession: row.last_session_id === null ? null : { attempt: row.attempts, sessionId: row.last_session_id },
    retryFresh: row.retry_fresh,
    worktree: row.worktree_state ?? "none"
  }
}

/** Shape of {@link CommandHandler}. */
export interface CommandHandlerShape {
  /**
   * Runs `command` against job `jobId` at time `now`; returns the appended events.
   * Fails with JobNotFound / IllegalTransition (the user's sentence) or DatabaseError.
   */
  readonly handle: (
    jobId: string,
    command: JobCommand,
    now: Date
  ) => Effect.Effect<ReadonlyArray<RecordedEvent>, DecideError | DatabaseError>
  /**
   * Runs `commands` against job `jobId` at time `now`, in order, each decided on the state the
   * events before it left, and appends all their events in one transaction (a worker's last
   * output, its progress and the outcome travel together). All or nothing: the first refusal
   * fails the whole list (JobNotFound / IllegalTransition) and nothing is written; DatabaseError.
   */
  readonly handleAll: (
    jobId: string,
    commands: ReadonlyArray<JobCommand>,
    now: Date
  ) => Effect.Effect<ReadonlyArray<RecordedEvent>, DecideError | DatabaseError>
  /**
   * Queues new jobs in one transaction, all or nothing (`aidp jobs enqueue --from`): each
   * Enqueue command is decided against the empty stream of its fresh `jobId` and every
   * JobQueued is appended at once. Fails with the first refusal (IllegalTransition) before
   * anything is written, or DatabaseError; an id that already exists is a defect.
   */
  readonly enqueueAll: (
    jobs: ReadonlyArray<{ readonly jobId: string; readonly command: EnqueueCommand }>,
    now: Date
  ) => Effect.Effect<ReadonlyArray<RecordedEvent>, DecideError | DatabaseError>
}

/** The command that queues a new job. */
export type EnqueueCommand = Extract<JobCommand, { readonly _tag: "Enqueue" }>

/** The command handler service; needs {@link EventStore} and {@link SqlClient}. */
export class CommandHandler extends Context.Service<CommandHandler, CommandHandlerShape>()(
  "aidp/projections/CommandHandler"
) {
  static readonly layer = Layer.effect(
    CommandHandler,
    Effect.gen(function*() {
      const store = yield* EventStore
      const { sql } = yield* SqlClient
      /** One decide-and-append; `assumeNew`: decide on the empty stream without reading the job (a round trip less). */
      const attempt = (jobId: string, commands: ReadonlyArray<JobCommand>, now: Date, assumeNew: boolean) =>
        Effect.gen(function*() {
          const loaded = assumeNew
            ? initialState
            : yield* Effect.tryPromise({ try: () => loadState(sql, jobId), catch: databaseError("Loading a job") })
          const events: Array<JobEvent> = []
          let state = loaded
          for (const command of commands) {
            const decision = decide(command, state)
            if (Result.isFailure(decision)) return yield* Effect.fail(decision.failure)
            events.push(...decision.success)
            state = decision.success.reduce(evolve, state)
          }
          return yield* store.append({ jobId, expectedVersion: loaded.version, events, occurredAt: now })
        })
      const handleAll = (jobId: string, commands: ReadonlyArray<JobCommand>, now: Date) => {
        // A job being queued is new: its first attempt assumes the empty stream; if the id
        // existed, the append's version check refuses it and the retry reads the job.
        let assumeNew = commands[0]?._tag === "Enqueue"
        return Effect.suspend(() => {
          const once = attempt(jobId, commands, now, assumeNew)
          assumeNew = false
          return once
        }).pipe(
          Effect.retry({ while: (error) => error._tag === "ConcurrencyConflict", times: MAX_CONFLICT_RETRIES }),
          Effect.catchTag("ConcurrencyConflict", (conflict) =>
            Effect.die(new Error(`Job ${conflict.jobId} kept changing while a command was applied.`)))
        )
      }
      const handle = (jobId: string, command: JobCommand, now: Date) => handleAll(jobId, [command], now)
      const enqueueAll = (jobs: ReadonlyArray<{ readonly jobId: string; readonly command: EnqueueCommand }>, now: Date) =>
        Effect.gen(function*() {
          const inputs = []
          for (const { jobId, command } of jobs) {
            const decision = decide(command, initialState)
            if (Result.isFailure(decision)) return yield* Effect.fail(decision.failure)
            inputs.push({ jobId, expectedVersion: 0, events: decision.success, occurredAt: now })
          }
          return yield* store.appendAll(inputs)
        }).pipe(Effect.catchTag("ConcurrencyConflict", (conflict) =>
          Effect.die(new Error(`Job ${conflict.jobId} already existed when it was enqueued as new.`))))
      return CommandHandler.of({ handle, handleAll, enqueueAll })
    })
  )
}
