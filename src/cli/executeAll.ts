/**
 * `aidp execute all [--from STEP] [--until STEP] [--detach]`: starts a workflow of the
 * project's not yet completed steps and, unless `--detach`, runs its steps' jobs and its process
 * manager in this process, printing which step runs, its activity and the time elapsed, until
 * the workflow completes (exit 0) or pauses (exit 1).
 */
import * as Effect from "effect/Effect"
import type { Budget } from "../domain/job.js"
import type { WorkflowStep } from "../domain/workflow.js"
import { completedSteps } from "../projections/queries.js"
import { getWorkflow, stepJobs, type WorkflowRecord } from "../projections/workflows.js"
import { printJson } from "../terminal/json.js"
import { sanitize, visible } from "../terminal/sanitize.js"
import { countOf, formatDuration } from "../terminal/view/format.js"
import { runPool } from "../workers/pool.js"
import { runProcessManager } from "../workers/processManager.js"
import type { App } from "./app.js"
import { UsageError, UserError } from "./errors.js"
import { JOB_DEFAULTS, submitCommand } from "./jobCommands.js"
import { stopExitCode, stopRequester, stopSignal } from "./signals.js"
import { asSentence, progressPrinter } from "./stepProgress.js"
import { watchUntil } from "./watch.js"
import { startWorkflow, workflowJobIds } from "./workflow.js"

/** What `aidp execute all` was asked for besides its steps. */
export interface ExecuteAllOptions {
  readonly detach: boolean
  readonly json: boolean
  readonly retryTimeouts: boolean
  readonly budget: Budget
  /** Run every step in one git worktree of the workflow's (--worktree, AIDP_WORKTREE). */
  readonly worktree: boolean
}

/** The index of step `name` (any case) in `steps`; UsageError naming the flag and the steps when unknown. */
const indexOf = (flag: string, name: string, steps: ReadonlyArray<WorkflowStep>): number => {
  const index = steps.findIndex((step) => step.name.toLowerCase() === name.toLowerCase())
  if (index < 0) throw new UsageError(`${flag} ${JSON.stringify(name)} is not a step of this workflow; the steps are ${steps.map((s) => s.name).join(", ")}.`)
  return index
}

/**
 * The steps of `steps` (the project's workflow, in order) from `--from` through `--until`.
 * Pure, so checked before connecting: UsageError for an unknown step or an empty range.
 */
export const stepRange = (steps: ReadonlyArray<WorkflowStep>, from: string | undefined, until: string | undefined): ReadonlyArray<WorkflowStep> => {
  const first = from === undefined ? 0 : indexOf("--from", from, steps)
  const last = until === undefined ? steps.length - 1 : indexOf("--until", until, steps)
  if (last < first) throw new UsageError(`--until ${steps[last]!.name} comes before --from ${steps[first]!.name}; name a later step.`)
  return steps.slice(first, last + 1)
}

/**
 * Runs `aidp execute all` in `cwd` with `range` (see {@link stepRange}): starts a workflow of
 * its steps not completed before; returns the exit code.
 */
export const executeAll = async (app: App, cwd: string, range: ReadonlyArray<WorkflowStep>, options: ExecuteAllOptions): Promise<number> => {
  const done = await completedSteps(app.db.sql, cwd)
  const todo = range.filter((step) => !done.has(step.name))
  if (todo.length === 0) {
    if (options.json) printJson(null)
    else process.stdout.write(`Every step asked for in ${visible(cwd)} is completed.\n`)
    return 0
  }
  const id = await startWorkflow(app, {
    cwd,
    steps: todo,
    priority: JOB_DEFAULTS.priority,
    max_attempts: JOB_DEFAULTS.maxAttempts,
    timeout_ms: JOB_DEFAULTS.timeoutMs,
    retry_timeouts: options.retryTimeouts,
    ...(options.budget.maxCostUsd === undefined ? {} : { max_cost_usd: options.budget.maxCostUsd }),
    ...(options.budget.maxTurns === undefined ? {} : { max_turns: options.budget.maxTurns }),
    ...(options.worktree ? { worktree: true } : {})
  })
  if (options.detach) {
    if (options.json) printJson(await workflowJson(app, (await getWorkflow(app.db.sql, id))!))
    else process.stdout.write(`${id}\n`)
    return 0
  }
  if (!options.json) {
    process.stdout.write(`Workflow ${id}: ${countOf(todo.length, "step")} (${todo.map((s) => s.name).join(", ")}). Ctrl-C cancels the running step and pauses the workflow.\n`)
  }
  return runWorkflowHere(app, id, todo, options.json)
}

/** A workflow as `--json` prints it: {id, cwd, status, pausedReason, steps: [{step, document, jobId, status}]}. */
export const workflowJson = async (app: App, workflow: WorkflowRecord) => {
  const jobs = await stepJobs(app.db.sql, workflow.id, workflow.steps.length)
  return {
    id: workflow.id,
    cwd: workflow.cwd,
    status: workflow.status,
    pausedReason: workflow.pausedReason,
    steps: workflow.steps.map((step, index) => ({ step: step.name, document: step.document, jobId: jobs[index]?.id ?? null, status: jobs[index]?.status ?? "pending" }))
  }
}

/** One line saying where a workflow stands: `Workflow <id> (3 steps): paused: step B failed: ...`. */
export const workflowLine = (workflow: WorkflowRecord): string =>
  `Workflow ${workflow.id} (${countOf(workflow.steps.length, "step")}: ${workflow.steps.length === 1 ? workflow.steps[0]!.name : `${workflow.steps[0]!.name}…${workflow.steps.at(-1)!.name}`}): ${workflow.status}${
    workflow.status === "paused" ? `: ${sanitize(workflow.pausedReason ?? "")}` : ""
  }`

/**
 * Prints a workflow's progress on each look: a line when a step's job starts and when it
 * completes (with the time since the workflow began), the running job's activity between them.
 */
const workflowPrinter = (app: App, steps: ReadonlyArray<WorkflowStep>) => {
  const began = Date.now()
  const announced = new Set<number>()
  const finished = new Set<number>()
  const printers = new Map<number, ReturnType<typeof progressPrinter>>()
  return async (jobs: Awaited<ReturnType<typeof stepJobs>>) => {
    for (const [index, job] of jobs.entries()) {
      if (!job || finished.has(index)) continue
      const step = steps[index]!
      if (!announced.has(index)) {
        announced.add(index)
        process.stdout.write(`Step ${index + 1}/${steps.length} ${step.name}: job ${job.id} with ${job.provider}.\n`)
        printers.set(index, progressPrinter(app, job.id, job.provider))
      }
      await printers.get(index)!(job)
      if (job.status === "completed") {
        finished.add(index)
        process.stdout.write(`Step ${step.name} completed in ${formatDuration(job.durationMs)}: ${step.document} (${formatDuration(Date.now() - began)} since the workflow began).\n`)
      }
    }
  }
}

/**
 * Runs workflow `id`'s step jobs and its process manager here until it stops running;
 * Ctrl-C cancels the running step (the workflow pauses). Returns 0 when it completed; throws
 * UserError (exit 1, or the signal's code) when it paused or was cancelled.
 */
const runWorkflowHere = async (app: App, id: string, steps: ReadonlyArray<WorkflowStep>, json: boolean): Promise<number> => {
  const stop = stopSignal()
  const jobIds = workflowJobIds(id, steps.length)
  const cancelOnStop = () => {
    if (!json) process.stdout.write("Cancelling the running step…\n")
    const requestedBy = stopRequester(stop.received())
    void (async () => {
      for (const job of await stepJobs(app.db.sql, id, steps.length)) {
        if (job && (job.status === "queued" || job.status === "running")) await submitCommand(app, job.id, { _tag: "RequestCancel", requestedBy }, true)
      }
    })().catch(() => undefined)
  }
  stop.signal.addEventListener("abort", cancelOnStop, { once: true })
  try {
    const logger = app.settings.debug ? app.logger : app.logger.child({}, { level: "error" })
    const print = json ? null : workflowPrinter(app, steps)
    const look = async () => {
      const workflow = (await getWorkflow(app.db.sql, id))!
      if (print) await print(await stepJobs(app.db.sql, id, steps.length))
      return workflow
    }
    const background = Effect.all([
      runPool({ count: 1, leaseMs: app.settings.leaseMs, concurrency: app.settings.concurrency, onlyJobIds: jobIds, env: app.env, logger }),
      runProcessManager({ onlyWorkflowId: id, logger })
    ], { concurrency: "unbounded", discard: true })
    const workflow = await app.run(Effect.raceFirst(
      watchUntil(app, (n) => n.j === id || jobIds.includes(n.j), look, (w) => w.status !== "running"),
      background.pipe(Effect.andThen(Effect.never))
    ))
    if (json) printJson(await workflowJson(app, workflow))
    if (workflow.status === "completed") {
      if (!json) process.stdout.write(`Workflow ${id} completed: ${countOf(steps.length, "step")}.\n`)
      return 0
    }
    const stoppedBy = stop.received()
    const code = stoppedBy ? stopExitCode(stoppedBy) : 1
    if (workflow.status === "cancelled") throw new UserError(`Workflow ${id} was cancelled.`, code)
    const jobId = jobIds[workflow.pausedStep ?? 0]!
    throw new UserError(
      `Workflow ${id} paused: ${asSentence(sanitize(workflow.pausedReason ?? "paused"))} Retry the step with aidp jobs retry ${jobId}, or run aidp execute resume; an aidp worker then goes on to the end (start one with aidp worker if none is running).`,
      code
    )
  } finally {
    stop.dispose()
  }
}
