/** Formatting of ids, durations and times for the monitor. Pure. */
import type { JobSummary } from "../types.js"

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

/** A time with how long ago it was, e.g. `2024-05-01 12:00:00 (3m04s ago)`; null as `-`. */
export function formatTimeAgo(at: Date | null, now: Date): string {
  if (at === null) return "-"
  return `${formatTime(at)} (${formatDuration(now.getTime() - at.getTime())} ago)`
}
