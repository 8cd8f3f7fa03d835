/**
 * How much of one untrusted text the screens show: a provider's line can be megabytes
 * long, so views show its start and a marker naming the command that prints it whole.
 * Pure.
 */

/** Most characters of one log message, error or metadata value a screen shows. */
export const SHOWN_CHARS = 4000

/** A byte count as `812 bytes`, `12.0 KB`, `6.0 MB` (binary multiples). */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`
  const units = ["KB", "MB", "GB"] as const
  let value = bytes / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value.toFixed(1)} ${units[unit]}`
}

/**
 * The first {@link SHOWN_CHARS} characters of raw `text` (never half a surrogate pair),
 * and the marker that says how much there is and that `whole` (a command) prints it whole;
 * no marker when the text is short. Cut before sanitizing: a cut escape sequence is removed
 * or made harmless like any other.
 */
export function limited(text: string, whole: string): { text: string; marker: string | null } {
  if (text.length <= SHOWN_CHARS) return { text, marker: null }
  const high = text.charCodeAt(SHOWN_CHARS - 1)
  const end = high >= 0xd800 && high <= 0xdbff ? SHOWN_CHARS - 1 : SHOWN_CHARS
  return { text: text.slice(0, end), marker: `… (${formatBytes(Buffer.byteLength(text, "utf8"))} in all; ${whole} prints it whole)` }
}
