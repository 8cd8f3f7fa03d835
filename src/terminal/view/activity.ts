/**
 * Agent activity as screen lines, for the monitor's details and log view, `aidp jobs logs`
 * and `aidp execute`: `HH:MM:SS label    text`, the text wrapped at word boundaries under
 * its column. Every text is limited to its start when huge (see limited), then sanitized
 * (DESIGN.md, invariant 5). Pure.
 */
import type { ActivityEntry } from "../../domain/activity/types.js"
import type { Usage } from "../../domain/usage.js"
import { sanitize, sanitizeLines } from "../sanitize.js"
import { countOf, formatClock, formatDuration, shortId } from "./format.js"
import { formatBytes, limited } from "./limit.js"
import { type Line, padRight, seg, type StyleName, truncate, wrapWords } from "./text.js"

const LABEL_WIDTH = 8
/** Narrower than this, lines leave out the time. */
const CLOCK_MIN_WIDTH = 40

const RAW_LABEL: Record<Extract<ActivityEntry, { kind: "raw" }>["stream"], string> = { stdout: "stdout", stderr: "stderr", system: "aidp" }
const RAW_STYLE: Record<Extract<ActivityEntry, { kind: "raw" }>["stream"], StyleName | null> = { stdout: null, stderr: "error", system: "dim" }

/** A body of an entry: raw text (unsanitized) in one style. */
interface Part {
  readonly text: string
  readonly style: StyleName | null
}

/** The command that prints a job's stored log lines whole. */
export const rawLogsCommand = (jobId: string): string => `aidp jobs logs ${shortId(jobId)} --raw`

/** `1,234 in, 56 out, 7 cache read, 8 cache write` tokens. */
function usageText(usage: Usage): string {
  const counts: Array<[number, string]> = [
    [usage.inputTokens, "in"],
    [usage.outputTokens, "out"],
    [usage.cacheReadTokens, "cache read"],
    [usage.cacheWriteTokens, "cache write"]
  ]
  return counts.filter(([n], i) => i < 2 || n > 0).map(([n, what]) => `${n.toLocaleString("en-US")} ${what}`).join(", ")
}

function retryText(entry: Extract<ActivityEntry, { kind: "retry" }>): string {
  const attempt = entry.attempt === null ? "" : ` ${entry.attempt}${entry.maxRetries === null ? "" : ` of ${entry.maxRetries}`}`
  const why = [entry.status === null ? null : `HTTP ${entry.status}`, entry.reason].filter((s) => s !== null).join(" ")
  const delay = entry.delayMs === null ? "" : ` in ${formatDuration(entry.delayMs)}`
  return `API call attempt${attempt} failed${why === "" ? "" : ` (${why})`}; the CLI retries${delay}`
}

function resultParts(entry: Extract<ActivityEntry, { kind: "result" }>): Part[] {
  const outcome = `${entry.ok ? "succeeded" : "failed"}${entry.durationMs === null ? "" : ` in ${formatDuration(entry.durationMs)}`}`
  const facts = entry.turns === null ? outcome : `${outcome}, ${countOf(entry.turns, "turn")}`
  const summary = [facts, entry.usage === null ? null : `tokens ${usageText(entry.usage)}`, entry.costUsd === null ? null : `cost $${entry.costUsd.toFixed(4)}`]
    .filter((s) => s !== null)
    .join("; ")
  return [{ text: summary, style: entry.ok ? "completed" : "failed" }, ...(entry.text === null ? [] : [{ text: entry.text, style: entry.ok ? null : "error" } as const])]
}

/** The label and the body parts of an entry (attempt headers and thinking are drawn apart). */
function labelled(entry: Exclude<ActivityEntry, { kind: "attempt" | "thinking" }>): [string, Part[]] {
  switch (entry.kind) {
    case "session":
      return ["session", [{ text: [`model ${entry.model ?? "default"}`, entry.version === null ? null : `CLI ${entry.version}`].filter((s) => s !== null).join(", "), style: "dim" }]]
    case "text":
      return ["agent", [{ text: entry.text, style: null }]]
    case "tool":
      return ["tool", [{ text: entry.target === null ? entry.name : `${entry.name} ${entry.target}`, style: "info" }]]
    case "toolResult": {
      const name = entry.name ?? "tool"
      if (entry.ok) return ["output", [{ text: `${name} ok, ${formatBytes(entry.bytes)}`, style: "dim" }]]
      return ["output", [{ text: `${name} failed (${formatBytes(entry.bytes)})${entry.error === null ? "" : `: ${entry.error}`}`, style: "error" }]]
    }
    case "retry":
      return ["retry", [{ text: retryText(entry), style: "queued" }]]
    case "warning":
      return ["warning", [{ text: entry.text, style: "queued" }]]
    case "error":
      return ["error", [{ text: entry.text, style: "error" }]]
    case "result":
      return ["result", resultParts(entry)]
    case "raw":
      return [RAW_LABEL[entry.stream], [{ text: entry.text, style: RAW_STYLE[entry.stream] }]]
  }
}

/** The lines of one entry at `width` columns; `jobId` names the job in the "prints it whole" marker. */
export function entryLines(entry: ActivityEntry, width: number, jobId: string): Line[] {
  if (entry.kind === "attempt") {
    const title = entry.attempt === null ? `Execution ${shortId(entry.executionId)}` : `Attempt ${entry.attempt}`
    return [[seg(truncate(`── ${title} ──`, Math.max(1, width)), "group")]]
  }
  const [label, parts] = entry.kind === "thinking" ? ["thinking", []] : labelled(entry)
  const prefix = `${width >= CLOCK_MIN_WIDTH ? `${formatClock(entry.at)} ` : ""}${padRight(label, LABEL_WIDTH)} `
  const room = Math.max(1, width - prefix.length)
  const indent = " ".repeat(prefix.length)
  const body: Array<[string, StyleName | null]> = []
  if (entry.kind === "thinking") {
    // One line: the start of the thought.
    body.push([truncate(sanitize(limited(entry.text, rawLogsCommand(jobId)).text), room), "dim"])
  } else {
    for (const part of parts) {
      const shown = limited(part.text, rawLogsCommand(jobId))
      for (const text of sanitizeLines(shown.text)) for (const piece of wrapWords(text, room)) body.push([piece, part.style])
      if (shown.marker !== null) for (const piece of wrapWords(shown.marker, room)) body.push([piece, "dim"])
    }
  }
  return body.map(([text, style], i) => [seg(i === 0 ? prefix : indent, "dim"), seg(text, style)])
}

/** The lines of every entry at `width` columns. */
export function activityLines(entries: ReadonlyArray<ActivityEntry>, width: number, jobId: string): Line[] {
  return entries.flatMap((entry) => entryLines(entry, width, jobId))
}
