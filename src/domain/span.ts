/**
 * Spans of time as people type them on the command line and in settings: a whole number and a
 * unit, `30s`, `15m`, `2h`, `7d`, `2w` (`--since 7d`, `--older-than 90d`, `AIDP_RETENTION=90d`).
 * Pure.
 */

/** A span's spelling: digits, then one unit letter. */
const SPAN = /^(\d+)(s|m|h|d|w)$/

/** Each unit in ms. */
const UNIT_MS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

/** The span `text` (trimmed) in ms, or null when it is not one. */
export const spanMs = (text: string): number | null => {
  const match = SPAN.exec(text.trim())
  return match ? Number(match[1]) * UNIT_MS[match[2]!]! : null
}

/** A local clock time, optionally on `today` or `yesterday`: `15:00`, `yesterday 9:30`. */
const CLOCK = /^(?:(today|yesterday)\s+)?(\d{1,2}):(\d{2})$/i

/**
 * The local time `text` names relative to `now` (`15:00` and `today 15:00`: today at 15:00 in
 * the machine's time zone; `yesterday 15:00`: the day before), or null when it names none.
 */
export const localClockTime = (text: string, now: Date): Date | null => {
  const match = CLOCK.exec(text.trim())
  if (!match) return null
  const [hours, minutes] = [Number(match[2]), Number(match[3])]
  if (hours > 23 || minutes > 59) return null
  const back = match[1]?.toLowerCase() === "yesterday" ? 1 : 0
  return new Date(now.getFullYear(), now.getMonth(), now.getDate() - back, hours, minutes)
}

