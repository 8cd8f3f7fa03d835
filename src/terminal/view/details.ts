/**
 * The details screen of one job: its fields, metadata, every execution and the log
 * tail, scrollable. All database text is sanitized here. Pure.
 */
import { type DetailsScreen, layout, type Model } from "../model.js"
import { sanitize, sanitizeLines } from "../sanitize.js"
import type { ExecutionStatus } from "../../domain/job.js"
import type { ExecutionSummary, JobDetails, LogLine } from "../types.js"
import { keyHints, statusLine, titleLine } from "./chrome.js"
import { formatClock, formatDuration, formatTimeAgo, jobDurationMs, shortId } from "./format.js"
import { fitLine, type Line, padLeft, padRight, seg, type Segment, type StyleName, wrap } from "./text.js"

const LABEL_WIDTH = 12

/** The key hints of the details screen. */
export const DETAILS_KEYS: ReadonlyArray<readonly [string, string]> = [
  ["↑↓", "scroll"],
  ["l", "follow log"],
  ["r", "retry"],
  ["c", "cancel"],
  ["?", "help"],
  ["esc", "back"]
]

/** `label  value` wrapped under the value's column. */
function field(label: string, value: string, width: number, style: StyleName | null = null): Line[] {
  return wrap(value, Math.max(1, width - LABEL_WIDTH)).map((part, i) => [
    seg(padRight(i === 0 ? label : "", LABEL_WIDTH), i === 0 ? "heading" : null),
    seg(part, style)
  ])
}

/** Lines of `text` (sanitized) wrapped to `width`, each prefixed by `indent` spaces. */
function block(text: string, width: number, indent: number, style: StyleName | null): Line[] {
  return sanitizeLines(text).flatMap((l) =>
    wrap(l, Math.max(1, width - indent)).map((part) => [seg(" ".repeat(indent)), seg(part, style)])
  )
}

function metadataLines(metadata: Readonly<Record<string, unknown>>, width: number): Line[] {
  const entries = Object.entries(metadata)
  if (entries.length === 0) return field("Metadata", "-", width)
  return entries.flatMap(([key, value], i) => {
    const text = typeof value === "string" ? value : JSON.stringify(value) ?? String(value)
    return field(i === 0 ? "Metadata" : "", `${sanitize(key)}: ${sanitize(text)}`, width)
  })
}

const EXECUTION_STYLE: Record<ExecutionStatus, StyleName> = {
  running: "running",
  succeeded: "completed",
  failed: "failed",
  cancelled: "cancelled",
  abandoned: "failed"
}

const executionCells = (attempt: string, status: string, worker: string, duration: string, exit: string): string[] => [
  padLeft(attempt, 3) + "  ",
  padRight(status, 11),
  padRight(worker, 18) + padLeft(duration, 8) + "  " + padRight(exit, 6)
]

function executionLines(e: ExecutionSummary, now: Date, width: number): Line[] {
  const running = e.status === "running" && e.completedAt === null
  const duration = running ? now.getTime() - e.startedAt.getTime() : e.durationMs
  const exit = e.exitCode !== null ? String(e.exitCode) : e.signal !== null ? sanitize(e.signal) : "-"
  const cost = e.costUsd !== null ? `$${e.costUsd.toFixed(4)}` : ""
  const [attempt = "", status = "", rest = ""] = executionCells(
    String(e.attempt),
    e.status,
    sanitize(e.workerId ?? "-"),
    formatDuration(duration),
    exit
  )
  const row: Segment[] = [seg(attempt), seg(status, EXECUTION_STYLE[e.status]), seg(rest + cost)]
  const error = e.error === null ? [] : block(e.errorKind ? `${e.errorKind}: ${e.error}` : e.error, width, 5, "error")
  return [fitLine(row, width), ...error]
}

const STREAM_STYLE: Record<LogLine["stream"], StyleName | null> = { stdout: null, stderr: "error", system: "dim" }

function logLines(line: LogLine, width: number): Line[] {
  const prefix = `${formatClock(line.at)} ${padRight(line.stream, 6)} `
  return sanitizeLines(line.message).flatMap((text) =>
    wrap(text, Math.max(1, width - prefix.length)).map((part, i) => [
      seg(i === 0 ? prefix : " ".repeat(prefix.length), "dim"),
      seg(part, STREAM_STYLE[line.stream])
    ])
  )
}

function jobLines(job: JobDetails, now: Date, width: number): Line[] {
  const error = job.error === null ? "-" : sanitize(job.errorKind ? `${job.errorKind}: ${job.error}` : job.error)
  const executionsHeader = fitLine([seg(executionCells("#", "Status", "Worker", "Duration", "Exit").join("") + "Cost", "heading")], width)
  return [
    ...field("Job ID", job.id, width),
    ...field("Provider", job.provider, width),
    ...field("Status", `${job.status}${job.attempts > 1 ? ` (attempt ${job.attempts})` : ""}`, width, job.status),
    ...(job.step === null ? [] : field("Step", sanitize(job.step), width)),
    ...field("Prompt", sanitize(job.promptSummary), width),
    ...field("Cwd", sanitize(job.cwd), width),
    ...field("Created", formatTimeAgo(job.createdAt, now), width),
    ...field("Started", formatTimeAgo(job.startedAt, now), width),
    ...field("Completed", formatTimeAgo(job.completedAt, now), width),
    ...field("Duration", formatDuration(jobDurationMs(job, now)), width),
    ...field("Error", error, width, job.error === null ? null : "error"),
    ...(job.progress === null ? [] : field("Progress", sanitize(job.progress), width, "dim")),
    ...metadataLines(job.metadata, width),
    [],
    [seg(`Executions (${job.executions.length})`, "group")],
    ...(job.executions.length === 0 ? [[seg("  none yet", "dim")]] : [executionsHeader]),
    ...job.executions.flatMap((e) => executionLines(e, now, width)),
    [],
    [seg(`Log (last ${job.logTail.length} lines)`, "group")],
    ...(job.logTail.length === 0 ? [[seg("  no output yet", "dim")]] : job.logTail.flatMap((l) => logLines(l, width)))
  ]
}

/** The scrollable content of the details screen at `width` columns (not yet fitted). */
export function detailsContent(screen: DetailsScreen, now: Date, width: number): Line[] {
  if (screen.data !== null) return jobLines(screen.data, now, width)
  if (screen.loading) return [[seg("Loading…", "dim")]]
  return [[seg(`Job ${screen.jobId} was not found.`, "error")]]
}

/** The first content line shown, given the screen's scroll and follow state. */
export function detailsTop(screen: DetailsScreen, contentLines: number, body: number): number {
  const max = Math.max(0, contentLines - body)
  return screen.follow ? max : Math.min(Math.max(0, screen.scroll), max)
}

/** The details screen as exactly `height` lines of exactly `width` columns. */
export function detailsView(model: Model, screen: DetailsScreen, width: number, height: number): Line[] {
  const box = layout(height)
  const content = detailsContent(screen, model.now, width)
  const top = detailsTop(screen, content.length, box.body)
  const status = screen.data?.status
  const position = content.length > box.body ? `${top + 1}-${Math.min(content.length, top + box.body)}/${content.length}` : ""
  const title = titleLine(
    [seg("aidp jobs", "title"), seg(` › ${shortId(screen.jobId)}`), ...(status ? [seg(`  ${status}`, status)] : [])],
    screen.follow ? `following ${position}` : position,
    width
  )
  const body = content.slice(top, top + box.body).map((l) => fitLine(l, width))
  while (body.length < box.body) body.push(fitLine([], width))
  const lines: Line[] = [title, fitLine([], width)].slice(0, box.top)
  const bottom: Line[] = [statusLine(model, width, []), keyHints(DETAILS_KEYS, width)]
  return [...lines, ...body, ...bottom.slice(0, box.bottom)]
}
