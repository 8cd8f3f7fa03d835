/**
 * `aidp execute next|STEP|--list`: the step runner. Enqueues a workflow step of the
 * current directory as a job and, unless `--detach`, runs workers in this process until
 * that job ends (completed, failed for good, or cancelled), exiting 0 only if it completed.
 */
import { stat } from "node:fs/promises"
import path from "node:path"
import { Effect } from "effect"
import { type Budget, PERMISSIONS, type Permissions, type Provider, PROVIDERS } from "../domain/job.js"
import { findStep, type Step, STEPS, stepPrompt } from "../domain/steps.js"
import { completedSteps, type ExecutionRecord, getExecutions, getJob, type JobRecord, latestJobPerStep } from "../projections/queries.js"
import { jobJson, printJson } from "../terminal/json.js"
import { sanitize } from "../terminal/sanitize.js"
import { formatClock, formatDuration } from "../terminal/view/format.js"
import { deniedMark } from "../terminal/view/table.js"
import { displayWidth, padRight } from "../terminal/view/text.js"
import { runPool } from "../workers/pool.js"
import { DOCUMENT_KEY } from "../workers/document.js"
import { type App, withApp } from "./app.js"
import { outputColumns, sendAfter, textSink } from "./logs.js"
import { watchJob } from "./watch.js"
import { UsageError, UserError } from "./errors.js"
import { BUDGET_HELP, JOB_DEFAULTS, jobBudget, jobPermissions, jobWorktree, PERMISSIONS_HELP, projectDir, submitCommand } from "./jobCommands.js"
import { type CommandHelp, noMoreArgs, oneOf, parseArgs, textFlag } from "./parse.js"
import { stopExitCode, stopSignal } from "./signals.js"

const USAGE = "aidp execute next|STEP [--provider P] [--model M] [--permissions L] [--max-cost USD] [--max-turns N] [--retry-timeouts] [--worktree] [--detach] [--json] | aidp execute --list"
const HELP: CommandHelp = {
  usage: [
    "aidp execute next [--provider P] [--model M] [--permissions L] [--max-cost USD] [--max-turns N] [--retry-timeouts] [--worktree] [--detach] [--json]",
    "aidp execute STEP [--provider P] [--model M] [--permissions L] [--max-cost USD] [--max-turns N] [--retry-timeouts] [--worktree] [--detach] [--json]",
    "aidp execute --list [--json]"
  ],
  about: `Runs a workflow step of the current directory as a job: "next" is the first step without a
completed job. Each step asks the agent for one document under docs/. Without --detach the
job runs in this process, its progress printed, until it ends (exit 0 only if it completed);
Ctrl-C cancels it (exit 130), as does closing the output's reader (exit 141).`,
  options: [
    ["--provider P", `the agent CLI to run: ${PROVIDERS.join(", ")} (default claude)`],
    ["--model M", "the provider's model name (default: the CLI's own default)"],
    PERMISSIONS_HELP,
    ...BUDGET_HELP,
    ["--retry-timeouts", "retry an attempt that ran past its time limit automatically (default: a person retries it)"],
    ["--worktree", "run in a git worktree of its own, on branch aidp/<first 8 of the job id> (default: AIDP_WORKTREE)"],
    ["--detach", "only queue the job and print its id; aidp worker runs it"],
    ["--list", "list the steps with the status of their latest job instead"],
    ["--json", "print the finished job (with --detach: the queued job; with --list: the steps) as JSON"]
  ],
  notes: `Steps: ${STEPS.map((s) => s.name).join(", ")}`
}


/** `text` ending with a full stop (or its own ! or ?), so another sentence can follow it. */
const asSentence = (text: string): string => /[.!?]["')\]]*$/.test(text.trim()) ? text.trim() : `${text.trim()}.`

/** The steps of `cwd` with the status of their latest job. */
const listSteps = async (app: App, cwd: string, json: boolean): Promise<number> => {
  const latest = await latestJobPerStep(app.db.sql, cwd)
  const done = await completedSteps(app.db.sql, cwd)
  const rows = await Promise.all(STEPS.map(async (step) => {
    const job = latest.get(step.name) ?? null
    const documentExists = (await stat(path.join(cwd, step.document)).catch(() => null))?.isFile() ?? false
    return { step: step.name, document: step.document, status: job?.status ?? "pending", completedBefore: done.has(step.name), jobId: job?.id ?? null, documentExists }
  }))
  if (json) printJson(rows)
  else {
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

/** Picks the step to run: the named one, or the first without a completed job (null: all done). */
const chooseStep = async (app: App, cwd: string, which: string): Promise<Step | null> => {
  // Any case, as step names are.
  if (which.toLowerCase() !== "next") {
    const step = findStep(which)
    if (!step) throw new UsageError(`Unknown step ${JSON.stringify(which)}; the steps are ${STEPS.map((s) => s.name).join(", ")}.`)
    return step
  }
  const done = await completedSteps(app.db.sql, cwd)
  return STEPS.find((step) => !done.has(step.name)) ?? null
}

/**
 * Enqueues `step` for `cwd` unless that step already has a queued or running job. The
 * check and the append hold an advisory lock on (cwd, step), so two `aidp execute` at once
 * cannot both enqueue it. Returns the new job's id and, when the step's latest job had
 * completed, that job (the step runs again). Throws UserError naming a queued or running job.
 */
const enqueueStep = async (app: App, cwd: string, step: Step, provider: Provider, model: string | null, permissions: Permissions, retryTimeouts: boolean, budget: Budget, worktree: boolean) => {
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
      provider,
      model,
      prompt: stepPrompt(step),
      cwd,
      step: step.name,
      priority: JOB_DEFAULTS.priority,
      maxAttempts: JOB_DEFAULTS.maxAttempts,
      timeoutMs: JOB_DEFAULTS.timeoutMs,
      metadata: { [DOCUMENT_KEY]: step.document, workflow: "aidp" },
      permissions,
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

/**
 * "Attempt N of M" for a job's latest execution (`executions` in attempt order): N counts the
 * executions the agent ran or ended; one ended on aidp's side (`abandoned`: shutdown, lost
 * worker) spends no attempt, so such executions are named besides.
 */
export const attemptLabel = (executions: ReadonlyArray<Pick<ExecutionRecord, "status">>, maxAttempts: number): string => {
  const spent = executions.filter((e) => e.status !== "abandoned").length
  const free = executions.length - spent
  return `Attempt ${spent} of ${maxAttempts}${free > 0 ? ` (execution ${executions.length}; ${free} ended on aidp's side and spent no attempt)` : ""}`
}

/**
 * Prints what changed about a job since the last call: "Attempt N of M started.", the agent's
 * activity as its log lines arrive (as `aidp jobs logs --follow` prints it, without aidp's own
 * lines, which these sentences replace) and the retry after an execution that failed.
 */
const progressPrinter = (app: App, id: string, provider: Provider) => {
  const sink = textSink(provider, id, outputColumns(), (entry) => entry.kind !== "attempt" && !(entry.kind === "raw" && entry.stream === "system"))
  let last = { status: "", attempts: 0 }
  let seq = 0
  return async (job: JobRecord) => {
    if (job.attempts !== last.attempts && job.status === "running") {
      process.stdout.write(`${attemptLabel(await getExecutions(app.db.sql, id), job.maxAttempts)} started.\n`)
    }
    seq = await sendAfter(app, id, seq, sink)
    // Text still being joined belongs to an attempt that is over.
    if (job.status !== "running") sink.flush()
    if (job.status === "queued" && last.status === "running" && job.error) {
      const executions = await getExecutions(app.db.sql, id)
      const because = job.retryReason === null ? "" : ` (${sanitize(job.retryReason)})`
      const why = `(${job.errorKind}): ${asSentence(sanitize(job.error))} Retrying at ${formatClock(job.runAt)}${because}.`
      process.stdout.write(
        executions.at(-1)?.status === "abandoned"
          ? `Execution ${executions.length} ended on aidp's side, spending no attempt ${why}\n`
          : `${attemptLabel(executions, job.maxAttempts)} failed ${why}\n`
      )
    }
    last = { status: job.status, attempts: job.attempts }
  }
}

/** When `file` was last modified (ms), or null when there is no such file. */
const modifiedAt = async (file: string): Promise<number | null> => (await stat(file).catch(() => null))?.mtimeMs ?? null

/**
 * Runs workers for job `id` in this process until it is finished; Ctrl-C cancels the job.
 * `cwd` is the step's project: a document already there before the run is never replaced, and
 * the completion line says so when the agent left it as it was.
 */
const runHere = async (app: App, id: string, provider: Provider, step: Step, cwd: string, json: boolean): Promise<number> => {
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
    const pool = runPool({ count: 1, leaseMs: app.settings.leaseMs, concurrency: app.settings.concurrency, onlyJobId: id, env: app.env, logger })
    const job = await app.run(Effect.raceFirst(
      watchJob(app, id, json ? () => undefined : progressPrinter(app, id, provider)),
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
    if (cli.input.length === 0) throw new UsageError(`Say which step to run: next, or one of ${STEPS.map((s) => s.name).join(", ")}. Usage: ${USAGE}`)
    noMoreArgs(cli.input, 1, USAGE)
  }
  return withApp("quiet", async (app) => {
    const cwd = await projectDir(process.cwd())
    if (cli.flags.list) return listSteps(app, cwd, cli.flags.json)
    const permissions = jobPermissions(provider, permissionsFlag, app.settings.permissions)
    const step = await chooseStep(app, cwd, cli.input[0]!)
    if (!step) {
      if (cli.flags.json) printJson(null)
      else process.stdout.write(`All ${STEPS.length} steps of ${cwd} are completed.\n`)
      return 0
    }
    const { id, rerunOf } = await enqueueStep(app, cwd, step, provider, model ?? null, permissions, cli.flags.retryTimeouts, budget, cli.flags.worktree)
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
      process.stdout.write(`Job ${id}: step ${step.name} (${step.document}) with ${provider}. Ctrl-C cancels it.\n`)
    }
    return runHere(app, id, provider, step, cwd, cli.flags.json)
  })
}
