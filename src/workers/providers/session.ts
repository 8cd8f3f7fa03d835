/**
 * The session flags the CLIs share (PROVIDERS.md, "Sessions, permissions and budgets"):
 * claude and gemini start a session with a chosen id by `--session-id <uuid>`; all three
 * continue one by `--resume <id>`. Pure.
 */
import type { Provider } from "../../domain/job.js"
import { str, type JsonObject } from "../../domain/json.js"
import type { SessionPlan, SessionSupport } from "../../domain/session.js"

/**
 * The arguments that put a run in its planned session: `--resume ID`, `--session-id ID`, or
 * none (no plan, or a fresh start in a session the CLI names itself). Throws when the plan
 * asks for what the CLI cannot do (`support`); planSession never makes such a plan.
 */
export function sessionArgs(provider: Provider, support: SessionSupport, plan: SessionPlan | undefined): string[] {
  if (plan === undefined) return []
  if (plan._tag === "Resume") return ["--resume", plan.sessionId]
  if (plan.sessionId === undefined) return []
  if (!support.choose) throw new Error(`${provider} cannot start a session with a chosen id.`)
  return ["--session-id", plan.sessionId]
}

/**
 * claude's answer to `--resume` with a session it does not have (PROVIDERS.md): `No
 * conversation found with session ID: <id>`, exit 1.
 */
export const CLAUDE_SESSION_GONE = /No conversation found with session ID/i

/**
 * gemini's answer to `--resume` with a session it does not have (gemini-cli's
 * SessionSelector and resolveSessionId): `Error resuming session: Invalid session identifier
 * "<id>". ...` or `... No previous sessions found for this project.` on stderr, exit 42.
 */
export const GEMINI_SESSION_GONE = /Error resuming session|Invalid session identifier|No previous sessions found/i

/**
 * cursor-agent's answer to `--resume` with a chat it does not have. Not documented nor
 * observed: aidp assumes a stderr line naming the chat (or conversation) as not found, e.g.
 * `Error: Chat not found: <id>` (what test/fakes/fake-agent.mjs prints), or claude's wording.
 */
export const CURSOR_SESSION_GONE = /\b(chat|conversation)\b[^.]*\bnot found\b|No conversation found/i

/** A parser state with the event's `session_id` (claude and cursor: `init` and `result`), when the event names one. */
export function withSession<S extends { readonly sessionId?: string }>(state: S, event: JsonObject): S {
  const sessionId = str(event, "session_id")
  return sessionId === undefined ? state : { ...state, sessionId }
}
