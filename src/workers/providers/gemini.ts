/**
 * Gemini CLI (`gemini`, npm `@google/gemini-cli`) headless in stream-json mode. Shapes from
 * PROVIDERS.md: `init` (model), `message` (assistant text in `delta` pieces), `tool_use`,
 * `tool_result`, non-fatal `error`, and a final `result` with `status` and, on error,
 * `error{type,message}`. The answer is the assistant text joined. Stderr is noise unless the
 * run fails (retries of a 429 print there while the run may still succeed). Pure.
 */
import type { ErrorKind } from "../../domain/job.js"
import { classifyHttpStatus } from "../classify.js"
import { decideOutcome, joinTexts } from "./outcome.js"
import { obj, parseJsonObject, str, type JsonObject } from "../../domain/json.js"
import { appendTail, summary, toolProgress } from "./parse.js"
import type { ProviderAdapter } from "./types.js"

/** Parser state. `pending` is assistant text not yet reported as progress. */
export interface GeminiState {
  readonly answer: string
  readonly pending: string
  /** The last `error` event of severity `error` (non-fatal on its own). */
  readonly lastError: string
  readonly result?: { readonly ok: boolean; readonly errorText: string; readonly stats: JsonObject | undefined }
  readonly plain: string
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

/** Reports assistant text gathered since the last progress message, if any. */
function flushPending(state: GeminiState): { state: GeminiState; progress: string[] } {
  if (state.pending.trim() === "") return { state: { ...state, pending: "" }, progress: [] }
  return { state: { ...state, pending: "" }, progress: [summary(`assistant: ${state.pending}`)] }
}

/** The state and progress after one event other than assistant text. */
function onEvent(state: GeminiState, event: JsonObject): { state: GeminiState; progress: string[]; terminal?: boolean } {
  switch (str(event, "type")) {
    case "init":
      return { state, progress: [summary(`started: model ${str(event, "model") ?? "default"}`)] }
    case "tool_use":
      return { state, progress: [toolProgress(str(event, "tool_name") ?? "unknown", obj(event, "parameters"), undefined)] }
    case "tool_result": {
      const message = str(obj(event, "error"), "message")
      return { state, progress: str(event, "status") === "error" ? [summary(`tool error: ${message ?? "failed"}`)] : [] }
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
 * The Gemini CLI adapter. `--approval-mode auto_edit`: without it headless runs get no edit
 * tools (PROVIDERS.md); `yolo` would also approve every shell command. `--skip-trust`: an
 * untrusted folder is refused otherwise. `-p ""`: headless, the prompt comes from stdin.
 */
export const geminiAdapter: ProviderAdapter<GeminiState> = {
  provider: "gemini",
  binEnv: "AIDP_GEMINI_BIN",
  defaultBin: "gemini",
  installHint: "npm install -g @google/gemini-cli",
  promptVia: "stdin",
  argv: ({ model }) => [
    "-o",
    "stream-json",
    ...(model === undefined ? [] : ["-m", model]),
    "--approval-mode",
    "auto_edit",
    "--skip-trust",
    "-p",
    ""
  ],
  initial: () => ({ answer: "", pending: "", lastError: "", plain: "" }),
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
      terminal:
        result === undefined
          ? undefined
          : {
              ok: result.ok,
              result: state.answer,
              errorText: result.errorText || state.lastError,
              usage: result.stats
            }
    })
  }
}
