#!/usr/bin/env node
/**
 * The `aidp` command: dispatches to one file per command and turns every error into one
 * sentence on stderr and an exit code (0 success, 1 failure, 2 usage).
 */
import { readFileSync } from "node:fs"
import { sanitize } from "../terminal/sanitize.js"
import { describeError, UsageError } from "./errors.js"
import { HelpRequested, wantsHelp } from "./helpRequest.js"
import { forcedStopCode, stopExitCode, stopOnLostOutput } from "./signals.js"

const HELP = `aidp — run AI coding agents as background jobs in PostgreSQL, and watch them live.

Usage
  aidp execute next [--provider P] [--model M] [--permissions L] [--retry-timeouts]
                    [--max-cost USD] [--max-turns N] [--worktree] [--detach] [--json]
                                     run the next workflow step here
  aidp execute STEP [...same]        aidp execute --list             steps with their status
  aidp execute all [--from STEP] [--until STEP] [...same]
                                     run every step not yet completed, in order
  aidp execute pause | resume | cancel | init
  aidp jobs                          live monitor (a plain table when not a terminal)
  aidp jobs list [--status S] [--provider P] [--cwd DIR] [--step S] [--limit N] [--json]
  aidp jobs show JOB [--json]        aidp jobs logs JOB [--follow] [--raw | --json]
  aidp jobs retry JOB [--fresh]      aidp jobs cancel JOB
  aidp jobs enqueue --provider P (--prompt TEXT | --prompt-file F) [options]
  aidp jobs replay [JOB [--full]] [--events] [--at T] [--since T] [--until T] [--stats [--by KEY]]
                   [--rebuild [--apply]] [--json]
  aidp jobs prune --older-than T [--output-only] [--dry-run] [--json]
  aidp jobs diff JOB                 what a job changed, through your pager
  aidp jobs merge JOB                aidp jobs discard JOB           land or drop a --worktree job
  aidp jobs clean [--merged] [--older-than T] [--dry-run] [--json]
  aidp worker [--count N]            workers until SIGINT/SIGTERM/SIGHUP
  aidp db migrate | status | stop    aidp doctor
  aidp --version                     aidp help [COMMAND]

Providers: claude, gemini, cursor. Run "aidp COMMAND --help" (or -h) for a command's options;
it only prints them.
Environment: AIDP_DATABASE_URL (or DATABASE_URL; unset = aidp's own embedded PostgreSQL),
AIDP_DB_SCHEMA, QUE_WORKER_COUNT, AIDP_DEBUG=1, AIDP_LOG_FILE, AIDP_CLAUDE_BIN,
AIDP_GEMINI_BIN, AIDP_CURSOR_BIN, AIDP_WORKER_LEASE_MS, AIDP_PERMISSIONS,
AIDP_CLAUDE_CONCURRENCY, AIDP_GEMINI_CONCURRENCY, AIDP_CURSOR_CONCURRENCY, AIDP_WORKTREE=1.
`

/** Each command's module is loaded only when it runs (Effect, terminal-kit... take a while to load). */
const COMMANDS: Record<string, (argv: ReadonlyArray<string>) => Promise<number>> = {
  execute: async (argv) => (await import("./execute.js")).runExecute(argv),
  jobs: async (argv) => (await import("./jobs.js")).runJobs(argv),
  worker: async (argv) => (await import("./worker.js")).runWorker(argv),
  db: async (argv) => (await import("./db.js")).runDb(argv),
  doctor: async (argv) => (await import("./doctor.js")).runDoctor(argv)
}

const version = (): string => {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }
  return pkg.version
}

const commandOf = (name: string | undefined) => name !== undefined && Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined

/**
 * Refuses to run in a directory that was deleted (Node's process.cwd() then fails with ENOENT
 * uv_cwd, deep inside whatever command needs it). Checked before any command runs, so none
 * of them starts work it cannot finish.
 */
const requireCurrentDirectory = (): void => {
  try {
    process.cwd()
  } catch {
    throw new UsageError("The current directory no longer exists; cd to an existing directory.")
  }
}

const main = async (argv: ReadonlyArray<string>): Promise<number> => {
  const [command, ...rest] = argv
  if (command === undefined) {
    // No command at all is a usage error: the help on stderr, exit 2.
    process.stderr.write(HELP)
    return 2
  }
  if (command === "--version" || command === "-v") {
    if (wantsHelp(rest)) throw new HelpRequested(HELP)
    if (rest.length > 0) throw new UsageError(`${command} takes no arguments, got ${JSON.stringify(rest.join(" "))}; run aidp ${command} alone.`)
    process.stdout.write(`${version()}\n`)
    return 0
  }
  // `aidp help jobs retry` is `aidp jobs retry --help`.
  if (command === "help" && commandOf(rest[0])) return commandOf(rest[0])!([...rest.slice(1), "--help"])
  if (command === "help" && rest[0] !== undefined && !wantsHelp(rest)) {
    throw new UsageError(`Unknown command "${rest[0]}" in aidp help; the commands are ${Object.keys(COMMANDS).join(", ")}.`)
  }
  const run = commandOf(command)
  if (!run) {
    if (command === "help" || wantsHelp(argv)) throw new HelpRequested(HELP)
    throw new UsageError(`Unknown command "${command}". Run aidp --help for the list.`)
  }
  // Help needs no directory; everything else may.
  if (!wantsHelp(rest)) requireCurrentDirectory()
  return run(rest)
}

/** Set once a reader of stdout or stderr went away: nothing more can be written there. */
let outputLost = false

const exit = (finished: number) => {
  // A second signal forced the stop: 130, though the graceful stop may have finished first.
  const code = forcedStopCode() ?? finished
  // A long-running command stopped because its reader went away did not finish its work.
  if (outputLost) process.exit(code === 0 ? stopExitCode("SIGPIPE") : code)
  if (process.stdout.destroyed) process.exit(code)
  // Let stdout drain (it may be a pipe) before leaving.
  process.stdout.write("", () => process.exit(code))
}

/**
 * A reader that went away (`aidp jobs replay --json | head`, `aidp execute next | head -2`;
 * EIO: the terminal was closed, as after SIGHUP):
 * a long-running command (execute, worker) stops as on Ctrl-C (execute cancels its job) and
 * exits non-zero (141, as if killed by SIGPIPE) when done; any other command ends at once,
 * quietly, exit 0.
 */
const onOutputError = (error: NodeJS.ErrnoException) => {
  if (outputLost) return
  if (error.code === "EPIPE" || error.code === "EIO") {
    outputLost = true
    if (!stopOnLostOutput()) process.exit(0)
    return
  }
  process.stderr.write(`aidp: Cannot write the output: ${error.message}.\n`)
  process.exit(1)
}
process.stdout.on("error", onOutputError)
process.stderr.on("error", onOutputError)

main(process.argv.slice(2)).then(exit, (error: unknown) => {
  if (error instanceof HelpRequested) {
    // Asked for: the help on stdout, exit 0, and nothing was done.
    process.stdout.write(error.text)
    exit(0)
    return
  }
  const { exitCode, message } = describeError(error)
  // One line, whatever the error carried (provider text, a multi-line driver message).
  process.stderr.write(`aidp: ${sanitize(message)}\n`)
  if (process.env.AIDP_DEBUG === "1" && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`)
  exit(exitCode)
})
