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

/**
 * A `workflows` row (the read model, sql/010) of workflow `id` in `state`: `createdAt` is its
 * first event's time, `updatedAt` and `lastPosition` its last event's. Pure; the live append
 * and the rebuild (projections/rebuild.ts) write the same rows through it.
 */
export const workflowRow = (id: string, state: WorkflowState, createdAt: Date, updatedAt: Date, lastPosition: number) => ({
  id,
  cwd: state.cwd,
  status: state.status,
  steps: state.steps,
  paused_step: state.paused?.step ?? null,
  paused_reason: state.paused?.reason ?? null,
  version: state.version,
  created_at: createdAt,
  updated_at: updatedAt,
  last_position: lastPosition
})

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
  const row = workflowRow(id, state, occurredAt, occurredAt, position)
  await tx`
    insert into workflows (id, cwd, status, steps, paused_step, paused_reason, version, created_at, updated_at, last_position)
    values (${row.id}, ${row.cwd}, ${row.status}, ${JSON.stringify(row.steps)}::text::jsonb, ${row.paused_step}, ${row.paused_reason},
            ${row.version}, ${row.created_at}, ${row.updated_at}, ${row.last_position})
    on conflict (id) do update set status = excluded.status, paused_step = excluded.paused_step,
      paused_reason = excluded.paused_reason, version = excluded.version, updated_at = excluded.updated_at,
      last_position = excluded.last_position`
  const payload: Notification = { p: position, j: id, t: events[events.length - 1]!.type }
  await tx`select pg_notify(${channel}, ${JSON.stringify(payload)})`
  return state
}
