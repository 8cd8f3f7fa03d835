/** Loads everything `jobs show` and the monitor's details view display about one job. */
import type { Queryable } from "../events/sqlClient.js"
import { WORKFLOW_ID_KEY } from "../domain/workflow.js"
import { type ExecutionRecord, getExecutions, getJob, type JobRecord, type LogRecord, logTail } from "../projections/queries.js"
import { getWorkflow, stepJobs } from "../projections/workflows.js"
import type { WorkflowSummary } from "../terminal/types.js"

/** Lines of log kept in a job's details. */
export const DETAILS_LOG_LINES = 200

/** The workflow `job` is a step of, with its steps' job statuses; null for a job of no workflow. */
const workflowOf = async (sql: Queryable, job: JobRecord): Promise<WorkflowSummary | null> => {
  const id = job.metadata[WORKFLOW_ID_KEY]
  const workflow = typeof id === "string" ? await getWorkflow(sql, id) : null
  if (!workflow) return null
  const jobs = await stepJobs(sql, workflow.id, workflow.steps.length)
  return {
    id: workflow.id,
    status: workflow.status,
    pausedReason: workflow.pausedReason,
    steps: workflow.steps.map((step, index) => ({ name: step.name, status: jobs[index]?.status ?? "pending" }))
  }
}

/**
 * A job with its executions (attempt order), log tail (oldest first) and the workflow it is a
 * step of (null if none); null when there is no such job.
 */
export const loadDetails = async (
  sql: Queryable,
  jobId: string
): Promise<{ job: JobRecord; executions: Array<ExecutionRecord>; logs: Array<LogRecord>; workflow: WorkflowSummary | null } | null> => {
  const job = await getJob(sql, jobId)
  if (!job) return null
  const [executions, logs, workflow] = await Promise.all([getExecutions(sql, jobId), logTail(sql, jobId, DETAILS_LOG_LINES), workflowOf(sql, job)])
  return { job, executions, logs, workflow }
}
