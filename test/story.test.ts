/** `aidp jobs replay JOB`: a job's story folded from its events, and its text (pure). */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import type { JobEvent, RecordedEvent } from "../src/domain/events.js"
import { storyAccumulator } from "../src/projections/story.js"
import { renderStory } from "../src/terminal/story.js"
import { at, EXEC_1, EXEC_2, EXEC_3, ev } from "./support/events.js"

const JOB = "0f0f0f0f-1111-4222-8333-444444444444"

/** The job's events at the given offsets (ms after T0). */
const recorded = (...timed: Array<readonly [number, JobEvent]>): RecordedEvent[] =>
  timed.map(([ms, event], i) => ({ position: i + 1, jobId: JOB, version: i + 1, occurredAt: at(ms), event }))

const claudeLine = (ms: number, object: unknown) => ({ stream: "stdout" as const, text: JSON.stringify(object), at: at(ms).toISOString() })
const toolUse = (name: string, input: unknown) => ({ type: "assistant", message: { content: [{ type: "tool_use", id: `t-${name}`, name, input }] } })
const text = (value: string) => ({ type: "assistant", message: { content: [{ type: "text", text: value }] } })

const log = recorded(
  [0, ev.queued({ provider: "claude", step: "02_NFRS", cwd: "/home/me/shop", max_attempts: 3 })],
  [2_000, ev.started(EXEC_1, 1, { worker_id: "w-1", host: "host-a" })],
  [3_000, ev.output(EXEC_1, [claudeLine(2_500, text("Reading the PRD.")), claudeLine(2_600, toolUse("Read", { file_path: "docs/PRD.md" })), claudeLine(2_700, toolUse("Bash", { command: "ls" }))])],
  [40_000, ev.failed(EXEC_1, "rate_limit", { error: "API Error: Rate limit reached", duration_ms: 38_000 })],
  [40_000, ev.retry("policy", at(100_000), "rate limit, claude asked for 60 s")],
  [103_000, ev.started(EXEC_2, 2, { worker_id: "w-2", host: "host-b", session_id: "s-1", resumed_attempt: 1 })],
  [110_000, ev.abandoned(EXEC_2, "lost (no heartbeat for 30 s)")],
  [111_000, ev.retry("user", at(111_000))],
  [111_500, ev.started(EXEC_3, 3)],
  [112_000, ev.output(EXEC_3, [claudeLine(111_800, text("Continuing."))])],
  [120_000, ev.succeeded(EXEC_3, { duration_ms: 8_500, cost_usd: 0.25, usage: { input_tokens: 1_000, output_tokens: 200 }, denials: [{ tool: "Bash", target: "rm -rf /" }], session_gone: true })]
)

const storyOf = (events: ReadonlyArray<RecordedEvent>, full = false) => {
  const acc = storyAccumulator(JOB, full)
  for (const event of events) acc.add(event)
  return acc.story()
}

describe("storyAccumulator", () => {
  const story = storyOf(log)

  it("tells each moment at its offset from the first event", () => {
    assert.deepEqual(story.entries.map((e) => [e.kind, e.offsetMs]), [
      ["queued", 0],
      ["started", 2_000],
      ["ended", 40_000],
      ["retry", 40_000],
      ["started", 103_000],
      ["ended", 110_000],
      ["retry", 111_000],
      ["started", 111_500],
      ["ended", 120_000]
    ])
    assert.equal(story.status, "completed")
    assert.equal(story.executions, 3)
    assert.equal(story.costUsd, 0.25)
    assert.deepEqual(story.tokens, { inputTokens: 1_000, outputTokens: 200, cacheReadTokens: 0, cacheWriteTokens: 0 })
  })

  it("each attempt's worker and queue wait: from queue time, else from the retry's run_at", () => {
    const started = story.entries.filter((e) => e.kind === "started")
    assert.deepEqual(started.map((e) => [e.attempt, e.workerId, e.host, e.waitedMs]), [
      [1, "w-1", "host-a", 2_000],
      [2, "w-2", "host-b", 3_000],
      [3, "worker-a", "host-a", 500]
    ])
  })

  it("each ending with its error, duration, activity counted, tokens, cost and denials", () => {
    const ended = story.entries.filter((e) => e.kind === "ended")
    assert.deepEqual(ended.map((e) => [e.attempt, e.ending, e.durationMs, e.errorKind, e.toolCalls, e.messages, e.costUsd, e.denials]), [
      [1, "failed", 38_000, "rate_limit", 2, 1, null, 0],
      [2, "abandoned", 7_000, "worker_lost", 0, 0, null, 0],
      [3, "succeeded", 8_500, null, 0, 1, 0.25, 1]
    ])
  })

  it("keeps the activity entries only when full", () => {
    assert.equal(story.entries.some((e) => e.kind === "activity"), false)
    const full = storyOf(log, true)
    const activity = full.entries.filter((e) => e.kind === "activity").map((e) => e.kind === "activity" ? e.entry.kind : null)
    assert.deepEqual(activity, ["text", "tool", "tool", "text"])
  })

  it("a cancel before any start, and one that stops a running attempt", () => {
    const before = storyOf(recorded([0, ev.queued()], [5_000, ev.cancelRequested("user")], [5_000, ev.cancelled(null)]))
    assert.deepEqual(before.entries.map((e) => e.kind), ["queued", "cancelRequested", "cancelled"])
    assert.equal(before.status, "cancelled")
    const running = storyOf(recorded([0, ev.queued()], [1_000, ev.started(EXEC_1)], [4_000, ev.cancelRequested("user")], [4_500, ev.cancelled(EXEC_1)]))
    const ended = running.entries.at(-1)!
    assert.equal(ended.kind === "ended" && [ended.ending, ended.durationMs].join(), "cancelled,3500")
  })

  it("a window that starts after the job was queued: no provider, waits unknown", () => {
    const late = storyOf(log.slice(5))
    assert.equal(late.provider, null)
    assert.equal(late.entries[0]!.kind === "started" && late.entries[0]!.waitedMs, null)
    assert.equal(late.entries[0]!.offsetMs, 0)
  })

  it("a fresh retry, output pruned and no reported cost are said as such", () => {
    const fresh: JobEvent = { type: "JobRetryRequested", data: { requested_by: "user", run_at: at(2_000).toISOString(), fresh: true } }
    const pruned: JobEvent = { type: "ExecutionOutput", data: { execution_id: EXEC_2, lines: [], pruned_lines: 12 } }
    const story = storyOf(recorded(
      [0, ev.queued({ provider: "gemini" })],
      [1_000, ev.started(EXEC_1)],
      [1_500, ev.failed(EXEC_1, "network")],
      [2_000, fresh],
      [3_000, ev.started(EXEC_2, 2)],
      [3_500, pruned],
      [4_000, ev.succeeded(EXEC_2)]
    ))
    assert.equal(story.costUsd, null)
    const text = renderStory(story, 100)
    assert.match(text, /retry requested by a person \(fresh start\), to run at/)
    assert.match(text, /attempt 2 succeeded after 1\.0s — its output was pruned \(12 lines\)$/m)
    assert.match(text, /^In all: completed after 2 executions; no cost reported$/m)
  })

  it("ignores other jobs' events", () => {
    const other = { ...log[0]!, jobId: "another" }
    assert.deepEqual(storyOf([other]).entries, [])
  })
})

describe("renderStory", () => {
  it("one line per moment, offsets first; untrusted text sanitized", () => {
    const events = [...log]
    events[3] = { ...events[3]!, event: ev.failed(EXEC_1, "rate_limit", { error: "API Error\u001b[2J: Rate limit reached", duration_ms: 38_000 }) }
    const text = renderStory(storyOf(events), 100)
    assert.doesNotMatch(text, /\u001b/)
    const lines = text.trimEnd().split("\n")
    assert.equal(lines[0], `Job ${JOB} (claude), from ${lines[0]!.slice(lines[0]!.indexOf("from ") + 5)}`)
    assert.match(lines[1]!, /^\+0\.0s {5}queued: claude, step 02_NFRS, project shop \(\/home\/me\/shop\); 3 attempts at most, timeout 10m00s each, priority 0, permissions edit$/)
    assert.match(lines[2]!, /^\+2\.0s {5}attempt 1 started on worker w-1 \(host host-a\), after 2\.0s in the queue$/)
    assert.match(lines[3]!, /^\+40s {6}attempt 1 failed after 38s: rate_limit: API Error.*Rate limit reached — 2 tool calls, 1 message$/)
    assert.match(lines[4]!, /^\+40s {6}retry requested by the retry policy, to run at \d\d:\d\d:\d\d: rate limit, claude asked for 60 s$/)
    assert.match(lines[6]!, /^\+1m50s {4}attempt 2 was abandoned after 7\.0s: worker_lost: lost \(no heartbeat for 30 s\) — 0 tool calls, 0 messages$/)
    assert.match(lines[7]!, /retry requested by a person/)
    assert.match(lines[5]!, /attempt 2 started on worker w-2 \(host host-b\), after 3\.0s in the queue, resuming attempt 1's session$/)
    assert.match(lines[9]!, /attempt 3 succeeded after 8\.5s \(its session was gone: it started fresh\) — 0 tool calls, 1 message; 1 tool call denied; tokens 1,000 in · 200 out/)
    assert.match(lines.at(-1)!, /^In all: completed after 3 executions; tokens 1,000 in · 200 out · 0 cache read · 0 cache write; \$0\.2500$/)
  })

  it("the queued line names the budget per execution", () => {
    const text = renderStory(storyOf(recorded([0, ev.queued({ max_cost_usd: 0.5, max_turns: 12 })])), 100)
    assert.match(text, /timeout 10m00s, at most \$0\.5000, 12 turns each, priority 0/)
  })

  it("with full: the activity indented under its attempt", () => {
    const text = renderStory(storyOf(log, true), 100)
    assert.match(text, /^ {10}\d\d:\d\d:\d\d tool\s+Read docs\/PRD\.md$/m)
  })

  it("says so when the window holds none of the job's events", () => {
    assert.equal(renderStory(storyOf([]), 80), `No events for job ${JOB} in this window.\n`)
  })
})

describe("the story of a worktree job", () => {
  it("tells what each execution changed on its branch, and the merge and removal", () => {
    const events = recorded(
      [0, ev.queued()],
      [1_000, ev.started(EXEC_1)],
      [5_000, ev.changes(EXEC_1, "aidp/0f0f0f0f")],
      [5_000, ev.succeeded(EXEC_1)],
      [9_000, ev.merged("aidp/0f0f0f0f", "monitor")],
      [12_000, ev.removed("clean", "aidp/0f0f0f0f")]
    )
    const text = renderStory(storyOf(events), 100)
    assert.match(text, /^\+5\.0s +changed 2 files \+3 −1 on branch aidp\/0f0f0f0f$/m)
    assert.match(text, /^\+9\.0s +branch aidp\/0f0f0f0f merged into main by monitor$/m)
    assert.match(text, /^\+12s +branch aidp\/0f0f0f0f removed by clean by user$/m)
  })
})
