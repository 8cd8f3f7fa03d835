/**
 * Spans of time as people type them on the command line and in settings: a whole number and a
 * unit, `30s`, `15m`, `2h`, `7d`, `2w` (`--since 7d`, `--older-than 90d`, `AIDP_RETENTION=90d`).
 * Pure.
 */

/** A span's spelling: digits, then one unit letter. */
export const SPAN = /^(\d+)(s|m|h|d|w)$/

/** Each unit in ms. */
const UNIT_MS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

/** The span `text` (trimmed) in ms, or null when it is not one. */
export const spanMs = (text: string): number | null => {
  const match = SPAN.exec(text.trim())
  return match ? Number(match[1]) * UNIT_MS[match[2]!]! : null
}
