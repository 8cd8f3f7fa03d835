/**
 * `aidp jobs enqueue`: one job from the flags, or many from `--from FILE` (JSON Lines, `-` for
 * stdin) with the flags as every line's defaults, all queued in one transaction. Every line
 * is checked (and every prompt file read) before anything is written: a bad line is one
 * sentence naming it, exit 2, and nothing queued.
 */
import { readFile, stat } from "node:fs/promises"
import * as Effect from "effect/Effect"
import type { Settings } from "../config/env.js"
import { MAX_PROMPT_BYTES } from "../domain/job.js"
import { CommandHandler, type EnqueueCommand } from "../projections/commandHandler.js"
import { getJobs } from "../projections/queries.js"
import { jobJson, printJson } from "../terminal/json.js"
import { visible } from "../terminal/sanitize.js"
import { formatBytes } from "../terminal/view/limit.js"
import { wrap } from "../terminal/view/text.js"
import { type App, withApp } from "./app.js"
import { UsageError } from "./errors.js"
import { heldBudget, jobPermissions, jobWorktree, projectDir } from "./jobCommands.js"
import {
  atLine,
  completeSpec,
  ENQUEUE_FIELDS,
  enqueueFlags,
  enqueueHelp,
  flagSource,
  flagSpec,
  type JobRequest,
  type JobSpec,
  LINE_SOURCE,
  parseJobLines,
  type SpecSource,
  withDefaults
} from "./jobSpec.js"
import { type CommandHelp, noMoreArgs, parseArgs } from "./parse.js"

const ENQUEUE_USAGE = "aidp jobs enqueue --provider P (--prompt TEXT | --prompt-file F) [options]"
const FROM_USAGE = "aidp jobs enqueue --from FILE [options as defaults for every line]"

/** `jobs enqueue --help`. */
export const ENQUEUE_HELP: CommandHelp = {
  usage: [ENQUEUE_USAGE, FROM_USAGE],
  about: "Queues a job that runs the provider's CLI with your prompt in a directory; prints its id. A worker runs it (aidp worker). With --from, queues many jobs at once.",
  options: [
    ...enqueueHelp(),
    ["--from FILE", "queue one job per line of FILE (- for stdin), all in one transaction; see below"],
    ["--json", "print the new job as JSON instead of its id (with --from: a JSON array of the jobs)"]
  ],
  notes: `--from FILE reads JSON Lines: one object per line with the fields the options set, named
in camelCase (exactly one of prompt or promptFile):
${wrap(Object.keys(ENQUEUE_FIELDS).join(", "), 88).map((line) => `  ${line}`).join("\n")}
for example
  {"provider": "claude", "prompt": "Fix the failing test.", "cwd": "api", "priority": 5}
Options given beside --from are defaults for every line; a line's own field wins (a line's
prompt or promptFile replaces both --prompt and --prompt-file). Blank lines are skipped; null
is the same as leaving a field out. Paths are relative to the current folder. A bad line is
named with its number and nothing is queued; otherwise the new ids are printed one per line.`
}

/**
 * The folders seen so far, as given: each one's resolved path (see projectDir) and whether it
 * is a directory, something else, or missing, so a thousand lines naming one folder resolve it once.
 */
type FolderCache = Map<string, Promise<{ readonly path: string; readonly kind: "directory" | "other" | "missing" }>>

/**
 * What `request` names on disk: its prompt (a file's, or stdin's once, via `stdin`) and its
 * folder, resolved and checked. Throws UsageError naming the field as `source` spells it.
 */
const readInputs = async (
  request: JobRequest,
  source: SpecSource,
  folders: FolderCache,
  stdin: () => Promise<Buffer>
): Promise<{ readonly prompt: string; readonly cwd: string }> => {
  const prompt = "text" in request.prompt ? request.prompt.text : await readPromptFile(request.prompt.file, source, stdin)
  if (prompt.trim() === "") throw new UsageError("The prompt is empty; give the agent something to do.")
  const given = request.cwd ?? process.cwd()
  if (!folders.has(given)) {
    folders.set(given, projectDir(given).then((path) =>
      stat(path).then((s) => ({ path, kind: s.isDirectory() ? "directory" as const : "other" as const }), () => ({ path, kind: "missing" as const }))))
  }
  const folder = await folders.get(given)!
  if (folder.kind === "missing") throw new UsageError(`${source.spell("cwd")} ${folder.path} does not exist; name an existing folder.`)
  if (folder.kind === "other") throw new UsageError(`${source.spell("cwd")} ${folder.path} is not a directory.`)
  return { prompt, cwd: folder.path }
}

/**
 * The Enqueue command of `request` with its `inputs` read, its permissions settled against
 * `settings` (AIDP_PERMISSIONS). Throws UsageError when the provider cannot run at that level
 * or be held to the budget.
 */
const toCommand = (request: JobRequest, inputs: { readonly prompt: string; readonly cwd: string }, settings: Settings): EnqueueCommand => ({
  _tag: "Enqueue",
  provider: request.provider,
  model: request.model,
  prompt: inputs.prompt,
  cwd: inputs.cwd,
  step: null,
  priority: request.priority,
  maxAttempts: request.maxAttempts,
  timeoutMs: request.timeoutMs,
  metadata: { ...request.metadata },
  permissions: jobPermissions(request.provider, request.permissions, settings.permissions),
  retryTimeouts: request.retryTimeouts,
  budget: heldBudget(request.provider, request.budget),
  worktree: jobWorktree(request.worktree, settings.worktree)
})

/**
 * Reads a prompt file (`-`: stdin) as UTF-8 text. A file with NUL bytes or invalid UTF-8 is
 * refused (UsageError) rather than silently changed: the prompt goes to the agent as text. A
 * file larger than MAX_PROMPT_BYTES is refused by its size, before it is read.
 */
const readPromptFile = async (file: string, source: SpecSource, stdin: () => Promise<Buffer>): Promise<string> => {
  const name = source.spell("promptFile")
  const tooLarge = (size: number) =>
    new UsageError(
      `${name} ${visible(file)} is ${size} bytes (${formatBytes(size)}); a prompt may be at most ${MAX_PROMPT_BYTES} bytes (${formatBytes(MAX_PROMPT_BYTES)}): shorten it, or point the agent at files to read instead.`
    )
  let bytes: Buffer
  try {
    // Its size first: a huge file is refused without being read into memory.
    const size = file === "-" ? 0 : (await stat(file)).size
    if (size > MAX_PROMPT_BYTES) throw tooLarge(size)
    bytes = file === "-" ? await stdin() : await readFile(file)
  } catch (error) {
    if (error instanceof UsageError) throw error
    throw new UsageError(`Cannot read ${name} ${visible(file)}: ${whyUnreadable(error)}.`)
  }
  // Stdin, or a file that grew since: the bytes read tell.
  if (bytes.length > MAX_PROMPT_BYTES) throw tooLarge(bytes.length)
  const notText = (why: string) =>
    new UsageError(`${name} ${visible(file)} is not UTF-8 text (${why}); ${name} is for text: save the prompt as UTF-8 text, or pass it with ${source.spell("prompt")}.`)
  if (bytes.includes(0)) throw notText("it contains NUL bytes")
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes)
  } catch {
    throw notText("it contains invalid UTF-8")
  }
}

/** Reads `--from`'s text: the file, or stdin for `-`; throws UsageError naming the file. */
const readFrom = async (from: string, stdin: () => Promise<Buffer>): Promise<string> => {
  let bytes: Buffer
  try {
    bytes = from === "-" ? await stdin() : await readFile(from)
  } catch (error) {
    throw new UsageError(`Cannot read --from ${visible(from)}: ${whyUnreadable(error)}.`)
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes)
  } catch {
    throw new UsageError(`--from ${from} is not UTF-8 text; save it as UTF-8 JSON Lines.`)
  }
}

/** Why a file could not be read, in words: `it does not exist`, `permission denied`, ... */
const whyUnreadable = (error: unknown): string => {
  const code = (error as NodeJS.ErrnoException).code
  return code === "ENOENT" ? "it does not exist" : code === "EISDIR" ? "it is a directory" : code === "EACCES" ? "permission denied" : String(code ?? error)
}

/** Stdin, read once however many times it is asked for. */
const stdinOnce = (): (() => Promise<Buffer>) => {
  let read: Promise<Buffer> | undefined
  return () => (read ??= (async () => {
    const chunks: Array<Buffer> = []
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
    return Buffer.concat(chunks)
  })())
}

/**
 * Queues `commands` with fresh ids in one transaction; returns the ids in order. The jobs share
 * one time, so ids break their ties (workers claim by priority, run_at, created_at, id): the
 * random ids are handed out in ascending order, and equal jobs run in the file's order.
 */
const enqueueAll = async (app: App, commands: ReadonlyArray<EnqueueCommand>): Promise<Array<string>> => {
  // Lower-case hex with dashes in fixed places: string order is PostgreSQL's uuid order.
  const ids = commands.map(() => crypto.randomUUID()).sort()
  const jobs = commands.map((command, index) => ({ jobId: ids[index]!, command }))
  await app.run(Effect.gen(function*() {
    const handler = yield* CommandHandler
    return yield* handler.enqueueAll(jobs, new Date())
  }))
  return jobs.map((job) => job.jobId)
}

/** One job to queue: what it asks for, how its fields are spelled, and the line it came from (none for the flags). */
interface Pending {
  readonly request: JobRequest
  readonly source: SpecSource
  readonly line?: { readonly number: number; readonly of: string }
}

/**
 * The jobs `--from` names (`from`: a file, or `-` for stdin) over the flags' `defaults`.
 * Throws UsageError naming the first bad line; a file with no job is refused too.
 */
const fromLines = async (from: string, defaults: JobSpec, stdin: () => Promise<Buffer>): Promise<Array<Pending>> => {
  if (from === "-" && defaults.promptFile === "-") throw new UsageError("--from - and --prompt-file - both read stdin; give one of them a file.")
  const of = from === "-" ? "stdin" : from
  const lines = parseJobLines(await readFrom(from, stdin), of)
  if (lines.length === 0) throw new UsageError(`--from ${from} has no jobs; write one JSON object per line.`)
  return lines.map(({ line, spec }) => ({
    line: { number: line, of },
    source: LINE_SOURCE,
    request: atLine(line, of, () => {
      if (spec.promptFile === "-") throw new UsageError(`"promptFile" "-" (stdin) is for --prompt-file only; name a file.`)
      return completeSpec(withDefaults(defaults, spec), LINE_SOURCE)
    })
  }))
}

/** `aidp jobs enqueue ...`; returns the exit code. */
export const runEnqueue = async (argv: ReadonlyArray<string>): Promise<number> => {
  const cli = parseArgs(ENQUEUE_HELP, argv, { ...enqueueFlags(), from: { type: "string" }, json: { type: "boolean", default: false } })
  const from = cli.flags.from
  const usage = from === undefined ? ENQUEUE_USAGE : FROM_USAGE
  noMoreArgs(cli.input, 0, usage)
  const defaults = flagSpec(cli.flags, usage)
  const stdin = stdinOnce()
  // Every field, prompt file and folder is checked before the database is opened: a bad line
  // is named at once and changes nothing.
  const pending: Array<Pending> = from === undefined
    ? [{ request: completeSpec(defaults, flagSource(usage)), source: flagSource(usage) }]
    : await fromLines(from, defaults, stdin)
  const folders: FolderCache = new Map()
  const jobs: Array<Pending & { readonly inputs: { readonly prompt: string; readonly cwd: string } }> = []
  for (const job of pending) {
    const read = () => readInputs(job.request, job.source, folders, stdin)
    jobs.push({ ...job, inputs: job.line === undefined ? await read() : await atLineAsync(job.line.number, job.line.of, read) })
  }
  return withApp("quiet", async (app) => {
    const commands = jobs.map(({ request, inputs, line }) =>
      line === undefined ? toCommand(request, inputs, app.settings) : atLine(line.number, line.of, () => toCommand(request, inputs, app.settings)))
    const ids = await enqueueAll(app, commands)
    if (cli.flags.json) {
      const jobs = (await getJobs(app.db.sql, ids)).map(jobJson)
      printJson(from === undefined ? jobs[0] : jobs)
    } else process.stdout.write(ids.map((id) => `${id}\n`).join(""))
    return 0
  })
}

/** {@link atLine} for an async `body`. */
const atLineAsync = async <A>(line: number, source: string, body: () => Promise<A>): Promise<A> => {
  try {
    return await body()
  } catch (error) {
    return atLine(line, source, () => {
      throw error
    })
  }
}
