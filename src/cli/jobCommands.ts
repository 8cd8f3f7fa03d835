/**
 * The write side of `aidp jobs`: enqueue, retry, cancel. Each turns into one domain
 * command through the command handler; refusals come back as one sentence.
 */
import { Effect } from "effect"
import type { JobCommand } from "../domain/decider.js"
import type { RecordedEvent } from "../domain/events.js"
import { type Permissions, permissionsRefusal, type Provider } from "../domain/job.js"
import { CommandHandler } from "../projections/commandHandler.js"
import type { App } from "./app.js"
import { UsageError } from "./errors.js"
import type { OptionHelp } from "./parse.js"

/** Runs `command` on job `jobId` now; rejects with JobNotFound / IllegalTransition / DatabaseError. */
export const submitCommand = (app: App, jobId: string, command: JobCommand): Promise<ReadonlyArray<RecordedEvent>> =>
  app.run(Effect.gen(function*() {
    const handler = yield* CommandHandler
    return yield* handler.handle(jobId, command, new Date())
  }))

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
  const refusal = permissionsRefusal(provider, permissions)
  if (refusal !== undefined) throw new UsageError(refusal)
  return permissions
}
