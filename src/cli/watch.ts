/**
 * Watching one job until it is finished (completed, failed for good, or cancelled), woken
 * by NOTIFY for that job with a poll fallback, for `aidp execute` and `aidp jobs logs --follow`.
 */
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import { isConnectionLost } from "../config/supervisedSql.js"
import { listen } from "../events/listener.js"
import { getJob, type JobRecord } from "../projections/queries.js"
import { makeOutageReporter, OUTAGE_RETRY_MS } from "../workers/outage.js"
import type { App } from "./app.js"

/** Longest wait between job checks without a notification, ms. */
const WATCH_POLL_MS = 2_000

/** Whether a job has reached an end state (a policy retry makes a failed job queued again). */
export const isFinished = (job: JobRecord): boolean =>
  job.status === "completed" || job.status === "failed" || job.status === "cancelled"

/**
 * Calls `onChange` with the job's row now and after every change until the job is
 * finished; returns the finished row. Rides out a database outage (a lost or refused
 * connection, in reading the job or in `onChange`): one warning per outage on `app.logger`,
 * then a retry every {@link OUTAGE_RETRY_MS} until the database answers; interruption still
 * ends it. Dies if the job does not exist, or on any other error.
 */
export const watchJob = (app: App, id: string, onChange: (job: JobRecord) => Promise<void> | void) =>
  Effect.scoped(Effect.gen(function*() {
    const changed = yield* Queue.sliding<void>(1)
    yield* listen({
      onNotification: (n) => {
        if (n.j === id) Queue.offerUnsafe(changed, undefined)
      },
      onResync: () => void Queue.offerUnsafe(changed, undefined)
    })
    const outage = makeOutageReporter(app.logger, OUTAGE_RETRY_MS)
    const look = Effect.tryPromise({
      try: async () => {
        const job = await getJob(app.db.sql, id)
        if (job) await onChange(job)
        return job
      },
      catch: (error) => error
    }).pipe(
      Effect.tapError((error) => Effect.sync(() => isConnectionLost(error) && outage.failed(error.message))),
      Effect.retry({ while: isConnectionLost, schedule: Schedule.spaced(OUTAGE_RETRY_MS) }),
      Effect.tap(() => Effect.sync(() => outage.succeeded())),
      Effect.orDie
    )
    for (;;) {
      const job = yield* look
      if (!job) return yield* Effect.die(new Error(`Job ${id} disappeared.`))
      if (isFinished(job)) return job
      yield* Queue.take(changed).pipe(Effect.timeoutOption(WATCH_POLL_MS))
    }
  }))
