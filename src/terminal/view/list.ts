/** The list screen: title with counts, column headers, grouped job rows, status, keys. Pure. */
import type { JobStatus } from "../../domain/job.js"
import { GROUPS, layout, listRows, type ListRow, type Model, scrollFor } from "../model.js"
import { countOf, formatClock, formatCost } from "./format.js"
import { keyHints, statusLine, titleLine } from "./chrome.js"
import { type Columns, columnsFor, groupColumns, headerCells, jobCells, type TableWidths, textColumnAt } from "./table.js"
import { fitLine, type Line, lineWidth, padRight, seg, type Segment, truncate } from "./text.js"

const MARKER_WIDTH = 2

/** The key hints of the list screen. */
export const LIST_KEYS: ReadonlyArray<readonly [string, string]> = [
  ["↑↓", "move"],
  ["⏎", "actions"],
  ["r", "retry"],
  ["c", "cancel"],
  ["d", "details"],
  ["/", "filter"],
  ["?", "help"],
  ["q", "quit"]
]

/** The title's counts: statuses in the order of the groups (the last group holds two). */
const COUNTED: ReadonlyArray<readonly [JobStatus, string]> = [
  ["running", "running"],
  ["queued", "queued"],
  ["completed", "done"],
  ["failed", "failed"],
  ["cancelled", "cancelled"]
]

/**
 * The title: `aidp jobs`, today's spend when a provider reported a cost, and as many of the
 * counts as fit beside the clock (the group headers show them all anyway).
 */
function title(model: Model, width: number): Segment[] {
  const clock = formatClock(model.now)
  const left: Segment[] = [seg("aidp jobs", "title")]
  const spend = model.snapshot?.spendTodayUsd ?? null
  if (spend !== null) left.push(seg(`  ${formatCost(spend)} today`, "info"))
  const jobs = model.snapshot === null ? [] : GROUPS.flatMap((g) => model.snapshot![g.key])
  const room = width - clock.length - 1
  for (const [i, [status, label]] of (model.snapshot === null ? [] : COUNTED).entries()) {
    const count = seg(`${i === 0 ? "  " : " · "}${jobs.filter((j) => j.status === status).length} ${label}`)
    if (lineWidth([...left, count]) > room) break
    left.push(count)
  }
  return titleLine(left, clock, width)
}

/** A group's header: its title and count, with the name of its text column above that column. */
function groupLine(row: Extract<ListRow, { kind: "group" }>, widths: TableWidths, width: number): Segment[] {
  const head: Segment[] = [seg(row.title, "group"), seg(` (${row.count})`, "dim")]
  const last = GROUPS.find((g) => g.key === row.key)!.last
  const at = textColumnAt(widths, MARKER_WIDTH)
  if (widths.text === 0 || lineWidth(head) >= at) return fitLine(head, width)
  const name = { activity: "Activity", error: "Error", warning: "Warning" }[last]
  return fitLine([...head, seg(padRight("", at - lineWidth(head))), seg(name, "heading")], width)
}

function rowLine(row: ListRow, model: Model, widths: TableWidths, width: number): Segment[] {
  if (row.kind === "group") return groupLine(row, widths, width)
  const cols: Columns = groupColumns(widths, GROUPS.find((g) => g.key === row.group)!.last)
  const cells = jobCells(row.job, model.now, cols)
  if (row.index !== model.cursor) return fitLine([seg("  "), ...cells], width)
  return fitLine([seg("› "), ...cells].map((s) => seg(s.text, "selected")), width, "selected")
}

function emptyText(model: Model, jobCount: number): string | null {
  if (model.snapshot === null || jobCount > 0) return null
  if (model.filter.trim() !== "") return `No jobs match “${model.filter.trim()}”.`
  return "No jobs yet. Start one with: aidp jobs enqueue --provider claude --prompt …"
}

function fallbackStatus(model: Model, shown: number): Line {
  if (model.snapshot === null) return [seg("Loading…", "dim")]
  if (model.filter.trim() === "") return []
  return [seg(`Filter “${model.filter.trim()}”: ${countOf(shown, "job")}  (/ edit, esc clear)`, "dim")]
}

/** The list screen as exactly `height` lines of exactly `width` columns. */
export function listView(model: Model, width: number, height: number): Line[] {
  const box = layout(height)
  const rows = listRows(model)
  const jobCount = rows.filter((r) => r.kind === "job").length
  const widths = columnsFor(width, MARKER_WIDTH)
  // The text column's name (Activity or Error) differs by group: each group header shows it.
  const top: Line[] = [
    title(model, width),
    fitLine([seg(" ".repeat(MARKER_WIDTH) + headerCells({ ...widths, activity: 0, error: 0 }), "heading")], width)
  ].slice(0, box.top)
  const scroll = scrollFor(rows, model.cursor, model.scroll, box.body)
  const body: Line[] = rows.slice(scroll, scroll + box.body).map((r) => rowLine(r, model, widths, width))
  const empty = emptyText(model, jobCount)
  if (empty !== null && body.length < box.body) body.push(fitLine([seg(truncate(empty, width), "dim")], width))
  while (body.length < box.body) body.push(fitLine([], width))
  const bottom: Line[] = [statusLine(model, width, fallbackStatus(model, jobCount)), keyHints(LIST_KEYS, width)]
  return [...top, ...body, ...bottom.slice(0, box.bottom)]
}
