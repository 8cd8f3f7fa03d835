/**
 * `aidp jobs` and its subcommands (DESIGN.md, Command line): the monitor, list, show,
 * logs, retry, cancel; `enqueue` lives in enqueue.ts, `replay` in replay.ts, `prune` in prune.ts,
 * `diff`, `merge`, `discard` and `clean` in land.ts.
 */
import { stat } from "node:fs/promises"
import { JOB_STATUSES, PROVIDERS } from "../domain/job.js"
import { STEPS } from "../domain/steps.js"
import { getJob, listJobs, stepsOfProject } from "../projections/queries.js"
import { jobDetailsJson, jobJson, printJson } from "../terminal/json.js"
import { renderJobList } from "../terminal/plain.js"
import { visible } from "../terminal/sanitize.js"
import { LIST_KEYS } from "../terminal/view/list.js"
import { withApp } from "./app.js"
import { loadDetails } from "./details.js"
import { UsageError, UserError } from "./errors.js"
import { projectDir, submitCommand } from "./jobCommands.js"
import { projectRoot, projectSteps } from "./projectSteps.js"
import { resolveJobRef } from "./jobRef.js"
import { followLogs, jsonSink, outputColumns, printLogs, rawSink, textSink } from "./logs.js"
import { answerHelp, type CommandHelp, intFlag, noMoreArgs, oneOf, parseArgs, textFlag, usageLine } from "./parse.js"
import { printJobDetails } from "./show.js"

/** JOB in every usage below. */
const JOB_REF = "JOB is a full job id or a unique prefix of at least 6 characters."

const HELP: CommandHelp = {
  usage: "aidp jobs [COMMAND]",
  about: `Without a command: the live monitor of every job when stdin and stdout are a terminal
(keys: ${LIST_KEYS.map(([key, what]) => `${key} ${what}`).join(", ")}), else the job table printed once.`,
  notes: `Commands
  list      the jobs, newest first
  show      one job: its executions, usage, logs
  logs      one job's output (--follow to keep reading)
  retry     queue a failed or cancelled job again
  cancel    cancel a queued or running job
  enqueue   queue a job with your own prompt
  replay    the event log: a job's story, statistics, rebuild
  prune     remove finished jobs (or their output) older than a time
  diff      the full diff of what a job changed (through your pager)
  merge     merge a finished --worktree job's branch into the checked-out branch
  discard   delete a finished --worktree job's worktree and branch
  clean     delete the worktrees of finished jobs in bulk (--merged, --older-than)

Run "aidp jobs COMMAND --help" for a command's options. ${JOB_REF}`
}

const LIST_HELP: CommandHelp = {
  usage: "aidp jobs list [--status S] [--provider P] [--cwd DIR] [--step S] [--limit N] [--json]",
  about: "Lists the jobs, newest first, as a table (or JSON).",
  options: [
    ["--status S", `only jobs with this status: ${JOB_STATUSES.join(", ")}`],
    ["--provider P", `only this provider's jobs: ${PROVIDERS.join(", ")}`],
    ["--cwd DIR", "only jobs that run in this directory"],
    ["--step S", `only jobs of this workflow step: one of the project's (aidp.workflow.json's in the project of --cwd or the current folder, else ${STEPS.map((s) => s.name).join(", ")}), or one its jobs carry`],
    ["--limit N", "at most N jobs, 1 to 1000 (default 50)"],
    ["--json", "a JSON array of jobs instead of the table"]
  ]
}

/**
 * Reads --step: a step of the project (`steps`: its aidp.workflow.json's or the built-in ones,
 * and those its jobs and workflows carry, see stepsOfProject) in any case, as its name (the
 * same case first); throws UsageError naming the project's steps otherwise, and `missing`
 * (the --cwd folder when it does not exist, so no aidp.workflow.json of its was read).
 */
const stepFlag = (value: string, steps: ReadonlyArray<string>, missing: string | null): string => {
  const given = value.trim()
  const step = steps.find((name) => name === given) ?? steps.find((name) => name.toLowerCase() === given.toLowerCase())
  if (step === undefined) {
    const why = missing === null ? "" : ` (--cwd ${visible(missing)} does not exist, so no aidp.workflow.json of its could add its own)`
    throw new UsageError(`--step ${JSON.stringify(value)} is not a step of this project; its steps are ${steps.join(", ")}${why}.`)
  }
  return step
}

const list = async (argv: ReadonlyArray<string>) => {
  const cli = parseArgs(LIST_HELP, argv, {
    status: { type: "string" },
    provider: { type: "string" },
    cwd: { type: "string" },
    step: { type: "string" },
    limit: { type: "number", default: 50 },
    json: { type: "boolean", default: false }
  })
  noMoreArgs(cli.input, 0, LIST_HELP)
  const status = oneOf("status", cli.flags.status, JOB_STATUSES)
  const provider = oneOf("provider", cli.flags.provider, PROVIDERS)
  const cwdFlag = textFlag("cwd", cli.flags.cwd)
  const limit = intFlag("limit", cli.flags.limit, 1, 1000)!
  // The project of --cwd's directory, else of the current one (see projectRoot).
  const root = cli.flags.step === undefined ? undefined : await projectRoot(cwdFlag ?? ".")
  const fileSteps = root === undefined ? [] : (await projectSteps(root)).map((s) => s.name)
  const missing = root !== undefined && cwdFlag !== undefined && !(await stat(root).catch(() => null))?.isDirectory() ? root : null
  return withApp("quiet", async (app) => {
    const step = root === undefined ? undefined : stepFlag(cli.flags.step!, [...new Set([...fileSteps, ...(await stepsOfProject(app.db.sql, root)).sort()])], missing)
    // Resolved as enqueue and execute resolve theirs, so the stored path matches.
    const cwd = cwdFlag === undefined ? undefined : await projectDir(cwdFlag)
    const jobs = await listJobs(app.db.sql, { status, provider, cwd, step, limit })
    if (cli.flags.json) printJson(jobs.map(jobJson))
    else process.stdout.write(renderJobList(jobs, new Date(), process.stdout.isTTY ? process.stdout.columns : undefined))
    return 0
  }, "installed")
}

const SHOW_HELP: CommandHelp = {
  usage: "aidp jobs show JOB [--json]",
  about: `One job: its settings, each execution (attempt, worker, exit, error, usage and cost) and its logs. ${JOB_REF}`,
  options: [["--json", "the job with metadata, executions and logs as one JSON document"]]
}

const show = (argv: ReadonlyArray<string>) => {
  const cli = parseArgs(SHOW_HELP, argv, { json: { type: "boolean", default: false } })
  noMoreArgs(cli.input, 1, SHOW_HELP)
  return withApp("quiet", async (app) => {
    const id = await resolveJobRef(app.db.sql, cli.input[0], usageLine(SHOW_HELP))
    const details = await loadDetails(app.db.sql, id)
    if (!details) throw new UserError(`Job ${id} disappeared while it was being read.`)
    if (cli.flags.json) printJson(jobDetailsJson(details.job, details.executions, details.logs))
    else printJobDetails(details, new Date())
    return 0
  }, "installed")
}

const LOGS_HELP: CommandHelp = {
  usage: "aidp jobs logs JOB [--follow] [--raw | --json]",
  about: `Prints what the job's agent did, every attempt, in words: its messages, tool calls, retries, errors and the result with tokens and cost, wrapped to the terminal. ${JOB_REF}`,
  options: [
    ["-f, --follow", "keep printing new output until the job is finished"],
    ["--raw", "the stored output lines as the agent printed them (escape sequences made harmless)"],
    ["--json", "the activity entries as one JSON array (with --follow: one entry per line, JSON Lines)"]
  ]
}

const logs = (argv: ReadonlyArray<string>) => {
  const cli = parseArgs(LOGS_HELP, argv, {
    follow: { type: "boolean", shortFlag: "f", default: false },
    raw: { type: "boolean", default: false },
    json: { type: "boolean", default: false }
  })
  const usage = usageLine(LOGS_HELP)
  noMoreArgs(cli.input, 1, usage)
  if (cli.flags.raw && cli.flags.json) throw new UsageError(`Use either --raw or --json, not both. Usage: ${usage}`)
  return withApp("quiet", async (app) => {
    const id = await resolveJobRef(app.db.sql, cli.input[0], usage)
    const job = await getJob(app.db.sql, id)
    if (!job) throw new UserError(`Job ${id} disappeared while it was being read.`)
    const sink = cli.flags.raw
      ? rawSink()
      : cli.flags.json
      ? jsonSink(job.provider, cli.flags.follow)
      : textSink(job.provider, id, outputColumns())
    if (cli.flags.follow) await followLogs(app, id, sink)
    else await printLogs(app, id, sink)
    return 0
  }, "installed")
}

const RETRY_HELP: CommandHelp = {
  usage: "aidp jobs retry JOB [--fresh]",
  about: `Queues a failed or cancelled job again; a worker starts its next attempt (aidp worker, or the aidp execute that runs it). The next attempt resumes the agent's session of the last one (--resume) with a prompt to continue the task, unless --fresh. ${JOB_REF}`,
  options: [["--fresh", "start over with the job's prompt instead of resuming the last attempt's session"]]
}

const retry = (argv: ReadonlyArray<string>) => {
  const cli = parseArgs(RETRY_HELP, argv, { fresh: { type: "boolean", default: false } })
  noMoreArgs(cli.input, 1, RETRY_HELP)
  return withApp("quiet", async (app) => {
    const id = await resolveJobRef(app.db.sql, cli.input[0], usageLine(RETRY_HELP))
    await submitCommand(app, id, { _tag: "Retry", now: new Date(), fresh: cli.flags.fresh })
    process.stdout.write(`Job ${id} is queued again${cli.flags.fresh ? " for a fresh start" : ""}; a worker will start its next attempt.\n`)
    return 0
  }, "installed")
}

const CANCEL_HELP: CommandHelp = {
  usage: "aidp jobs cancel JOB",
  about: `Cancels a queued job at once, or asks the worker running it to stop its agent. ${JOB_REF}`
}

const cancel = (argv: ReadonlyArray<string>) => {
  const cli = parseArgs(CANCEL_HELP, argv, {})
  noMoreArgs(cli.input, 1, CANCEL_HELP)
  return withApp("quiet", async (app) => {
    const id = await resolveJobRef(app.db.sql, cli.input[0], usageLine(CANCEL_HELP))
    const events = await submitCommand(app, id, { _tag: "RequestCancel", requestedBy: "user" })
    const done = events.some((e) => e.event.type === "JobCancelled")
    process.stdout.write(done ? `Job ${id} is cancelled.\n` : `Cancellation of job ${id} requested; its worker is stopping it.\n`)
    return 0
  }, "installed")
}

/**
 * The subcommands of land.ts (a job's worktree and branch), loaded when one runs; the type
 * check holds this list to land.ts's (a type-only import loads nothing).
 */
const LAND_NAMES = ["diff", "merge", "discard", "clean"] as const satisfies ReadonlyArray<keyof LandCommands>
type LandCommands = typeof import("./land.js").LAND_COMMANDS

const SUBCOMMANDS: Record<string, (argv: ReadonlyArray<string>) => Promise<number>> = {
  list,
  show,
  logs,
  retry,
  cancel,
  // Loaded only when they run: a command loads only the modules it uses.
  enqueue: async (argv) => (await import("./enqueue.js")).runEnqueue(argv),
  replay: async (argv) => (await import("./replay.js")).runReplay(argv),
  prune: async (argv) => (await import("./prune.js")).runPrune(argv),
  ...Object.fromEntries(LAND_NAMES.map((name) => [name, async (argv: ReadonlyArray<string>) => (await import("./land.js")).LAND_COMMANDS[name](argv)]))
}

/** `aidp jobs ...`: dispatches to a subcommand; no subcommand opens the monitor. Returns the exit code. */
export const runJobs = (argv: ReadonlyArray<string>): Promise<number> => {
  const [first, ...rest] = argv
  if (first === undefined || first.startsWith("-")) {
    const cli = parseArgs(HELP, argv, {})
    noMoreArgs(cli.input, 0, HELP)
    // The monitor (terminal-kit) is loaded only when it is the command.
    return import("./monitor.js").then((m) => m.runMonitorCommand())
  }
  const command = Object.hasOwn(SUBCOMMANDS, first) ? SUBCOMMANDS[first] : undefined
  if (!command) {
    answerHelp(HELP, rest)
    throw new UsageError(`Unknown command "aidp jobs ${first}". Run aidp jobs --help.`)
  }
  return command(rest)
}
