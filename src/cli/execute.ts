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
import { STEP_RUNNER_KEY, WORKFLOW_ID_KEY, type WorkflowStep } from "../domain/workflow.js"
import { stepsChangedSince, WORKFLOW_FILE } from "../domain/workflowFile.js"
import { readSettings } from "../config/env.js"
import { loadWorkflowIn } from "../events/workflowStore.js"
import { completedSteps, getJob, latestJobPerStep, liveWorkers } from "../projections/queries.js"
import { jobJson, printJson } from "../terminal/json.js"
import { sanitize, visible } from "../terminal/sanitize.js"
import { countOf, formatDuration } from "../terminal/view/format.js"
import { deniedMark } from "../terminal/view/table.js"
import { displayWidth, padRight } from "../terminal/view/text.js"
import { getWorkflow, stepJobs, workflowsOf } from "../projections/workflows.js"
import { runPool } from "../workers/pool.js"
import { DOCUMENT_KEY } from "../workers/document.js"
import { worktreeRefusal } from "../workers/workspace.js"
import { type App, withApp } from "./app.js"
import { executeAll, stepRange, workflowJson, workflowLine } from "./executeAll.js"
import { projectRoot, projectSteps, resolveStep, type StepDefaults, writeWorkflowFile } from "./projectSteps.js"
import { cancelWorkflow, pauseWorkflow, resumeWorkflow, stepBusy, unfinishedWorkflow } from "./workflow.js"
import { asSentence, progressPrinter } from "./stepProgress.js"
import { watchJob } from "./watch.js"
import { UsageError, UserError } from "./errors.js"
import { BUDGET_HELP, JOB_DEFAULTS, jobBudget, jobWorktree, PERMISSIONS_HELP, submitCommand } from "./jobCommands.js"
import { type CommandHelp, noMoreArgs, oneOf, parseArgs, textFlag, unusedFlag } from "./parse.js"
import { stopExitCode, stopRequester, stopSignal } from "./signals.js"

const USAGE = "aidp execute next|STEP|all [--from STEP] [--until STEP] [--provider P] [--model M] [--permissions L] [--max-cost USD] [--max-turns N] [--retry-timeouts] [--worktree] [--detach] [--json] | aidp execute pause|resume|cancel [--json] | aidp execute init | aidp execute --list [--json]"
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
completed (exit 0) or it paused (exit 1). pause, resume and cancel steer the project's workflow;
resume only records it (and retries the failed step): an aidp worker runs the steps from there
on, and resume says when no worker is running. While a workflow is running or paused, a lone
step it has still to run is refused (the workflow runs it, or cancel the workflow first); a step
outside it, or one it completed, may run. A flag the form does not use is refused, as is a flag given twice.
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

/**
 * The step `which` names in `steps` (any case, as step names are), or null for `next`.
 * Throws UsageError listing the steps for an unknown name.
 */
const namedStep = (which: string, steps: ReadonlyArray<Step>): Step | null => {
  if (which.toLowerCase() === "next") return null
  const step = findStep(which, steps)
  if (!step) throw new UsageError(`Unknown step ${JSON.stringify(which)}; the steps are ${steps.map((s) => s.name).join(", ")}.`)
  return step
}

/** The first step of `steps` without a completed job in `cwd`, resolved with `defaults` (null: all done). */
const nextStep = async (app: App, cwd: string, steps: ReadonlyArray<Step>, defaults: StepDefaults): Promise<WorkflowStep | null> => {
  const done = await completedSteps(app.db.sql, cwd)
  const step = steps.find((s) => !done.has(s.name))
  return step === undefined ? null : resolveStep(step, steps, defaults)
}

/**
 * Refuses a lone step that the project's unfinished workflow will run (a step of it without a
 * completed job): both would run it. A step outside the workflow, or one it already
 * completed, may run beside it. Throws UserError naming the workflow and how to go on.
 */
const refuseStepOfWorkflow = async (app: App, cwd: string, name: string): Promise<void> => {
  const workflow = await unfinishedWorkflow(app, cwd)
  const index = workflow?.steps.findIndex((step) => step.name === name) ?? -1
  if (!workflow || index < 0) return
  const job = (await stepJobs(app.db.sql, workflow.id, workflow.steps.length))[index]
  if (job?.status === "completed") return
  throw new UserError(
    `Step ${name} is a step of ${workflow.status} workflow ${workflow.id}, which runs it; ${
      workflow.status === "paused" ? "go on with aidp execute resume" : "follow it with aidp execute --list"
    }, or end the workflow with aidp execute cancel and run the step again.`
  )
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
    if (existing && (existing.status === "queued" || existing.status === "running")) throw stepBusy(step.name, existing)
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
      metadata: { [DOCUMENT_KEY]: step.document, [STEP_RUNNER_KEY]: "aidp" },
      permissions: step.permissions,
      retryTimeouts,
      budget,
      worktree: worktree ? {} : undefined
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
    const requestedBy = stopRequester(stop.received())
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
  else {
    // A resumed workflow goes on only where a worker runs: the workers of the `execute all` that
    // was stopped are gone with it.
    const idle = command === "resume" && (await liveWorkers(app.db.sql, app.settings.leaseMs)) === 0
    process.stdout.write(
      idle
        ? `Workflow ${workflow.id} resumed; no aidp worker is running, so its steps wait until you start one with aidp worker.\n`
        : `Workflow ${workflow.id} ${{ pause: "paused", resume: "resumed", cancel: "cancelled" }[command]}.\n`
    )
  }
  return 0
}

/** What `aidp execute STEP|next` was asked for besides the step. */
interface RunOptions {
  readonly retryTimeouts: boolean
  readonly budget: Budget
  /** In a worktree of its own (--worktree, AIDP_WORKTREE). */
  readonly worktree: boolean
  readonly detach: boolean
  readonly json: boolean
}

/** Queues `step` of `cwd` and, unless `--detach`, runs it here (see {@link runHere}); returns the exit code. */
const runStep = async (app: App, cwd: string, step: WorkflowStep, options: RunOptions): Promise<number> => {
  const { id, rerunOf } = await enqueueStep(app, cwd, step, options.retryTimeouts, options.budget, options.worktree)
  if (rerunOf && !options.json) process.stdout.write(`Step ${step.name} completed before (job ${rerunOf.id}); running it again.\n`)
  if (options.detach) {
    if (options.json) printJson(jobJson((await getJob(app.db.sql, id))!))
    else process.stdout.write(`${id}\n`)
    return 0
  }
  if (!options.json) process.stdout.write(`Job ${id}: step ${step.name} (${step.document}) with ${step.provider}. Ctrl-C cancels it.\n`)
  return runHere(app, id, step, cwd, options.json)
}

/** The flags of `aidp execute`, as meow reads them (no defaults: a flag left out is absent). */
const FLAGS = {
  list: { type: "boolean" },
  provider: { type: "string" },
  model: { type: "string" },
  permissions: { type: "string" },
  maxCost: { type: "string" },
  maxTurns: { type: "number" },
  retryTimeouts: { type: "boolean" },
  from: { type: "string" },
  until: { type: "string" },
  worktree: { type: "boolean" },
  detach: { type: "boolean" },
  json: { type: "boolean" }
} as const

/** The forms of `aidp execute`: run a step (`next` or its name), `all`, steer the workflow, `init`, `--list`. */
type Form = "step" | "all" | "pause" | "resume" | "cancel" | "init" | "list"

const RUN_FLAGS = ["provider", "model", "permissions", "maxCost", "maxTurns", "retryTimeouts", "worktree", "detach", "json"] as const

/** The flags each form uses; any other given is refused rather than ignored. */
const FORM_FLAGS: Readonly<Record<Form, ReadonlyArray<keyof typeof FLAGS>>> = {
  step: RUN_FLAGS,
  all: [...RUN_FLAGS, "from", "until"],
  pause: ["json"],
  resume: ["json"],
  cancel: ["json"],
  init: [],
  list: ["list", "json"]
}

/**
 * The form `input` (the words after `execute`) and `--list` ask for. Throws UsageError for no
 * word, more than one, or a word beside `--list`.
 */
const formOf = (input: ReadonlyArray<string>, list: boolean): Form => {
  if (list) {
    if (input.length > 0) throw new UsageError(`--list takes no subcommand (got ${JSON.stringify(input[0])}); use aidp execute --list.`)
    return "list"
  }
  if (input.length === 0) throw new UsageError(`Say what to run: next, all, or a step (${STEPS.map((s) => s.name).join(", ")} unless the project has aidp.workflow.json). Usage: ${USAGE}`)
  noMoreArgs(input, 1, USAGE)
  const word = input[0]!.toLowerCase()
  return word === "all" || word === "pause" || word === "resume" || word === "cancel" || word === "init" ? word : "step"
}

/** The sentence refusing `flag`, which `form` of execute does not use. */
const unusedFlagError = (flag: string, form: Form, word: string | undefined): UsageError => {
  const named = form === "list" ? "aidp execute --list" : `aidp execute ${form === "step" ? word : form}`
  const goesWith = flag === "--from" || flag === "--until" ? `; it goes with aidp execute all` : "; leave it out"
  return new UsageError(`${flag} does not go with ${named}${goesWith} (see aidp execute --help).`)
}

/**
 * Where `--worktree` (or AIDP_WORKTREE) cannot make a worktree of `cwd`: the sentence
 * (outside a git repository, one without commits or mid-merge), else nothing. Checked before
 * anything is queued, as a worker would refuse the job only when it starts.
 */
const checkWorktree = async (cwd: string, wanted: boolean): Promise<void> => {
  const refusal = wanted ? await worktreeRefusal(cwd, "then run it again") : null
  if (refusal !== null) throw new UserError(refusal)
}

/** Runs `aidp execute`; returns the exit code. */
export const runExecute = async (argv: ReadonlyArray<string>): Promise<number> => {
  const cli = parseArgs(HELP, argv, FLAGS)
  const flags = cli.flags
  const form = formOf(cli.input, flags.list === true)
  const unused = unusedFlag(argv, FLAGS, FORM_FLAGS[form])
  if (unused !== undefined) throw unusedFlagError(unused, form, cli.input[0])
  const json = flags.json === true
  const provider = oneOf("provider", flags.provider, PROVIDERS) ?? "claude"
  const model = textFlag("model", flags.model)
  const permissionsFlag = oneOf("permissions", flags.permissions, PERMISSIONS)
  const budget = jobBudget(provider, flags.maxCost, flags.maxTurns)
  if (form === "init") {
    const file = await writeWorkflowFile(await projectRoot(process.cwd()))
    process.stdout.write(`Wrote the built-in workflow to ${visible(file)}; edit its steps, and aidp execute runs them.\n`)
    return 0
  }
  const cwd = await projectRoot(process.cwd())
  // Reads and refusals open an installed schema only: they never create one.
  // A workflow runs the steps it started with: steering it needs no (perhaps broken) file.
  if (form === "pause" || form === "resume" || form === "cancel") return withApp("quiet", (app) => controlWorkflow(app, cwd, form, json), "installed")
  // --list reads the file itself: a running workflow's recorded steps stand in for a broken one.
  if (form === "list") return withApp("quiet", (app) => listSteps(app, cwd, json), "installed")
  const steps = await projectSteps(cwd)
  // Everything the command line and the environment decide is checked before connecting.
  const settings = readSettings(process.env)
  const defaults = { provider, model: model ?? null, permissions: permissionsFlag, fallbackPermissions: settings.permissions, budget }
  const worktree = jobWorktree(flags.worktree || undefined, settings.worktree) !== undefined
  const options = { retryTimeouts: flags.retryTimeouts === true, budget, worktree, detach: flags.detach === true, json }
  if (form === "all") {
    const range = stepRange(steps.map((step) => resolveStep(step, steps, defaults)), textFlag("from", flags.from), textFlag("until", flags.until))
    await checkWorktree(cwd, worktree)
    return withApp("quiet", (app) => executeAll(app, cwd, range, options))
  }
  const named = namedStep(cli.input[0]!, steps)
  const resolved = named === null ? null : resolveStep(named, steps, defaults)
  await checkWorktree(cwd, worktree)
  return withApp("quiet", async (app) => {
    const chosen = resolved ?? await nextStep(app, cwd, steps, defaults)
    if (!chosen) {
      if (json) printJson(null)
      else process.stdout.write(`All ${countOf(steps.length, "step")} of ${visible(cwd)} are completed.\n`)
      return 0
    }
    await refuseStepOfWorkflow(app, cwd, chosen.name)
    return runStep(app, cwd, chosen, options)
  })
}
