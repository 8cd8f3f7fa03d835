/**
 * Lenient readers for the agent CLIs' JSON lines. Pure; no I/O. PROVIDERS.md: the CLIs change
 * weekly, so every field is optional and unknown fields and event types are ignored.
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
