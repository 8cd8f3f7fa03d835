/**
 * The main argument of an agent's tool call (the path, command or pattern it acts on), for the
 * one-line progress messages and the activity view. Pure.
 */
import type { Denial } from "./events.js"
import { type JsonObject, str } from "./json.js"

/** Keys of a tool's input that best describe a call, in order of preference. */
const TOOL_TARGET_KEYS = ["file_path", "path", "notebook_path", "command", "pattern", "url", "query", "description", "prompt"]

/**
 * The main argument of a tool call's input (`file_path`, `path`, `command`, `pattern`, ...),
 * with paths under `cwd` made relative to it; undefined when the input names none.
 */
export function toolTarget(input: JsonObject | undefined, cwd: string | undefined): string | undefined {
  const detail = TOOL_TARGET_KEYS.map((key) => str(input, key)).find((value) => value !== undefined && value !== "")
  return detail !== undefined && cwd !== undefined && detail.startsWith(`${cwd}/`) ? detail.slice(cwd.length + 1) : detail
}

/** A refused tool call as people read it: `Bash rm -rf build`, or the tool's name alone. */
export function denialLabel(denial: Denial): string {
  return denial.target === "" ? denial.tool : `${denial.tool} ${denial.target}`
}
