/**
 * The job table's columns (ID, Provider, Status, Duration, Error), shared by the
 * full-screen list and the plain renderer. Narrow widths drop Error, then Provider, then
 * Duration.
 */
import { sanitize } from "../sanitize.js"
import type { JobSummary } from "../types.js"
import { formatDuration, jobDurationMs, shortId } from "./format.js"
import { padLeft, padRight, seg, type Segment, type StyleName, truncate } from "./text.js"

const ID_WIDTH = 8
const PROVIDER_WIDTH = 8
const STATUS_WIDTH = 9
const DURATION_WIDTH = 8
const GAP = "  "
/** The Error column is dropped when it would be narrower than this. */
const MIN_ERROR_WIDTH = 12

/** Which columns fit; `errorWidth` is 0 without the Error column, null for no limit. */
export interface Columns {
  readonly provider: boolean
  readonly duration: boolean
  readonly errorWidth: number | null
}

/** The columns that fit in `width` columns (after a selection marker of `indent` columns). */
export function columnsFor(width: number, indent: number): Columns {
  const fixed = indent + ID_WIDTH + GAP.length + STATUS_WIDTH + GAP.length + DURATION_WIDTH
  const withProvider = fixed + PROVIDER_WIDTH + GAP.length
  const errorWidth = width - withProvider - GAP.length
  if (errorWidth >= MIN_ERROR_WIDTH) return { provider: true, duration: true, errorWidth }
  return { provider: width >= withProvider, duration: width >= fixed, errorWidth: 0 }
}

/** Columns for output without a width limit (plain, non-TTY). */
export const ALL_COLUMNS: Columns = { provider: true, duration: true, errorWidth: null }

const limit = (text: string, width: number | null): string => (width === null ? text : truncate(text, width))

/** The header cells, e.g. `ID        Provider  Status     Duration  Error`. */
export function headerCells(cols: Columns): string {
  const cells = [padRight("ID", ID_WIDTH)]
  if (cols.provider) cells.push(padRight("Provider", PROVIDER_WIDTH))
  cells.push(padRight("Status", STATUS_WIDTH))
  if (cols.duration) cells.push(padLeft("Duration", DURATION_WIDTH))
  if (cols.errorWidth !== 0) cells.push("Error")
  return cells.join(GAP).trimEnd()
}

/**
 * What the Error column says: the error (with its kind), or for a running job its
 * latest progress line. Sanitized, one line.
 */
export function errorCell(job: JobSummary): { text: string; style: StyleName | null } {
  if (job.status === "running") return { text: sanitize(job.progress ?? ""), style: "dim" }
  const error = job.error === null ? "" : sanitize(job.error)
  const kind = job.errorKind ?? ""
  const text = kind !== "" && error !== "" && !error.startsWith(kind) ? `${kind}: ${error}` : error || kind
  return { text, style: job.status === "failed" ? "error" : "dim" }
}

/** One job's cells as segments (no selection marker, no padding to the full width). */
export function jobCells(job: JobSummary, now: Date, cols: Columns): Segment[] {
  const cells: Segment[] = [seg(padRight(shortId(job.id), ID_WIDTH) + GAP)]
  if (cols.provider) cells.push(seg(padRight(job.provider, PROVIDER_WIDTH) + GAP))
  cells.push(seg(padRight(job.status, STATUS_WIDTH), job.status))
  if (cols.duration) cells.push(seg(GAP), seg(padLeft(formatDuration(jobDurationMs(job, now)), DURATION_WIDTH)))
  if (cols.errorWidth !== 0) {
    const error = errorCell(job)
    if (error.text !== "") cells.push(seg(GAP), seg(limit(error.text, cols.errorWidth), error.style))
  }
  return cells
}
