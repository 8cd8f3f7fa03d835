/**
 * The one-line progress messages made from the CLIs' JSON lines. Pure; no I/O.
 */
import type { Denial } from "../../domain/events.js"
import type { JsonObject } from "../../domain/json.js"
import { toolTarget } from "../../domain/tools.js"

/** Longest progress detail, in characters. */
export const SUMMARY_CHARS = 120

/** Text on one line (whitespace collapsed), cut to `max` characters with `…`. */
export function summary(text: string, max = SUMMARY_CHARS): string {
  const line = text.replace(/\s+/g, " ").trim()
  return line.length <= max ? line : `${line.slice(0, max - 1).trimEnd()}…`
}

/**
 * `tool: <name> <target>` for a tool call, e.g. `tool: Edit docs/PRD.md` (see {@link toolTarget}).
 */
export function toolProgress(name: string, input: JsonObject | undefined, cwd: string | undefined): string {
  const target = toolTarget(input, cwd)
  return summary(target === undefined ? `tool: ${name}` : `tool: ${name} ${target}`)
}

/** Appends `line` to a `\n`-joined tail and keeps only the last `maxChars` (whole lines when possible). */
export function appendTail(tail: string, line: string, maxChars: number): string {
  const joined = tail === "" ? line : `${tail}\n${line}`
  if (joined.length <= maxChars) return joined
  const cut = joined.slice(joined.length - maxChars)
  const newline = cut.indexOf("\n")
  return newline === -1 ? cut : cut.slice(newline + 1)
}

/** A refused tool call: its name and main argument (see {@link toolTarget}) on one line. */
export function denial(tool: string, input: JsonObject | undefined, cwd: string | undefined): Denial {
  return { tool, target: summary(toolTarget(input, cwd) ?? "") }
}
