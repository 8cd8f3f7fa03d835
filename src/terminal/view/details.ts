/**
 * The details screen of one job: its fields, metadata, every execution and the log
 * tail, scrollable. All database text is sanitized here. Pure.
 */
import { type DetailsScreen, layout, type Model } from "../model.js"
import { sanitize, sanitizeLines } from "../sanitize.js"
import type { ExecutionStatus, Permissions } from "../../domain/job.js"
import { sessionNote } from "../../domain/session.js"
import { usageOf } from "../../domain/usage.js"
import { usageTotals } from "../totals.js"
import type { ExecutionSummary, JobDetails, LogLine, WorkflowSummary } from "../types.js"
import { keyHints, statusLine, titleLine } from "./chrome.js"
import { denialLabel } from "../../domain/tools.js"
import { deniedMark, WORKFLOW_MARK } from "./table.js"
import { countOf, errorText, formatClock, formatCost, formatDuration, formatTimeAgo, formatUsage, jobDurationMs, nextRunText, shortId } from "./format.js"
import { activityOf } from "../../domain/activity/fold.js"
import type { ActivityEntry } from "../../domain/activity/types.js"
import { activityLines, rawLogsCommand } from "./activity.js"
import { changesLines } from "./changes.js"
import { limited } from "./limit.js"
import { displayWidth, fitLine, type Line, padLeft, padRight, seg, type Segment, type StyleName, wrap } from "./text.js"

const LABEL_WIDTH = 12

const showCommand = (jobId: string): string => `aidp jobs show ${shortId(jobId)} --json`

/** The key hints of the details screen; `v` names the log view it switches to. */
export const detailsKeys = (raw: boolean): ReadonlyArray<readonly [string, string]> => [
  ["↑↓", "scroll"],
  ["l", "follow log"],
  ["v", raw ? "activity" : "raw log"],
  ["r", "retry"],
  ["c", "cancel"],
  ["?", "help"],
  ["esc", "back"]
]

/** `label  value` wrapped under the value's column. */
function field(label: string, value: string, width: number, style: StyleName | null = null, marker: string | null = null): Line[] {
  const room = Math.max(1, width - LABEL_WIDTH)
  const parts: Array<[string, StyleName | null]> = [
    ...wrap(value, room).map((part): [string, StyleName | null] => [part, style]),
    ...(marker === null ? [] : wrap(marker, room).map((part): [string, StyleName | null] => [part, "dim"]))
  ]
  return parts.map(([part, partStyle], i) => [
    seg(padRight(i === 0 ? label : "", LABEL_WIDTH), i === 0 ? "heading" : null),
    seg(part, partStyle)
  ])
}

/** A field whose raw value may be huge: limited, sanitized, with the marker when cut. */
function longField(label: string, raw: string, jobId: string, width: number, style: StyleName | null = null): Line[] {
  const shown = limited(raw, showCommand(jobId))
  return field(label, sanitize(shown.text), width, style, shown.marker)
}

/**
 * Lines of raw `text` (limited, then sanitized) wrapped to `width`, each prefixed by
 * `indent` spaces, then the marker when it was cut.
 */
function block(text: string, whole: string, width: number, indent: number, style: StyleName | null): Line[] {
  const shown = limited(text, whole)
  const room = Math.max(1, width - indent)
  const pad = seg(" ".repeat(indent))
  return [
    ...sanitizeLines(shown.text).flatMap((l) => wrap(l, room).map((part): Line => [pad, seg(part, style)])),
    ...(shown.marker === null ? [] : wrap(shown.marker, room).map((part): Line => [pad, seg(part, "dim")]))
  ]
}

function metadataLines(metadata: Readonly<Record<string, unknown>>, jobId: string, width: number): Line[] {
  const entries = Object.entries(metadata)
  if (entries.length === 0) return field("Metadata", "-", width)
  return entries.flatMap(([key, value], i) => {
    const text = typeof value === "string" ? value : JSON.stringify(value) ?? String(value)
    const shown = limited(text, showCommand(jobId))
    const name = sanitize(limited(key, showCommand(jobId)).text)
    return field(i === 0 ? "Metadata" : "", `${name}: ${sanitize(shown.text)}`, width, null, shown.marker)
  })
}

/** The Permissions field: the level and what it allows. */
const PERMISSIONS_TEXT: Record<Permissions, string> = {
  plan: "plan (read only)",
  edit: "edit (file edits)",
  full: "full (file edits and commands)"
}

const EXECUTION_STYLE: Record<ExecutionStatus, StyleName> = {
  running: "running",
  succeeded: "completed",
  failed: "failed",
  cancelled: "cancelled",
  abandoned: "failed"
}

/** Room for an exit code or the longest signal names (SIGKILL, SIGSEGV, SIGVTALRM). */
const EXIT_WIDTH = 9

const executionCells = (attempt: string, status: string, worker: string, duration: string, exit: string): string[] => [
  padLeft(attempt, 3) + "  ",
  padRight(status, 11),
  // An exit longer than its column (an unusual signal name) pushes Cost right rather than being cut.
  padRight(worker, 18) + padLeft(duration, 8) + "  " + padRight(exit, Math.max(EXIT_WIDTH, displayWidth(exit))) + " "
]

function executionLines(e: ExecutionSummary, jobId: string, now: Date, width: number): Line[] {
  const running = e.status === "running" && e.completedAt === null
  const duration = running ? now.getTime() - e.startedAt.getTime() : e.durationMs
  const exit = e.exitCode !== null ? String(e.exitCode) : e.signal !== null ? sanitize(e.signal) : "-"
  const cost = e.costUsd !== null ? formatCost(e.costUsd) : ""
  const [attempt = "", status = "", rest = ""] = executionCells(
    String(e.attempt),
    e.status,
    sanitize(e.workerId ?? "-"),
    formatDuration(duration),
    exit
  )
  const row: Segment[] = [seg(attempt), seg(status, EXECUTION_STYLE[e.status]), seg(rest + cost)]
  const usage = usageOf(e.usage)
  const tokens = usage === null ? [] : block(`tokens: ${formatUsage(usage)}`, showCommand(jobId), width, 5, "dim")
  const error = e.error === null ? [] : block(errorText(e.error, e.errorKind), showCommand(jobId), width, 5, e.status === "cancelled" ? "dim" : "error")
  const denied = e.denials.flatMap((denial) => block(`denied: ${denialLabel(denial)}`, showCommand(jobId), width, 5, "error"))
  return [fitLine(row, width), ...tokens, ...error, ...denied, ...sessionLines(e, jobId, width)]
}

/** `session 3b0e5f43-… · resumed attempt 1's session` under an execution whose session is known. */
function sessionLines(e: ExecutionSummary, jobId: string, width: number): Line[] {
  const note = sessionNote(e.resumedAttempt, e.sessionGone)
  if (e.sessionId === null && note === undefined) return []
  const text = [e.sessionId === null ? undefined : `session ${e.sessionId}`, note].filter((part) => part !== undefined).join(" · ")
  return block(text, showCommand(jobId), width, 5, "dim")
}

const STREAM_STYLE: Record<LogLine["stream"], StyleName | null> = { stdout: null, stderr: "error", system: "dim" }

function logLines(line: LogLine, jobId: string, width: number): Line[] {
  const prefix = `${formatClock(line.at)} ${padRight(line.stream, 6)} `
  const shown = limited(line.message, rawLogsCommand(jobId))
  const room = Math.max(1, width - prefix.length)
  const parts: Array<[string, StyleName | null]> = [
    ...sanitizeLines(shown.text).flatMap((text) => wrap(text, room).map((part): [string, StyleName | null] => [part, STREAM_STYLE[line.stream]])),
    ...(shown.marker === null ? [] : wrap(shown.marker, room).map((part): [string, StyleName | null] => [part, "dim"]))
  ]
  return parts.map(([part, style], i) => [seg(i === 0 ? prefix : " ".repeat(prefix.length), "dim"), seg(part, style)])
}

/** The job's totals over all attempts: the Tokens and Cost fields. */
function totalLines(job: JobDetails, width: number): Line[] {
  const totals = usageTotals(job.executions)
  const over = job.executions.length > 1 ? ` (${job.executions.length} attempts)` : ""
  return [
    ...field("Tokens", totals.usage === null ? "-" : `${formatUsage(totals.usage)}${over}`, width),
    ...field("Cost", totals.costUsd === null ? "-" : `${formatCost(totals.costUsd)}${over}`, width)
  ]
}

/** Activity of each log tail shown, computed once per loaded tail (parsing megabyte lines is not free). */
const tailActivity = new WeakMap<readonly LogLine[], ActivityEntry[]>()

/** The log section: the agent's activity, or (`raw`) the stored lines. */
function logSection(job: JobDetails, raw: boolean, width: number): Line[] {
  const count = job.logTail.length
  if (count === 0) return [[seg("Log", "group")], [seg("  no output yet", "dim")]]
  if (raw) return [[seg(`Log (last ${countOf(count, "line")}, as stored)`, "group")], ...job.logTail.flatMap((l) => logLines(l, job.id, width))]
  let entries = tailActivity.get(job.logTail)
  if (entries === undefined) {
    entries = activityOf(job.provider, job.logTail)
    tailActivity.set(job.logTail, entries)
  }
  return [[seg(`Activity (from the last ${countOf(count, "log line")})`, "group")], ...activityLines(entries, width, job.id)]
}

/** `Next run  retry at 14:05:38: rate limit, claude asked for 38 s` for a job the retry policy queued again. */
function nextRunLines(job: JobDetails, width: number): Line[] {
  const next = nextRunText(job)
  return next === null ? [] : field("Next run", sanitize(next), width)
}

/**
 * The Limits field: attempts, wall-clock timeout, the budget of each attempt (`--max-cost`,
 * `--max-turns`) when set, priority, and whether a timeout is retried.
 */
const limitsText = (job: JobDetails): string => {
  const each = [
    `timeout ${formatDuration(job.timeoutMs)}`,
    ...(job.maxCostUsd === null ? [] : [`cost ${formatCost(job.maxCostUsd)}`]),
    ...(job.maxTurns === null ? [] : [countOf(job.maxTurns, "turn")])
  ]
  return [
    `${countOf(job.maxAttempts, "attempt")} at most`,
    `${each.join(", ")} each`,
    `priority ${job.priority}`,
    ...(job.retryTimeouts ? ["a timeout is retried"] : [])
  ].join(" · ")
}

/** Mark of a step's job status in the workflow's lines. */
const STEP_MARKS: Readonly<Record<string, string>> = { completed: "✓", running: "▶", queued: "…", failed: "✗", cancelled: "✗", pending: "·" }

/**
 * The workflow a job is a step of: where it stands, then one line per step with its job's
 * status, this job's step marked; nothing for a job of no workflow.
 */
function workflowLines(workflow: WorkflowSummary | null, step: string | null, width: number): Line[] {
  if (workflow === null) return []
  const done = workflow.steps.filter((s) => s.status === "completed").length
  return [
    ...field("Workflow", `${WORKFLOW_MARK} ${workflow.id} · ${workflow.status} · ${done} of ${countOf(workflow.steps.length, "step")} completed`, width, workflow.status === "paused" ? "error" : null),
    ...(workflow.status === "paused" && workflow.pausedReason ? field("", `paused: ${sanitize(workflow.pausedReason)}`, width, "error") : []),
    ...workflow.steps.flatMap((s) =>
      field("", `${STEP_MARKS[s.status] ?? "·"} ${sanitize(s.name)} ${s.status}${s.name === step ? "  (this job)" : ""}`, width, s.name === step && s.status !== "pending" ? s.status as StyleName : "dim"))
  ]
}

function jobLines(job: JobDetails, raw: boolean, now: Date, width: number): Line[] {
  const executionsHeader = fitLine([seg(executionCells("#", "Status", "Worker", "Duration", "Exit").join("") + "Cost", "heading")], width)
  return [
    ...field("Job ID", job.id, width),
    ...field("Provider", job.provider, width),
    ...field("Permissions", PERMISSIONS_TEXT[job.permissions], width),
    ...field("Limits", limitsText(job), width),
    ...field("Status", `${job.status}${job.attempts > 1 ? ` (attempt ${job.attempts})` : ""}`, width, job.status),
    ...(job.step === null ? [] : field("Step", sanitize(job.step), width)),
    ...workflowLines(job.workflow ?? null, job.step, width),
    ...field("Prompt", sanitize(job.promptSummary), width),
    ...field("Project", sanitize(job.cwd), width),
    ...field("Created", formatTimeAgo(job.createdAt, now), width),
    ...field("Started", formatTimeAgo(job.startedAt, now), width),
    ...field("Completed", formatTimeAgo(job.completedAt, now), width),
    ...field("Duration", formatDuration(jobDurationMs(job, now)), width),
    ...totalLines(job, width),
    ...(job.error === null
      ? field("Error", "-", width)
      : longField("Error", errorText(job.error, job.errorKind), job.id, width, job.status === "cancelled" ? "dim" : "error")),
    ...(job.status === "completed" && job.denied > 0
      ? field("Warning", `${deniedMark(job.denied)}: the agent was refused tool calls (listed under its execution), so it may not have done all it was asked`, width, "error")
      : []),
    ...nextRunLines(job, width),
    ...(job.progress === null ? [] : field("Activity", sanitize(job.progress), width, "dim")),
    ...metadataLines(job.metadata, job.id, width),
    [],
    [seg(`Executions (${job.executions.length})`, "group")],
    ...(job.executions.length === 0 ? [[seg("  none yet", "dim")]] : [executionsHeader]),
    ...job.executions.flatMap((e) => executionLines(e, job.id, now, width)),
    ...changesLines(job, width),
    [],
    ...logSection(job, raw, width)
  ]
}

/** The scrollable content of the details screen at `width` columns (not yet fitted). */
export function detailsContent(screen: DetailsScreen, now: Date, width: number): Line[] {
  if (screen.data !== null) return jobLines(screen.data, screen.raw, now, width)
  if (screen.loading) return [[seg("Loading…", "dim")]]
  if (screen.error !== null) return wrap(`Could not load job ${screen.jobId}: ${screen.error}`, Math.max(1, width)).map((l) => [seg(l, "error")])
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
  const bottom: Line[] = [statusLine(model, width, []), keyHints(detailsKeys(screen.raw), width)]
  return [...lines, ...body, ...bottom.slice(0, box.bottom)]
}
