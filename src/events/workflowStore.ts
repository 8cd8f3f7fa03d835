/**
 * The workflow streams' store (`workflow_events`), as small as the job store: read a stream,
 * append with expected version under the workflow's row lock, projecting the `workflows` row
 * and sending one NOTIFY (`{p, j: workflow id, t}`) in the same transaction.
 */
import type postgres from "postgres"
import { decodeWorkflowEvent, evolveWorkflow, foldWorkflow, type WorkflowEvent, type WorkflowState } from "../domain/workflow.js"
import type { Notification } from "./store.js"
import type { Queryable } from "./sqlClient.js"

/** The workflow moved past the version a decision was based on (another writer appended first). */
export class WorkflowConflict extends Error {
  constructor(readonly workflowId: string, readonly expectedVersion: number) {
    super(`Workflow ${workflowId} changed while a decision was made (expected version ${expectedVersion}).`)
  }
}

/** Events of workflow `id`, oldest first (none when there is no such workflow). */
export const readWorkflowEventsIn = async (sql: Queryable, id: string): Promise<Array<WorkflowEvent>> => {
  const rows = await sql<Array<{ type: string; data: unknown }>>`
    select type, data from workflow_events where workflow_id = ${id} order by version`
  return rows.map(decodeWorkflowEvent)
}

/** Workflow `id` folded from its stream (the initial state when it has none). */
export const loadWorkflowIn = async (sql: Queryable, id: string): Promise<WorkflowState> => foldWorkflow(await readWorkflowEventsIn(sql, id))

/**
 * Locks workflow `id`'s row (FOR UPDATE) inside `tx` and returns its state from the stream:
 * every writer of a workflow (its process managers, a person's command) goes through this
 * lock, so their decisions about one workflow never cross.
 */
export const lockWorkflowIn = async (tx: postgres.TransactionSql, id: string): Promise<WorkflowState> => {
  await tx`select 1 from workflows where id = ${id} for update`
  return loadWorkflowIn(tx, id)
}

/**
 * Appends `events` to workflow `id` after `expectedVersion` inside `tx`, writes its
 * `workflows` row from the folded stream and NOTIFYs `channel`. Throws WorkflowConflict when
 * the stream is not at `expectedVersion`, and the driver's unique violation of
 * `workflows_one_unfinished_per_cwd` when a new workflow's project already has one unfinished.
 */
export const appendWorkflowIn = async (
  tx: postgres.TransactionSql,
  channel: string,
  id: string,
  expectedVersion: number,
  events: ReadonlyArray<WorkflowEvent>,
  occurredAt: Date
): Promise<WorkflowState> => {
  for (const event of events) decodeWorkflowEvent(event)
  const before = await lockWorkflowIn(tx, id)
  if (before.version !== expectedVersion) throw new WorkflowConflict(id, expectedVersion)
  if (events.length === 0) return before
  const rows = await tx<Array<{ position: string }>>`
    insert into workflow_events (workflow_id, version, type, data, occurred_at)
    select ${id}::uuid, t.version, t.type, t.data, ${occurredAt}
    from jsonb_to_recordset(${JSON.stringify(events.map((event, index) => ({ version: expectedVersion + index + 1, type: event.type, data: event.data })))}::text::jsonb)
         as t(version integer, type text, data jsonb)
    order by t.version
    returning position`
  const position = Math.max(...rows.map((row) => Number(row.position)))
  const state = events.reduce(evolveWorkflow, before)
  const pausedStep = state.paused?.step ?? null
  const pausedReason = state.paused?.reason ?? null
  await tx`
    insert into workflows (id, cwd, status, steps, paused_step, paused_reason, version, created_at, updated_at, last_position)
    values (${id}, ${state.cwd}, ${state.status}, ${JSON.stringify(state.steps)}::text::jsonb, ${pausedStep}, ${pausedReason},
            ${state.version}, ${occurredAt}, ${occurredAt}, ${position})
    on conflict (id) do update set status = excluded.status, paused_step = excluded.paused_step,
      paused_reason = excluded.paused_reason, version = excluded.version, updated_at = excluded.updated_at,
      last_position = excluded.last_position`
  const payload: Notification = { p: position, j: id, t: events[events.length - 1]!.type }
  await tx`select pg_notify(${channel}, ${JSON.stringify(payload)})`
  return state
}
