/** Formatting of ids, durations, times, errors, tokens and costs for the monitor and the CLI. Pure. */
import type { Usage } from "../../domain/usage.js"
import type { JobSummary } from "../types.js"

/**
 * A cost in US dollars as `$0.0123` below a dollar (what one agent run costs) and `$12.34`
 * from a dollar up.
 */
export function formatCost(usd: number): string {
  return `$${usd.toFixed(usd >= 1 ? 2 : 4)}`
}

/** A count with thousands separators: `12,345`. */
const formatCount = (n: number): string => Math.round(n).toLocaleString("en-US")

/** Token counts as `1,234 in · 567 out · 8,900 cache read · 12 cache write`. */
export function formatUsage(usage: Usage): string {
  return [
    `${formatCount(usage.inputTokens)} in`,
    `${formatCount(usage.outputTokens)} out`,
    `${formatCount(usage.cacheReadTokens)} cache read`,
    `${formatCount(usage.cacheWriteTokens)} cache write`
  ].join(" · ")
}

/**
 * An error in the words the monitor, `jobs list` and `jobs show` all use: `kind: error`
 * unless the error already starts with its kind; a cancellation as `cancelled by user`
 * (the projection stores `Cancelled by <requested_by>.`, rows from before as `Cancelled.`).
 * Raw text: callers sanitize.
 */
export function errorText(error: string | null, kind: string | null): string {
  const text = error ?? ""
  const k = kind ?? ""
  const cancelled = k === "cancelled" ? /^cancelled( by .+?)?\.?$/is.exec(text.trim()) : null
  if (cancelled) return `cancelled${cancelled[1] ?? ""}`
  if (k !== "" && text !== "" && !text.toLowerCase().startsWith(k)) return `${k}: ${text}`
  return text || k
}

/** The first 8 characters of a job or execution id, as the table shows it. */
export function shortId(id: string): string {
  return id.slice(0, 8)
}

const pad2 = (n: number): string => String(n).padStart(2, "0")

/**
 * A duration in milliseconds as `0.4s` (tenths below 10 s, cut not rounded), `12s`,
 * `3m04s`, `1h02m` or `2d03h`; null as `-`.
 */
export function formatDuration(ms: number | null): string {
  if (ms === null) return "-"
  const tenths = Math.floor(Math.max(0, ms) / 100)
  if (tenths < 100) return `${Math.floor(tenths / 10)}.${tenths % 10}s`
  const s = Math.floor(tenths / 10)
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m${pad2(s % 60)}s`
  const h = Math.floor(m / 60)
  if (h < 24) return `${h}h${pad2(m % 60)}m`
  return `${Math.floor(h / 24)}d${pad2(h % 24)}h`
}

/**
 * How long a job has run: live (now - startedAt) while running, the recorded duration
 * once finished, null while queued or when it never started.
 */
export function jobDurationMs(job: JobSummary, now: Date): number | null {
  if (job.status === "running") return job.startedAt ? now.getTime() - job.startedAt.getTime() : null
  if (job.durationMs !== null) return job.durationMs
  if (job.startedAt && job.completedAt) return job.completedAt.getTime() - job.startedAt.getTime()
  return null
}

/** A time in the local zone as `YYYY-MM-DD HH:MM:SS`; null as `-`. */
export function formatTime(at: Date | null): string {
  if (at === null) return "-"
  const date = `${at.getFullYear()}-${pad2(at.getMonth() + 1)}-${pad2(at.getDate())}`
  return `${date} ${pad2(at.getHours())}:${pad2(at.getMinutes())}:${pad2(at.getSeconds())}`
}

/** A time of day in the local zone as `HH:MM:SS`. */
export function formatClock(at: Date): string {
  return `${pad2(at.getHours())}:${pad2(at.getMinutes())}:${pad2(at.getSeconds())}`
}

/**
 * When and why a job queued again by the retry policy runs, e.g. `retry at 14:05:38: rate
 * limit, claude asked for 38 s` (local time; the reason is the JobRetryRequested `reason`);
 * null when the job is not queued by the policy. Raw text: callers sanitize.
 */
export function nextRunText(job: { readonly status: string; readonly runAt: Date; readonly retryReason: string | null }): string | null {
  return job.status === "queued" && job.retryReason !== null ? `retry at ${formatClock(job.runAt)}: ${job.retryReason}` : null
}

/** A time with how long ago it was, e.g. `2024-05-01 12:00:00 (3m04s ago)`; null as `-`. */
export function formatTimeAgo(at: Date | null, now: Date): string {
  if (at === null) return "-"
  return `${formatTime(at)} (${formatDuration(now.getTime() - at.getTime())} ago)`
}

/** `count` and `noun`, the noun plural (`plural`, default noun + "s") unless the count is 1: "1 job", "2 jobs". */
export function countOf(count: number, noun: string, plural = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : plural}`
}
