/**
 * `aidp jobs replay --stats` as text: the history's span and counts, jobs and failures per day
 * as sparklines, a table of the figures per group (and for all jobs), and the failures by kind
 * with the error line seen most. Pure; untrusted text (step names, folders, error lines) is
 * sanitized.
 */
import type { GroupStats, HistoryStats, Spread } from "../projections/history.js"
import { sanitize } from "./sanitize.js"
import { sparkline } from "./sparkline.js"
import { countOf, formatCost, formatDuration, formatTime } from "./view/format.js"
import { padLeft, padRight, truncate } from "./view/text.js"

/** Most days drawn in a sparkline (the latest ones); one character each. */
export const SPARKLINE_DAYS = 60
/** Widest group name in the table, columns. */
const KEY_WIDTH = 20
/** Widest error line under Failures, columns. */
const ERROR_WIDTH = 100

const percent = (rate: number | null): string => (rate === null ? "-" : `${Math.round(rate * 100)}%`)

/** A count in 4 characters or fewer where it can be: `950`, `12.3k`, `4.5M`. */
export const compactCount = (n: number): string =>
  n < 1_000 ? String(Math.round(n)) : n < 1_000_000 ? `${(n / 1_000).toFixed(n < 10_000 ? 1 : 0)}k` : `${(n / 1_000_000).toFixed(n < 10_000_000 ? 1 : 0)}M`

const COLUMNS: ReadonlyArray<readonly [string, (g: GroupStats) => string]> = [
  ["jobs", (g) => String(g.jobs)],
  ["1st try", (g) => percent(g.firstAttemptSuccessRate)],
  ["in the end", (g) => percent(g.finalSuccessRate)],
  ["attempts", (g) => (g.attemptsPerJob === null ? "-" : g.attemptsPerJob.toFixed(2))],
  ["run p50", (g) => formatDuration(g.runMs.p50)],
  ["run p95", (g) => formatDuration(g.runMs.p95)],
  ["wait p50", (g) => formatDuration(g.waitMs.p50)],
  ["wait p95", (g) => formatDuration(g.waitMs.p95)],
  ["tokens in/out", (g) => `${compactCount(g.tokens.inputTokens + g.tokens.cacheReadTokens + g.tokens.cacheWriteTokens)}/${compactCount(g.tokens.outputTokens)}`],
  ["cost", (g) => (g.costUsd === null ? "-" : formatCost(g.costUsd))],
  ["most failures", (g) => (g.failures[0] ? `${g.failures[0].count} ${g.failures[0].kind}` : "-")]
]

const table = (stats: HistoryStats): string[] => {
  const rows: Array<readonly [string, GroupStats]> = [["all jobs", stats.overall], ...stats.groups.map((g) => [sanitize(g.key), g] as const)]
  const cells = rows.map(([key, group]) => [truncate(key, KEY_WIDTH), ...COLUMNS.map(([, cell]) => cell(group))])
  const header = [`by ${stats.by}`, ...COLUMNS.map(([name]) => name)]
  const widths = header.map((name, i) => Math.max(name.length, ...cells.map((row) => row[i]!.length)))
  const line = (row: ReadonlyArray<string>) =>
    row.map((cell, i) => (i === 0 ? padRight(cell, widths[0]!) : i === row.length - 1 ? cell : padLeft(cell, widths[i]!))).join("  ").trimEnd()
  return [line(header), ...cells.map(line)]
}

const days = (stats: HistoryStats): string[] => {
  if (stats.days.length === 0) return []
  const shown = stats.days.slice(-SPARKLINE_DAYS)
  const span = `${shown[0]!.day} to ${shown.at(-1)!.day}${shown.length < stats.days.length ? ` (the last ${shown.length} of ${stats.days.length} days)` : ""}`
  const series = (name: string, values: number[]) => `  ${name.padEnd(9)} ${sparkline(values)}  max ${Math.max(0, ...values)}`
  return [`Per day    ${span}`, series("jobs", shown.map((d) => d.jobs)), series("failures", shown.map((d) => d.failures))]
}

const spreadText = (spread: Spread): string => `p50 ${formatDuration(spread.p50)}, p95 ${formatDuration(spread.p95)}, max ${formatDuration(spread.max)}`

/** The whole `--stats` text, ending in a newline. */
export function renderStats(stats: HistoryStats): string {
  const byStatus = Object.entries(stats.jobsByStatus).map(([status, n]) => `${n} ${status}`).join(", ")
  const lines = [
    `Events     ${stats.events}${stats.firstAt ? ` from ${formatTime(new Date(stats.firstAt))} to ${formatTime(new Date(stats.lastAt!))}` : ""}`,
    `Jobs       ${stats.overall.jobs}${byStatus ? ` (${byStatus})` : ""}; ${countOf(stats.overall.executions, "execution")}`,
    `Retries    ${stats.retries.user} by a person, ${stats.retries.policy} by the retry policy; ${countOf(stats.cancelled, "cancellation")}`,
    `Run time   ${spreadText(stats.overall.runMs)}`,
    `Queue wait ${spreadText(stats.overall.waitMs)}`,
    ...days(stats),
    "",
    ...table(stats)
  ]
  if (stats.overall.failures.length > 0) {
    const kindWidth = Math.max(...stats.overall.failures.map((f) => f.kind.length))
    lines.push("", "Failures by kind, with the error seen most")
    for (const f of stats.overall.failures) {
      lines.push(`  ${f.kind.padEnd(kindWidth)}  ${String(f.count).padStart(5)}  ${truncate(sanitize(f.topError), ERROR_WIDTH)}${f.topErrorCount < f.count ? ` (${f.topErrorCount}×)` : ""}`)
    }
  }
  return `${lines.join("\n")}\n`
}
