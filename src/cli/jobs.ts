/**
 * `aidp jobs` and its subcommands (DESIGN.md, Command line): the monitor, list, show,
 * logs, retry, cancel, enqueue; `replay` lives in replay.ts.
 */
import { readFile, stat } from "node:fs/promises"
import path from "node:path"
import { PROVIDERS, JOB_STATUSES } from "../domain/job.js"
import { listJobs } from "../projections/queries.js"
import { jobDetailsJson, jobJson, printJson } from "../terminal/json.js"
import { renderJobList } from "../terminal/plain.js"
import { withApp } from "./app.js"
import { loadDetails } from "./details.js"
import { UsageError, UserError } from "./errors.js"
import { JOB_DEFAULTS, submitCommand } from "./jobCommands.js"
import { resolveJobRef } from "./jobRef.js"
import { followLogs, printLogs } from "./logs.js"
import { intFlag, noMoreArgs, oneOf, parseArgs, textFlag } from "./parse.js"
import { runReplay } from "./replay.js"
import { printJobDetails } from "./show.js"

const HELP = `
  Usage
    $ aidp jobs                         live monitor (a plain table when not a terminal)
    $ aidp jobs list [--status S] [--provider P] [--limit N] [--json]
    $ aidp jobs show JOB [--json]
    $ aidp jobs logs JOB [--follow]
    $ aidp jobs retry JOB
    $ aidp jobs cancel JOB
    $ aidp jobs enqueue --provider P (--prompt TEXT | --prompt-file F) [--cwd DIR] [--model M] [--json]
    $ aidp jobs replay [JOB] [--since T] [--until T] [--stats] [--rebuild] [--json]

  JOB is a full job id or a unique prefix of at least 6 characters.
`

const list = (argv: ReadonlyArray<string>) => {
  const cli = parseArgs(HELP, argv, {
    status: { type: "string" },
    provider: { type: "string" },
    limit: { type: "number", default: 50 },
    json: { type: "boolean", default: false }
  })
  noMoreArgs(cli.input, 0, "aidp jobs list [--status S] [--provider P] [--limit N] [--json]")
  const status = oneOf("status", cli.flags.status, JOB_STATUSES)
  const provider = oneOf("provider", cli.flags.provider, PROVIDERS)
  const limit = intFlag("limit", cli.flags.limit, 1, 1000)!
  return withApp("quiet", async (app) => {
    const jobs = await listJobs(app.db.sql, { status, provider, limit })
    if (cli.flags.json) printJson(jobs.map(jobJson))
    else process.stdout.write(renderJobList(jobs, new Date(), process.stdout.isTTY ? process.stdout.columns : undefined))
    return 0
  })
}

const show = (argv: ReadonlyArray<string>) => {
  const cli = parseArgs(HELP, argv, { json: { type: "boolean", default: false } })
  noMoreArgs(cli.input, 1, "aidp jobs show JOB [--json]")
  return withApp("quiet", async (app) => {
    const id = await resolveJobRef(app.db.sql, cli.input[0], "aidp jobs show JOB [--json]")
    const details = await loadDetails(app.db.sql, id)
    if (!details) throw new UserError(`Job ${id} disappeared while it was being read.`)
    if (cli.flags.json) printJson(jobDetailsJson(details.job, details.executions, details.logs))
    else printJobDetails(details, new Date())
    return 0
  })
}

const logs = (argv: ReadonlyArray<string>) => {
  const cli = parseArgs(HELP, argv, { follow: { type: "boolean", shortFlag: "f", default: false } })
  noMoreArgs(cli.input, 1, "aidp jobs logs JOB [--follow]")
  return withApp("quiet", async (app) => {
    const id = await resolveJobRef(app.db.sql, cli.input[0], "aidp jobs logs JOB [--follow]")
    if (cli.flags.follow) await followLogs(app, id)
    else await printLogs(app, id)
    return 0
  })
}

const retry = (argv: ReadonlyArray<string>) => {
  const cli = parseArgs(HELP, argv, {})
  noMoreArgs(cli.input, 1, "aidp jobs retry JOB")
  return withApp("quiet", async (app) => {
    const id = await resolveJobRef(app.db.sql, cli.input[0], "aidp jobs retry JOB")
    await submitCommand(app, id, { _tag: "Retry", now: new Date() })
    process.stdout.write(`Job ${id} is queued again; a worker will start its next attempt.\n`)
    return 0
  })
}

const cancel = (argv: ReadonlyArray<string>) => {
  const cli = parseArgs(HELP, argv, {})
  noMoreArgs(cli.input, 1, "aidp jobs cancel JOB")
  return withApp("quiet", async (app) => {
    const id = await resolveJobRef(app.db.sql, cli.input[0], "aidp jobs cancel JOB")
    const events = await submitCommand(app, id, { _tag: "RequestCancel", requestedBy: "user" })
    const done = events.some((e) => e.event.type === "JobCancelled")
    process.stdout.write(done ? `Job ${id} is cancelled.\n` : `Cancellation of job ${id} requested; its worker is stopping it.\n`)
    return 0
  })
}

const enqueue = async (argv: ReadonlyArray<string>) => {
  const usage = "aidp jobs enqueue --provider P (--prompt TEXT | --prompt-file F) [--cwd DIR] [--model M] [--json]"
  const cli = parseArgs(HELP, argv, {
    provider: { type: "string" },
    prompt: { type: "string" },
    promptFile: { type: "string" },
    cwd: { type: "string" },
    model: { type: "string" },
    priority: { type: "number", default: JOB_DEFAULTS.priority },
    maxAttempts: { type: "number", default: JOB_DEFAULTS.maxAttempts },
    timeout: { type: "number", default: JOB_DEFAULTS.timeoutMs / 1000 },
    json: { type: "boolean", default: false }
  })
  noMoreArgs(cli.input, 0, usage)
  if (!cli.flags.provider) throw new UsageError(`Missing --provider (one of ${PROVIDERS.join(", ")}). Usage: ${usage}`)
  const provider = oneOf("provider", cli.flags.provider, PROVIDERS)!
  if ((cli.flags.prompt === undefined) === (cli.flags.promptFile === undefined)) {
    throw new UsageError(`Give exactly one of --prompt TEXT or --prompt-file F. Usage: ${usage}`)
  }
  const prompt = cli.flags.prompt ?? await readPromptFile(cli.flags.promptFile!)
  if (prompt.trim() === "") throw new UsageError("The prompt is empty; give the agent something to do.")
  const cwd = path.resolve(cli.flags.cwd ?? process.cwd())
  const cwdStat = await stat(cwd).catch(() => null)
  if (!cwdStat?.isDirectory()) throw new UsageError(`--cwd ${cwd} is not a directory.`)
  const priority = intFlag("priority", cli.flags.priority, -1000, 1000)!
  const maxAttempts = intFlag("max-attempts", cli.flags.maxAttempts, 1, 100)!
  const timeoutS = intFlag("timeout", cli.flags.timeout, 1, 7 * 24 * 3600)!
  const model = textFlag("model", cli.flags.model)
  return withApp("quiet", async (app) => {
    const id = crypto.randomUUID()
    await submitCommand(app, id, {
      _tag: "Enqueue",
      provider,
      model: model ?? null,
      prompt,
      cwd,
      step: null,
      priority,
      maxAttempts,
      timeoutMs: timeoutS * 1000,
      metadata: {}
    })
    const details = await loadDetails(app.db.sql, id)
    if (cli.flags.json) printJson(jobJson(details!.job))
    else process.stdout.write(`${id}\n`)
    return 0
  })
}

/**
 * Reads `--prompt-file` (`-`: stdin) as UTF-8 text. A file with NUL bytes or invalid UTF-8 is
 * refused (UsageError) rather than silently changed: the prompt goes to the agent as text.
 */
const readPromptFile = async (file: string): Promise<string> => {
  let bytes: Buffer
  try {
    bytes = file === "-" ? await readStdin() : await readFile(file)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const why = code === "ENOENT" ? "it does not exist" : code === "EISDIR" ? "it is a directory" : code === "EACCES" ? "permission denied" : String(code ?? error)
    throw new UsageError(`Cannot read --prompt-file ${file}: ${why}.`)
  }
  const notText = (why: string) =>
    new UsageError(`--prompt-file ${file} is not UTF-8 text (${why}); --prompt-file is for text: save the prompt as UTF-8 text, or pass it with --prompt.`)
  if (bytes.includes(0)) throw notText("it contains NUL bytes")
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes)
  } catch {
    throw notText("it contains invalid UTF-8")
  }
}

const readStdin = async (): Promise<Buffer> => {
  const chunks: Array<Buffer> = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

const SUBCOMMANDS: Record<string, (argv: ReadonlyArray<string>) => Promise<number>> = {
  list,
  show,
  logs,
  retry,
  cancel,
  enqueue,
  replay: runReplay
}

/** `aidp jobs ...`: dispatches to a subcommand; no subcommand opens the monitor. Returns the exit code. */
export const runJobs = (argv: ReadonlyArray<string>): Promise<number> => {
  const [first, ...rest] = argv
  if (first === undefined || first.startsWith("-")) {
    const cli = parseArgs(HELP, argv, {})
    noMoreArgs(cli.input, 0, "aidp jobs")
    // The monitor (terminal-kit) is loaded only when it is the command.
    return import("./monitor.js").then((m) => m.runMonitorCommand())
  }
  const command = Object.hasOwn(SUBCOMMANDS, first) ? SUBCOMMANDS[first] : undefined
  if (!command) throw new UsageError(`Unknown command "aidp jobs ${first}". Run aidp jobs --help.`)
  return command(rest)
}
