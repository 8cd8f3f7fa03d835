/** The bench's arithmetic (bench/stats.ts): rates, nearest-rank percentiles, ratios, peak RSS. */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { peakRssMb, percentile, perSecond, ratioText } from "../bench/stats.js"

describe("bench arithmetic", () => {
  it("perSecond: n items over ms milliseconds", () => {
    assert.equal(perSecond(500, 2_000), 250)
    assert.equal(perSecond(3, 1_500), 2)
  })

  it("percentile: nearest rank, whatever the order of the samples", () => {
    const oneToSeven = [7, 1, 6, 2, 5, 3, 4]
    assert.equal(percentile(oneToSeven, 50), 4)
    assert.equal(percentile(oneToSeven, 100), 7)
    assert.equal(percentile(oneToSeven, 1), 1)
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i)
    assert.equal(percentile(hundred, 99), 99)
    assert.equal(percentile(hundred, 50), 50)
    assert.equal(percentile([4, 1], 50), 1)
    assert.equal(percentile([42], 99), 42)
  })

  it("percentile refuses no samples and a p outside (0, 100]", () => {
    assert.throws(() => percentile([], 50), /no samples/)
    assert.throws(() => percentile([1], 0), /outside/)
    assert.throws(() => percentile([1], 101), /outside/)
  })

  it("ratioText: aidp / peer with two decimals, empty without a peer", () => {
    assert.equal(ratioText(421, 89.5 * 2), "2.35x")
    assert.equal(ratioText(1, 3), "0.33x")
    assert.equal(ratioText(5, undefined), "")
  })

  it("peakRssMb: VmHWM of /proc/PID/status in MB, null without it", () => {
    assert.equal(peakRssMb("Name:\tnode\nVmPeak:\t  900000 kB\nVmHWM:\t  153600 kB\nVmRSS:\t 100 kB\n"), 150)
    assert.equal(peakRssMb("Name:\tnode\n"), null)
  })
})
