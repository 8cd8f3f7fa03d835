/**
 * Cursor CLI's stream-json as activity (PROVIDERS.md): `system/init` (model, cwd),
 * `assistant` text (with partial output it arrives twice, pieces then whole: shown once),
 * `thinking` deltas (joined into one line, ended by `subtype:"completed"`), `tool_call`
 * started|completed pairs (`{"tool_call":{"writeToolCall":{"args":{...},"result":{"success"|
 * "error":...}}}}`), `retry` on reconnects and the final `result` (success only; failures
 * print no JSON). Pure.
 */
import { arr, isObject, type JsonObject, num, obj, str } from "../json.js"
import { toolTarget } from "../tools.js"
import { usageOf } from "../usage.js"
import { after, flush, join, resultText, toolCall, toolName, utf8Bytes } from "./common.js"
import type { ProviderRenderer, ProviderState, Step } from "./types.js"

/** The text blocks of an `assistant` (or `thinking`) line, joined. */
const messageText = (event: JsonObject): string =>
  arr(obj(event, "message"), "content").map((block) => (isObject(block) ? str(block, "text") ?? "" : "")).join("")

function assistant(state: ProviderState, event: JsonObject, at: Date): Step<ProviderState> {
  const piece = messageText(event)
  // The whole text after its pieces: show the joined pieces once.
  if (state.pending?.kind === "text" && state.pending.text.trim() === piece.trim()) return flush(state)
  return join(state, "text", piece, at)
}

/** The tool call of a `tool_call` line: its name without `ToolCall`, and its body. */
function callOf(event: JsonObject): { name: string; body: JsonObject | undefined } {
  const found = Object.entries(obj(event, "tool_call") ?? {}).find(([, value]) => isObject(value))
  if (found === undefined) return { name: "tool", body: undefined }
  const [key, value] = found
  return { name: key.replace(/ToolCall$/, ""), body: isObject(value) ? value : undefined }
}

function toolEvent(state: ProviderState, event: JsonObject, at: Date): Step<ProviderState> {
  const id = str(event, "call_id")
  const call = callOf(event)
  if (str(event, "subtype") === "started") return toolCall(state, id, call.name, toolTarget(obj(call.body, "args"), state.cwd), at)
  if (str(event, "subtype") !== "completed") return { state, entries: [] }
  const outcome = obj(call.body, "result")
  const success = obj(outcome, "success")
  const failure = success === undefined ? obj(outcome, "error") ?? obj(outcome, "rejected") : undefined
  const error = failure === undefined ? null : str(failure, "message") ?? str(failure, "error") ?? JSON.stringify(failure)
  const output = JSON.stringify(success ?? failure ?? {})
  return after(state, [{ kind: "toolResult", at, name: toolName(state, id) ?? call.name, ok: failure === undefined, bytes: utf8Bytes(output), error }])
}

function result(state: ProviderState, event: JsonObject, at: Date): Step<ProviderState> {
  const ok = str(event, "subtype") === "success" && event["is_error"] !== true
  const flushed = flush(state)
  const final = str(event, "result")
  return after(flushed.state, [...flushed.entries, {
    kind: "result",
    at,
    ok,
    text: ok ? resultText(flushed.state, final) : final ?? str(event, "subtype") ?? null,
    durationMs: num(event, "duration_ms") ?? null,
    turns: null,
    usage: usageOf(event["usage"]),
    costUsd: null
  }])
}

/** The Cursor CLI renderer: stderr lines are shown as they are. */
export const cursorRenderer: ProviderRenderer = {
  event(state, event, at) {
    switch (str(event, "type")) {
      case "system": {
        if (str(event, "subtype") !== "init") return { state, entries: [] }
        const step = after(state, [{ kind: "session", at, model: str(event, "model") ?? null, version: null }])
        return { state: { ...step.state, cwd: str(event, "cwd") ?? step.state.cwd }, entries: step.entries }
      }
      case "assistant":
        return assistant(state, event, at)
      case "thinking":
        return str(event, "subtype") === "completed" ? flush(state) : join(state, "thinking", str(event, "text") ?? messageText(event), at)
      case "tool_call":
        return toolEvent(state, event, at)
      case "retry":
        return after(state, [{ kind: "retry", at, attempt: num(event, "attempt") ?? null, maxRetries: null, delayMs: null, status: null, reason: str(event, "message") ?? null }])
      case "result":
        return result(state, event, at)
      default:
        return { state, entries: [] }
    }
  },
  stderr: () => null
}
