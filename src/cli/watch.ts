/**
 * Watching one job until it is finished (completed, failed for good, or cancelled), woken
 * by NOTIFY for that job with a poll fallback, for `aidp execute` and `aidp jobs logs --follow`.
 */
import { Effect, Queue } from "effect"
import { listen } from "../events/listener.js"
import { getJob, type JobRecord } from "../projections/queries.js"
import type { App } from "./app.js"

/** Longest wait between job checks without a notification, ms. */
const WATCH_POLL_MS = 2_000

/** Whether a job has reached an end state (a policy retry makes a failed job queued again). */
export const isFinished = (job: JobRecord): boolean =>
  job.status === "completed" || job.status === "failed" || job.status === "cancelled"

/**
 * Calls `onChange` with the job's row now and after every change until the job is
 * finished; returns the finished row. Dies if the job does not exist.
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
    for (;;) {
      const job = yield* Effect.promise(() => getJob(app.db.sql, id))
      if (!job) return yield* Effect.die(new Error(`Job ${id} disappeared.`))
      yield* Effect.promise(async () => onChange(job))
      if (isFinished(job)) return job
      yield* Queue.take(changed).pipe(Effect.timeoutOption(WATCH_POLL_MS))
    }
  }))
