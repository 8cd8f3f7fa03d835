/**
 * `aidp jobs logs JOB [--follow]`: a job's log lines, made harmless for the terminal
 * (escape sequences removed). `--follow` keeps printing as lines arrive (woken by NOTIFY,
 * with a poll fallback) until the job is completed, failed or cancelled.
 */
import { type LogRecord, logsAfter } from "../projections/queries.js"
import { sanitize } from "../terminal/sanitize.js"
import { formatClock } from "../terminal/view/format.js"
import type { App } from "./app.js"
import { watchJob } from "./watch.js"

/** Lines fetched per query. */
const PAGE = 1000

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

/**
 * Prints the log and keeps following it until the job ends. The job's row is read before
 * each print, so the lines written with its final event are printed too.
 */
export const followLogs = async (app: App, jobId: string): Promise<void> => {
  let seq = 0
  await app.run(watchJob(app, jobId, async () => {
    seq = await printAfter(app, jobId, seq)
  }))
}
