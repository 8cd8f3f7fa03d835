/**
 * The monitor's View: `view(model, width, height)` renders the model as exactly `height`
 * lines of exactly `width` columns, as styled segments. Pure; no terminal I/O.
 */
import type { Model } from "./model.js"
import { detailsView } from "./view/details.js"
import { listView } from "./view/list.js"
import { drawOverlay } from "./view/overlay.js"
import type { Line } from "./view/text.js"

export { lineText, type Line, type Segment, type StyleName } from "./view/text.js"

/** The screen for `model` at `width` x `height` (both clamped to at least 0). */
export function view(model: Model, width: number, height: number): Line[] {
  const w = Math.max(0, Math.floor(width))
  const h = Math.max(0, Math.floor(height))
  const screen = model.details === null ? listView(model, w, h) : detailsView(model, model.details, w, h)
  return drawOverlay(screen, model.overlay, w)
}
