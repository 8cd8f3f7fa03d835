/**
 * Agent sessions (issue 7 item 4, "resume instead of restart"): whether an execution
 * continues the conversation of the job's last execution or starts a new one, and the prompt
 * that asks a resumed agent to go on. Pure; no I/O.
 */
import type { Provider } from "./job.js"

/**
 * What a provider CLI can do with sessions besides resuming one by its id, which all three
 * do with `--resume <id>` (PROVIDERS.md, "Sessions, permissions and budgets"; gemini: its
 * session-management docs and SessionSelector.findSession, which looks the UUID up first):
 * `choose`, start a session with an id aidp picks (claude and gemini `--session-id <uuid>`).
 */
export interface SessionSupport {
  readonly choose: boolean
}

/** The session of the job's last execution: its attempt and the agent's session id. */
export interface LastSession {
  readonly attempt: number
  readonly sessionId: string
}

/**
 * How one execution uses sessions. `Resume`: continue `sessionId`, the session of attempt
 * `attempt`. `Fresh`: a new conversation, in session `sessionId` when aidp chose it up front
 * (absent when the CLI picks its own); `notResumed` says why the last execution's session is
 * not continued although it has one (a line for the job's log), absent otherwise.
 */
export type SessionPlan =
  | { readonly _tag: "Resume"; readonly sessionId: string; readonly attempt: number }
  | { readonly _tag: "Fresh"; readonly sessionId?: string; readonly notResumed?: string }

/** What {@link planSession} decides from. */
export interface SessionFacts {
  readonly support: SessionSupport
  /** The job's last execution's session, null when it had none (or there was none). */
  readonly last: LastSession | null
  /** The pending retry asked for a fresh start (`aidp jobs retry --fresh`). */
  readonly fresh: boolean
  /** A new session id (UUID) for a CLI that takes one up front; made by the caller. */
  readonly newSessionId: string
}

/** A fresh start: in a session aidp chose when the CLI takes one, with the reason a session was left. */
export const freshPlan = (support: SessionSupport, newSessionId: string, notResumed?: string): SessionPlan => ({
  _tag: "Fresh",
  ...(support.choose ? { sessionId: newSessionId } : {}),
  ...(notResumed === undefined ? {} : { notResumed })
})

/**
 * The session plan of the next execution: resume the last execution's session when it has
 * one and no fresh start was asked for; else start fresh (saying why when a session was
 * there to resume).
 */
export const planSession = (facts: SessionFacts): SessionPlan => {
  const { last, support } = facts
  if (last === null) return freshPlan(support, facts.newSessionId)
  if (facts.fresh) {
    return freshPlan(support, facts.newSessionId, `Starting fresh as asked (--fresh): attempt ${last.attempt}'s session ${last.sessionId} is not resumed.`)
  }
  return { _tag: "Resume", sessionId: last.sessionId, attempt: last.attempt }
}

/**
 * The plan a running execution started with, from what its ExecutionStarted recorded
 * (`session_id`, `resumed_attempt`; null when absent).
 */
export const startedPlan = (sessionId: string | null, resumedAttempt: number | null): SessionPlan =>
  sessionId !== null && resumedAttempt !== null
    ? { _tag: "Resume", sessionId, attempt: resumedAttempt }
    : { _tag: "Fresh", ...(sessionId === null ? {} : { sessionId }) }

/**
 * The prompt of a resumed execution, instead of the job's prompt (which is the session's
 * first message): says it is a continuation of the interrupted task, so the agent neither
 * starts over nor takes it for a new task.
 */
export const continuePrompt = (attempt: number): string =>
  [
    `This is a continuation. Your previous run of this task (aidp attempt ${attempt}) was interrupted before it finished.`,
    "Continue the original task from the first message of this conversation where you left off:",
    "check what is already done, do not redo it, and finish with the result the original task asked for."
  ].join(" ") + "\n"

/** The log line of a resumed execution whose session the CLI no longer has; it starts fresh. */
export const sessionGoneLine = (provider: Provider, plan: Extract<SessionPlan, { _tag: "Resume" }>): string =>
  `${provider} no longer has attempt ${plan.attempt}'s session ${plan.sessionId}: starting fresh with the original prompt.`

/**
 * How an execution used its session, for people (`jobs show`, the monitor's details):
 * `resumed attempt 1's session`, `fresh start: attempt 1's session was gone`, or undefined
 * for a plain fresh start.
 */
export const sessionNote = (resumedAttempt: number | null, sessionGone: boolean): string | undefined => {
  if (resumedAttempt === null) return undefined
  return sessionGone ? `fresh start: attempt ${resumedAttempt}'s session was gone` : `resumed attempt ${resumedAttempt}'s session`
}
