/**
 * The write side of `aidp jobs`: enqueue, retry, cancel. Each turns into one domain
 * command through the command handler; refusals come back as one sentence.
 */
import { realpath } from "node:fs/promises"
import path from "node:path"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type { JobCommand } from "../domain/decider.js"
import type { RecordedEvent } from "../domain/events.js"
import { type Budget, budgetRefusal, type Permissions, permissionsRefusal, type Provider } from "../domain/job.js"
import { CommandHandler } from "../projections/commandHandler.js"
import { OUTAGE_RETRY_MS } from "../workers/outage.js"
import type { App } from "./app.js"
import { UsageError } from "./errors.js"
import { intFlag, type OptionHelp } from "./parse.js"

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

/**
 * A new job's worktree for its Enqueue command: `given` (`--worktree`, a line's true/false or
 * shared key), else `fallback` (AIDP_WORKTREE); undefined for a job that runs in its folder.
 */
export const jobWorktree = (given: boolean | { readonly key: string } | undefined, fallback: boolean): { readonly key?: string } | undefined => {
  const wanted = given ?? fallback
  return wanted === false ? undefined : wanted === true ? {} : { key: wanted.key }
}

/** The help lines of `--max-cost USD` and `--max-turns N` (jobs enqueue, execute). */
export const BUDGET_HELP: ReadonlyArray<OptionHelp> = [
  ["--max-cost USD", "stop an attempt once it has spent USD dollars, e.g. 0.50 (claude only, as its --max-budget-usd); default: no limit"],
  ["--max-turns N", "stop an attempt after N agent turns, 1 to 10000 (claude only, as its --max-turns); default: no limit"]
]

/** The most `--max-cost` takes, US dollars: a typo's guard, not a policy. */
export const MAX_COST_USD = 100_000

/** How `--max-cost` is written: decimal dollars with at most 4 decimals (`0.50`, `.5`, `12`). */
export const DOLLARS = /^(?:\d+(?:\.\d{1,4})?|\.\d{1,4})$/

/** Ends "--max-cost must be": what a valid amount is. */
export const DOLLARS_EXPECTED = `an amount of US dollars above 0 and up to ${MAX_COST_USD}, with at most 4 decimals (e.g. --max-cost 0.50)`

/**
 * A new job's budget from `--max-cost` (text: decimal dollars, up to 4 decimals) and
 * `--max-turns`. Throws UsageError (exit 2, nothing enqueued) for a value that is not a
 * positive amount or count, or when `provider` cannot be held to a limit (budgetRefusal).
 */
export const jobBudget = (provider: Provider, maxCost: string | undefined, maxTurns: number | undefined): Budget => {
  let maxCostUsd: number | undefined
  if (maxCost !== undefined) {
    maxCostUsd = Number(maxCost.trim())
    if (!DOLLARS.test(maxCost.trim()) || !(maxCostUsd > 0) || maxCostUsd > MAX_COST_USD) {
      throw new UsageError(`--max-cost must be ${DOLLARS_EXPECTED}; got ${JSON.stringify(maxCost)}.`)
    }
  }
  return heldBudget(provider, { maxCostUsd, maxTurns: intFlag("max-turns", maxTurns, 1, 10_000) })
}

/** `budget`, when `provider` can be held to it; throws UsageError (budgetRefusal's sentence) otherwise. */
export const heldBudget = (provider: Provider, budget: Budget): Budget => {
  const refusal = budgetRefusal(provider, budget)
  if (refusal !== undefined) throw new UsageError(refusal)
  return budget
}
