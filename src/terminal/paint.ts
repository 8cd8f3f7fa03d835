/**
 * Turns view lines into terminal output: SGR styling per segment and a frame diff that
 * rewrites only changed rows, wrapped in synchronized-update marks so the terminal
 * shows each frame whole. Pure; the adapter writes the result.
 */
import type { Line, StyleName } from "./view/text.js"

/** SGR parameters for each style (empty = terminal default). */
export type Palette = Readonly<Record<StyleName, string>>

/** Colours and attributes. */
export const COLOR_PALETTE: Palette = {
  title: "1",
  heading: "1",
  group: "1;36",
  selected: "7",
  dim: "2",
  key: "1",
  info: "32",
  error: "31",
  running: "36",
  queued: "33",
  completed: "32",
  failed: "31",
  cancelled: "35"
}

/** Attributes only, for NO_COLOR (no-color.org forbids colour, not bold or inverse). */
export const MONO_PALETTE: Palette = {
  ...COLOR_PALETTE,
  group: "1",
  info: "",
  error: "",
  running: "",
  queued: "",
  completed: "",
  failed: "",
  cancelled: ""
}

const ESC = "\x1b["
/** Begin / end synchronized update (DEC mode 2026); terminals without it ignore both. */
export const SYNC_BEGIN = `${ESC}?2026h`
/** See {@link SYNC_BEGIN}. */
export const SYNC_END = `${ESC}?2026l`

/** One line as text with SGR codes (emitted only where the look changes), attributes reset at the end. */
export function renderLine(line: Line, palette: Palette): string {
  let out = ""
  let current = ""
  for (const s of line) {
    const sgr = s.style === null ? "" : palette[s.style]
    if (sgr !== current) out += `${ESC}0${sgr === "" ? "" : `;${sgr}`}m`
    current = sgr
    out += s.text
  }
  return `${out}${ESC}0m`
}

/**
 * Output that turns the screen showing `prev` (null = unknown, e.g. after a resize) into
 * `next`: changed rows only, each addressed absolutely. Empty when nothing changed.
 */
export function paintFrame(prev: readonly string[] | null, next: readonly string[]): string {
  let out = prev === null ? `${ESC}0m${ESC}2J` : ""
  next.forEach((row, i) => {
    if (prev === null || prev[i] !== row) out += `${ESC}${i + 1};1H${row}`
  })
  return out === "" ? "" : SYNC_BEGIN + out + SYNC_END
}
