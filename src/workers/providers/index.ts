/**
 * Registry of provider adapters: provider name -> adapter, and which executable to run.
 * Pure; the environment is passed in.
 */
import type { EventOf } from "../../domain/events.js"
import { DEFAULT_PERMISSIONS, type Provider } from "../../domain/job.js"
import type { SessionPlan } from "../../domain/session.js"
import { claudeAdapter } from "./claude.js"
import { cursorAdapter } from "./cursor.js"
import { geminiAdapter } from "./gemini.js"
import type { ArgvOptions, ProviderAdapter } from "./types.js"

/** Every adapter by provider name. */
export const ADAPTERS: { readonly [P in Provider]: ProviderAdapter<unknown> } = {
  claude: claudeAdapter,
  gemini: geminiAdapter,
  cursor: cursorAdapter
}

/** The adapter of `provider`. */
export function adapterFor(provider: Provider): ProviderAdapter<unknown> {
  return ADAPTERS[provider]
}

/**
 * The executable for `adapter`: `env[adapter.binEnv]` (`AIDP_CLAUDE_BIN`, `AIDP_GEMINI_BIN`,
 * `AIDP_CURSOR_BIN`) when set and not blank, else its default (`claude`, `gemini`,
 * `cursor-agent`), looked up on PATH by the runner.
 */
export function resolveBin(adapter: ProviderAdapter<unknown>, env: NodeJS.ProcessEnv): string {
  const configured = env[adapter.binEnv]?.trim()
  return configured === undefined || configured === "" ? adapter.defaultBin : configured
}

/**
 * The command-line options of a queued job: its model, cwd, permissions (`edit` when its
 * event names none) and budget (`max_cost_usd`, `max_turns`; absent ones are no limit), and
 * the execution's session plan (none: the CLI's default).
 */
export function argvOptions(job: EventOf<"JobQueued">["data"], session?: SessionPlan): ArgvOptions {
  return {
    model: job.model ?? undefined,
    cwd: job.cwd,
    permissions: job.permissions ?? DEFAULT_PERMISSIONS,
    budget: { maxCostUsd: job.max_cost_usd, maxTurns: job.max_turns },
    ...(session === undefined ? {} : { session })
  }
}
