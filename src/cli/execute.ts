/**
 * `aidp execute next|STEP|--list`: the step runner. Enqueues a workflow step of the
 * current directory as a job and, unless `--detach`, runs workers in this process until
 * that job ends (completed, failed for good, or cancelled), exiting 0 only if it completed.
 */
import { stat } from "node:fs/promises"
import path from "node:path"
import * as Effect from "effect/Effect"
import { type Budget, PERMISSIONS, PROVIDERS } from "../domain/job.js"
import { findStep, type Step, STEPS } from "../domain/steps.js"
import { WORKFLOW_ID_KEY, type WorkflowStep } from "../domain/workflow.js"
import { stepsChangedSince, WORKFLOW_FILE } from "../domain/workflowFile.js"
import { loadWorkflowIn } from "../events/workflowStore.js"
import { completedSteps, getJob, latestJobPerStep } from "../projections/queries.js"
import { jobJson, printJson } from "../terminal/json.js"
import { sanitize, visible } from "../terminal/sanitize.js"
import { formatDuration } from "../terminal/view/format.js"
import { deniedMark } from "../terminal/view/table.js"
import { displayWidth, padRight } from "../terminal/view/text.js"
import { getWorkflow, workflowsOf } from "../projections/workflows.js"
import { runPool } from "../workers/pool.js"
import { DOCUMENT_KEY } from "../workers/document.js"
import { type App, withApp } from "./app.js"
import { executeAll, workflowJson, workflowLine } from "./executeAll.js"
import { projectRoot, projectSteps, resolveStep, writeWorkflowFile } from "./projectSteps.js"
import { alreadyHasOne, cancelWorkflow, pauseWorkflow, resumeWorkflow, unfinishedWorkflow } from "./workflow.js"
import { asSentence, progressPrinter } from "./stepProgress.js"
import { watchJob } from "./watch.js"
import { UsageError, UserError } from "./errors.js"
import { BUDGET_HELP, JOB_DEFAULTS, jobBudget, jobWorktree, PERMISSIONS_HELP, submitCommand } from "./jobCommands.js"
import { type CommandHelp, noMoreArgs, oneOf, parseArgs, textFlag } from "./parse.js"
import { stopExitCode, stopSignal } from "./signals.js"

const USAGE = "aidp execute next|STEP|all [--from STEP] [--until STEP] [--provider P] [--model M] [--permissions L] [--max-cost USD] [--max-turns N] [--retry-timeouts] [--worktree] [--detach] [--json] | aidp execute pause|resume|cancel|init | aidp execute --list"
const HELP: CommandHelp = {
  usage: [
    "aidp execute next [--provider P] [--model M] [--permissions L] [--max-cost USD] [--max-turns N] [--retry-timeouts] [--worktree] [--detach] [--json]",
    "aidp execute STEP [--provider P] [--model M] [--permissions L] [--max-cost USD] [--max-turns N] [--retry-timeouts] [--worktree] [--detach] [--json]",
    "aidp execute all [--from STEP] [--until STEP] [...same]",
    "aidp execute pause|resume|cancel [--json]",
    "aidp execute init",
    "aidp execute --list [--json]"
  ],
  about: `Runs a workflow step of the project as a job: "next" is the first step without a
completed job. Each step asks the agent for one document under docs/. Without --detach the
job runs in this process, its progress printed, until it ends (exit 0 only if it completed);
Ctrl-C cancels it (exit 130), as does closing the output's reader (exit 141).
"all" starts a workflow of the steps not yet completed: each step is queued when the one
before completed, by this command or any aidp worker; a failed step pauses it and retrying
that step's job (aidp jobs retry) resumes it. Without --detach it runs here until every step
completed (exit 0) or it paused (exit 1). pause, resume and cancel steer the project's workflow.
The project is the first folder from the current one upward that holds aidp.workflow.json or
.git (else the current folder): the steps run there. They are its own when it has
aidp.workflow.json (each step's id, document, prompt, builds_on, and optionally provider,
model and permissions), else the built-in ones; init writes the built-in steps there for
editing.`,
  options: [
    ["--provider P", `the agent CLI to run: ${PROVIDERS.join(", ")} (default claude)`],
    ["--model M", "the provider's model name (default: the CLI's own default)"],
    PERMISSIONS_HELP,
    ...BUDGET_HELP,
    ["--retry-timeouts", "retry an attempt that ran past its time limit automatically (default: a person retries it)"],
    ["--worktree", "run in a git worktree of its own, on branch aidp/<first 8 of the job id>; with all, every step in one worktree of the workflow (default: AIDP_WORKTREE)"],
    ["--from STEP", "execute all: start at this step (default: the first)"],
    ["--until STEP", "execute all: stop after this step (default: the last)"],
    ["--detach", "only queue the job (all: start the workflow) and print its id; aidp worker runs it"],
    ["--list", "list the steps with the status of their latest job instead, after where the latest workflow stands"],
    ["--json", "print the finished job (with --detach: the queued job; with --list: the steps; with all, pause, resume, cancel: the workflow) as JSON"]
  ],
  notes: `Built-in steps: ${STEPS.map((s) => s.name).join(", ")}`
}


/**
 * The steps of `cwd` with the status of their latest job, after a line saying where the
 * project's latest workflow stands (when it has one). While that workflow is running or paused
 * the steps are the ones it started with (its WorkflowStarted's), with a line saying so when
 * aidp.workflow.json has changed since (or is wrong now); else the project's (`projectSteps`).
 * JSON: one row per step, with the workflow its job belongs to and that workflow's status (null
 * for a job of no workflow).
 */
const listSteps = async (app: App, cwd: string, json: boolean): Promise<number> => {
  const [workflow] = await workflowsOf(app.db.sql, cwd, 1)
  const running = workflow?.status === "running" || workflow?.status === "paused" ? workflow : undefined
  const recorded = running ? (await loadWorkflowIn(app.db.sql, running.id)).steps : undefined
  // A running workflow needs no file: a wrong one is said, not refused.
  const file = await projectSteps(cwd).catch((error: unknown) => {
    if (recorded && (error instanceof UsageError || error instanceof UserError)) return error
    throw error
  })
  const steps = recorded ?? (file as ReadonlyArray<Step>)
  const note = !recorded ? null : file instanceof Error
    ? `${asSentence(file.message)} Workflow ${running!.id} runs the steps it started with:`
    : stepsChangedSince(recorded, file)
    ? `${WORKFLOW_FILE} has changed since workflow ${running!.id} started; it runs the steps it started with, and the file's steps apply from the next workflow:`
    : null
  const latest = await latestJobPerStep(app.db.sql, cwd)
  const done = await completedSteps(app.db.sql, cwd)
  const rows = await Promise.all(steps.map(async (step) => {
    const job = latest.get(step.name) ?? null
    const documentExists = (await stat(path.join(cwd, step.document)).catch(() => null))?.isFile() ?? false
    const workflowId = typeof job?.metadata[WORKFLOW_ID_KEY] === "string" ? job.metadata[WORKFLOW_ID_KEY] : null
    const workflowStatus = workflowId === null ? null : workflowId === workflow?.id ? workflow.status : (await getWorkflow(app.db.sql, workflowId))?.status ?? null
    return { step: step.name, document: step.document, status: job?.status ?? "pending", completedBefore: done.has(step.name), jobId: job?.id ?? null, documentExists, workflowId, workflowStatus }
  }))
  if (json) printJson(rows)
  else {
    if (workflow) process.stdout.write(`${workflowLine(workflow)}\n${note === null ? "" : `${sanitize(note)}\n`}\n`)
    process.stdout.write(table([
      ["Step", "Status", "Document", "Job"],
      ...rows.map((row) => [
        row.step,
        row.completedBefore && row.status !== "completed" ? `${row.status} (completed earlier)` : row.status,
        `${row.document}${row.documentExists ? " ✓" : ""}`,
        row.jobId ?? "-"
      ])
    ]))
  }
  return 0
}

/** Rows of cells as text columns, each as wide as its widest cell, two spaces apart. */
const table = (rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => displayWidth(row[column]!))))
  return rows.map((row) => row.map((cell, column) => padRight(cell, widths[column]!)).join("  ").trimEnd() + "\n").join("")
}

/** Picks the step of `steps` to run: the named one, or the first without a completed job (null: all done). */
const chooseStep = async (app: App, cwd: string, steps: ReadonlyArray<Step>, which: string): Promise<Step | null> => {
  // Any case, as step names are.
  if (which.toLowerCase() !== "next") {
    const step = findStep(which, steps)
    if (!step) throw new UsageError(`Unknown step ${JSON.stringify(which)}; the steps are ${steps.map((s) => s.name).join(", ")}.`)
    return step
  }
  const done = await completedSteps(app.db.sql, cwd)
  return steps.find((step) => !done.has(step.name)) ?? null
}

/**
 * Enqueues `step` for `cwd` unless that step already has a queued or running job. The
 * check and the append hold an advisory lock on (cwd, step), so two `aidp execute` at once
 * cannot both enqueue it. Returns the new job's id and, when the step's latest job had
 * completed, that job (the step runs again). Throws UserError naming a queued or running job.
 */
const enqueueStep = async (app: App, cwd: string, step: WorkflowStep, retryTimeouts: boolean, budget: Budget, worktree: boolean) => {
  const reserved = await app.db.sql.reserve()
  const key = `aidp:execute:${cwd}:${step.name}`
  try {
    await reserved`select pg_advisory_lock(hashtext(${key}))`
    const existing = (await latestJobPerStep(reserved, cwd)).get(step.name)
    if (existing && (existing.status === "queued" || existing.status === "running")) {
      throw new UserError(
        `Step ${step.name} already has ${existing.status} job ${existing.id}; follow it with aidp jobs logs ${existing.id} --follow, or cancel it with aidp jobs cancel ${existing.id}.`
      )
    }
    const id = crypto.randomUUID()
    const rerunOf = existing?.status === "completed" ? existing : undefined
    await submitCommand(app, id, {
      _tag: "Enqueue",
      provider: step.provider,
      model: step.model,
      prompt: step.prompt,
      cwd,
      step: step.name,
      priority: JOB_DEFAULTS.priority,
      maxAttempts: JOB_DEFAULTS.maxAttempts,
      timeoutMs: JOB_DEFAULTS.timeoutMs,
      metadata: { [DOCUMENT_KEY]: step.document, workflow: "aidp" },
      permissions: step.permissions,
      retryTimeouts,
      budget,
      worktree: jobWorktree(worktree || undefined, app.settings.worktree)
    })
    return { id, rerunOf }
  } finally {
    await reserved`select pg_advisory_unlock(hashtext(${key}))`.catch(() => undefined)
    reserved.release()
  }
}

/** When `file` was last modified (ms), or null when there is no such file. */
const modifiedAt = async (file: string): Promise<number | null> => (await stat(file).catch(() => null))?.mtimeMs ?? null

/**
 * Runs workers for job `id` in this process until it is finished; Ctrl-C cancels the job.
 * `cwd` is the step's project: a document already there before the run is never replaced, and
 * the completion line says so when the agent left it as it was.
 */
const runHere = async (app: App, id: string, step: WorkflowStep, cwd: string, json: boolean): Promise<number> => {
  // First, before anything is awaited: a Ctrl-C, or a reader gone after the line that named
  // the job, must find the job's cancel in place.
  const stop = stopSignal()
  const cancelOnStop = () => {
    // A progress line like the others (stdout); stderr keeps the one sentence of the outcome.
    if (!json) process.stdout.write("Cancelling the job…\n")
    const requestedBy = { SIGINT: "user (Ctrl-C)", SIGTERM: "user (SIGTERM)", SIGPIPE: "user (output closed)" }[stop.received() ?? "SIGINT"]
    // During a database outage, as soon as it answers again: the watch waits for that too.
    submitCommand(app, id, { _tag: "RequestCancel", requestedBy }, true).catch(() => undefined)
  }
  stop.signal.addEventListener("abort", cancelOnStop, { once: true })
  try {
    const document = path.join(cwd, step.document)
    const documentBefore = await modifiedAt(document)
    // This command reports the job's progress and outcome itself: the workers' own warnings
    // ("execution failed") would only repeat them on stderr, so only their errors show.
    const logger = app.settings.debug ? app.logger : app.logger.child({}, { level: "error" })
    const pool = runPool({ count: 1, leaseMs: app.settings.leaseMs, concurrency: app.settings.concurrency, onlyJobIds: [id], env: app.env, logger })
    const job = await app.run(Effect.raceFirst(
      watchJob(app, id, json ? () => undefined : progressPrinter(app, id, step.provider)),
      pool.pipe(Effect.andThen(Effect.never))
    ))
    if (json) printJson(jobJson(job))
    if (job.status === "completed") {
      if (json) return 0
      const kept = documentBefore !== null && (await modifiedAt(document)) === documentBefore
      process.stdout.write(
        kept
          ? `Step ${step.name} completed in ${formatDuration(job.durationMs)}; ${step.document} was already there and is left as it was (the agent's answer: aidp jobs show ${id}).\n`
          : `Step ${step.name} completed in ${formatDuration(job.durationMs)}: ${step.document}\n`
      )
      // Completed, but the agent may not have done all it was asked: say so where the user looks.
      if (job.denied > 0) process.stdout.write(`${deniedMark(job.denied)}: the agent was refused tool calls; aidp jobs show ${id} lists them.\n`)
      return 0
    }
    const stoppedBy = stop.received()
    if (job.status === "cancelled") throw new UserError(`Step ${step.name} was cancelled (job ${id}).`, stoppedBy ? stopExitCode(stoppedBy) : 1)
    throw new UserError(
      `Step ${step.name} failed (${job.errorKind}): ${asSentence(sanitize(job.error ?? "no error message"))} Run it again with aidp execute ${step.name}, or queue job ${id} again with aidp jobs retry ${id} for a running aidp worker.`
    )
  } finally {
    stop.dispose()
  }
}

/** `aidp execute pause|resume|cancel` of the project's unfinished workflow: one line saying what was done. */
const controlWorkflow = async (app: App, cwd: string, command: "pause" | "resume" | "cancel", json: boolean): Promise<number> => {
  const act = { pause: pauseWorkflow, resume: resumeWorkflow, cancel: cancelWorkflow }[command]
  const workflow = await act(app, cwd)
  if (json) printJson(await workflowJson(app, (await getWorkflow(app.db.sql, workflow.id))!))
  else process.stdout.write(`Workflow ${workflow.id} ${{ pause: "paused", resume: "resumed", cancel: "cancelled" }[command]}.\n`)
  return 0
}

/** Runs `aidp execute`; returns the exit code. */
export const runExecute = (argv: ReadonlyArray<string>): Promise<number> => {
  const cli = parseArgs(HELP, argv, {
    list: { type: "boolean", default: false },
    provider: { type: "string", default: "claude" },
    model: { type: "string" },
    permissions: { type: "string" },
    maxCost: { type: "string" },
    maxTurns: { type: "number" },
    retryTimeouts: { type: "boolean", default: false },
    from: { type: "string" },
    until: { type: "string" },
    worktree: { type: "boolean", default: false },
    detach: { type: "boolean", default: false },
    json: { type: "boolean", default: false }
  })
  const provider = oneOf("provider", cli.flags.provider, PROVIDERS)!
  const model = textFlag("model", cli.flags.model)
  const permissionsFlag = oneOf("permissions", cli.flags.permissions, PERMISSIONS)
  const budget = jobBudget(provider, cli.flags.maxCost, cli.flags.maxTurns)
  if (cli.flags.list) noMoreArgs(cli.input, 0, USAGE)
  else {
    if (cli.input.length === 0) throw new UsageError(`Say what to run: next, all, or a step (${STEPS.map((s) => s.name).join(", ")} unless the project has aidp.workflow.json). Usage: ${USAGE}`)
    noMoreArgs(cli.input, 1, USAGE)
  }
  const command = cli.flags.list ? "--list" : cli.input[0]!.toLowerCase()
  if ((cli.flags.from !== undefined || cli.flags.until !== undefined) && command !== "all") {
    throw new UsageError(`--from and --until go with aidp execute all. Usage: ${USAGE}`)
  }
  if (command === "init") {
    return (async () => {
      const file = await writeWorkflowFile(await projectRoot(process.cwd()))
      process.stdout.write(`Wrote the built-in workflow to ${visible(file)}; edit its steps, and aidp execute runs them.\n`)
      return 0
    })()
  }
  return withApp("quiet", async (app) => {
    const cwd = await projectRoot(process.cwd())
    // A workflow runs the steps it started with: steering it needs no (perhaps broken) file.
    if (command === "pause" || command === "resume" || command === "cancel") return controlWorkflow(app, cwd, command, cli.flags.json)
    if (cli.flags.list) return listSteps(app, cwd, cli.flags.json)
    const steps = await projectSteps(cwd)
    const defaults = { provider, model: model ?? null, permissions: permissionsFlag, fallbackPermissions: app.settings.permissions, budget }
    if (command === "all") {
      return executeAll(app, cwd, steps.map((step) => resolveStep(step, steps, defaults)), {
        from: textFlag("from", cli.flags.from),
        until: textFlag("until", cli.flags.until),
        detach: cli.flags.detach,
        json: cli.flags.json,
        retryTimeouts: cli.flags.retryTimeouts,
        worktree: jobWorktree(cli.flags.worktree || undefined, app.settings.worktree) !== undefined,
        budget
      })
    }
    // A lone step beside a workflow of the same project would run a step the workflow runs too.
    const workflow = await unfinishedWorkflow(app, cwd)
    if (workflow) throw alreadyHasOne(cwd, workflow)
    const chosen = await chooseStep(app, cwd, steps, cli.input[0]!)
    if (!chosen) {
      if (cli.flags.json) printJson(null)
      else process.stdout.write(`All ${steps.length} steps of ${visible(cwd)} are completed.\n`)
      return 0
    }
    const step = resolveStep(chosen, steps, defaults)
    const { id, rerunOf } = await enqueueStep(app, cwd, step, cli.flags.retryTimeouts, budget, cli.flags.worktree)
    if (rerunOf && !cli.flags.json) {
      process.stdout.write(`Step ${step.name} completed before (job ${rerunOf.id}); running it again.
`)
    }
    if (cli.flags.detach) {
      if (cli.flags.json) printJson(jobJson((await getJob(app.db.sql, id))!))
      else process.stdout.write(`${id}\n`)
      return 0
    }
    if (!cli.flags.json) {
      process.stdout.write(`Job ${id}: step ${step.name} (${step.document}) with ${step.provider}. Ctrl-C cancels it.\n`)
    }
    return runHere(app, id, step, cwd, cli.flags.json)
  })
}
