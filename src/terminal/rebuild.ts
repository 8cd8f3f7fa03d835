/**
 * `aidp jobs replay --rebuild` as text: per table its rows and whether the rebuilt ones match
 * the live ones, then each difference found (table, key, column, the live and the rebuilt
 * value), and whether the rebuilt rows replaced the live ones. Pure; values are sanitized.
 */
import { MAX_LISTED_ROWS, type RebuildReport } from "../projections/rebuild.js"
import { sanitize } from "./sanitize.js"
import { countOf } from "./view/format.js"
import { truncate } from "./view/text.js"

/** Widest value shown in a difference line, columns (the JSON output has them whole). */
const VALUE_WIDTH = 60

const value = (v: unknown): string => truncate(sanitize(v === undefined ? "null" : JSON.stringify(v)), VALUE_WIDTH)

/** The report as text ending in a newline. */
export function renderRebuild(report: RebuildReport): string {
  const lines = [`Replayed ${countOf(report.events, "event")}.`]
  for (const t of report.tables) {
    const state = t.identical
      ? "identical to the live table"
      : `${t.differingRows === undefined ? "DIFFERENT from" : `${countOf(t.differingRows, "row")} DIFFERENT from`} the live table${report.applied ? " (now replaced)" : ""}`
    lines.push(`${t.table.padEnd(15)} ${String(t.rows).padStart(8)} ${t.rows === 1 ? "row " : "rows"}  ${state}`)
  }
  if (report.differences.length > 0) {
    const cut = report.tables.some((t) => (t.differingRows ?? 0) > MAX_LISTED_ROWS)
    lines.push("", `Differences (live -> rebuilt)${cut ? `, the first ${MAX_LISTED_ROWS} rows of each table` : ""}:`)
    for (const d of report.differences) lines.push(`  ${d.table} ${sanitize(d.key)} ${d.column}: ${value(d.live)} -> ${value(d.rebuilt)}`)
  }
  if (report.applied) {
    lines.push("", report.tables.some((t) => !t.identical)
      ? "The rebuilt read models replaced the live ones: they now match the event log."
      : "The rebuilt read models replaced the live ones (they were identical).")
  }
  return `${lines.join("\n")}\n`
}
