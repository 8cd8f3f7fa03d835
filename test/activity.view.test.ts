/**
 * The activity view (src/terminal/view/activity.ts) and word wrapping (wrapWords in text.ts):
 * long text wraps on word boundaries, escape sequences are made harmless, huge text is cut
 * to its start with a marker. Pure.
 */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import type { ActivityEntry } from "../src/domain/activity/types.js"
import { activityLines, entryLines } from "../src/terminal/view/activity.js"
import { displayWidth, lineText, wrapWords } from "../src/terminal/view/text.js"

const AT = new Date(2026, 0, 1, 10, 0, 0)
const JOB = "abcdef12-0000-4000-8000-000000000001"
const text = (value: string): ActivityEntry => ({ kind: "text", at: AT, text: value })
const plain = (entries: ReadonlyArray<ActivityEntry>, width: number): string[] => activityLines(entries, width, JOB).map(lineText)

const LONG =
  "I read the architecture document and the two services it describes. The scheduler keeps its state in PostgreSQL, " +
  "so the new retry policy belongs next to the claim query; the notifier only needs a new channel name. Next I will " +
  "update docs/ARCHITECTURE.md, then run the integration tests (npm test) to confirm nothing regressed."

describe("wrapWords", () => {
  const CASES: ReadonlyArray<[string, number, string[]]> = [
    ["aaaa bbbb cccc", 9, ["aaaa bbbb", "cccc"]],
    ["hello, world; this is text", 10, ["hello,", "world;", "this is", "text"]],
    ["aaa  bbb  ccc", 4, ["aaa", "bbb", "ccc"]],
    ["  indented code", 20, ["  indented code"]],
    ["ab cdefghijklmnop q", 5, ["ab", "cdefg", "hijkl", "mnop", "q"]],
    ["日本語 日本語 日本語", 7, ["日本語", "日本語", "日本語"]],
    ["", 5, [""]],
    ["word", 0, [""]]
  ]
  for (const [input, width, expected] of CASES) {
    it(`${JSON.stringify(input)} at ${width}`, () => assert.deepEqual(wrapWords(input, width), expected))
  }

  it("wraps megabytes in one pass (quadratic work would not finish)", () => {
    const words = "lorem ipsum dolor sit amet ".repeat(40_000)
    const lines = wrapWords(words, 80)
    assert.ok(lines.every((l) => l.length <= 80))
    assert.equal(lines.join(" "), words.trim())
    const solid = "0123456789abcdef".repeat(64 * 1024)
    assert.equal(wrapWords(solid, 64).length, 16 * 1024)
    const wide = "日本語 e\u0301 🇫🇷 👩‍💻 ".repeat(10_000)
    assert.ok(wrapWords(wide, 19).every((l) => displayWidth(l) <= 19))
  })
})

describe("activity view", () => {
  for (const width of [80, 60]) {
    it(`a long assistant text wraps on word boundaries at ${width} columns, under its column`, () => {
      const lines = plain([text(LONG)], width)
      assert.ok(lines.length > 3)
      assert.match(lines[0]!, /^10:00:00 agent {4}I read/)
      for (const line of lines) assert.ok(displayWidth(line) <= width, `${JSON.stringify(line)} is wider than ${width}`)
      const bodies = lines.map((l) => l.slice(18))
      for (const line of lines.slice(1)) assert.match(line, /^ {18}\S/, "continuation lines are indented under the text")
      // Every line ends and starts at a word boundary: the words come back whole.
      assert.deepEqual(bodies.join(" ").split(" "), LONG.split(" "))
    })
  }

  it("renders each kind in words", () => {
    const entries: ActivityEntry[] = [
      { kind: "attempt", at: AT, executionId: "e1234567-0000", attempt: 2 },
      { kind: "attempt", at: AT, executionId: "e7654321-0000", attempt: null },
      { kind: "session", at: AT, model: "claude-sonnet-4-5", version: "2.1.332" },
      { kind: "thinking", at: AT, text: "First line of a thought\nsecond line" },
      { kind: "tool", at: AT, name: "Bash", target: "npm test" },
      { kind: "toolResult", at: AT, name: "Bash", ok: true, bytes: 2048, error: null },
      { kind: "toolResult", at: AT, name: "Read", ok: false, bytes: 30, error: "File does not exist." },
      { kind: "retry", at: AT, attempt: 1, maxRetries: 10, delayMs: 1500, status: 529, reason: "overloaded" },
      { kind: "retry", at: AT, attempt: 2, maxRetries: null, delayMs: null, status: 429, reason: null },
      { kind: "warning", at: AT, text: "Loop detection disabled." },
      { kind: "error", at: AT, text: "Tool registry failed." },
      { kind: "result", at: AT, ok: true, text: null, durationMs: 5120, turns: 3, usage: { inputTokens: 1200, outputTokens: 50, cacheReadTokens: 7, cacheWriteTokens: 0 }, costUsd: 0.0123 },
      { kind: "result", at: AT, ok: false, text: "API Error: Rate limit reached", durationMs: null, turns: null, usage: null, costUsd: null },
      { kind: "result", at: AT, ok: true, text: null, durationMs: 900, turns: 1, usage: null, costUsd: null },
      { kind: "raw", at: AT, stream: "stderr", text: "Loaded cached credentials." },
      { kind: "raw", at: AT, stream: "system", text: "Attempt 1 succeeded in 5.1s." }
    ]
    assert.deepEqual(plain(entries, 100).map((l) => l.trimEnd()), [
      "── Attempt 2 ──",
      "── Execution e7654321 ──",
      "10:00:00 session  model claude-sonnet-4-5, CLI 2.1.332",
      "10:00:00 thinking First line of a thought ↵ second line",
      "10:00:00 tool     Bash npm test",
      "10:00:00 output   Bash ok, 2.0 KB",
      "10:00:00 output   Read failed (30 bytes): File does not exist.",
      "10:00:00 retry    API call attempt 1 of 10 failed (HTTP 529 overloaded); the CLI retries in 1.5s",
      "10:00:00 retry    API call attempt 2 failed (HTTP 429); the CLI retries",
      "10:00:00 warning  Loop detection disabled.",
      "10:00:00 error    Tool registry failed.",
      "10:00:00 result   succeeded in 5.1s, 3 turns; tokens 1,200 in, 50 out, 7 cache read; cost $0.0123",
      "10:00:00 result   failed",
      "                  API Error: Rate limit reached",
      "10:00:00 result   succeeded in 0.9s, 1 turn",
      "10:00:00 stderr   Loaded cached credentials.",
      "10:00:00 aidp     Attempt 1 succeeded in 5.1s."
    ])
  })

  it("shows thinking as one line, cut to the width", () => {
    const lines = plain([{ kind: "thinking", at: AT, text: LONG }], 60)
    assert.equal(lines.length, 1)
    assert.equal(displayWidth(lines[0]!), 60)
    assert.match(lines[0]!, /…$/)
  })

  it("leaves the time out on narrow screens", () => {
    assert.deepEqual(plain([text("Hello there.")], 30), ["agent    Hello there."])
  })

  it("makes escape sequences harmless in every text", () => {
    const evil = "a\x1b[31mred\x1b[0m \x1b]8;;http://evil\x07link\x1b]8;;\x07 \x1b[2J\x9b31m\x07b"
    const entries: ActivityEntry[] = [
      text(evil),
      { kind: "thinking", at: AT, text: evil },
      { kind: "tool", at: AT, name: evil, target: evil },
      { kind: "toolResult", at: AT, name: evil, ok: false, bytes: 1, error: evil },
      { kind: "retry", at: AT, attempt: 1, maxRetries: null, delayMs: null, status: null, reason: evil },
      { kind: "warning", at: AT, text: evil },
      { kind: "error", at: AT, text: evil },
      { kind: "session", at: AT, model: evil, version: evil },
      { kind: "result", at: AT, ok: false, text: evil, durationMs: null, turns: null, usage: null, costUsd: null },
      { kind: "raw", at: AT, stream: "stdout", text: evil }
    ]
    const shown = activityLines(entries, 80, JOB).flat().map((s) => s.text).join("\n")
    assert.doesNotMatch(shown, /[\x00-\x09\x0b-\x1f\x7f-\x9f]/)
    assert.ok(shown.includes("ared link"), "the text around the sequences stays")
    assert.doesNotMatch(shown, /evil/)
  })

  it("shows the start of a multi-megabyte text and names the command that prints it whole", () => {
    const huge = "word ".repeat(1_300_000) + "END"
    const lines = entryLines(text(huge), 80, JOB).map(lineText)
    assert.ok(lines.length < 100, `${lines.length} lines`)
    assert.ok(!lines.join("").includes("END"))
    assert.match(lines.join(" ").replace(/\s+/g, " "), /… \(6\.2 MB in all; aidp jobs logs abcdef12 --raw prints it whole\)/)
  })
})
