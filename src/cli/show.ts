/** `aidp jobs show JOB`: the monitor's details content, printed as plain text. */
import type { ExecutionRecord, JobRecord, LogRecord } from "../projections/queries.js"
import type { JobDetails, WorkflowSummary } from "../terminal/types.js"
import { detailsContent } from "../terminal/view/details.js"
import { lineText } from "../terminal/view/text.js"
import { outputColumns } from "./logs.js"

/** Shapes loaded rows as the monitor's {@link JobDetails}. */
export const toJobDetails = (details: {
  job: JobRecord
  executions: ReadonlyArray<ExecutionRecord>
  logs: ReadonlyArray<LogRecord>
  workflow?: WorkflowSummary | null
}): JobDetails => ({
  ...details.job,
  executions: details.executions,
  logTail: details.logs,
  workflow: details.workflow ?? null
})

/** Prints a job's details (width of the terminal, or 100 columns when piped). */
export const printJobDetails = (
  details: { job: JobRecord; executions: ReadonlyArray<ExecutionRecord>; logs: ReadonlyArray<LogRecord>; workflow?: WorkflowSummary | null },
  now: Date
): void => {
  const width = outputColumns()
  const screen = { jobId: details.job.id, data: toJobDetails(details), loading: false, error: null, scroll: 0, follow: false, raw: false }
  const text = detailsContent(screen, now, width).map((line) => lineText(line).trimEnd()).join("\n")
  process.stdout.write(`${text}\n`)
}
