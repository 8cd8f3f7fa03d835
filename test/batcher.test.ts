/** Pure tests of the output batcher (DESIGN.md: ≤100 ms or ≤64 KiB per batch). */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { DEFAULT_BATCH_LIMITS, OutputBatcher } from "../src/workers/batcher.js"

const line = (text: string, stream: "stdout" | "stderr" = "stdout") => ({ stream, text, at: "2026-01-01T00:00:00.000Z" })

describe("OutputBatcher", () => {
  it("has no deadline while empty and 100 ms after the first buffered line", () => {
    const batcher = new OutputBatcher()
    assert.equal(batcher.deadline(), undefined)
    assert.deepEqual(batcher.add(line("a"), 1000), [])
    assert.deepEqual(batcher.add(line("b", "stderr"), 1050), [])
    assert.equal(batcher.deadline(), 1000 + DEFAULT_BATCH_LIMITS.maxDelayMs)
    assert.deepEqual(batcher.take(), [line("a"), line("b", "stderr")])
    assert.equal(batcher.deadline(), undefined)
    assert.deepEqual(batcher.take(), [])
  })

  it("flushes when 64 KiB (UTF-8 bytes) are buffered", () => {
    const batcher = new OutputBatcher()
    const half = "é".repeat(16 * 1024) // 32 KiB
    assert.deepEqual(batcher.add(line(half), 0), [])
    const full = batcher.add(line(half), 1)
    assert.deepEqual(full, [[line(half), line(half)]])
    assert.equal(batcher.deadline(), undefined)
  })

  it("never lets a batch exceed the limit because of the next line", () => {
    const batcher = new OutputBatcher({ maxDelayMs: 100, maxBytes: 10 })
    batcher.add(line("123456"), 0)
    assert.deepEqual(batcher.add(line("abcdef"), 1), [[line("123456")]])
    assert.deepEqual(batcher.take(), [line("abcdef")])
  })

  it("sends a line longer than the limit as a batch of its own", () => {
    const batcher = new OutputBatcher({ maxDelayMs: 100, maxBytes: 10 })
    batcher.add(line("small"), 0)
    const huge = "x".repeat(100)
    assert.deepEqual(batcher.add(line(huge), 1), [[line("small")], [line(huge)]])
    assert.equal(batcher.deadline(), undefined)
  })

  it("restarts the delay with the first line after a flush", () => {
    const batcher = new OutputBatcher()
    batcher.add(line("a"), 0)
    batcher.take()
    batcher.add(line("b"), 500)
    assert.equal(batcher.deadline(), 600)
  })
})
