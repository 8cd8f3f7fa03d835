/** `aidp jobs replay --at T`: every job at a moment, folded from the events before it (pure). */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import type { JobEvent, RecordedEvent } from "../src/domain/events.js"
import { jobsAtAccumulator } from "../src/projections/timeTravel.js"
import { renderGroups } from "../src/terminal/plain.js"
import { at, EXEC_1, EXEC_2, ev } from "./support/events.js"

const A = "aaaaaaaa-0000-4000-8000-000000000001"
const B = "bbbbbbbb-0000-4000-8000-000000000002"
const C = "cccccccc-0000-4000-8000-000000000003"

/** A scripted history: [ms after T0, job, event], in time order. */
const script: ReadonlyArray<readonly [number, string, JobEvent]> = [
  [0, A, ev.queued({ step: "01_PRD" })],
  [1_000, B, ev.queued({ provider: "gemini", priority: 5 })],
  [2_000, A, ev.started(EXEC_1)],
  [3_000, C, ev.queued({ provider: "cursor" })],
  [5_000, A, ev.succeeded(EXEC_1, { duration_ms: 3_000 })],
  [6_000, B, ev.started(EXEC_2)],
  [7_000, C, ev.cancelRequested()],
  [7_000, C, ev.cancelled(null)],
  [9_000, B, ev.failed(EXEC_2, "auth", { error: "Invalid API key" })]
]
const log: RecordedEvent[] = script.map(([ms, jobId, event], i) => ({
  position: i + 1,
  jobId,
  version: script.slice(0, i + 1).filter(([, id]) => id === jobId).length,
  occurredAt: at(ms),
  event
}))

/** The groups (job ids and statuses) at `ms`: the events before it folded. */
const groupsAt = (ms: number) => {
  const acc = jobsAtAccumulator()
  for (const recorded of log) if (recorded.occurredAt.getTime() < at(ms).getTime()) acc.add(recorded)
  const jobs = acc.jobs()
  return {
    running: jobs.running.map((j) => j.id),
    queued: jobs.queued.map((j) => j.id),
    recent: jobs.recent.map((j) => j.id),
    failed: jobs.failed.map((j) => `${j.id}:${j.status}`),
    broken: jobs.broken
  }
}

describe("jobsAtAccumulator", () => {
  it("gives each moment's groups, in the monitor's orders", () => {
    assert.deepEqual(groupsAt(500), { running: [], queued: [A], recent: [], failed: [], broken: [] })
    // B's priority 5 runs before A.
    assert.deepEqual(groupsAt(1_500), { running: [], queued: [B, A], recent: [], failed: [], broken: [] })
    assert.deepEqual(groupsAt(4_000), { running: [A], queued: [B, C], recent: [], failed: [], broken: [] })
    assert.deepEqual(groupsAt(6_500), { running: [B], queued: [C], recent: [A], failed: [], broken: [] })
    assert.deepEqual(groupsAt(8_000), { running: [B], queued: [], recent: [A], failed: [`${C}:cancelled`], broken: [] })
    assert.deepEqual(groupsAt(10_000), { running: [], queued: [], recent: [A], failed: [`${B}:failed`, `${C}:cancelled`], broken: [] })
  })

  it("a job reads at T as its row read then: status, attempts, error", () => {
    const acc = jobsAtAccumulator()
    for (const recorded of log) acc.add(recorded)
    const [failed] = acc.jobs().failed
    assert.deepEqual([failed!.id, failed!.attempts, failed!.errorKind, failed!.error], [B, 1, "auth", "Invalid API key"])
  })

  it("a stream whose events do not project is left out and named", () => {
    const acc = jobsAtAccumulator()
    acc.add({ position: 1, jobId: A, version: 1, occurredAt: at(0), event: ev.started(EXEC_1) })
    acc.add(log[1]!)
    const jobs = acc.jobs()
    assert.deepEqual(jobs.queued.map((j) => j.id), [B])
    assert.equal(jobs.broken.length, 1)
    assert.match(jobs.broken[0]!.problem, /^event 1 \(ExecutionStarted\): /)
  })

  it("renders each group under its title with its count", () => {
    const acc = jobsAtAccumulator()
    for (const recorded of log.slice(0, 6)) acc.add(recorded)
    const { broken: _, ...groups } = acc.jobs()
    const text = renderGroups(groups, at(6_500))
    assert.match(text, /^Running \(1\)\nID\s+Provider\s+Status/m)
    assert.match(text, /^Queued \(1\)\n/m)
    assert.match(text, /^Recently completed \(1\)\n/m)
    assert.match(text, /^Failed & cancelled \(0\)$/m)
  })
})
