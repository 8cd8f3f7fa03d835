/** Boxes drawn over a screen: the action menu and the help. Pure. */
import type { MenuAction, Overlay } from "../model.js"
import { shortId } from "./format.js"
import { displayWidth, fitLine, type Line, overlayLine, padRight, seg, type Segment } from "./text.js"

const MENU_LABELS: Record<MenuAction, readonly [string, string]> = {
  details: ["Details", "d"],
  logs: ["Follow log", "l"],
  retry: ["Retry", "r"],
  retryFresh: ["Retry fresh", "f"],
  cancel: ["Cancel", "c"],
  diff: ["Diff (pager)", "D"],
  merge: ["Merge branch", "m"],
  discard: ["Discard", "x"],
  close: ["Close", "esc"]
}

const HELP: ReadonlyArray<readonly [string, string]> = [
  ["↑↓  k j", "move the selection"],
  ["PgUp PgDn", "move a page"],
  ["Home End", "first / last job"],
  ["⏎", "actions for the selected job"],
  ["d", "details: fields, executions, log"],
  ["l", "details, following the log"],
  ["v", "log: agent activity / stored lines"],
  ["r", "retry a failed or cancelled job"],
  ["f", "retry fresh: start over without resuming"],
  ["c", "cancel a queued or running job"],
  ["D", "diff of what the job changed, in $PAGER"],
  ["/", "filter: id, provider, status, step, project, error"],
  ["esc", "clear the filter, close, go back"],
  ["q  Ctrl-C", "quit (q goes back from details)"]
]

/** A bordered box around `rows` (each `inner` columns wide) with `title` in the top edge. */
function box(title: string, rows: readonly Line[], inner: number): Line[] {
  const rule = "─".repeat(Math.max(0, inner - displayWidth(title) - 1))
  return [
    [seg(`┌─${title}${rule}┐`, "dim")],
    ...rows.map((r): Line => [seg("│ ", "dim"), ...fitLine(r, inner - 2), seg(" │", "dim")]),
    [seg(`└${"─".repeat(inner)}┘`, "dim")]
  ]
}

function menuBox(overlay: Extract<Overlay, { kind: "menu" }>): Line[] {
  const rows = overlay.items.map((item, i): Line => {
    const [label, key] = MENU_LABELS[item]
    const text = `${i === overlay.index ? "›" : " "} ${padRight(label, 12)}${key.padStart(3)}`
    return [seg(text, i === overlay.index ? "selected" : null)]
  })
  return box(` ${shortId(overlay.jobId)} `, rows, 22)
}

function helpBox(width: number): Line[] {
  const rows = HELP.map(([keys, what]): Line => [seg(padRight(keys, 11), "key"), seg(what)])
  return box(" Keys ", [...rows, [], [seg("any key closes this help", "dim")]], Math.max(10, Math.min(56, width - 2)))
}

/** `lines` with the overlay's box drawn centred over them (unchanged for none/confirm). */
export function drawOverlay(lines: readonly Line[], overlay: Overlay, width: number): Line[] {
  const boxLines = overlay.kind === "menu" ? menuBox(overlay) : overlay.kind === "help" ? helpBox(width) : []
  if (boxLines.length === 0) return [...lines]
  const boxWidth = displayWidth(boxLines[0]?.map((s: Segment) => s.text).join("") ?? "")
  const top = Math.max(0, Math.floor((lines.length - boxLines.length) / 2))
  const left = Math.max(0, Math.floor((width - boxWidth) / 2))
  return lines.map((line, i) => {
    const b = boxLines[i - top]
    return b === undefined ? line : overlayLine(line, b, left, width)
  })
}
