/** The parts every screen shares: title line, status line and key hints. Pure. */
import type { Model } from "../model.js"
import { findJob } from "../model.js"
import { formatClock, shortId } from "./format.js"
import { fitLine, lineWidth, type Line, seg, type Segment, truncate } from "./text.js"

/** A title line: `title` on the left, `right` right-aligned when there is room. */
export function titleLine(left: Line, right: string, width: number): Segment[] {
  const room = width - lineWidth(left) - 1
  if (right === "" || room < right.length) return fitLine(left, width)
  return fitLine([...left, seg(" ".repeat(room - right.length + 1)), seg(right, "dim")], width)
}

/** Key hints as `key label` pairs; labels go first when the line is too narrow. */
export function keyHints(hints: ReadonlyArray<readonly [string, string]>, width: number): Segment[] {
  const full: Segment[] = hints.flatMap(([key, label], i) => [seg(i === 0 ? key : `  ${key}`, "key"), seg(` ${label}`)])
  if (lineWidth(full) <= width) return fitLine(full, width)
  return fitLine(hints.map(([key], i) => seg(i === 0 ? key : ` ${key}`, "key")), width)
}

/**
 * What the status line says while the database does not answer the liveness probe, e.g.
 * `Database unreachable — showing data from 19:42:10; retrying (no answer in 500 ms)`, or
 * else while loads fail (`Could not load jobs — …; retrying (…)`); null while all is well.
 */
export function troubleText(model: Model): string | null {
  const error = model.unreachable ?? model.loadError
  if (error === null) return null
  const what = model.unreachable !== null ? "Database unreachable" : "Could not load jobs"
  const since = model.loadedAt === null ? "" : ` — showing data from ${formatClock(model.loadedAt)}`
  return `${what}${since}; retrying (${error})`
}

/**
 * The status line: a pending confirmation, the filter being typed, an unreachable database,
 * a notice, failing loads, or `fallback` (screen-specific hint), in that order.
 */
export function statusLine(model: Model, width: number, fallback: Line): Segment[] {
  const { overlay } = model
  if (overlay.kind === "confirmCancel") {
    const status = findJob(model, overlay.jobId)?.status ?? model.details?.data?.status ?? "unknown"
    return fitLine([seg(`Cancel job ${shortId(overlay.jobId)} (${status})? `, "error"), seg("y/N", "key")], width)
  }
  if (model.editingFilter) {
    const prompt = [seg("/", "key"), seg(model.filter), seg("▏", "key")]
    const hint = seg("   ⏎ apply  esc clear", "dim")
    return fitLine(lineWidth(prompt) + lineWidth([hint]) <= width ? [...prompt, hint] : prompt, width)
  }
  const trouble = troubleText(model)
  if (trouble !== null && (model.unreachable !== null || model.notice === null)) return fitLine([seg(truncate(trouble, width), "error")], width)
  if (model.notice) return fitLine([seg(truncate(model.notice.text, width), model.notice.tone)], width)
  return fitLine(fallback, width)
}
