/**
 * Watching one job until it is finished (completed, failed for good, or cancelled), or a
 * workflow until it stops, woken by NOTIFY with a poll fallback, for `aidp execute` and
 * `aidp jobs logs --follow`.
 */
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import { isConnectionLost } from "../config/supervisedSql.js"
import { listen } from "../events/listener.js"
import type { Notification } from "../events/store.js"
import { getJob, type JobRecord } from "../projections/queries.js"
import { makeOutageReporter, OUTAGE_RETRY_MS } from "../workers/outage.js"
import type { App } from "./app.js"

/** Longest wait between job checks without a notification, ms. */
const WATCH_POLL_MS = 2_000

/** Whether a job has reached an end state (a policy retry makes a failed job queued again). */
export const isFinished = (job: JobRecord): boolean =>
  job.status === "completed" || job.status === "failed" || job.status === "cancelled"

/**
 * Calls `look` now and after every notification `interested` accepts (or at the latest every
 * {@link WATCH_POLL_MS}) until it returns a value `isDone` accepts; returns that value. Rides
 * out a database outage (a lost or refused connection, in `look`): one warning per outage on
 * `app.logger`, then a retry every {@link OUTAGE_RETRY_MS} until the database answers;
 * interruption still ends it. Dies on any other error.
 */
export const watchUntil = <A>(app: App, interested: (n: Notification) => boolean, look: () => Promise<A>, isDone: (value: A) => boolean) =>
  Effect.scoped(Effect.gen(function*() {
    const changed = yield* Queue.sliding<void>(1)
    yield* listen({
      onNotification: (n) => {
        if (interested(n)) Queue.offerUnsafe(changed, undefined)
      },
      onResync: () => void Queue.offerUnsafe(changed, undefined)
    })
    const outage = makeOutageReporter(app.logger, OUTAGE_RETRY_MS)
    const once = Effect.tryPromise({ try: look, catch: (error) => error }).pipe(
      Effect.tapError((error) => Effect.sync(() => isConnectionLost(error) && outage.failed(error.message))),
      Effect.retry({ while: isConnectionLost, schedule: Schedule.spaced(OUTAGE_RETRY_MS) }),
      Effect.tap(() => Effect.sync(() => outage.succeeded())),
      Effect.orDie
    )
    for (;;) {
      const value = yield* once
      if (isDone(value)) return value
      yield* Queue.take(changed).pipe(Effect.timeoutOption(WATCH_POLL_MS))
    }
  }))

/**
 * Calls `onChange` with the job's row now and after every change until the job is
 * finished; returns the finished row (see {@link watchUntil}). Dies if the job does not exist.
 */
export const watchJob = (app: App, id: string, onChange: (job: JobRecord) => Promise<void> | void) =>
  watchUntil(app, (n) => n.j === id, async () => {
    const job = await getJob(app.db.sql, id)
    if (!job) throw new Error(`Job ${id} disappeared.`)
    await onChange(job)
    return job
  }, isFinished)
