/** The list screen: title with counts, column headers, grouped job rows, status, keys. Pure. */
import { layout, listRows, type ListRow, type Model, scrollFor } from "../model.js"
import { formatClock } from "./format.js"
import { keyHints, statusLine, titleLine } from "./chrome.js"
import { columnsFor, headerCells, jobCells, type Columns } from "./table.js"
import { fitLine, type Line, seg, type Segment, truncate } from "./text.js"

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

function counts(model: Model): string {
  if (model.snapshot === null) return ""
  const s = model.snapshot
  return `${s.running.length} running · ${s.queued.length} queued · ${s.recent.length} recent · ${s.failed.length} failed`
}

function rowLine(row: ListRow, model: Model, cols: Columns, width: number): Segment[] {
  if (row.kind === "group") return fitLine([seg(row.title, "group"), seg(` (${row.count})`, "dim")], width)
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
  return [seg(`Filter “${model.filter.trim()}”: ${shown} jobs  (/ edit, esc clear)`, "dim")]
}

/** The list screen as exactly `height` lines of exactly `width` columns. */
export function listView(model: Model, width: number, height: number): Line[] {
  const box = layout(height)
  const rows = listRows(model)
  const jobCount = rows.filter((r) => r.kind === "job").length
  const cols = columnsFor(width, MARKER_WIDTH)
  const top: Line[] = [
    titleLine([seg("aidp jobs", "title"), seg(`  ${counts(model)}`)], formatClock(model.now), width),
    fitLine([seg(" ".repeat(MARKER_WIDTH) + headerCells(cols), "heading")], width)
  ].slice(0, box.top)
  const scroll = scrollFor(rows, model.cursor, model.scroll, box.body)
  const body: Line[] = rows.slice(scroll, scroll + box.body).map((r) => rowLine(r, model, cols, width))
  const empty = emptyText(model, jobCount)
  if (empty !== null && body.length < box.body) body.push(fitLine([seg(truncate(empty, width), "dim")], width))
  while (body.length < box.body) body.push(fitLine([], width))
  const bottom: Line[] = [statusLine(model, width, fallbackStatus(model, jobCount)), keyHints(LIST_KEYS, width)]
  return [...top, ...body, ...bottom.slice(0, box.bottom)]
}
