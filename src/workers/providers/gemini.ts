/**
 * Gemini CLI (`gemini`, npm `@google/gemini-cli`) headless in stream-json mode. Shapes from
 * PROVIDERS.md: `init` (model), `message` (assistant text in `delta` pieces), `tool_use`,
 * `tool_result`, non-fatal `error`, and a final `result` with `status` and, on error,
 * `error{type,message}`. The answer is the assistant text joined. Stderr is noise unless the
 * run fails (retries of a 429 print there while the run may still succeed). Pure.
 */
import type { Denial } from "../../domain/events.js"
import type { ErrorKind, Permissions } from "../../domain/job.js"
import { classifyHttpStatus } from "../classify.js"
import { decideOutcome, joinTexts } from "./outcome.js"
import { obj, parseJsonObject, str, type JsonObject } from "../../domain/json.js"
import { appendTail, denial, summary, toolProgress } from "./parse.js"
import { GEMINI_SESSION_GONE, sessionArgs, withSession } from "./session.js"
import type { ProviderAdapter } from "./types.js"

/** Parser state. `pending` is assistant text not yet reported as progress. */
export interface GeminiState {
  readonly answer: string
  readonly pending: string
  /** The last `error` event of severity `error` (non-fatal on its own). */
  readonly lastError: string
  readonly result?: { readonly ok: boolean; readonly errorText: string; readonly stats: JsonObject | undefined }
  readonly plain: string
  /** Tool calls awaiting their `tool_result`, by `tool_id`. */
  readonly calls: Readonly<Record<string, Denial>>
  /** Tool calls refused so far. */
  readonly denials: ReadonlyArray<Denial>
  /** `session_id` of the init event. */
  readonly sessionId?: string
}

const PLAIN_TAIL_CHARS = 4096

/**
 * What a gemini exit code means. PROVIDERS.md: 41 auth, 42 bad input, 44 sandbox, 52 config,
 * 53 turn limit, 54 fatal tool error, 130 cancelled; an API error exits with its HTTP status
 * mod 256 (400 -> 144 ... 429 -> 173, 503 -> 247), so 144..255 is read as status 400..511.
 */
export function geminiExitKind(exitCode: number): ErrorKind | undefined {
  if (exitCode === 41) return "auth"
  if (exitCode === 130) return "cancelled"
  if ([42, 44, 52, 53, 54].includes(exitCode)) return "unknown"
  if (exitCode >= 144 && exitCode <= 255) return classifyHttpStatus(exitCode + 256) ?? "unknown"
  return undefined
}

/**
 * `tool_result` error types that mean the call was refused, not that the tool failed
 * (gemini-cli's ToolErrorType): a tool the approval mode did not register, one it excluded,
 * one its policy denied.
 */
export const DENIED_TOOL_ERRORS: ReadonlySet<string> = new Set(["tool_not_registered", "execution_denied", "policy_violation"])

/** `--approval-mode` per level: `plan` reads only; `auto_edit` approves edits; `yolo` approves everything, the shell too. */
const APPROVAL_MODE: { readonly [P in Permissions]: string } = {
  plan: "plan",
  edit: "auto_edit",
  full: "yolo"
}

/**
 * The state after a `tool_result`: the call leaves {@link GeminiState.calls}, and joins
 * {@link GeminiState.denials} when its error type is one of {@link DENIED_TOOL_ERRORS}.
 */
export function settleToolCall(state: GeminiState, event: JsonObject): GeminiState {
  const id = str(event, "tool_id") ?? ""
  const { [id]: call, ...calls } = state.calls
  const refused = str(event, "status") === "error" && DENIED_TOOL_ERRORS.has(str(obj(event, "error"), "type") ?? "")
  return { ...state, calls, denials: refused ? [...state.denials, call ?? { tool: "unknown", target: "" }] : state.denials }
}

/**
 * Gemini's session flags: `--session-id <uuid>` starts one with aidp's id; `-r/--resume`
 * takes `latest`, an index from `--list-sessions` or a session's UUID. aidp resumes by UUID
 * only: `latest` may be another job's session when jobs share a folder.
 */
const geminiSessions = { choose: true }

/** Reports assistant text gathered since the last progress message, if any. */
function flushPending(state: GeminiState): { state: GeminiState; progress: string[] } {
  if (state.pending.trim() === "") return { state: { ...state, pending: "" }, progress: [] }
  return { state: { ...state, pending: "" }, progress: [summary(`assistant: ${state.pending}`)] }
}

/** The state and progress after one event other than assistant text. */
function onEvent(state: GeminiState, event: JsonObject): { state: GeminiState; progress: string[]; terminal?: boolean } {
  switch (str(event, "type")) {
    case "init":
      return { state: withSession(state, event), progress: [summary(`started: model ${str(event, "model") ?? "default"}`)] }
    case "tool_use": {
      const name = str(event, "tool_name") ?? "unknown"
      const call = denial(name, obj(event, "parameters"), undefined)
      const calls = { ...state.calls, [str(event, "tool_id") ?? ""]: call }
      return { state: { ...state, calls }, progress: [toolProgress(name, obj(event, "parameters"), undefined)] }
    }
    case "tool_result": {
      const message = str(obj(event, "error"), "message")
      return { state: settleToolCall(state, event), progress: str(event, "status") === "error" ? [summary(`tool error: ${message ?? "failed"}`)] : [] }
    }
    case "error": {
      const message = str(event, "message") ?? ""
      const severity = str(event, "severity") ?? "error"
      return {
        state: severity === "error" ? { ...state, lastError: message } : state,
        progress: [summary(`${severity}: ${message}`)]
      }
    }
    case "result": {
      const error = obj(event, "error")
      const errorText = str(error, "message") ?? str(error, "type") ?? ""
      return {
        state: { ...state, result: { ok: str(event, "status") === "success", errorText, stats: obj(event, "stats") } },
        progress: [],
        terminal: true
      }
    }
    default:
      return { state, progress: [] }
  }
}

/**
 * The Gemini CLI adapter. `--approval-mode` from the job's level ({@link APPROVAL_MODE}):
 * in the default mode headless runs get no edit or shell tools (PROVIDERS.md), and a call to a
 * tool the mode did not give is a refusal. `--skip-trust`: an untrusted folder is refused
 * otherwise. `-p ""`: headless, the prompt comes from stdin.
 */
export const geminiAdapter: ProviderAdapter<GeminiState> = {
  provider: "gemini",
  binEnv: "AIDP_GEMINI_BIN",
  defaultBin: "gemini",
  installHint: "npm install -g @google/gemini-cli",
  promptVia: "stdin",
  argv: ({ model, permissions, session }) => [
    "-o",
    "stream-json",
    ...(model === undefined ? [] : ["-m", model]),
    "--approval-mode",
    APPROVAL_MODE[permissions],
    ...sessionArgs("gemini", geminiSessions, session),
    "--skip-trust",
    "-p",
    ""
  ],
  sessions: geminiSessions,
  sessionGone: (error) => GEMINI_SESSION_GONE.test(error),
  initial: () => ({ answer: "", pending: "", lastError: "", plain: "", calls: {}, denials: [] }),
  onLine(state, line, stream) {
    if (stream === "stderr") return { state }
    const event = parseJsonObject(line)
    if (event === undefined) return { state: { ...state, plain: appendTail(state.plain, line, PLAIN_TAIL_CHARS) } }
    if (str(event, "type") === "message") {
      const content = str(event, "content") ?? ""
      if (str(event, "role") !== "assistant") return { state }
      return { state: { ...state, answer: state.answer + content, pending: state.pending + content } }
    }
    const flushed = flushPending(state)
    const step = onEvent(flushed.state, event)
    return { state: step.state, progress: [...flushed.progress, ...step.progress], ...(step.terminal ? { terminal: true } : {}) }
  },
  finish(state, exit) {
    const result = state.result
    return decideOutcome(exit, {
      provider: "gemini",
      fallbackText: joinTexts(state.lastError, exit.stderrTail, state.plain),
      exitKind: geminiExitKind,
      sessionId: state.sessionId,
      terminal:
        result === undefined
          ? undefined
          : {
              ok: result.ok,
              result: state.answer,
              errorText: result.errorText || state.lastError,
              usage: result.stats,
              denials: state.denials
            }
    })
  }
}
