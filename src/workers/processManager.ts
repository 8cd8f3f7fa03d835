/**
 * The workflows' process manager, run by every `aidp worker` and by `aidp execute all` while
 * it waits: on every change of a step job (NOTIFY), on every (re)connect and every poll, it
 * brings the affected workflows up to date with {@link react} (src/domain/processManager.ts).
 * It keeps nothing between wake-ups: each reaction is decided and recorded in one transaction
 * under the workflow's row lock, and a step's job id is derived from (workflow, step), so any
 * number of managers, killed at any moment, queue each step exactly once.
 */
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import * as Result from "effect/Result"
import * as Schedule from "effect/Schedule"
import type postgres from "postgres"
import type { Logger } from "../config/logger.js"
import { decide, initialState } from "../domain/decider.js"
import { react } from "../domain/processManager.js"
import { stepJobId, WORKFLOW_ID_KEY, WORKFLOW_STEP_KEY, type WorkflowState } from "../domain/workflow.js"
import { listen } from "../events/listener.js"
import { SqlClient } from "../events/sqlClient.js"
import { appendIn, EventStore, type Projector } from "../events/store.js"
import { appendWorkflowIn, lockWorkflowIn } from "../events/workflowStore.js"
import { stepJobs, unfinishedWorkflowIds, workflowsOfJobs } from "../projections/workflows.js"
import { DOCUMENT_KEY } from "./document.js"

/** Job events after which a step job's status may matter to its workflow (the last event of a transaction). */
const STEP_JOB_EVENTS: ReadonlySet<string> = new Set(["ExecutionSucceeded", "ExecutionFailed", "JobCancelled", "ExecutionAbandoned", "JobRetryRequested"])
/** Workflow events after which a manager has something to do. */
const WORKFLOW_WAKE_EVENTS: ReadonlySet<string> = new Set(["WorkflowStarted", "WorkflowResumed"])

/** The Enqueue command of step `index` of workflow `id` (from its WorkflowStarted). */
const stepEnqueue = (id: string, state: WorkflowState, index: number) => {
  const started = state.started!
  const step = state.steps[index]!
  return {
    _tag: "Enqueue" as const,
    provider: step.provider,
    model: step.model,
    prompt: step.prompt,
    cwd: state.cwd,
    step: step.name,
    priority: started.priority,
    maxAttempts: started.max_attempts,
    timeoutMs: started.timeout_ms,
    metadata: { [DOCUMENT_KEY]: step.document, [WORKFLOW_ID_KEY]: id, [WORKFLOW_STEP_KEY]: index },
    permissions: step.permissions,
    retryTimeouts: started.retry_timeouts,
    budget: { maxCostUsd: started.max_cost_usd, maxTurns: started.max_turns },
    // One worktree for the whole workflow: the key is its id.
    worktree: started.worktree === true ? { key: id } : undefined
  }
}

/**
 * One reaction of workflow `id`, decided and recorded in one transaction under its row lock;
 * resolves to whether anything was recorded. A refused Enqueue is a defect (the workflow's
 * steps were checked when it started).
 */
const reactOnce = (sql: postgres.Sql, channel: string, project: Projector, id: string): Promise<boolean> =>
  sql.begin(async (tx) => {
    const state = await lockWorkflowIn(tx, id)
    if (state.status !== "running" && state.status !== "paused") return false
    const reaction = react(state, await stepJobs(tx, id, state.steps.length))
    if (reaction === null) return false
    const now = new Date()
    if (reaction._tag === "Append") {
      await appendWorkflowIn(tx, channel, id, state.version, [reaction.event], now)
      return true
    }
    const decision = decide(stepEnqueue(id, state, reaction.step), initialState)
    if (Result.isFailure(decision)) throw new Error(`Step ${reaction.step} of workflow ${id} cannot be queued: ${decision.failure.message}`)
    await appendIn(tx, channel, project, { jobId: stepJobId(id, reaction.step), expectedVersion: 0, events: decision.success, occurredAt: now })
    return true
  })

/**
 * Brings workflow `id` up to date: reacts (each reaction its own transaction) until it waits.
 * Terminates: every reaction moves the workflow or its steps forward. Rejects on database errors.
 */
export const advanceWorkflow = async (sql: postgres.Sql, channel: string, project: Projector, id: string): Promise<void> => {
  while (await reactOnce(sql, channel, project, id)) { /* until the workflow waits */ }
}

/** Options of {@link runProcessManager}. */
export interface ProcessManagerOptions {
  /** Only this workflow (`aidp execute all`); absent: every workflow. */
  readonly onlyWorkflowId?: string | undefined
  /** Longest wait between two full re-syncs when no notification arrives, ms. */
  readonly pollMs?: number
  readonly logger: Logger
}

/**
 * Runs the manager until interrupted. Database trouble is logged and the next wake-up (at the
 * latest the next poll) re-syncs every workflow, so nothing is lost to it.
 */
export const runProcessManager = (options: ProcessManagerOptions) =>
  Effect.scoped(Effect.gen(function*() {
    const { channel, sql } = yield* SqlClient
    const { project } = yield* EventStore
    const pollMs = options.pollMs ?? 5_000
    const wake = yield* Queue.sliding<void>(1)
    const workflows = new Set<string>()
    const jobs = new Set<string>()
    let everything = true
    const mine = (id: string) => options.onlyWorkflowId === undefined || options.onlyWorkflowId === id
    yield* listen({
      onNotification: (n) => {
        if (WORKFLOW_WAKE_EVENTS.has(n.t) && mine(n.j)) workflows.add(n.j)
        else if (STEP_JOB_EVENTS.has(n.t)) jobs.add(n.j)
        else return
        Queue.offerUnsafe(wake, undefined)
      },
      onResync: () => {
        everything = true
        Queue.offerUnsafe(wake, undefined)
      }
    }).pipe(Effect.retry({ schedule: Schedule.spaced(2_000) }))

    const syncAll = async () => {
      const due = new Set(workflows)
      workflows.clear()
      const changedJobs = [...jobs]
      jobs.clear()
      if (everything) {
        everything = false
        for (const id of await unfinishedWorkflowIds(sql)) due.add(id)
      }
      if (changedJobs.length > 0) for (const id of await workflowsOfJobs(sql, changedJobs)) due.add(id)
      for (const id of due) if (mine(id)) await advanceWorkflow(sql, channel, project, id)
    }
    const round = Effect.tryPromise({ try: syncAll, catch: (error) => error }).pipe(
      Effect.catch((error) => Effect.sync(() => {
        everything = true
        options.logger.warn({ err: error instanceof Error ? error.message : String(error) }, "workflow process manager: re-syncing at the next wake-up")
      }))
    )
    for (;;) {
      yield* round
      const woken = yield* Queue.take(wake).pipe(Effect.timeoutOption(pollMs))
      if (woken._tag === "None") everything = true
    }
  }))
