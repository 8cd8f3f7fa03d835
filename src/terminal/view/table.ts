/**
 * The job table's columns (ID, Provider, Status, Step, Project, Duration, then Activity
 * and/or Error), shared by the full-screen list and the plain renderer. Narrow widths drop
 * Project, then Step, then the Activity/Error column, then Provider, then Duration.
 */
import { sanitize } from "../sanitize.js"
import type { LastColumn } from "../model.js"
import type { JobSummary } from "../types.js"
import { compactChanges } from "../../domain/changes.js"
import { projectName } from "../../domain/job.js"
import { WORKFLOW_ID_KEY } from "../../domain/workflow.js"
import { errorText, formatDuration, jobDurationMs, nextRunText, shortId } from "./format.js"
import { displayWidth, graphemes, graphemeWidth, padLeft, padRight, seg, type Segment, type StyleName, truncate } from "./text.js"

const ID_WIDTH = 8
const PROVIDER_WIDTH = 8
const STATUS_WIDTH = 9
/** Step names are cut to this (`06_IMPLEM…`); their number prefix tells them apart. */
const STEP_WIDTH = 10
const PROJECT_WIDTH = 10
const DURATION_WIDTH = 8
const GAP = "  "
/** The Activity and Error columns are dropped when they would be narrower than this. */
const MIN_TEXT_WIDTH = 12
/** Widest Activity column of the plain table when the width has no limit. */
const PLAIN_ACTIVITY_WIDTH = 40

/** The columns of fixed width that fit. */
export interface FixedColumns {
  readonly provider: boolean
  readonly step: boolean
  readonly project: boolean
  readonly duration: boolean
}

/**
 * Which columns a table shows: `activity` is the width of the Activity column (0 without
 * it), `error` that of the Error column (0 without it, null for no limit; it comes last).
 */
export interface Columns extends FixedColumns {
  readonly activity: number
  readonly error: number | null
}

/** The fixed columns that fit, and the width left for the text column after them (0: none). */
export interface TableWidths extends FixedColumns {
  readonly text: number
}

const fixedWidth = (c: FixedColumns, indent: number): number =>
  indent + ID_WIDTH +
  (c.provider ? GAP.length + PROVIDER_WIDTH : 0) +
  GAP.length + STATUS_WIDTH +
  (c.step ? GAP.length + STEP_WIDTH : 0) +
  (c.project ? GAP.length + PROJECT_WIDTH : 0) +
  (c.duration ? GAP.length + DURATION_WIDTH : 0)

/** With a text column, in the order tried: all, without Project, without Project and Step. */
const WITH_TEXT: ReadonlyArray<FixedColumns> = [
  { provider: true, step: true, project: true, duration: true },
  { provider: true, step: true, project: false, duration: true },
  { provider: true, step: false, project: false, duration: true }
]

/** The columns that fit in `width` columns (after a selection marker of `indent` columns). */
export function columnsFor(width: number, indent: number): TableWidths {
  for (const cols of WITH_TEXT) {
    const text = width - fixedWidth(cols, indent) - GAP.length
    if (text >= MIN_TEXT_WIDTH) return { ...cols, text }
  }
  const bare = { provider: false, step: false, project: false, duration: false }
  return {
    ...bare,
    provider: width >= fixedWidth({ ...bare, provider: true, duration: true }, indent),
    duration: width >= fixedWidth({ ...bare, duration: true }, indent),
    text: 0
  }
}

/**
 * The text column of one monitor group: a running job's activity, the others' error (for a
 * completed job, its warning: {@link errorCell}).
 */
export function groupColumns(widths: TableWidths, last: LastColumn): Columns {
  const { text, ...fixed } = widths
  return { ...fixed, activity: last === "activity" ? text : 0, error: last === "activity" ? 0 : text }
}

/** Where the text column starts, in columns from the line's start. */
export function textColumnAt(cols: FixedColumns, indent: number): number {
  return fixedWidth(cols, indent) + GAP.length
}

/**
 * The columns of a plain table of `jobs`: an Activity column only when one of them has
 * activity, Error always. Without `width` nothing is dropped and Error is not cut; with it,
 * Activity and Error share the room (Error keeps it all when the two do not fit).
 */
export function plainColumns(jobs: readonly JobSummary[], width?: number): Columns {
  const widest = Math.max(0, ...jobs.map((job) => displayWidth(activityText(job))))
  // Never narrower than its header.
  const longest = widest === 0 ? 0 : Math.max(widest, "Activity".length)
  if (width === undefined) {
    const all = { provider: true, step: true, project: true, duration: true }
    return { ...all, activity: Math.min(longest, PLAIN_ACTIVITY_WIDTH), error: null }
  }
  const { text, ...fixed } = columnsFor(width, 0)
  const activity = longest === 0 ? 0 : Math.min(longest, Math.floor((text - GAP.length) / 2))
  if (activity < MIN_TEXT_WIDTH && activity < longest) return { ...fixed, activity: 0, error: text }
  return { ...fixed, activity, error: activity === 0 ? text : text - activity - GAP.length }
}

/**
 * Text shortened to at most `width` columns by cutting its middle (`my-c…ntend`): project
 * folders often share a prefix (`acme-frontend`, `acme-backend`) and differ at the end.
 */
export function elideMiddle(text: string, width: number): string {
  if (displayWidth(text) <= width) return text
  if (width <= 1) return truncate(text, width)
  const chars = graphemes(text)
  let room = width - 1
  let head = ""
  let tail = ""
  let i = 0
  let j = chars.length - 1
  // Alternate ends (the head first) while the next character fits.
  for (let turn = 0; i <= j; turn++) {
    const fromHead = turn % 2 === 0
    const next = fromHead ? chars[i]! : chars[j]!
    if (graphemeWidth(next) > room) break
    room -= graphemeWidth(next)
    if (fromHead) head += chars[i++]!
    else tail = chars[j--]! + tail
  }
  return `${head}…${tail}`
}

const limit = (text: string, width: number | null): string => (width === null ? text : truncate(text, width))

/** The header cells, e.g. `ID        Provider  Status     Step        Project     Duration  Error`. */
export function headerCells(cols: Columns): string {
  const cells = [padRight("ID", ID_WIDTH)]
  if (cols.provider) cells.push(padRight("Provider", PROVIDER_WIDTH))
  cells.push(padRight("Status", STATUS_WIDTH))
  if (cols.step) cells.push(padRight("Step", STEP_WIDTH))
  if (cols.project) cells.push(padRight("Project", PROJECT_WIDTH))
  if (cols.duration) cells.push(padLeft("Duration", DURATION_WIDTH))
  if (cols.activity !== 0) cells.push(cols.error !== 0 ? padRight("Activity", cols.activity) : "Activity")
  if (cols.error !== 0) cells.push("Error")
  return cells.join(GAP).trimEnd()
}

/** What the Activity column says: a running job's latest progress line, sanitized; else nothing. */
export function activityText(job: JobSummary): string {
  return job.status === "running" ? sanitize(job.progress ?? "") : ""
}

/** The mark of a job whose agent was refused tool calls, e.g. `⚠ 2 denied`; "" when none were. */
export function deniedMark(denied: number): string {
  return denied === 0 ? "" : `⚠ ${denied} denied`
}

/**
 * A finished job's changes, compact: `3 files +120 −4` (compactChanges), with `(merged)` or
 * `(removed)` once its worktree was; "" when none were recorded or no file changed (the list
 * stays quiet; the details say "no changes").
 */
export function changesText(job: Pick<JobSummary, "changes" | "worktreeState">): string {
  if (job.changes === null || job.changes.file_count === 0) return ""
  const landed = job.worktreeState === "merged" ? " (merged)" : job.worktreeState === "removed" ? " (removed)" : ""
  return `${compactChanges(job.changes)}${landed}`
}

/**
 * What the Error column says: the error in the words of {@link errorText} (`rate_limit: 429 …`,
 * `cancelled by user`), sanitized, one line; for a completed job whose agent was refused tool
 * calls, {@link deniedMark}; a finished job's changes ({@link changesText}) after either; for a queued job held back by a provider's concurrency limit,
 * `waiting: claude limit 2`; for a job the retry policy queued again, when and why it runs
 * ({@link nextRunText}); nothing for a running job.
 */
export function errorCell(job: JobSummary): { text: string; style: StyleName | null } {
  if (job.status === "running") return { text: "", style: null }
  const changes = changesText(job)
  if (job.status === "completed" && (job.denied > 0 || changes !== "")) {
    return { text: [deniedMark(job.denied), changes].filter((part) => part !== "").join(" · "), style: job.denied > 0 ? "error" : "dim" }
  }
  if (job.status !== "queued" && changes !== "") {
    const error = errorText(job.error === null ? null : sanitize(job.error), job.errorKind)
    return { text: `${error} · ${changes}`, style: job.status === "failed" ? "error" : "dim" }
  }
  if (job.status === "queued" && job.waiting !== undefined) return { text: `waiting: ${sanitize(job.waiting)}`, style: "dim" }
  const next = nextRunText(job)
  if (next !== null) return { text: sanitize(next), style: "dim" }
  return { text: errorText(job.error === null ? null : sanitize(job.error), job.errorKind), style: job.status === "failed" ? "error" : "dim" }
}

/** Marks a job that is a step of a workflow (`aidp execute all`), before its step. */
export const WORKFLOW_MARK = "»"

/** The step cell: the job's step, marked when the job is a step of a workflow; `-` for none. */
const stepText = (job: JobSummary): string =>
  job.step === null ? "-" : `${typeof job.metadata?.[WORKFLOW_ID_KEY] === "string" ? WORKFLOW_MARK : ""}${sanitize(job.step)}`

/** One job's cells as segments (no selection marker, no padding to the full width). */
export function jobCells(job: JobSummary, now: Date, cols: Columns): Segment[] {
  const cells: Segment[] = [seg(padRight(shortId(job.id), ID_WIDTH) + GAP)]
  if (cols.provider) cells.push(seg(padRight(job.provider, PROVIDER_WIDTH) + GAP))
  cells.push(seg(padRight(job.status, STATUS_WIDTH), job.status))
  if (cols.step) cells.push(seg(GAP), seg(padRight(truncate(stepText(job), STEP_WIDTH), STEP_WIDTH)))
  if (cols.project) cells.push(seg(GAP), seg(padRight(elideMiddle(sanitize(projectName(job.cwd)), PROJECT_WIDTH), PROJECT_WIDTH)))
  if (cols.duration) cells.push(seg(GAP), seg(padLeft(formatDuration(jobDurationMs(job, now)), DURATION_WIDTH)))
  if (cols.activity !== 0) {
    const activity = limit(activityText(job), cols.activity)
    const shown = cols.error !== 0 ? padRight(activity, cols.activity) : activity
    if (shown !== "") cells.push(seg(GAP), seg(shown, "dim"))
  }
  if (cols.error !== 0) {
    const error = errorCell(job)
    if (error.text !== "") cells.push(seg(GAP), seg(limit(error.text, cols.error), error.style))
  }
  return cells
}
