/**
 * Lenient readers for the CLIs' JSON lines and the one-line progress messages made from them.
 * Pure; no I/O. PROVIDERS.md: the CLIs change weekly, so every field is optional and
 * unknown fields and event types are ignored.
 */

/** A parsed JSON object; anything else (arrays, scalars) is not an event. */
export type JsonObject = Readonly<Record<string, unknown>>

/** The line parsed as a JSON object, or undefined for non-JSON text (banners, noise). */
export function parseJsonObject(line: string): JsonObject | undefined {
  const trimmed = line.trim()
  if (!trimmed.startsWith("{")) return undefined
  try {
    const value: unknown = JSON.parse(trimmed)
    return isObject(value) ? value : undefined
  } catch {
    return undefined
  }
}

/** True for a plain JSON object. */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value)
}

/** `record[key]` when it is a string. */
export function str(record: JsonObject | undefined, key: string): string | undefined {
  const value = record?.[key]
  return typeof value === "string" ? value : undefined
}

/** `record[key]` when it is a finite number. */
export function num(record: JsonObject | undefined, key: string): number | undefined {
  const value = record?.[key]
  return typeof value === "number" && Number.isFinite(value) ? value : undefined
}

/** `record[key]` when it is a JSON object. */
export function obj(record: JsonObject | undefined, key: string): JsonObject | undefined {
  const value = record?.[key]
  return isObject(value) ? value : undefined
}

/** `record[key]` when it is an array (elements unchecked). */
export function arr(record: JsonObject | undefined, key: string): ReadonlyArray<unknown> {
  const value = record?.[key]
  return Array.isArray(value) ? value : []
}

/** Longest progress detail, in characters. */
export const SUMMARY_CHARS = 120

/** Text on one line (whitespace collapsed), cut to `max` characters with `…`. */
export function summary(text: string, max = SUMMARY_CHARS): string {
  const line = text.replace(/\s+/g, " ").trim()
  return line.length <= max ? line : `${line.slice(0, max - 1).trimEnd()}…`
}

/** Keys of a tool's input that best describe a call, in order of preference. */
const TOOL_DETAIL_KEYS = ["file_path", "path", "notebook_path", "command", "pattern", "url", "query", "description", "prompt"]

/**
 * `tool: <name> <detail>` for a tool call, e.g. `tool: Edit docs/PRD.md`. Paths under `cwd`
 * are shown relative to it.
 */
export function toolProgress(name: string, input: JsonObject | undefined, cwd: string | undefined): string {
  const detail = TOOL_DETAIL_KEYS.map((key) => str(input, key)).find((value) => value !== undefined && value !== "")
  const relative = detail !== undefined && cwd !== undefined && detail.startsWith(`${cwd}/`) ? detail.slice(cwd.length + 1) : detail
  return summary(relative === undefined ? `tool: ${name}` : `tool: ${name} ${relative}`)
}

/** Appends `line` to a `\n`-joined tail and keeps only the last `maxChars` (whole lines when possible). */
export function appendTail(tail: string, line: string, maxChars: number): string {
  const joined = tail === "" ? line : `${tail}\n${line}`
  if (joined.length <= maxChars) return joined
  const cut = joined.slice(joined.length - maxChars)
  const newline = cut.indexOf("\n")
  return newline === -1 ? cut : cut.slice(newline + 1)
}
