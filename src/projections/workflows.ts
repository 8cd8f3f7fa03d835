/**
 * Reads of workflows: a workflow's step jobs (by their derived ids), the unfinished workflows
 * the process manager re-syncs, the workflows of changed jobs, and a project's latest workflow.
 */
import type { WorkflowStatus } from "../domain/workflow.js"
import { stepJobId, WORKFLOW_ID_KEY } from "../domain/workflow.js"
import type { Queryable } from "../events/sqlClient.js"
import { getJobs, type JobRecord, UUID } from "./queries.js"

/** The jobs of a workflow's `count` steps, in step order; null for a step without a job yet. */
export const stepJobs = async (sql: Queryable, workflowId: string, count: number): Promise<Array<JobRecord | null>> => {
  const ids = Array.from({ length: count }, (_, index) => stepJobId(workflowId, index))
  const byId = new Map((await getJobs(sql, ids)).map((job) => [job.id, job]))
  return ids.map((id) => byId.get(id) ?? null)
}

/** Ids of every running or paused workflow (index `workflows_unfinished`). */
export const unfinishedWorkflowIds = async (sql: Queryable): Promise<Array<string>> =>
  (await sql<Array<{ id: string }>>`select id from workflows where status in ('running', 'paused') order by created_at`).map((row) => row.id)

/**
 * The workflows the jobs `jobIds` are steps of (jobs of no workflow give nothing; nor does a
 * `workflow_id` a person put in a job's --metadata that names no workflow).
 */
export const workflowsOfJobs = async (sql: Queryable, jobIds: ReadonlyArray<string>): Promise<Array<string>> => {
  const named = (await sql<Array<{ id: string }>>`
    select distinct metadata->>${WORKFLOW_ID_KEY} as id from jobs
    where id = any(${sql.array([...jobIds])}::uuid[]) and metadata ? ${WORKFLOW_ID_KEY}`).map((row) => row.id).filter((id) => UUID.test(id))
  if (named.length === 0) return []
  return (await sql<Array<{ id: string }>>`select id from workflows where id = any(${sql.array(named)}::uuid[])`).map((row) => row.id)
}

/** A row of `workflows`, camelCased; `steps` are the step names in order. */
export interface WorkflowRecord {
  readonly id: string
  readonly cwd: string
  readonly status: WorkflowStatus
  readonly steps: ReadonlyArray<{ readonly name: string; readonly document: string }>
  readonly pausedStep: number | null
  readonly pausedReason: string | null
  readonly createdAt: Date
  readonly updatedAt: Date
}

const workflowColumns = (sql: Queryable) =>
  sql`id, cwd, status, steps, paused_step as "pausedStep", paused_reason as "pausedReason", created_at as "createdAt", updated_at as "updatedAt"`

/** Project `cwd`'s workflows, newest first, at most `limit`. */
export const workflowsOf = async (sql: Queryable, cwd: string, limit: number): Promise<Array<WorkflowRecord>> =>
  sql<Array<WorkflowRecord>>`
    select ${workflowColumns(sql)} from workflows where cwd = ${cwd} order by created_at desc, id limit ${limit}`

/** Workflow `id`'s row, or null (also for an `id` that is no UUID: a job's --metadata may name anything). */
export const getWorkflow = async (sql: Queryable, id: string): Promise<WorkflowRecord | null> =>
  UUID.test(id) ? (await sql<Array<WorkflowRecord>>`select ${workflowColumns(sql)} from workflows where id = ${id}`)[0] ?? null : null
