/**
 * Claude Code's stream-json as activity (PROVIDERS.md): `system/init` (model,
 * `claude_code_version`, cwd), `assistant` lines whose content blocks are `text`, `thinking`
 * and `tool_use`, `user` lines carrying `tool_result` blocks (`is_error` on failure),
 * `system/api_retry` (attempt, max_retries, retry_delay_ms, error_status, error) and the final
 * `result` (subtype, is_error, result, duration_ms, num_turns, total_cost_usd, usage). Pure.
 */
import { arr, isObject, type JsonObject, num, obj, str } from "../json.js"
import { toolTarget } from "../tools.js"
import { usageOf } from "../usage.js"
import { after, resultText, text, toolCall, toolName, utf8Bytes } from "./common.js"
import type { ActivityEntry, ProviderRenderer, ProviderState, Step } from "./types.js"

/** The text of a tool result's `content`: a string, or the text of its blocks. */
function contentText(block: JsonObject): string {
  const content = block["content"]
  if (typeof content === "string") return content
  return arr(block, "content").map((part) => (isObject(part) ? str(part, "text") ?? JSON.stringify(part) : "")).join("")
}

function assistant(state: ProviderState, event: JsonObject, at: Date): Step<ProviderState> {
  let step: Step<ProviderState> = { state, entries: [] }
  for (const block of arr(obj(event, "message"), "content")) {
    if (!isObject(block)) continue
    const next = contentBlock(step.state, block, at)
    step = { state: next.state, entries: [...step.entries, ...next.entries] }
  }
  return step
}

function contentBlock(state: ProviderState, block: JsonObject, at: Date): Step<ProviderState> {
  switch (str(block, "type")) {
    case "text":
      return text(state, str(block, "text") ?? "", at)
    case "thinking": {
      const thought = str(block, "thinking") ?? ""
      return after(state, thought.trim() === "" ? [] : [{ kind: "thinking", at, text: thought }])
    }
    case "tool_use":
      return toolCall(state, str(block, "id"), str(block, "name") ?? "tool", toolTarget(obj(block, "input"), state.cwd), at)
    default:
      return { state, entries: [] }
  }
}

function toolResults(state: ProviderState, event: JsonObject, at: Date): Step<ProviderState> {
  const entries = arr(obj(event, "message"), "content").flatMap((block): ActivityEntry[] => {
    if (!isObject(block) || str(block, "type") !== "tool_result") return []
    const output = contentText(block)
    const ok = block["is_error"] !== true
    return [{ kind: "toolResult", at, name: toolName(state, str(block, "tool_use_id")), ok, bytes: utf8Bytes(output), error: ok ? null : output }]
  })
  return after(state, entries)
}

function system(state: ProviderState, event: JsonObject, at: Date): Step<ProviderState> {
  switch (str(event, "subtype")) {
    case "init": {
      const session: ActivityEntry = { kind: "session", at, model: str(event, "model") ?? null, version: str(event, "claude_code_version") ?? null }
      const step = after(state, [session])
      return { state: { ...step.state, cwd: str(event, "cwd") ?? step.state.cwd }, entries: step.entries }
    }
    case "api_retry":
      return after(state, [{
        kind: "retry",
        at,
        attempt: num(event, "attempt") ?? null,
        maxRetries: num(event, "max_retries") ?? null,
        delayMs: num(event, "retry_delay_ms") ?? null,
        status: num(event, "error_status") ?? null,
        reason: str(event, "error") ?? null
      }])
    default:
      return { state, entries: [] }
  }
}

function result(state: ProviderState, event: JsonObject, at: Date): Step<ProviderState> {
  const ok = str(event, "subtype") === "success" && event["is_error"] !== true
  const final = str(event, "result")
  return after(state, [{
    kind: "result",
    at,
    ok,
    text: ok ? resultText(state, final) : final ?? str(event, "subtype") ?? null,
    durationMs: num(event, "duration_ms") ?? null,
    turns: num(event, "num_turns") ?? null,
    usage: usageOf(event["usage"]),
    costUsd: num(event, "total_cost_usd") ?? null
  }])
}

/** The Claude Code renderer: stderr lines are shown as they are. */
export const claudeRenderer: ProviderRenderer = {
  event(state, event, at) {
    switch (str(event, "type")) {
      case "system":
        return system(state, event, at)
      case "assistant":
        return assistant(state, event, at)
      case "user":
        return toolResults(state, event, at)
      case "result":
        return result(state, event, at)
      default:
        return { state, entries: [] }
    }
  },
  stderr: () => null
}
