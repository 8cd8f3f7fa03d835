/**
 * `aidp execute all|pause|resume|cancel`: the write side of a project's workflow. Each
 * command is decided against the workflow's stream and recorded under its row lock
 * (src/events/workflowStore.ts); the process manager does the rest.
 */
import * as Result from "effect/Result"
import { decide } from "../domain/decider.js"
import { currentStep } from "../domain/processManager.js"
import type postgres from "postgres"
import { decideWorkflow, stepJobId, type WorkflowCommand, type WorkflowEvent, WorkflowStarted, type WorkflowState } from "../domain/workflow.js"
import { channelFor } from "../events/sqlClient.js"
import { appendIn } from "../events/store.js"
import { appendWorkflowIn, lockWorkflowIn } from "../events/workflowStore.js"
import { loadState } from "../projections/commandHandler.js"
import { project } from "../projections/project.js"
import { type JobRecord, latestJobPerStep } from "../projections/queries.js"
import { stepJobs, type WorkflowRecord, workflowsOf } from "../projections/workflows.js"
import { visible } from "../terminal/sanitize.js"
import { advanceWorkflow } from "../workers/processManager.js"
import type { App } from "./app.js"
import { UserError } from "./errors.js"
import { submitCommand } from "./jobCommands.js"

/** A workflow's step jobs in step order (null: no job yet). */
type StepJobs = ReadonlyArray<JobRecord | null>

/** WorkflowStarted's data: the steps and the settings of every step job. */
export type WorkflowStart = typeof WorkflowStarted.Type["data"]

/** Whether `error` is the unique violation of "one unfinished workflow per project". */
const isSecondWorkflow = (error: unknown): boolean =>
  (error as { constraint_name?: string } | null)?.constraint_name === "workflows_one_unfinished_per_cwd"

/** The sentence refusing a second workflow in `cwd` while `existing` is unfinished. */
export const alreadyHasOne = (cwd: string, existing: WorkflowRecord): UserError =>
  new UserError(
    `${visible(cwd)} already has ${existing.status} workflow ${existing.id}; see it with aidp execute --list, ${
      existing.status === "paused" ? "go on with aidp execute resume" : "pause it with aidp execute pause"
    }, or end it with aidp execute cancel.`
  )

/**
 * The sentence refusing to queue step `step` again while its job `existing` is queued or
 * running (a lone `aidp execute STEP`, or a retried job of a cancelled workflow beside a new
 * `aidp execute all`): two agents must not write the same document at once.
 */
export const stepBusy = (step: string, existing: JobRecord): UserError =>
  new UserError(
    `Step ${step} already has ${existing.status} job ${existing.id}; follow it with aidp jobs logs ${existing.id} --follow, or cancel it with aidp jobs cancel ${existing.id}.`
  )

/** The project's running or paused workflow, or null. */
export const unfinishedWorkflow = async (app: App, cwd: string): Promise<WorkflowRecord | null> =>
  (await workflowsOf(app.db.sql, cwd, 1)).find((w) => w.status === "running" || w.status === "paused") ?? null

/**
 * Starts a workflow of `data.cwd` (WorkflowStarted) and queues its first step's job, so it is
 * there to see before any worker runs; returns its new id. Throws UserError
 * naming the unfinished workflow the project already has (checked again by the unique index
 * when two start at once), or a step of it whose job is queued or running outside it.
 */
export const startWorkflow = async (app: App, data: WorkflowStart): Promise<string> => {
  const existing = await unfinishedWorkflow(app, data.cwd)
  if (existing) throw alreadyHasOne(data.cwd, existing)
  const latest = await latestJobPerStep(app.db.sql, data.cwd)
  for (const step of data.steps) {
    const job = latest.get(step.name)
    if (job && (job.status === "queued" || job.status === "running")) throw stepBusy(step.name, job)
  }
  const id = crypto.randomUUID()
  await record(app, id, { _tag: "Start", data }).catch(async (error: unknown) => {
    const raced = isSecondWorkflow(error) ? await unfinishedWorkflow(app, data.cwd) : null
    throw raced ? alreadyHasOne(data.cwd, raced) : error
  })
  await advanceWorkflow(app.db.sql, channelOf(app), project, id)
  return id
}

/**
 * Decides `command` for workflow `id` under its row lock and appends the events; `alsoIn` runs
 * in the same transaction after the decision (a resume's retry of the failed step's job).
 * Throws IllegalTransition (the user's sentence) when the command is refused.
 */
const record = (
  app: App,
  id: string,
  command: WorkflowCommand | ((state: WorkflowState, jobs: StepJobs) => WorkflowCommand),
  alsoIn?: (tx: postgres.TransactionSql, jobs: StepJobs, now: Date) => Promise<void>
): Promise<ReadonlyArray<WorkflowEvent>> =>
  app.db.sql.begin(async (tx) => {
    const state = await lockWorkflowIn(tx, id)
    const jobs = await stepJobs(tx, id, state.steps.length)
    const decision = decideWorkflow(typeof command === "function" ? command(state, jobs) : command, state)
    if (Result.isFailure(decision)) throw decision.failure
    const now = new Date()
    await appendWorkflowIn(tx, channelOf(app), id, state.version, decision.success, now)
    if (alsoIn) await alsoIn(tx, jobs, now)
    return decision.success
  })

/** The NOTIFY channel of the app's schema. */
const channelOf = (app: App): string => channelFor(app.db.schema)

/** The project's unfinished workflow, or a UserError saying there is none and how to start one. */
const requireUnfinished = async (app: App, cwd: string): Promise<WorkflowRecord> => {
  const workflow = await unfinishedWorkflow(app, cwd)
  if (!workflow) throw new UserError(`${visible(cwd)} has no running or paused workflow; start one with aidp execute all.`)
  return workflow
}

/** `aidp execute pause`: no further step is queued; the running step's job goes on. Returns the workflow. */
export const pauseWorkflow = async (app: App, cwd: string): Promise<WorkflowRecord> => {
  const workflow = await requireUnfinished(app, cwd)
  await record(app, workflow.id, (state, jobs) => ({ _tag: "Pause", step: currentStep(jobs, state.steps.length) }))
  return workflow
}

/**
 * `aidp execute resume`: the workflow goes on; a failed or cancelled step's job is queued
 * again (a person's retry) in the same transaction. Returns the workflow.
 */
export const resumeWorkflow = async (app: App, cwd: string): Promise<WorkflowRecord> => {
  const workflow = await requireUnfinished(app, cwd)
  await record(app, workflow.id, { _tag: "Resume" }, async (tx, jobs, now) => {
    const index = currentStep(jobs, jobs.length)
    const job = jobs[index]
    if (!job || (job.status !== "failed" && job.status !== "cancelled")) return
    const state = await loadState(tx, job.id)
    const decision = decide({ _tag: "Retry", now }, state)
    if (Result.isFailure(decision)) throw decision.failure
    await appendIn(tx, channelOf(app), project, { jobId: job.id, expectedVersion: state.version, events: decision.success, occurredAt: now })
  })
  // A step that completed while it was paused: the next one is queued now, not at a worker's next look.
  await advanceWorkflow(app.db.sql, channelOf(app), project, workflow.id)
  return workflow
}

/** `aidp execute cancel`: the workflow ends; its queued or running step's job is cancelled. Returns the workflow. */
export const cancelWorkflow = async (app: App, cwd: string): Promise<WorkflowRecord> => {
  const workflow = await requireUnfinished(app, cwd)
  await record(app, workflow.id, { _tag: "Cancel", requestedBy: "user" })
  const jobs = await stepJobs(app.db.sql, workflow.id, workflow.steps.length)
  for (const job of jobs) {
    if (job && (job.status === "queued" || job.status === "running")) {
      await submitCommand(app, job.id, { _tag: "RequestCancel", requestedBy: "user (workflow cancelled)" })
    }
  }
  return workflow
}

/** The job ids of every step of a workflow of `count` steps (what `aidp execute all` lets its workers claim). */
export const workflowJobIds = (id: string, count: number): Array<string> => Array.from({ length: count }, (_, index) => stepJobId(id, index))
