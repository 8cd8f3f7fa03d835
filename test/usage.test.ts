/** usageOf: every provider's stored usage shape becomes one Usage; addUsage sums them. */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { addUsage, NO_USAGE, usageOf } from "../src/domain/usage.js"

describe("usageOf", () => {
  const cases: ReadonlyArray<readonly [string, unknown, ReturnType<typeof usageOf>]> = [
    [
      "claude result.usage",
      { input_tokens: 10, cache_creation_input_tokens: 7, cache_read_input_tokens: 3, output_tokens: 50, service_tier: "standard" },
      { inputTokens: 10, outputTokens: 50, cacheReadTokens: 3, cacheWriteTokens: 7 }
    ],
    [
      "gemini result.stats",
      { total_tokens: 1234, input_tokens: 1100, output_tokens: 134, cached: 20, input: 1100, duration_ms: 5120, tool_calls: 1 },
      { inputTokens: 1100, outputTokens: 134, cacheReadTokens: 20, cacheWriteTokens: 0 }
    ],
    [
      "cursor result.usage (camelCase)",
      { inputTokens: 5, outputTokens: 6, cacheReadTokens: 7, cacheWriteTokens: 8 },
      { inputTokens: 5, outputTokens: 6, cacheReadTokens: 7, cacheWriteTokens: 8 }
    ],
    ["no token count at all", { duration_ms: 10 }, null],
    ["null", null, null],
    ["an array", [1, 2], null],
    ["negative and non-numeric counts are ignored", { input_tokens: -1, output_tokens: "9", cached: 4 }, { inputTokens: 0, outputTokens: 0, cacheReadTokens: 4, cacheWriteTokens: 0 }]
  ]
  for (const [name, raw, expected] of cases) {
    it(name, () => assert.deepEqual(usageOf(raw), expected))
  }
})

describe("addUsage", () => {
  it("adds field by field, starting from NO_USAGE", () => {
    const one = { inputTokens: 1, outputTokens: 2, cacheReadTokens: 3, cacheWriteTokens: 4 }
    assert.deepEqual(addUsage(addUsage(NO_USAGE, one), one), { inputTokens: 2, outputTokens: 4, cacheReadTokens: 6, cacheWriteTokens: 8 })
  })
})
