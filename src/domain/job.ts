/**
 * Core vocabulary of a job: providers, statuses and error kinds. Pure; no I/O.
 * The lists here are the single source for the SQL check constraints in `sql/` and
 * for the command line's accepted values.
 */
import * as Schema from "effect/Schema"

/** The agent CLIs aidp can run (PROVIDERS.md). */
export const PROVIDERS = ["claude", "gemini", "cursor"] as const
/** One of {@link PROVIDERS}. */
export type Provider = (typeof PROVIDERS)[number]
/** Schema for {@link Provider}. */
export const ProviderSchema = Schema.Literals(PROVIDERS)

/** Lifecycle of a job (DESIGN.md, Events table). */
export const JOB_STATUSES = ["queued", "running", "completed", "failed", "cancelled"] as const
/** One of {@link JOB_STATUSES}. */
export type JobStatus = (typeof JOB_STATUSES)[number]
/** Schema for {@link JobStatus}. */
export const JobStatusSchema = Schema.Literals(JOB_STATUSES)

/** Lifecycle of one execution (one attempt) of a job. */
export const EXECUTION_STATUSES = ["running", "succeeded", "failed", "cancelled", "abandoned"] as const
/** One of {@link EXECUTION_STATUSES}. */
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number]

/**
 * Why an execution failed (DESIGN.md, error_kind). `timeout`: the execution ran past the job's
 * `timeout_ms` and aidp stopped it (a hang); an API request that timed out inside the CLI is
 * `network`. `server_error`: the provider's API answered 5xx (500, 502, 504); 503 and 529
 * are `overloaded`. `budget`: the run stopped at the job's `--max-cost` or `--max-turns`.
 * `worktree`: a `--worktree` job's folder is not a git repository, is in the middle of a
 * merge or rebase, or its worktree could not be made; the agent never started.
 */
export const ERROR_KINDS = [
  "auth",
  "rate_limit",
  "quota",
  "overloaded",
  "server_error",
  "network",
  "timeout",
  "budget",
  "worktree",
  "not_installed",
  "bad_output",
  "crashed",
  "cancelled",
  "worker_lost",
  "unknown"
] as const
/** One of {@link ERROR_KINDS}. */
export type ErrorKind = (typeof ERROR_KINDS)[number]
/** Schema for {@link ErrorKind}. */
export const ErrorKindSchema = Schema.Literals(ERROR_KINDS)

/**
 * Error kinds that the retry policy re-queues automatically (with backoff, up to
 * max_attempts). `timeout` is retried only for a job enqueued with `--retry-timeouts`, `quota`
 * only when the provider named its reset (src/domain/retryPolicy.ts). Everything else waits
 * for a person to press `r`; `budget` among them, since waiting does not make a run cheaper.
 */
export const TRANSIENT_ERROR_KINDS: ReadonlySet<ErrorKind> = new Set<ErrorKind>([
  "rate_limit",
  "overloaded",
  "server_error",
  "network",
  "worker_lost"
])

/** Stream a log line came from: the child's stdout/stderr, or aidp itself. */
export const LOG_STREAMS = ["stdout", "stderr", "system"] as const
/** One of {@link LOG_STREAMS}. */
export type LogStream = (typeof LOG_STREAMS)[number]

/**
 * What an agent may do in a job (DESIGN.md, Agent runs): `plan` reads only, `edit` may edit
 * files, `full` may also run shell commands. Each adapter maps a level to its CLI's flags.
 */
export const PERMISSIONS = ["plan", "edit", "full"] as const
/** One of {@link PERMISSIONS}. */
export type Permissions = (typeof PERMISSIONS)[number]
/** Schema for {@link Permissions}. */
export const PermissionsSchema = Schema.Literals(PERMISSIONS)
/** The level of a job that names none: every job queued before levels existed, and the default. */
export const DEFAULT_PERMISSIONS: Permissions = "edit"

/**
 * Why `provider` cannot run a job at `permissions`, as a sentence, or undefined when it can.
 * Cursor's headless mode has no read-only mode (PROVIDERS.md), so `plan` is refused for it
 * rather than silently granting edits. `named` is how the sentence names the level's source
 * (`AIDP_PERMISSIONS=plan` when the user did not type it).
 */
export const permissionsRefusal = (provider: Provider, permissions: Permissions, named = "permissions plan"): string | undefined =>
  provider === "cursor" && permissions === "plan"
    ? `cursor-agent has no read-only mode, so aidp cannot run it with ${named}; use claude or gemini for plan, or permissions edit or full for cursor.`
    : undefined

/**
 * A job's project as the monitor, `jobs list` and `replay --stats --by project` name it: the
 * last folder of its cwd (`/home/me/shop/` -> `shop`); the root and other paths without a
 * folder name as they are.
 */
export function projectName(cwd: string): string {
  const parts = cwd.split(/[\\/]+/).filter((p) => p !== "")
  return parts[parts.length - 1] ?? cwd
}

/**
 * Most bytes of a job's prompt (UTF-8): 4 MiB, about a million tokens, more than any agent's
 * context window holds. The prompt is stored in the JobQueued event and sent to the agent
 * whole, so a larger one is refused: by the command line before reading it, and by decide.
 */
export const MAX_PROMPT_BYTES = 4 * 1024 * 1024

/**
 * A job's limits on one execution's spending (JobQueued `max_cost_usd`, `max_turns`; the
 * flags `--max-cost`, `--max-turns`). Absent: no limit.
 */
export interface Budget {
  /** Most US dollars one execution may spend, as the provider reports its cost. */
  readonly maxCostUsd?: number | undefined
  /** Most agent turns (model round trips) one execution may take. */
  readonly maxTurns?: number | undefined
}

/**
 * Providers whose CLI enforces a {@link Budget} itself (PROVIDERS.md): claude takes
 * `--max-budget-usd` and `--max-turns`. gemini and cursor-agent report no running cost and take
 * no turn limit on their command line, so a budget for them is refused.
 */
export const BUDGET_PROVIDERS: ReadonlySet<Provider> = new Set<Provider>(["claude"])

/**
 * Why `provider` cannot run a job with `budget`, as a sentence naming the flags given and
 * the fix, or undefined when it can (no limit set, or a {@link BUDGET_PROVIDERS} member).
 */
export const budgetRefusal = (provider: Provider, budget: Budget): string | undefined => {
  const flags = [
    ...(budget.maxCostUsd === undefined ? [] : ["--max-cost"]),
    ...(budget.maxTurns === undefined ? [] : ["--max-turns"])
  ]
  if (flags.length === 0 || BUDGET_PROVIDERS.has(provider)) return undefined
  const cli = provider === "cursor" ? "cursor-agent" : provider
  return `${cli} reports no running cost and takes no turn limit, so aidp cannot hold it to ${flags.join(" or ")}; use --provider claude, or leave out ${flags.join(" and ")}.`
}
