/**
 * Styled text for the monitor: a line is a list of segments, each with a semantic style
 * the adapter maps to SGR codes (or to nothing under NO_COLOR). Widths are terminal
 * columns: wide (CJK, emoji) graphemes count 2, combining marks 0. Pure.
 */

/** Semantic styles; the adapter decides what each looks like. */
export type StyleName =
  | "title"
  | "heading"
  | "group"
  | "selected"
  | "dim"
  | "key"
  | "info"
  | "error"
  | "running"
  | "queued"
  | "completed"
  | "failed"
  | "cancelled"

/** A run of text in one style (null = terminal default). Text is already sanitized. */
export interface Segment {
  readonly text: string
  readonly style: StyleName | null
}

/** One screen line. */
export type Line = readonly Segment[]

/** Builds a segment. */
export function seg(text: string, style: StyleName | null = null): Segment {
  return { text, style }
}

/** The plain text of a line (what tests read). */
export function lineText(line: Line): string {
  return line.map((s) => s.text).join("")
}

/** Made on first use: building it loads ICU's break data (~10 ms), which ASCII-only commands never need. */
let graphemeSegmenter: Intl.Segmenter | undefined
const segmenter = (): Intl.Segmenter => (graphemeSegmenter ??= new Intl.Segmenter(undefined, { granularity: "grapheme" }))
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}\p{Cc}]/u
const EMOJI_PRESENTATION = /^\p{Emoji_Presentation}/u
const PICTOGRAPHIC = /^\p{Extended_Pictographic}/u
// East Asian Wide and Fullwidth blocks (Unicode EastAsianWidth W/F), coarsely.
const WIDE_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x1100, 0x115f], [0x2e80, 0x303e], [0x3041, 0x33ff], [0x3400, 0x4dbf], [0x4e00, 0x9fff],
  [0xa000, 0xa4cf], [0xa960, 0xa97f], [0xac00, 0xd7a3], [0xf900, 0xfaff], [0xfe10, 0xfe19],
  [0xfe30, 0xfe6f], [0xff00, 0xff60], [0xffe0, 0xffe6], [0x1f300, 0x1f64f], [0x1f900, 0x1f9ff],
  [0x20000, 0x2fffd], [0x30000, 0x3fffd]
]

/** Splits text into grapheme clusters (what a user sees as one character). */
export function graphemes(text: string): string[] {
  if (PRINTABLE_ASCII.test(text)) return text.split("")
  return Array.from(eachGrapheme(text))
}

/** Code units handed to the segmenter at a time (see {@link eachGrapheme}). */
const SEGMENT_CHUNK = 256

/**
 * The grapheme clusters of `text`, one at a time, in time linear in what is consumed.
 * Intl.Segmenter takes time proportional to the whole string for every step (seconds
 * per line for a multi-megabyte string), so long text is segmented in short chunks: each
 * chunk starts at a cluster boundary and ends between code points, and its last cluster,
 * which may go on in the next chunk, is segmented again as the start of the next one.
 * (Whether a cluster boundary lies between two code points depends only on what comes
 * before it and on the code point after it.)
 */
function* eachGrapheme(text: string): Generator<string> {
  if (PRINTABLE_ASCII.test(text)) {
    for (let i = 0; i < text.length; i++) yield text.charAt(i)
    return
  }
  let pos = 0
  let size = SEGMENT_CHUNK
  while (pos < text.length) {
    if (text.length - pos <= size) {
      for (const s of segmenter().segment(text.slice(pos))) yield s.segment
      return
    }
    // Whole code points only: where a cluster ends depends on the character after it.
    const high = text.charCodeAt(pos + size - 1)
    const end = pos + size - (high >= 0xd800 && high <= 0xdbff ? 1 : 0)
    const parts = Array.from(segmenter().segment(text.slice(pos, end)), (s) => s.segment)
    if (parts.length < 2) {
      // One cluster longer than the chunk (a letter with very many marks): widen the chunk.
      size *= 2
      continue
    }
    const last = parts.pop() ?? ""
    yield* parts
    pos = end - last.length
    size = SEGMENT_CHUNK
  }
}

/** Columns one grapheme cluster occupies: 0, 1 or 2. */
export function graphemeWidth(grapheme: string): number {
  const cp = grapheme.codePointAt(0)
  if (cp === undefined || ZERO_WIDTH.test(grapheme)) return 0
  if (cp < 0x1100) return 1
  if (EMOJI_PRESENTATION.test(grapheme)) return 2
  if (grapheme.includes("\ufe0f") && PICTOGRAPHIC.test(grapheme)) return 2
  return WIDE_RANGES.some(([lo, hi]) => cp >= lo && cp <= hi) ? 2 : 1
}

/** Columns a string occupies. */
export function displayWidth(text: string): number {
  if (PRINTABLE_ASCII.test(text)) return text.length
  let width = 0
  for (const g of eachGrapheme(text)) width += graphemeWidth(g)
  return width
}

/** The longest prefix that fits in `width` columns, and whether anything was left out. */
function cut(text: string, width: number): { text: string; cut: boolean } {
  let used = 0
  let out = ""
  for (const g of eachGrapheme(text)) {
    const w = graphemeWidth(g)
    if (used + w > width) return { text: out, cut: true }
    used += w
    out += g
  }
  return { text: out, cut: false }
}

/** Text shortened to at most `width` columns, ending in `…` when something was cut. */
export function truncate(text: string, width: number): string {
  if (width <= 0) return ""
  const whole = cut(text, width)
  if (!whole.cut) return text
  return cut(whole.text, width - 1).text + "…"
}

/** Text truncated, then padded with spaces on the right to exactly `width` columns. */
export function padRight(text: string, width: number): string {
  const t = truncate(text, width)
  return t + " ".repeat(Math.max(0, width - displayWidth(t)))
}

/** Text truncated, then padded with spaces on the left to exactly `width` columns. */
export function padLeft(text: string, width: number): string {
  const t = truncate(text, width)
  return " ".repeat(Math.max(0, width - displayWidth(t))) + t
}

/** Columns a line occupies. */
export function lineWidth(line: Line): number {
  return line.reduce((w, s) => w + displayWidth(s.text), 0)
}

/**
 * The columns [from, to) of a line. A wide grapheme cut in half by either edge is
 * replaced by spaces so every column keeps its position.
 */
export function sliceLine(line: Line, from: number, to: number): Segment[] {
  const out: Segment[] = []
  let col = 0
  for (const s of line) {
    let text = ""
    for (const g of eachGrapheme(s.text)) {
      const w = graphemeWidth(g)
      const start = col
      if (start >= to) break
      col += w
      if (col <= from) continue
      text += start >= from && col <= to ? g : " ".repeat(Math.min(col, to) - Math.max(start, from))
    }
    if (text !== "") out.push(seg(text, s.style))
    if (col >= to) break
  }
  return out
}

/** A line cut or padded (with `padStyle`) to exactly `width` columns. */
export function fitLine(line: Line, width: number, padStyle: StyleName | null = null): Segment[] {
  const out = sliceLine(line, 0, width)
  const used = lineWidth(out)
  if (used < width) out.push(seg(" ".repeat(width - used), padStyle))
  return out
}

/** `top` drawn over `base` starting at column `at`; both fitted to `width` columns. */
export function overlayLine(base: Line, top: Line, at: number, width: number): Segment[] {
  const topWidth = lineWidth(top)
  const full = fitLine(base, width)
  return fitLine([...sliceLine(full, 0, at), ...top, ...sliceLine(full, at + topWidth, width)], width)
}

/**
 * Text wrapped to lines of at most `width` columns, breaking after spaces where it can
 * and inside words where it must. Always at least one line. One pass over the text, so
 * multi-megabyte lines wrap in linear time.
 */
export function wrap(text: string, width: number): string[] {
  if (width <= 0) return [""]
  const lines: string[] = []
  let line = ""
  let used = 0
  // Where the line may break: just after its last space (not a leading one), and the width there.
  let breakAt = -1
  let breakWidth = 0
  for (const g of eachGrapheme(text)) {
    const w = graphemeWidth(g)
    if (used + w > width && line !== "") {
      if (breakAt > 1) {
        lines.push(line.slice(0, breakAt).trimEnd())
        line = line.slice(breakAt)
        used -= breakWidth
      } else {
        // No space to break at: break inside the word. A grapheme wider than the whole
        // line still gets a line of its own.
        lines.push(line.trimEnd())
        line = ""
        used = 0
      }
      breakAt = -1
      // What was carried over has no space in it; if `g` still does not fit, break again.
      if (used + w > width && line !== "") {
        lines.push(line.trimEnd())
        line = ""
        used = 0
      }
    }
    line += g
    used += w
    if (g === " ") {
      breakAt = line.length
      breakWidth = used
    }
  }
  // A last grapheme wider than the whole line is a line of its own, like the others.
  if (line !== "" || lines.length === 0) lines.push(used > width ? line.trimEnd() : line)
  return lines
}

/**
 * Text wrapped at word boundaries to lines of at most `width` columns: a line breaks only
 * between words (the spaces there are dropped), and only a word wider than the whole line is
 * broken inside. Spaces inside a line, and those the text starts with, are kept. Always at
 * least one line; one pass over the text, so it stays linear for multi-megabyte text.
 */
export function wrapWords(text: string, width: number): string[] {
  if (width <= 0) return [""]
  const lines: string[] = []
  let line = ""
  let used = 0
  // Spaces since the last word (dropped if the line breaks there) and the word being read.
  let spaces = ""
  let word = ""
  let wordWidth = 0
  const breakLine = () => {
    lines.push(line)
    line = ""
    used = 0
    spaces = ""
  }
  const placeWord = () => {
    if (word === "") return
    const gap = line === "" && lines.length > 0 ? "" : spaces
    if (line !== "" && used + spaces.length + wordWidth > width) breakLine()
    else if (gap !== "" && used + gap.length + wordWidth <= width) {
      line += gap
      used += gap.length
    }
    line += word
    used += wordWidth
    spaces = ""
    word = ""
    wordWidth = 0
  }
  for (const g of eachGrapheme(text)) {
    if (g === " ") {
      placeWord()
      spaces += g
      continue
    }
    const w = graphemeWidth(g)
    if (word !== "" && wordWidth + w > width) {
      // A word wider than a line: it starts a line of its own and fills it.
      if (line !== "") breakLine()
      line = word
      breakLine()
      word = ""
      wordWidth = 0
    }
    word += g
    wordWidth += w
  }
  placeWord()
  if (line !== "" || lines.length === 0) lines.push(line)
  return lines
}
