/**
 * `aidp jobs replay JOB` as text: the job's story (src/projections/story.ts), one line per
 * moment at its offset from the first event, each attempt's activity counted (or, with `--full`,
 * shown as `aidp jobs logs` shows it, indented under its attempt). Pure; untrusted text (error
 * lines, reasons, paths, the agent's words) is sanitized.
 */
import { projectName } from "../domain/job.js"
import type { JobStory, StoryEntry } from "../projections/story.js"
import { sanitize } from "./sanitize.js"
import { entryLines } from "./view/activity.js"
import { countOf, errorText, formatClock, formatCost, formatDuration, formatTime, formatUsage } from "./view/format.js"
import { lineText } from "./view/text.js"

/** Columns of the offset (`+1h02m`) before each line. */
const OFFSET_WIDTH = 8
/** Indent of the activity lines under their attempt. */
const ACTIVITY_INDENT = " ".repeat(OFFSET_WIDTH + 2)

const ENDED: Record<Extract<StoryEntry, { kind: "ended" }>["ending"], string> = {
  succeeded: "succeeded",
  failed: "failed",
  abandoned: "was abandoned",
  cancelled: "was cancelled"
}

/** One line of the story (without its offset); null for activity, which has its own lines. */
const describe = (entry: StoryEntry): string | null => {
  switch (entry.kind) {
    case "queued":
      return `queued: ${entry.provider}${entry.step ? `, step ${sanitize(entry.step)}` : ""}, project ${sanitize(projectName(entry.cwd))} (${sanitize(entry.cwd)}); ` +
        `${countOf(entry.maxAttempts, "attempt")} at most, timeout ${formatDuration(entry.timeoutMs)}` +
        `${entry.maxCostUsd === null ? "" : `, at most ${formatCost(entry.maxCostUsd)}`}${entry.maxTurns === null ? "" : `, ${countOf(entry.maxTurns, "turn")}`} each, ` +
        `priority ${entry.priority}, permissions ${entry.permissions}`
    case "started":
      return `attempt ${entry.attempt} started on worker ${sanitize(entry.workerId)} (host ${sanitize(entry.host)})` +
        `${entry.waitedMs === null ? "" : `, after ${formatDuration(entry.waitedMs)} in the queue`}` +
        `${entry.resumedAttempt === null ? "" : `, resuming attempt ${entry.resumedAttempt}'s session`}`
    case "ended": {
      const what = [
        entry.prunedLines > 0 && entry.toolCalls === 0 && entry.messages === 0
          ? `its output was pruned (${countOf(entry.prunedLines, "line")})`
          : `${countOf(entry.toolCalls, "tool call")}, ${countOf(entry.messages, "message")}`,
        ...(entry.denials > 0 ? [`${countOf(entry.denials, "tool call")} denied`] : []),
        ...(entry.tokens ? [`tokens ${formatUsage(entry.tokens)}`] : []),
        ...(entry.costUsd !== null ? [formatCost(entry.costUsd)] : [])
      ].join("; ")
      const error = entry.error === null ? "" : `: ${sanitize(errorText(entry.error, entry.errorKind))}`
      const gone = entry.sessionGone ? " (its session was gone: it started fresh)" : ""
      return `attempt ${entry.attempt ?? "?"} ${ENDED[entry.ending]}${entry.durationMs === null ? "" : ` after ${formatDuration(entry.durationMs)}`}${gone}${error} — ${what}`
    }
    case "retry":
      return `retry requested by ${entry.requestedBy === "user" ? "a person" : "the retry policy"}${entry.fresh ? " (fresh start)" : ""}, to run at ${formatClock(entry.runAt)}` +
        `${entry.reason === null ? "" : `: ${sanitize(entry.reason)}`}`
    case "cancelRequested":
      return `cancel requested by ${sanitize(entry.requestedBy)}`
    case "cancelled":
      return "cancelled before it started"
    case "changes":
      return `changed ${entry.summary}${entry.branch === null ? "" : ` on branch ${sanitize(entry.branch)}`}`
    case "worktree":
      return `branch ${sanitize(entry.branch)} ${entry.action === "merged" ? `merged into ${sanitize(entry.into ?? "?")}` : `${entry.action === "cleaned" ? "removed by clean" : "discarded"}`} by ${sanitize(entry.by)}`
    case "activity":
      return null
  }
}

/** The story as text ending in a newline; activity entries are wrapped to `width` columns. */
export function renderStory(story: JobStory, width: number): string {
  if (story.entries.length === 0) return `No events for job ${story.jobId} in this window.\n`
  const first = story.entries[0]!.at
  const lines = [`Job ${story.jobId}${story.provider ? ` (${story.provider})` : ""}, from ${formatTime(first)}`]
  for (const entry of story.entries) {
    const text = describe(entry)
    if (text !== null) {
      lines.push(`${`+${formatDuration(entry.offsetMs)}`.padEnd(OFFSET_WIDTH)}  ${text}`)
    } else if (entry.kind === "activity") {
      for (const line of entryLines(entry.entry, Math.max(20, width - ACTIVITY_INDENT.length), story.jobId)) {
        lines.push(`${ACTIVITY_INDENT}${lineText(line).trimEnd()}`)
      }
    }
  }
  const totals = [
    `${story.status ?? "status unknown"} after ${countOf(story.executions, "execution")}`,
    ...(story.tokens ? [`tokens ${formatUsage(story.tokens)}`] : []),
    story.costUsd === null ? "no cost reported" : formatCost(story.costUsd)
  ]
  lines.push(`In all: ${totals.join("; ")}`)
  return `${lines.join("\n")}\n`
}
