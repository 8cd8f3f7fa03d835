/**
 * Gemini CLI's stream-json as activity (PROVIDERS.md): `init` (model), `message` (assistant
 * text in pieces with `delta:true`, joined here into one entry), `tool_use` (tool_name,
 * tool_id, parameters), `tool_result` (tool_id, status success|error, output, error), `error`
 * (non-fatal, severity warning|error) and the final `result` (status, stats, error). Its own
 * retries show only on stderr: "Attempt 1 failed with status 429. Retrying with backoff...".
 * Pure.
 */
import { type JsonObject, num, obj, str } from "../json.js"
import { toolTarget } from "../tools.js"
import { usageOf } from "../usage.js"
import { after, join, text, toolCall, toolName, utf8Bytes } from "./common.js"
import type { ActivityEntry, ProviderRenderer, ProviderState, Step } from "./types.js"

/** Gemini's stderr retry notice: attempt, HTTP status, the rest of the line. */
const RETRY_NOTICE = /^\s*Attempt (\d+) failed(?: with status (\d+))?(.*?)\bRetrying\b(?: with backoff)?(?: after (\d+) ?ms)?\.*\s*(.*)$/

/** A retry entry for gemini's stderr retry notice; null for any other stderr line. */
export function geminiRetryNotice(line: string, at: Date): ActivityEntry | null {
  const match = RETRY_NOTICE.exec(line)
  if (match === null) return null
  const [, attempt, status, middle = "", delay, rest = ""] = match
  const reason = rest.trim() !== "" ? rest.trim() : middle.replace(/^[\s.:]+|[\s.:]+$/g, "")
  return {
    kind: "retry",
    at,
    attempt: Number(attempt),
    maxRetries: null,
    delayMs: delay === undefined ? null : Number(delay),
    status: status === undefined ? null : Number(status),
    reason: reason === "" ? null : reason
  }
}

function message(state: ProviderState, event: JsonObject, at: Date): Step<ProviderState> {
  if (str(event, "role") !== "assistant") return { state, entries: [] }
  const content = str(event, "content") ?? ""
  return event["delta"] === true ? join(state, "text", content, at) : text(state, content, at)
}

function toolResult(state: ProviderState, event: JsonObject, at: Date): Step<ProviderState> {
  const ok = str(event, "status") !== "error"
  const error = str(obj(event, "error"), "message") ?? str(obj(event, "error"), "type")
  const output = str(event, "output") ?? (ok ? "" : error ?? "")
  return after(state, [{ kind: "toolResult", at, name: toolName(state, str(event, "tool_id")), ok, bytes: utf8Bytes(output), error: ok ? null : error ?? output }])
}

function result(state: ProviderState, event: JsonObject, at: Date): Step<ProviderState> {
  const ok = str(event, "status") === "success"
  const error = obj(event, "error")
  const stats = obj(event, "stats")
  return after(state, [{
    kind: "result",
    at,
    ok,
    text: ok ? null : str(error, "message") ?? str(error, "type") ?? null,
    durationMs: num(stats, "duration_ms") ?? null,
    turns: null,
    usage: usageOf(stats),
    costUsd: null
  }])
}

/** The Gemini CLI renderer. */
export const geminiRenderer: ProviderRenderer = {
  event(state, event, at) {
    switch (str(event, "type")) {
      case "init":
        return after(state, [{ kind: "session", at, model: str(event, "model") ?? null, version: null }])
      case "message":
        return message(state, event, at)
      case "tool_use":
        return toolCall(state, str(event, "tool_id"), str(event, "tool_name") ?? "tool", toolTarget(obj(event, "parameters"), state.cwd), at)
      case "tool_result":
        return toolResult(state, event, at)
      case "error": {
        const text = str(event, "message") ?? ""
        return after(state, [{ kind: str(event, "severity") === "warning" ? "warning" : "error", at, text }])
      }
      case "result":
        return result(state, event, at)
      default:
        return { state, entries: [] }
    }
  },
  stderr: geminiRetryNotice
}
