/**
 * The bench's arithmetic, pure: rates, percentiles, ratios and peak RSS from /proc. Unit-tested
 * (test/bench.stats.test.ts); the bench prints what these return and asserts nothing.
 */

/** Items per second of `n` items over `ms` milliseconds. */
export const perSecond = (n: number, ms: number): number => (n / ms) * 1000

/**
 * The `p`-th percentile (0 < p ≤ 100) of `samples` by nearest rank: the smallest sample with at
 * least p % of the samples at or below it (p50 of 1..7 is 4, p99 of 100 samples the 99th
 * smallest). Throws on no samples or a p outside (0, 100].
 */
export const percentile = (samples: ReadonlyArray<number>, p: number): number => {
  if (samples.length === 0) throw new Error("percentile of no samples")
  if (!(p > 0 && p <= 100)) throw new Error(`percentile ${p} is outside (0, 100]`)
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.ceil((p / 100) * sorted.length) - 1]!
}

/** How many times `peer` `aidp` is, for the table's last column (`0.50x`); "" without a peer. */
export const ratioText = (aidp: number, peer: number | undefined): string =>
  peer === undefined ? "" : `${(aidp / peer).toFixed(2)}x`

/** Peak resident set size in MB from the text of /proc/PID/status (its `VmHWM: N kB` line); null when absent. */
export const peakRssMb = (status: string): number | null => {
  const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status)
  return match ? Number(match[1]) / 1024 : null
}
