/** Loads everything `jobs show` and the monitor's details view display about one job. */
import type { Queryable } from "../events/sqlClient.js"
import { type ExecutionRecord, getExecutions, getJob, type JobRecord, type LogRecord, logTail } from "../projections/queries.js"

/** Lines of log kept in a job's details. */
export const DETAILS_LOG_LINES = 200

/** A job with its executions (attempt order) and log tail (oldest first); null when there is no such job. */
export const loadDetails = async (
  sql: Queryable,
  jobId: string
): Promise<{ job: JobRecord; executions: Array<ExecutionRecord>; logs: Array<LogRecord> } | null> => {
  const job = await getJob(sql, jobId)
  if (!job) return null
  const [executions, logs] = await Promise.all([getExecutions(sql, jobId), logTail(sql, jobId, DETAILS_LOG_LINES)])
  return { job, executions, logs }
}
