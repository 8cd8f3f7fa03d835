/**
 * What `aidp execute` prints while a step's job runs: "Attempt N of M started.", the agent's
 * activity as its log lines arrive, and the retry after an execution that failed.
 */
import type { Provider } from "../domain/job.js"
import { type ExecutionRecord, getExecutions, type JobRecord } from "../projections/queries.js"
import { sanitize } from "../terminal/sanitize.js"
import { formatClock } from "../terminal/view/format.js"
import type { App } from "./app.js"
import { outputColumns, sendAfter, textSink } from "./logs.js"

/** `text` ending with a full stop (or its own ! or ?), so another sentence can follow it. */
export const asSentence = (text: string): string => /[.!?]["')\]]*$/.test(text.trim()) ? text.trim() : `${text.trim()}.`

/**
 * "Attempt N of M" for a job's latest execution (`executions` in attempt order): N counts the
 * executions the agent ran or ended; one ended on aidp's side (`abandoned`: shutdown, lost
 * worker) spends no attempt, so such executions are named besides.
 */
export const attemptLabel = (executions: ReadonlyArray<Pick<ExecutionRecord, "status">>, maxAttempts: number): string => {
  const spent = executions.filter((e) => e.status !== "abandoned").length
  const free = executions.length - spent
  return `Attempt ${spent} of ${maxAttempts}${free > 0 ? ` (execution ${executions.length}; ${free} ended on aidp's side and spent no attempt)` : ""}`
}

/**
 * Prints what changed about a job since the last call: "Attempt N of M started.", the agent's
 * activity as its log lines arrive (as `aidp jobs logs --follow` prints it, without aidp's own
 * lines, which these sentences replace) and the retry after an execution that failed.
 */
export const progressPrinter = (app: App, id: string, provider: Provider) => {
  const sink = textSink(provider, id, outputColumns(), (entry) => entry.kind !== "attempt" && !(entry.kind === "raw" && entry.stream === "system"))
  let last = { status: "", attempts: 0 }
  let seq = 0
  return async (job: JobRecord) => {
    if (job.attempts !== last.attempts && job.status === "running") {
      process.stdout.write(`${attemptLabel(await getExecutions(app.db.sql, id), job.maxAttempts)} started.\n`)
    }
    seq = await sendAfter(app, id, seq, sink)
    // Text still being joined belongs to an attempt that is over.
    if (job.status !== "running") sink.flush()
    if (job.status === "queued" && last.status === "running" && job.error) {
      const executions = await getExecutions(app.db.sql, id)
      const because = job.retryReason === null ? "" : ` (${sanitize(job.retryReason)})`
      const why = `(${job.errorKind}): ${asSentence(sanitize(job.error))} Retrying at ${formatClock(job.runAt)}${because}.`
      process.stdout.write(
        executions.at(-1)?.status === "abandoned"
          ? `Execution ${executions.length} ended on aidp's side, spending no attempt ${why}\n`
          : `${attemptLabel(executions, job.maxAttempts)} failed ${why}\n`
      )
    }
    last = { status: job.status, attempts: job.attempts }
  }
}

