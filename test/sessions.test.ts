/**
 * Agent sessions, pure (issue 7 item 4): the session plan of an execution, the argv each
 * provider gets for it (fresh, chosen session id, resume), the session ids the parsers read
 * from the real CLIs' lines, the "session is gone" answers, and the decider's session facts.
 */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { Result } from "effect"
import { decide, fold } from "../src/domain/decider.js"
import { continuePrompt, planSession, type SessionFacts, sessionNote } from "../src/domain/session.js"
import { claudeAdapter } from "../src/workers/providers/claude.js"
import { cursorAdapter } from "../src/workers/providers/cursor.js"
import { geminiAdapter } from "../src/workers/providers/gemini.js"
import type { ExitInfo, ProviderAdapter } from "../src/workers/providers/types.js"
import { cmd } from "./support/commandBuilders.js"
import { at, ev, EXEC_1, EXEC_2 } from "./support/events.js"

const ID = "3b0e5f43-58c4-4a55-9a55-1f0c2a8d7e10"
const NEW = "0d6f0b3e-2d1c-4a7b-9a31-6a0c5e2f9b44"
const OPTIONS = { cwd: "/w", permissions: "full" } as const

const exited = (exitCode: number, stderrTail = ""): ExitInfo => ({
  exitCode,
  signal: null,
  stderrTail,
  timedOut: false,
  cancelled: false,
  killedAfterTerminal: false
})

/** The outcome of `stdout` lines (and a stderr tail) through an adapter. */
const outcomeOf = <S>(adapter: ProviderAdapter<S>, stdout: ReadonlyArray<string>, exit: ExitInfo) => {
  let state = adapter.initial()
  for (const line of stdout) state = adapter.onLine(state, line, "stdout").state
  return adapter.finish(state, exit)
}

describe("argv per provider and session plan", () => {
  it("claude: nothing without a plan, --session-id for a chosen id, --resume to continue", () => {
    const base = ["-p", "--output-format", "stream-json", "--verbose", "--permission-mode", "bypassPermissions"]
    assert.deepEqual(claudeAdapter.argv(OPTIONS), base)
    assert.deepEqual(claudeAdapter.argv({ ...OPTIONS, session: { _tag: "Fresh", sessionId: NEW } }), [...base, "--session-id", NEW])
    assert.deepEqual(claudeAdapter.argv({ ...OPTIONS, session: { _tag: "Resume", sessionId: ID, attempt: 1 } }), [...base, "--resume", ID])
  })

  it("gemini: --session-id for a chosen id, --resume with the session's UUID (never `latest`: another job's in a shared folder)", () => {
    assert.deepEqual(geminiAdapter.argv({ ...OPTIONS, session: { _tag: "Fresh", sessionId: NEW } }), [
      "-o", "stream-json", "--approval-mode", "yolo", "--session-id", NEW, "--skip-trust", "-p", ""
    ])
    assert.deepEqual(geminiAdapter.argv({ ...OPTIONS, session: { _tag: "Resume", sessionId: ID, attempt: 1 } }), [
      "-o", "stream-json", "--approval-mode", "yolo", "--resume", ID, "--skip-trust", "-p", ""
    ])
  })

  it("cursor: --resume to continue; it names new chats itself, so a fresh plan has no id and no flag", () => {
    const fresh = ["-p", "--output-format", "stream-json", "--trust", "--force", "--workspace", "/w"]
    assert.deepEqual(cursorAdapter.argv({ ...OPTIONS, session: { _tag: "Fresh" } }), fresh)
    assert.deepEqual(cursorAdapter.argv({ ...OPTIONS, session: { _tag: "Resume", sessionId: ID, attempt: 2 } }), [
      "-p", "--output-format", "stream-json", "--trust", "--force", "--resume", ID, "--workspace", "/w"
    ])
    assert.throws(() => cursorAdapter.argv({ ...OPTIONS, session: { _tag: "Fresh", sessionId: NEW } }), /cursor cannot start a session with a chosen id/)
  })
})

describe("planSession", () => {
  const facts = (adapter: ProviderAdapter<unknown>, fields: Partial<SessionFacts> = {}): SessionFacts => ({
    support: adapter.sessions,
    last: { attempt: 1, sessionId: ID },
    fresh: false,
    newSessionId: NEW,
    ...fields
  })

  it("a first execution starts fresh, in a session aidp chose where the CLI takes one", () => {
    assert.deepEqual(planSession(facts(claudeAdapter as ProviderAdapter<unknown>, { last: null })), { _tag: "Fresh", sessionId: NEW })
    assert.deepEqual(planSession(facts(geminiAdapter as ProviderAdapter<unknown>, { last: null })), { _tag: "Fresh", sessionId: NEW })
    assert.deepEqual(planSession(facts(cursorAdapter as ProviderAdapter<unknown>, { last: null })), { _tag: "Fresh" })
  })

  it("a retry resumes the last execution's session (every provider)", () => {
    for (const adapter of [claudeAdapter, geminiAdapter, cursorAdapter] as Array<ProviderAdapter<unknown>>) {
      assert.deepEqual(planSession(facts(adapter)), { _tag: "Resume", sessionId: ID, attempt: 1 }, adapter.provider)
    }
  })

  it("--fresh never resumes, and says so", () => {
    const plan = planSession(facts(claudeAdapter as ProviderAdapter<unknown>, { fresh: true }))
    assert.equal(plan._tag, "Fresh")
    assert.equal(plan._tag === "Fresh" && plan.sessionId, NEW)
    assert.match(plan._tag === "Fresh" ? plan.notResumed ?? "" : "", /^Starting fresh as asked \(--fresh\): attempt 1's session 3b0e5f43-\S+ is not resumed\.$/)
  })

  it("the continue prompt says it is a continuation of the original task", () => {
    assert.match(continuePrompt(2), /^This is a continuation\. Your previous run of this task \(aidp attempt 2\) was interrupted/)
    assert.match(continuePrompt(2), /original task/)
  })

  it("people read how an execution used its session", () => {
    assert.equal(sessionNote(1, false), "resumed attempt 1's session")
    assert.equal(sessionNote(1, true), "fresh start: attempt 1's session was gone")
    assert.equal(sessionNote(null, false), undefined)
  })
})

describe("session ids as the CLIs report them", () => {
  it("claude: init and result carry session_id; a failed run keeps it", () => {
    const init = `{"type":"system","subtype":"init","session_id":"${ID}","model":"m","claude_code_version":"2.1.332"}`
    const failed = `{"type":"result","subtype":"success","is_error":true,"api_error_status":429,"result":"API Error: Request rejected (429)","session_id":"${ID}"}`
    const outcome = outcomeOf(claudeAdapter, [init, failed], exited(1))
    assert.equal(outcome.kind, "failed")
    assert.equal(outcome.sessionId, ID)
  })

  it("gemini: init carries session_id", () => {
    const outcome = outcomeOf(geminiAdapter, [
      `{"type":"init","timestamp":"2026-09-25T03:30:00.000Z","session_id":"${ID}","model":"gemini-2.5-pro"}`,
      `{"type":"message","timestamp":"2026-09-25T03:30:01.000Z","role":"assistant","content":"Done.","delta":true}`,
      `{"type":"result","timestamp":"2026-09-25T03:30:02.000Z","status":"success","stats":{}}`
    ], exited(0))
    assert.equal(outcome.kind, "succeeded")
    assert.equal(outcome.sessionId, ID)
  })

  it("cursor: the result's session_id", () => {
    const outcome = outcomeOf(cursorAdapter, [`{"type":"result","subtype":"success","is_error":false,"result":"ok","session_id":"${ID}"}`], exited(0))
    assert.equal(outcome.sessionId, ID)
  })

  it("a resume of a session the CLI no longer has is recognised from its error line", () => {
    const claude = outcomeOf(claudeAdapter, [], exited(1, `No conversation found with session ID: ${ID}`))
    assert.equal(claude.kind === "failed" && claudeAdapter.sessionGone(claude.error), true)
    const cursor = outcomeOf(cursorAdapter, [], exited(1, `Error: Chat not found: ${ID}`))
    assert.equal(cursor.kind === "failed" && cursorAdapter.sessionGone(cursor.error), true)
    const gemini = outcomeOf(geminiAdapter, [], exited(42, `Error resuming session: Invalid session identifier "${ID}".\n  Searched for sessions in /h/.gemini/tmp/x/chats.\n  Use --list-sessions to see available sessions, then use --resume {number}, --resume {uuid}, or --resume latest.`))
    assert.equal(gemini.kind === "failed" && geminiAdapter.sessionGone(gemini.error), true, JSON.stringify(gemini))
    assert.equal(geminiAdapter.sessionGone("Error resuming session: No previous sessions found for this project."), true)
    const other = outcomeOf(claudeAdapter, [], exited(1, "Invalid API key · Please run /login"))
    assert.equal(other.kind === "failed" && claudeAdapter.sessionGone(other.error), false)
    assert.equal(geminiAdapter.sessionGone("Request had invalid authentication credentials."), false)
  })
})

describe("the decider's session facts", () => {
  const events = (command: Parameters<typeof decide>[0], history: Parameters<typeof fold>[0]) => {
    const decision = decide(command, fold(history))
    assert.ok(Result.isSuccess(decision))
    return decision.success
  }

  it("ExecutionStarted records the chosen or resumed session and the attempt it resumes", () => {
    const [fresh] = events(cmd.start(EXEC_1, { session: { _tag: "Fresh", sessionId: NEW } }), [ev.queued()])
    assert.equal(fresh?.type === "ExecutionStarted" && fresh.data.session_id, NEW)
    assert.equal(fresh?.type === "ExecutionStarted" && "resumed_attempt" in fresh.data, false)
    const history = [ev.queued(), ev.started(EXEC_1), ev.failed(EXEC_1, "auth"), ev.retry("user", at(1_000))]
    const [resumed] = events(cmd.start(EXEC_2, { session: { _tag: "Resume", sessionId: ID, attempt: 1 } }), history)
    assert.deepEqual(resumed?.type === "ExecutionStarted" && [resumed.data.session_id, resumed.data.resumed_attempt], [ID, 1])
  })

  it("the last session is the reported one, else the one chosen at start; a fresh retry is remembered until the next start", () => {
    const started = ev.started(EXEC_1, 1, { session_id: NEW })
    assert.deepEqual(fold([ev.queued(), started]).lastSession, { attempt: 1, sessionId: NEW })
    const [failed] = events(cmd.fail(EXEC_1, "rate_limit", at(1_000), { sessionId: ID, sessionGone: true }), [ev.queued(), started])
    assert.deepEqual(failed?.type === "ExecutionFailed" && [failed.data.session_id, failed.data.session_gone], [ID, true])
    const ended = [ev.queued(), started, failed!]
    assert.deepEqual(fold(ended).lastSession, { attempt: 1, sessionId: ID })
    const [retried] = events({ _tag: "Retry", now: at(2_000), fresh: true }, ended)
    assert.deepEqual(retried, { type: "JobRetryRequested", data: { requested_by: "user", run_at: at(2_000).toISOString(), fresh: true } })
    assert.equal(fold([...ended, retried!]).retryFresh, true)
    assert.equal(fold([...ended, retried!, ev.started(EXEC_2, 2)]).retryFresh, false)
    assert.equal(fold([...ended, retried!, ev.started(EXEC_2, 2)]).lastSession, null)
  })
})
