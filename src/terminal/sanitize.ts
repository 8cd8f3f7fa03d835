/**
 * Makes untrusted text (provider output, errors, metadata) harmless for a terminal
 * (DESIGN.md, invariant 5): escape sequences are removed whole, every other control
 * character becomes U+FFFD, bidi overrides are dropped and lone surrogates replaced.
 * Pure; the stored text is never changed, only what is displayed.
 */

// 7-bit and 8-bit forms. String terminators (BEL, ESC \, ST) end OSC/DCS/SOS/PM/APC;
// an unterminated string swallows the rest of the text, as a terminal would.
const ESCAPE_SEQUENCE = new RegExp(
  [
    String.raw`\x1b\][\s\S]*?(?:\x07|\x1b\\|\x9c|$)`,
    String.raw`\x1b[PX^_][\s\S]*?(?:\x1b\\|\x9c|$)`,
    String.raw`\x1b\[[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?`,
    String.raw`\x1b[\x20-\x2f]*[\x30-\x7e]?`,
    String.raw`\x9d[\s\S]*?(?:\x07|\x9c|$)`,
    String.raw`[\x90\x98\x9e\x9f][\s\S]*?(?:\x9c|$)`,
    String.raw`\x9b[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?`
  ].join("|"),
  "g"
)
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g
const BIDI_CONTROL = /[\u202a-\u202e\u2066-\u2069]/g
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g
const LINE_BREAK = /\r\n|[\n\r\u2028\u2029\x0b\x0c\x85]/

/** Text made safe to print on one line: inner line breaks become ` ↵ `, tabs a space. */
export function sanitize(text: string): string {
  const lines = sanitizeLines(text)
  while (lines.length > 1 && lines[lines.length - 1]?.trim() === "") lines.pop()
  return lines.join(" ↵ ")
}

/** Text made safe to print, split into lines (CR, LF, CRLF, U+2028/2029 all break). */
export function sanitizeLines(text: string): string[] {
  return text
    .replace(ESCAPE_SEQUENCE, "")
    .replace(LONE_SURROGATE, "\ufffd")
    .replace(BIDI_CONTROL, "")
    .split(LINE_BREAK)
    .map((line) => line.replace(/\t/g, " ").replace(CONTROL, "\ufffd"))
}

// Every character that sanitize would drop or replace, as one.
const INVISIBLE = new RegExp(String.raw`[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]|${LONE_SURROGATE.source}`, "g")

/**
 * A name the user gave (a path, a flag's value) made harmless but kept recognisable: each
 * control character, line or paragraph separator, bidi control and lone surrogate is shown as
 * its escape (ESC as `\x1b`, U+202E as `\u202e`), the rest left as it is. Its output passes
 * sanitize unchanged. Pure.
 */
export function visible(text: string): string {
  return text.replace(INVISIBLE, (char) => {
    const code = char.charCodeAt(0)
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`
  })
}
