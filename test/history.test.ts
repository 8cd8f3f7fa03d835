/** `aidp jobs replay --stats`: the stats fold over a hand-built history (pure). */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import type { JobEvent, RecordedEvent } from "../src/domain/events.js"
import { quantile, statsAccumulator } from "../src/projections/history.js"
import { at, ev } from "./support/events.js"

/** Records `events` of one job after `log`, a second apart, continuing positions and versions. */
const history = (...jobs: Array<readonly [string, ReadonlyArray<JobEvent>]>): Array<RecordedEvent> => {
  const log: Array<RecordedEvent> = []
  for (const [jobId, events] of jobs) {
    events.forEach((event, i) =>
      log.push({ position: log.length + 1, jobId, version: i + 1, occurredAt: at(log.length * 1_000), event })
    )
  }
  return log
}

const log = history(
  ["j1", [ev.queued({ provider: "claude" }), ev.started("e1"), ev.succeeded("e1", { duration_ms: 1_000, cost_usd: 0.5 })]],
  ["j2", [
    ev.queued({ provider: "gemini" }),
    ev.started("e2"),
    ev.failed("e2", "network", { duration_ms: 3_000 }),
    ev.retry("policy", at(0)),
    ev.started("e3", 2),
    ev.succeeded("e3", { duration_ms: 2_000, cost_usd: 0.25 })
  ]],
  ["j3", [
    ev.queued({ provider: "claude" }),
    ev.started("e4"),
    ev.failed("e4", "auth", { duration_ms: 4_000 }),
    ev.retry("user", at(0)),
    ev.started("e5", 2),
    ev.abandoned("e5")
  ]],
  ["j4", [ev.queued({ provider: "cursor" }), ev.cancelRequested(), ev.cancelled(null)]],
  ["j5", [ev.queued({ provider: "gemini" }), ev.started("e6"), ev.cancelRequested(), ev.cancelled("e6")]],
  ["j6", [ev.queued({ provider: "claude" })]],
  // A job whose JobQueued lies before the --since window: its provider is unknown.
  ["j7", [ev.started("e7"), ev.succeeded("e7", { duration_ms: 500, cost_usd: 1 })]],
  ["j8", [ev.queued({ provider: "claude" }), ev.started("e8"), ev.succeeded("e8", { duration_ms: 1_500, cost_usd: 0.1 })]]
)

const statsOf = (events: ReadonlyArray<RecordedEvent>) => {
  const acc = statsAccumulator()
  for (const event of events) acc.add(event)
  return acc.stats()
}

const close = (actual: number | null | undefined, expected: number) =>
  assert.ok(actual !== null && actual !== undefined && Math.abs(actual - expected) < 1e-9, `${actual} ≉ ${expected}`)

describe("statsAccumulator", () => {
  const stats = statsOf(log)

  it("counts events, by type, and the time span", () => {
    assert.equal(stats.events, 28)
    assert.deepEqual(stats.eventsByType, {
      JobQueued: 7,
      ExecutionStarted: 8,
      ExecutionSucceeded: 4,
      ExecutionFailed: 2,
      JobRetryRequested: 2,
      ExecutionAbandoned: 1,
      JobCancelRequested: 2,
      JobCancelled: 2
    })
    assert.equal(stats.firstAt, at(0).toISOString())
    assert.equal(stats.lastAt, at(27_000).toISOString())
  })

  it("counts jobs by their last status, executions, cancels and abandons", () => {
    assert.equal(stats.jobs, 8)
    assert.deepEqual(stats.jobsByStatus, { completed: 4, failed: 1, cancelled: 2, queued: 1 })
    assert.equal(stats.executions, 8)
    assert.equal(stats.cancelled, 2)
    assert.equal(stats.abandoned, 1)
  })

  it("counts failures by kind (an abandon is worker_lost) and retries by who asked", () => {
    assert.deepEqual(stats.failuresByKind, { network: 1, auth: 1, worker_lost: 1 })
    assert.deepEqual(stats.retries, { user: 1, policy: 1 })
  })

  it("takes p50/p95/max over succeeded and failed executions (nearest rank)", () => {
    // [500, 1000, 1500, 2000, 3000, 4000]
    assert.deepEqual(stats.durationMs, { p50: 1_500, p95: 4_000, max: 4_000 })
  })

  it("counts what a failed run spent (a run stopped at its budget) in the cost", () => {
    const spent = statsOf(history(["b1", [ev.queued({ provider: "claude", max_cost_usd: 0.5 }), ev.started("b1e"), ev.failed("b1e", "budget", { cost_usd: 0.6 })]]))
    close(spent.costUsd, 0.6)
    close(spent.byProvider.claude?.costUsd, 0.6)
    assert.equal(spent.failuresByKind.budget, 1)
  })

  it("sums cost, and per provider: executions, outcomes, success rate and cost", () => {
    close(stats.costUsd, 1.85)
    assert.deepEqual(Object.keys(stats.byProvider).sort(), ["claude", "gemini"])
    const { claude, gemini } = stats.byProvider
    assert.deepEqual({ ...claude, costUsd: 0 }, { executions: 4, succeeded: 2, failed: 1, successRate: 2 / 3, costUsd: 0 })
    close(claude?.costUsd, 0.6)
    assert.deepEqual(gemini, { executions: 3, succeeded: 1, failed: 1, successRate: 0.5, costUsd: 0.25 })
  })

  it("is empty before any event", () => {
    const empty = statsOf([])
    assert.equal(empty.events, 0)
    assert.equal(empty.firstAt, null)
    assert.deepEqual(empty.durationMs, { p50: null, p95: null, max: null })
    assert.deepEqual(empty.byProvider, {})
  })

  it("a provider with no finished execution has no success rate", () => {
    const running = statsOf(history(["j", [ev.queued({ provider: "cursor" }), ev.started("e")]]))
    assert.deepEqual(running.byProvider.cursor, { executions: 1, succeeded: 0, failed: 0, successRate: null, costUsd: 0 })
  })
})

describe("quantile", () => {
  it("is the nearest rank of sorted values", () => {
    assert.equal(quantile([], 0.5), null)
    assert.equal(quantile([7], 0.95), 7)
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1)
    assert.equal(quantile(hundred, 0.5), 50)
    assert.equal(quantile(hundred, 0.95), 95)
    assert.equal(quantile(hundred, 1), 100)
    assert.equal(quantile(hundred, 0), 1)
  })
})
