/** Steps every provider's renderer shares: joining text pieces, tool ids, sizes. Pure. */
import type { ActivityEntry, Pending, ProviderState, Step } from "./types.js"

/** The state of a renderer at the start of an execution. */
export const INITIAL_STATE: ProviderState = { cwd: undefined, tools: {}, pending: null, lastText: "" }

/** The entry text being joined turns into (nothing for blank text). */
const pendingEntry = (pending: Pending): ActivityEntry[] =>
  pending.text.trim() === "" ? [] : [{ kind: pending.kind, at: pending.at, text: pending.text }]

/** Ends the text being joined: its entry, and the state without it. */
export function flush(state: ProviderState): Step<ProviderState> {
  const { pending } = state
  if (pending === null) return { state, entries: [] }
  const lastText = pending.kind === "text" && pending.text.trim() !== "" ? pending.text : state.lastText
  return { state: { ...state, pending: null, lastText }, entries: pendingEntry(pending) }
}

/** `entries` after what was being joined, which they end. */
export function after(state: ProviderState, entries: ReadonlyArray<ActivityEntry>): Step<ProviderState> {
  const flushed = flush(state)
  return { state: flushed.state, entries: [...flushed.entries, ...entries] }
}

/** A piece of text or thinking joined to the pending one of its kind (ending one of the other kind). */
export function join(state: ProviderState, kind: Pending["kind"], text: string, at: Date): Step<ProviderState> {
  if (state.pending?.kind === kind) return { state: { ...state, pending: { kind, at, text: state.pending.text + text } }, entries: [] }
  const flushed = flush(state)
  return { state: { ...flushed.state, pending: { kind, at, text } }, entries: flushed.entries }
}

/** A whole assistant text, after what was being joined. */
export function text(state: ProviderState, value: string, at: Date): Step<ProviderState> {
  if (value.trim() === "") return { state, entries: [] }
  const step = after(state, [{ kind: "text", at, text: value }])
  return { state: { ...step.state, lastText: value }, entries: step.entries }
}

/** A tool call, remembering its name under `id` for its result. */
export function toolCall(state: ProviderState, id: string | undefined, name: string, target: string | undefined, at: Date): Step<ProviderState> {
  const step = after(state, [{ kind: "tool", at, name, target: target ?? null }])
  return { state: id === undefined ? step.state : { ...step.state, tools: { ...step.state.tools, [id]: name } }, entries: step.entries }
}

/** The name of the tool call `id` (null when its call was not seen, e.g. in a log tail). */
export const toolName = (state: ProviderState, id: string | undefined): string | null =>
  id === undefined ? null : state.tools[id] ?? null

/** The final text of a result, or null when it only repeats the last assistant text. */
export const resultText = (state: ProviderState, value: string | undefined): string | null =>
  value === undefined || value.trim() === "" || value.trim() === state.lastText.trim() ? null : value

/** The UTF-8 size of a string in bytes, without encoding it. */
export function utf8Bytes(value: string): number {
  let bytes = 0
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i)
    if (unit < 0x80) bytes += 1
    else if (unit < 0x800) bytes += 2
    else if (unit >= 0xd800 && unit <= 0xdbff && (value.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4
      i++
    } else bytes += 3
  }
  return bytes
}
