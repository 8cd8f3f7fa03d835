/**
 * The job table as plain text, for output that is not a terminal (`aidp jobs` piped,
 * `aidp jobs list`): the same columns as the monitor, one header line, no colour,
 * untrusted text sanitized. Pure.
 */
import { GROUPS } from "./model.js"
import type { JobSummary, Snapshot } from "./types.js"
import { headerCells, jobCells, plainColumns } from "./view/table.js"
import { lineText, truncate } from "./view/text.js"

/**
 * `jobs` as a table ending in a newline, in the order given. With `width`, lines are cut
 * to it and narrow widths drop columns as the monitor does; without, errors print whole.
 */
export function renderJobList(jobs: readonly JobSummary[], now: Date, width?: number): string {
  if (jobs.length === 0) return "No jobs.\n"
  const cols = plainColumns(jobs, width)
  const lines = [headerCells(cols), ...jobs.map((job) => lineText(jobCells(job, now, cols)).trimEnd())]
  return lines.map((l) => (width === undefined ? l : truncate(l, width))).join("\n") + "\n"
}

/** A snapshot as one table, rows in group order: running, queued, recently completed, failed and cancelled. */
export function renderPlain(snapshot: Snapshot, now: Date, width?: number): string {
  return renderJobList(GROUPS.flatMap((g) => snapshot[g.key]), now, width)
}

/**
 * The groups of a snapshot as text, each under its title with its count (`Running (2)`), in
 * group order, a table per group; `now` is the moment durations are measured to.
 */
export function renderGroups(groups: Omit<Snapshot, "spendTodayUsd">, now: Date, width?: number): string {
  return GROUPS.map((g) => `${g.title} (${groups[g.key].length})\n${groups[g.key].length === 0 ? "" : renderJobList(groups[g.key], now, width)}`).join("\n")
}
