/** Builders of monitor data for tests: jobs, details and snapshots with sensible defaults. */
import type { ExecutionSummary, JobDetails, JobSummary, Snapshot } from "../../src/terminal/types.js"

/** A fixed "now" for deterministic durations. */
export const NOW = new Date("2024-05-01T12:00:00Z")

/** `ms` milliseconds before {@link NOW}. */
export const ago = (ms: number): Date => new Date(NOW.getTime() - ms)

/** A job summary; `id` should be a UUID-like string whose first 8 characters are distinct. */
export function job(id: string, fields: Partial<JobSummary> = {}): JobSummary {
  return {
    id,
    provider: "claude",
    status: "queued",
    step: null,
    cwd: "/home/me/project",
    promptSummary: "Fix the flaky test",
    createdAt: ago(600_000),
    startedAt: null,
    completedAt: null,
    durationMs: null,
    error: null,
    errorKind: null,
    attempts: 0,
    progress: null,
    denied: 0,
    runAt: ago(600_000),
    retryReason: null,
    changes: null,
    worktreeState: null,
    ...fields
  }
}

/** An execution of a job. */
export function execution(attempt: number, fields: Partial<ExecutionSummary> = {}): ExecutionSummary {
  return {
    id: `e${attempt}000000-0000-4000-8000-000000000000`,
    attempt,
    status: "failed",
    workerId: "host-a:123:1",
    startedAt: ago(300_000),
    completedAt: ago(288_000),
    durationMs: 12_000,
    exitCode: 1,
    signal: null,
    error: null,
    errorKind: null,
    usage: null,
    costUsd: null,
    denials: [],
    sessionId: null,
    resumedAttempt: null,
    sessionGone: false,
    changes: null,
    ...fields
  }
}

/** Job details with no executions and no logs unless given. */
export function details(summary: JobSummary, fields: Partial<JobDetails> = {}): JobDetails {
  return { ...summary, permissions: "edit", maxAttempts: 3, timeoutMs: 1_800_000, priority: 0, retryTimeouts: false, maxCostUsd: null, maxTurns: null, metadata: {}, executions: [], logTail: [], ...fields }
}

/** A snapshot; omitted groups are empty, no spend unless given. */
export function snapshot(groups: Partial<Snapshot> = {}): Snapshot {
  return { running: [], queued: [], recent: [], failed: [], spendTodayUsd: null, ...groups }
}

/** The two projects of {@link sampleSnapshot}. */
export const SHOP = "/home/me/shop"
export const BLOG = "/srv/work/blog"

/**
 * A typical snapshot: 2 running, 1 queued, 1 recent, 1 cancelled and 1 failed, from two
 * projects (shop, blog) and several steps.
 */
export function sampleSnapshot(): Snapshot {
  return snapshot({
    running: [
      job("aaaa1111-0000-4000-8000-000000000001", { cwd: SHOP, step: "00_PRD", status: "running", startedAt: ago(184_000), attempts: 1, progress: "Editing src/app.ts" }),
      job("aaaa2222-0000-4000-8000-000000000002", { cwd: BLOG, step: "02_ARCHITECTURE", provider: "gemini", status: "running", startedAt: ago(12_000), attempts: 1 })
    ],
    queued: [job("bbbb1111-0000-4000-8000-000000000003", { cwd: SHOP, provider: "cursor" })],
    recent: [
      job("cccc1111-0000-4000-8000-000000000004", { cwd: BLOG, step: "01_NFRS", status: "completed", startedAt: ago(4_000_000), completedAt: ago(280_000), durationMs: 3_720_000, attempts: 1 })
    ],
    failed: [
      job("cccc2222-0000-4000-8000-000000000005", { cwd: SHOP, step: "03_ADR", status: "cancelled", startedAt: ago(70_000), completedAt: ago(60_000), durationMs: 10_000, attempts: 1, error: "Cancelled by user.", errorKind: "cancelled" }),
      job("dddd1111-0000-4000-8000-000000000006", { cwd: BLOG, step: "06_IMPLEMENTATION", status: "failed", startedAt: ago(70_000), completedAt: ago(65_000), durationMs: 5_000, attempts: 3, error: "429 Too Many Requests: slow down and try again later please", errorKind: "rate_limit" })
    ]
  })
}
