/** Sparklines: a row of block characters whose heights follow a series of counts. Pure. */

/** Block heights from the lowest non-zero to the highest. */
const BLOCKS = "▁▂▃▄▅▆▇█"

/**
 * One character per value: a space for 0, else a block scaled to the largest value (any
 * non-zero value gets at least the lowest block, so a quiet day still shows). Negative values
 * count as 0.
 */
export function sparkline(values: ReadonlyArray<number>): string {
  const max = Math.max(0, ...values)
  return values
    .map((value) => (value <= 0 || max === 0 ? " " : BLOCKS[Math.max(0, Math.ceil((value / max) * BLOCKS.length) - 1)]!))
    .join("")
}
