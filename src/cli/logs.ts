/**
 * `aidp jobs logs JOB [--follow]`: a job's log lines, made harmless for the terminal
 * (escape sequences removed). `--follow` keeps printing as lines arrive (woken by NOTIFY,
 * with a poll fallback) until the job is completed, failed or cancelled.
 */
import { Effect, Queue } from "effect"
import { listen } from "../events/listener.js"
import { getJob, type LogRecord, logsAfter } from "../projections/queries.js"
import { sanitize } from "../terminal/sanitize.js"
import { formatClock } from "../terminal/view/format.js"
import type { App } from "./app.js"

/** Lines fetched per query. */
const PAGE = 1000
/** Longest wait for more lines without a notification, ms. */
const FOLLOW_POLL_MS = 2_000

const formatLog = (log: LogRecord): string => `${formatClock(log.at)} ${log.stream.padEnd(6)} ${sanitize(log.message)}\n`

/** Prints every line after `afterSeq`; returns the last seq printed. */
const printAfter = async (app: App, jobId: string, afterSeq: number): Promise<number> => {
  let seq = afterSeq
  for (;;) {
    const page = await logsAfter(app.db.sql, jobId, seq, PAGE)
    if (page.length > 0) {
      process.stdout.write(page.map(formatLog).join(""))
      seq = page[page.length - 1]!.seq
    }
    if (page.length < PAGE) return seq
  }
}

/** Prints the whole log of a job. */
export const printLogs = async (app: App, jobId: string): Promise<void> => {
  await printAfter(app, jobId, 0)
}

/** Prints the log and keeps following it until the job ends. */
export const followLogs = (app: App, jobId: string): Promise<void> =>
  app.run(Effect.scoped(Effect.gen(function*() {
    const changed = yield* Queue.sliding<void>(1)
    yield* listen({
      onNotification: (n) => {
        if (n.j === jobId) Queue.offerUnsafe(changed, undefined)
      },
      onResync: () => void Queue.offerUnsafe(changed, undefined)
    })
    let seq = 0
    for (;;) {
      seq = yield* Effect.promise(() => printAfter(app, jobId, seq))
      const job = yield* Effect.promise(() => getJob(app.db.sql, jobId))
      if (!job || job.status === "completed" || job.status === "failed" || job.status === "cancelled") {
        yield* Effect.promise(() => printAfter(app, jobId, seq))
        return
      }
      yield* Queue.take(changed).pipe(Effect.timeoutOption(FOLLOW_POLL_MS))
    }
  })))
