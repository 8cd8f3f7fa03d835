/** `aidp jobs replay --stats`: the stats fold over hand-built histories, its text and sparklines (pure). */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import type { JobEvent, RecordedEvent } from "../src/domain/events.js"
import { type GroupKey, localDay, quantile, spread, statsAccumulator } from "../src/projections/history.js"
import { sparkline } from "../src/terminal/sparkline.js"
import { compactCount, renderStats } from "../src/terminal/stats.js"
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

// Event n (from 0) happens at(n s). Hand-computed figures below refer to these times.
const log = history(
  ["j1", [ev.queued({ provider: "claude" }), ev.started("e1"), ev.succeeded("e1", { duration_ms: 1_000, cost_usd: 0.5, usage: { input_tokens: 100, output_tokens: 10 } })]],
  ["j2", [
    ev.queued({ provider: "gemini", cwd: "/work/other/" }),
    ev.started("e2"),
    ev.failed("e2", "network", { duration_ms: 3_000 }),
    // Requested at 6 s, may run from 6.8 s, starts at 7 s: waited 0.2 s.
    ev.retry("policy", at(6_800)),
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
  ["j4", [ev.queued({ provider: "cursor", step: "02_NFRS" }), ev.cancelRequested(), ev.cancelled(null)]],
  ["j5", [ev.queued({ provider: "gemini" }), ev.started("e6"), ev.cancelRequested(), ev.cancelled("e6")]],
  ["j6", [ev.queued({ provider: "claude" })]],
  // A job whose JobQueued lies before the --since window: its provider, step and folder are unknown.
  ["j7", [ev.started("e7"), ev.succeeded("e7", { duration_ms: 500, cost_usd: 1 })]],
  ["j8", [ev.queued({ provider: "claude" }), ev.started("e8"), ev.succeeded("e8", { duration_ms: 1_500, cost_usd: 0.1, usage: { input_tokens: 50, output_tokens: 5, cache_read_input_tokens: 7 } })]]
)

const statsOf = (events: ReadonlyArray<RecordedEvent>, by?: GroupKey) => {
  const acc = statsAccumulator(by)
  for (const event of events) acc.add(event)
  return acc.stats()
}

const close = (actual: number | null | undefined, expected: number) =>
  assert.ok(actual !== null && actual !== undefined && Math.abs(actual - expected) < 1e-9, `${actual} ≉ ${expected}`)

const group = (stats: ReturnType<typeof statsOf>, key: string) => {
  const found = stats.groups.find((g) => g.key === key)
  assert.ok(found, `group ${key} in ${stats.groups.map((g) => g.key).join(", ")}`)
  return found
}

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

  it("counts jobs by their last status, executions, cancels and retries by who asked", () => {
    assert.equal(stats.overall.jobs, 8)
    assert.deepEqual(stats.jobsByStatus, { completed: 4, failed: 1, cancelled: 2, queued: 1 })
    assert.equal(stats.overall.executions, 8)
    assert.equal(stats.cancelled, 2)
    assert.deepEqual(stats.retries, { user: 1, policy: 1 })
  })

  it("success on the first attempt (of first attempts that ended) and in the end (completed of completed + failed)", () => {
    // First attempts that ended: e1 ok, e2 failed, e4 failed, e7 ok, e8 ok (e6 was cancelled).
    close(stats.overall.firstAttemptSuccessRate, 3 / 5)
    // j1 j2 j7 j8 completed, j3 failed; cancelled and queued jobs are left out.
    close(stats.overall.finalSuccessRate, 4 / 5)
    // 8 executions over the 6 jobs that had one.
    close(stats.overall.attemptsPerJob, 8 / 6)
  })

  it("run time p50/p95/max over ended executions; queue wait from queue time or the retry's run_at", () => {
    // [500, 1000, 1500, 2000, 3000, 4000]
    assert.deepEqual(stats.overall.runMs, { p50: 1_500, p95: 4_000, max: 4_000 })
    // Every start is 1 s after its job could run, except e3: 0.2 s after its retry's run_at. e7's queue time is unseen.
    assert.deepEqual(group(stats, "gemini").waitMs, { p50: 1_000, p95: 1_000, max: 1_000 })
    assert.deepEqual(statsOf(log.slice(3, 9)).overall.waitMs, { p50: 200, p95: 1_000, max: 1_000 })
    assert.deepEqual(statsOf(log.slice(6, 9)).overall.waitMs, { p50: 200, p95: 200, max: 200 })
  })

  it("failures by kind, most first, with the error line seen most (an abandon is worker_lost)", () => {
    assert.deepEqual(stats.overall.failures, [
      { kind: "auth", count: 1, topError: "failed: auth", topErrorCount: 1 },
      { kind: "network", count: 1, topError: "failed: network", topErrorCount: 1 },
      { kind: "worker_lost", count: 1, topError: "The worker's lease expired.", topErrorCount: 1 }
    ])
    const repeated = statsOf(history(
      ["a", [ev.queued(), ev.started("a1"), ev.failed("a1", "rate_limit", { error: "API Error: Rate limit reached" })]],
      ["b", [ev.queued(), ev.started("b1"), ev.failed("b1", "rate_limit", { error: "429 Too Many Requests" })]],
      ["c", [ev.queued(), ev.started("c1"), ev.failed("c1", "rate_limit", { error: "429 Too Many Requests" })]]
    ))
    assert.deepEqual(repeated.overall.failures, [{ kind: "rate_limit", count: 3, topError: "429 Too Many Requests", topErrorCount: 2 }])
  })

  it("sums tokens (any provider's usage shape) and cost", () => {
    assert.deepEqual(stats.overall.tokens, { inputTokens: 150, outputTokens: 15, cacheReadTokens: 7, cacheWriteTokens: 0 })
    close(stats.overall.costUsd, 1.85)
  })

  it("counts what a failed run spent (a run stopped at its budget) in the cost and the tokens", () => {
    const spent = statsOf(history(["b1", [ev.queued({ provider: "claude", max_cost_usd: 0.5 }), ev.started("b1e"), ev.failed("b1e", "budget", { cost_usd: 0.6, usage: { input_tokens: 40, output_tokens: 9 } })]]))
    close(spent.overall.costUsd, 0.6)
    close(group(spent, "claude").costUsd, 0.6)
    assert.deepEqual(spent.overall.failures.map((f) => [f.kind, f.count]), [["budget", 1]])
    assert.deepEqual([spent.overall.tokens.inputTokens, spent.overall.tokens.outputTokens], [40, 9], "and the tokens it used")
  })

  it("groups by provider, most jobs first; a job queued before the window is its own group", () => {
    assert.equal(stats.by, "provider")
    assert.deepEqual(stats.groups.map((g) => [g.key, g.jobs]), [["claude", 4], ["gemini", 2], ["(queued earlier)", 1], ["cursor", 1]])
    const claude = group(stats, "claude")
    assert.equal(claude.executions, 4)
    close(claude.firstAttemptSuccessRate, 2 / 3)
    close(claude.finalSuccessRate, 2 / 3)
    close(claude.attemptsPerJob, 4 / 3)
    close(claude.costUsd, 0.6)
    assert.deepEqual(claude.failures.map((f) => f.kind), ["auth", "worker_lost"])
    const gemini = group(stats, "gemini")
    assert.equal(gemini.firstAttemptSuccessRate, 0)
    assert.equal(gemini.finalSuccessRate, 1)
    const cursor = group(stats, "cursor")
    assert.deepEqual([cursor.executions, cursor.firstAttemptSuccessRate, cursor.finalSuccessRate, cursor.attemptsPerJob], [0, null, null, null])
  })

  it("groups by step, project (the cwd's last folder) and day", () => {
    assert.deepEqual(statsOf(log, "step").groups.map((g) => [g.key, g.jobs]), [["(no step)", 6], ["(queued earlier)", 1], ["02_NFRS", 1]])
    assert.deepEqual(statsOf(log, "project").groups.map((g) => [g.key, g.jobs]), [["project", 6], ["(queued earlier)", 1], ["other", 1]])
    assert.deepEqual(statsOf(log, "day").groups.map((g) => [g.key, g.jobs]), [[localDay(at(0)), 8]])
  })

  it("counts jobs queued and failures per local day, every day between the first and last event", () => {
    const day = 24 * 3_600_000
    const spread3 = [
      { position: 1, jobId: "a", version: 1, occurredAt: at(0), event: ev.queued() },
      { position: 2, jobId: "a", version: 2, occurredAt: at(1_000), event: ev.started("a1") },
      { position: 3, jobId: "a", version: 3, occurredAt: at(2_000), event: ev.failed("a1", "network") },
      { position: 4, jobId: "b", version: 1, occurredAt: at(2 * day), event: ev.queued() },
      { position: 5, jobId: "c", version: 1, occurredAt: at(2 * day + 1_000), event: ev.queued() }
    ] satisfies RecordedEvent[]
    assert.deepEqual(statsOf(spread3).days, [
      { day: localDay(at(0)), jobs: 1, failures: 1 },
      { day: localDay(at(day)), jobs: 0, failures: 0 },
      { day: localDay(at(2 * day)), jobs: 2, failures: 0 }
    ])
  })

  it("is empty before any event", () => {
    const empty = statsOf([])
    assert.equal(empty.events, 0)
    assert.equal(empty.firstAt, null)
    assert.deepEqual(empty.overall.runMs, { p50: null, p95: null, max: null })
    assert.deepEqual(empty.groups, [])
    assert.deepEqual(empty.days, [])
  })
})

describe("quantile and spread", () => {
  it("is the nearest rank of sorted values", () => {
    assert.equal(quantile([], 0.5), null)
    assert.equal(quantile([7], 0.95), 7)
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1)
    assert.equal(quantile(hundred, 0.5), 50)
    assert.equal(quantile(hundred, 0.95), 95)
    assert.equal(quantile(hundred, 1), 100)
    assert.equal(quantile(hundred, 0), 1)
    assert.deepEqual(spread([30, 10, 20]), { p50: 20, p95: 30, max: 30 })
  })
})

describe("stats text", () => {
  it("sparkline: a space for 0, blocks scaled to the largest, the lowest block for any non-zero", () => {
    assert.equal(sparkline([0, 1, 4, 8, 100]), " ▁▁▁█")
    assert.equal(sparkline([1, 2, 3, 4, 5, 6, 7, 8]), "▁▂▃▄▅▆▇█")
    assert.equal(sparkline([0, 0]), "  ")
  })

  it("compact counts", () => {
    assert.deepEqual([950, 1_234, 12_345, 1_500_000, 25_000_000].map(compactCount), ["950", "1.2k", "12k", "1.5M", "25M"])
  })

  it("names the groups' figures in a table and the failures with their error line, sanitized", () => {
    const text = renderStats(statsOf([...log, {
      position: 29,
      jobId: "j9",
      version: 1,
      occurredAt: at(28_000),
      event: ev.queued({ step: "evil\u001b[2Jstep" })
    }, { position: 30, jobId: "j9", version: 2, occurredAt: at(29_000), event: ev.started("e9") }, {
      position: 31,
      jobId: "j9",
      version: 3,
      occurredAt: at(30_000),
      event: ev.failed("e9", "unknown", { error: "boom\u001b]0;pwned\u0007 here" })
    }], "step"))
    assert.doesNotMatch(text, /\u001b/)
    const lines = text.split("\n")
    const header = lines.find((l) => l.startsWith("by step"))
    assert.ok(header, text)
    for (const name of ["jobs", "1st try", "in the end", "attempts", "run p50", "run p95", "wait p50", "wait p95", "tokens in/out", "cost", "most failures"]) {
      assert.ok(header.includes(name), `${name} in ${header}`)
    }
    assert.match(text, /^all jobs\s+9\s+50%\s+67%\s+1\.29\s/m)
    assert.match(text, /^\(no step\)\s+6\s/m)
    assert.match(text, /^ {2}unknown\s+1\s+boom.*here$/m)
    assert.match(text, /^Per day {4}\d{4}-\d{2}-\d{2} to \d{4}-\d{2}-\d{2}$/m)
    assert.match(text, /^ {2}jobs {6}█ {2}max 8$/m)
  })
})
