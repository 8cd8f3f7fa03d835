/**
 * The write side of `aidp jobs`: enqueue, retry, cancel. Each turns into one domain
 * command through the command handler; refusals come back as one sentence.
 */
import { realpath } from "node:fs/promises"
import path from "node:path"
import { Effect, Schedule } from "effect"
import type { JobCommand } from "../domain/decider.js"
import type { RecordedEvent } from "../domain/events.js"
import { type Permissions, permissionsRefusal, type Provider } from "../domain/job.js"
import { CommandHandler } from "../projections/commandHandler.js"
import { OUTAGE_RETRY_MS } from "../workers/outage.js"
import type { App } from "./app.js"
import { UsageError } from "./errors.js"
import type { OptionHelp } from "./parse.js"

/**
 * A project folder as jobs store it: absolute, symbolic links resolved (as `aidp execute`
 * stores its current directory), so `enqueue --cwd`, `execute` and `list --cwd` name one
 * folder one way. A folder that does not exist (any more) is only made absolute.
 */
export const projectDir = async (dir: string): Promise<string> => realpath(path.resolve(dir)).catch(() => path.resolve(dir))

/**
 * Runs `command` on job `jobId` now; rejects with JobNotFound / IllegalTransition /
 * DatabaseError. With `untilReachable`, a DatabaseError is retried every 2 s until the
 * database answers (a Ctrl-C's cancel during an outage), instead of rejecting.
 */
export const submitCommand = (app: App, jobId: string, command: JobCommand, untilReachable = false): Promise<ReadonlyArray<RecordedEvent>> =>
  app.run(Effect.gen(function*() {
    const handler = yield* CommandHandler
    return yield* handler.handle(jobId, command, new Date())
  }).pipe(Effect.retry({ while: (error) => untilReachable && error._tag === "DatabaseError", schedule: Schedule.spaced(OUTAGE_RETRY_MS) })))

/** Defaults of a new job. */
export const JOB_DEFAULTS = {
  priority: 0,
  maxAttempts: 3,
  /** One execution's wall-clock limit, ms (30 min). */
  timeoutMs: 30 * 60_000
} as const

/** The help line of `--permissions L` (jobs enqueue, execute). */
export const PERMISSIONS_HELP: OptionHelp = [
  "--permissions L",
  "what the agent may do: plan (read only), edit (edit files) or full (edit files and run commands); default: AIDP_PERMISSIONS, else edit"
]

/**
 * A new job's permissions: `flag` (--permissions, already checked), else `fallback`
 * (AIDP_PERMISSIONS). Throws UsageError (exit 2, nothing enqueued) when `provider` cannot run
 * at that level (cursor has no read-only mode).
 */
export const jobPermissions = (provider: Provider, flag: Permissions | undefined, fallback: Permissions): Permissions => {
  const permissions = flag ?? fallback
  // Named where it came from when the user did not type it.
  const refusal = permissionsRefusal(provider, permissions, flag === undefined ? `AIDP_PERMISSIONS=${fallback}` : undefined)
  if (refusal !== undefined) throw new UsageError(refusal)
  return permissions
}
