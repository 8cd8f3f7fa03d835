/**
 * Pure tests of what tells jobs apart and what they cost: project names, the wording of
 * errors and cancellations, tokens and cost per execution and in total (details view and
 * `--json`), and the plain table's Activity and Error columns.
 */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { NO_USAGE } from "../src/domain/usage.js"
import type { ExecutionRecord, JobRecord } from "../src/projections/queries.js"
import { projectName } from "../src/domain/job.js"
import { jobDetailsJson } from "../src/terminal/json.js"
import { renderJobList } from "../src/terminal/plain.js"
import { usageTotals } from "../src/terminal/totals.js"
import { detailsContent } from "../src/terminal/view/details.js"
import { countOf, errorText, formatClock, formatCost, formatUsage } from "../src/terminal/view/format.js"
import { elideMiddle, errorCell } from "../src/terminal/view/table.js"
import { displayWidth, lineText } from "../src/terminal/view/text.js"
import { ago, details, execution, job, NOW } from "./support/monitor-fixtures.js"

/** Stored usage as each CLI reports it (PROVIDERS.md): claude's result.usage, gemini's result.stats. */
const CLAUDE_USAGE = { input_tokens: 1200, output_tokens: 340, cache_read_input_tokens: 5000, cache_creation_input_tokens: 10, service_tier: "standard" }
const GEMINI_STATS = { total_tokens: 1234, input_tokens: 1100, output_tokens: 134, cached: 7, duration_ms: 5120, tool_calls: 1 }

describe("names and words", () => {
  it("counts in the singular for one and the plural otherwise", () => {
    assert.deepEqual([0, 1, 2].map((n) => countOf(n, "job")), ["0 jobs", "1 job", "2 jobs"])
    assert.equal(countOf(1, "execution"), "1 execution")
    assert.equal(countOf(3, "entry", "entries"), "3 entries")
  })

  it("names a project by the last folder of its cwd", () => {
    const cases: ReadonlyArray<readonly [string, string]> = [
      ["/home/me/shop", "shop"],
      ["/home/me/shop/", "shop"],
      ["C:\\work\\blog", "blog"],
      ["/", "/"],
      ["relative/dir", "dir"]
    ]
    for (const [cwd, name] of cases) assert.equal(projectName(cwd), name, cwd)
  })

  it("elides a long project name in the middle, within the width, keeping both ends", () => {
    const cases: ReadonlyArray<readonly [string, number, string]> = [
      ["shop", 10, "shop"],
      ["exactly-10", 10, "exactly-10"],
      ["acme-frontend", 10, "acme-…tend"],
      ["acme-backend", 10, "acme-…kend"],
      ["日本語のプロジェクト名", 10, "日本…ト名"],
      ["abc", 1, "…"],
      ["abc", 0, ""]
    ]
    for (const [text, width, shown] of cases) {
      assert.equal(elideMiddle(text, width), shown, text)
      assert.ok(displayWidth(elideMiddle(text, width)) <= width)
    }
  })

  it("words errors once: kind prefix unless the error names it, cancellations by whom", () => {
    const cases: ReadonlyArray<readonly [string | null, string | null, string]> = [
      ["429 Too Many Requests", "rate_limit", "rate_limit: 429 Too Many Requests"],
      ["Auth failed", "auth", "Auth failed"],
      ["Cancelled by user.", "cancelled", "cancelled by user"],
      ["Cancelled by user (Ctrl-C).", "cancelled", "cancelled by user (Ctrl-C)"],
      ["Cancelled.", "cancelled", "cancelled"],
      ["Cancelled: aidp stopped claude at the user's request.", "cancelled", "Cancelled: aidp stopped claude at the user's request."],
      [null, "timeout", "timeout"],
      ["boom", null, "boom"],
      [null, null, ""]
    ]
    for (const [error, kind, text] of cases) assert.equal(errorText(error, kind), text, `${error} / ${kind}`)
  })

  it("a queued job held back by a concurrency limit says so instead of its last error; other statuses ignore it", () => {
    const held = job("a", { status: "queued", error: "429 Too Many Requests", errorKind: "rate_limit", waiting: "claude limit 2\u001b[31m" })
    assert.deepEqual(errorCell(held), { text: "waiting: claude limit 2", style: "dim" })
    assert.deepEqual(errorCell({ ...held, waiting: undefined }), { text: "rate_limit: 429 Too Many Requests", style: "dim" })
    assert.equal(errorCell({ ...held, status: "failed" }).text, "rate_limit: 429 Too Many Requests")
  })

  it("formats tokens with separators and costs to the cent or the hundredth of a cent", () => {
    assert.equal(formatUsage({ inputTokens: 1200, outputTokens: 34, cacheReadTokens: 1_000_000, cacheWriteTokens: 0 }), "1,200 in · 34 out · 1,000,000 cache read · 0 cache write")
    assert.deepEqual([formatCost(0.0123), formatCost(0), formatCost(1.5), formatCost(12.345)], ["$0.0123", "$0.0000", "$1.50", "$12.35"])
  })
})

describe("usage totals", () => {
  it("sums every reported usage and cost across providers' shapes; null when none reported", () => {
    const totals = usageTotals([
      { usage: CLAUDE_USAGE, costUsd: 0.1 },
      { usage: null, costUsd: null },
      { usage: GEMINI_STATS, costUsd: 0.2 }
    ])
    assert.deepEqual(totals, { usage: { inputTokens: 2300, outputTokens: 474, cacheReadTokens: 5007, cacheWriteTokens: 10 }, costUsd: 0.3 })
    assert.deepEqual(usageTotals([]), { usage: null, costUsd: null })
    assert.deepEqual(usageTotals([{ usage: { unrelated: 1 }, costUsd: null }]), { usage: null, costUsd: null })
    assert.deepEqual(usageTotals([{ usage: { output_tokens: 0 }, costUsd: 0 }]), { usage: NO_USAGE, costUsd: 0 })
  })
})

describe("details view: tokens, cost, project and cancellation", () => {
  const twoAttempts = details(job("dddd1111-0000-4000-8000-000000000006", { cwd: "/srv/work/blog", status: "completed", attempts: 2 }), {
    executions: [
      execution(1, { usage: CLAUDE_USAGE, costUsd: 0.0123, error: "429 Too Many Requests", errorKind: "rate_limit" }),
      execution(2, { status: "succeeded", exitCode: 0, usage: GEMINI_STATS, costUsd: 0.5 })
    ]
  })
  const content = (data = twoAttempts, width = 80): string[] =>
    detailsContent({ jobId: data.id, data, loading: false, error: null, scroll: 0, follow: false, raw: false }, NOW, width).map((l) => lineText(l).trimEnd())

  it("shows each execution's tokens under its row and the totals over all attempts", () => {
    const lines = content()
    assert.ok(lines.includes("Project     /srv/work/blog"), lines.join("\n"))
    assert.ok(lines.includes("Tokens      2,300 in · 474 out · 5,007 cache read · 10 cache write (2 attempts)"), lines.join("\n"))
    assert.ok(lines.includes("Cost        $0.5123 (2 attempts)"), lines.join("\n"))
    const first = lines.findIndex((l) => /^ +1 {2}failed .*\$0\.0123$/.test(l))
    assert.ok(first > 0, lines.join("\n"))
    assert.deepEqual(lines.slice(first + 1, first + 3), [
      "     tokens: 1,200 in · 340 out · 5,000 cache read · 10 cache write",
      "     rate_limit: 429 Too Many Requests"
    ])
    const second = lines.findIndex((l) => /^ +2 {2}succeeded .*\$0\.5000$/.test(l))
    assert.equal(lines[second + 1], "     tokens: 1,100 in · 134 out · 7 cache read · 0 cache write")
  })

  it("says - when no execution reported tokens or cost, and no attempt count for one attempt", () => {
    const none = details(job("eeee1111-0000-4000-8000-000000000000", { status: "failed" }), { executions: [execution(1)] })
    assert.ok(content(none).includes("Tokens      -"))
    assert.ok(content(none).includes("Cost        -"))
    const one = details(job("eeee2222-0000-4000-8000-000000000000", { status: "completed" }), { executions: [execution(1, { usage: CLAUDE_USAGE, costUsd: 2 })] })
    assert.ok(content(one).includes("Cost        $2.00"))
  })

  it("says when and why a job the retry policy queued again runs: details and the list's Error column", () => {
    const runAt = new Date(NOW.getTime() + 43_000)
    const queued = job("abab1111-0000-4000-8000-000000000000", {
      status: "queued",
      attempts: 1,
      error: "API Error: Request rejected (429) · rate limit",
      errorKind: "rate_limit",
      runAt,
      retryReason: "rate limit, claude asked for 38 s"
    })
    const next = `retry at ${formatClock(runAt)}: rate limit, claude asked for 38 s`
    const lines = content(details(queued, { executions: [execution(1)] }), 100)
    assert.ok(lines.includes(`Next run    ${next}`), lines.join("\n"))
    assert.ok(lines.some((l) => l.startsWith("Error       rate_limit: API Error")), "the error stays")
    assert.match(renderJobList([queued], NOW), new RegExp(`${next.replace(/[()]/g, "\\$&")}$`, "m"))
    const byPerson = content(details({ ...queued, retryReason: null }, { executions: [execution(1)] }), 100)
    assert.ok(!byPerson.some((l) => l.startsWith("Next run")), "no Next run without a policy retry")
  })

  it("words a cancellation by whom, for the job and its execution", () => {
    const cancelled = details(
      job("ffff1111-0000-4000-8000-000000000000", { status: "cancelled", error: "Cancelled by user (Ctrl-C).", errorKind: "cancelled", completedAt: ago(1000) }),
      { executions: [execution(1, { status: "cancelled", error: "Cancelled by user (Ctrl-C).", errorKind: "cancelled" })] }
    )
    const lines = content(cancelled)
    assert.ok(lines.includes("Error       cancelled by user (Ctrl-C)"), lines.join("\n"))
    assert.ok(lines.includes("     cancelled by user (Ctrl-C)"), lines.join("\n"))
    assert.ok(!lines.some((l) => /Cancelled/.test(l)))
  })
})

describe("jobs show --json: usage and cost", () => {
  const record = (fields: Partial<JobRecord> = {}): JobRecord => ({
    ...job("dddd1111-0000-4000-8000-000000000006", { status: "completed", attempts: 2 }),
    model: null,
    priority: 0,
    maxAttempts: 3,
    timeoutMs: 1000,
    retryTimeouts: false,
    runAt: ago(1000),
    currentExecutionId: null,
    cancelRequested: false,
    metadata: {},
    version: 9,
    permissions: "edit",
    maxCostUsd: null,
    maxTurns: null,
    ...fields
  })
  const executionRecord = (attempt: number, fields: Partial<ExecutionRecord>): ExecutionRecord => ({
    ...execution(attempt),
    jobId: "dddd1111-0000-4000-8000-000000000006",
    host: "host-a",
    pid: 1,
    argv: [],
    cliVersion: null,
    result: null,
    ...fields
  })

  it("has each execution's usage in one shape (null when not reported), its costUsd, and the totals", () => {
    const json = jobDetailsJson(record(), [
      executionRecord(1, { usage: null, costUsd: null }),
      executionRecord(2, { usage: CLAUDE_USAGE, costUsd: 0.0123 })
    ], [])
    assert.deepEqual(json.executions.map((e) => [e.usage, e.costUsd]), [
      [null, null],
      [{ inputTokens: 1200, outputTokens: 340, cacheReadTokens: 5000, cacheWriteTokens: 10 }, 0.0123]
    ])
    assert.deepEqual(json.totalUsage, { inputTokens: 1200, outputTokens: 340, cacheReadTokens: 5000, cacheWriteTokens: 10 })
    assert.equal(json.totalCostUsd, 0.0123)
  })
})

describe("plain table: Activity and Error", () => {
  const jobs = [
    job("aaaa1111-0000-4000-8000-000000000001", { cwd: "/home/me/shop", step: "00_PRD", status: "running", startedAt: ago(5000), progress: "Reading docs/PRD.md" }),
    job("dddd1111-0000-4000-8000-000000000006", { cwd: "/srv/work/blog", status: "failed", durationMs: 5000, error: "429 Too Many Requests: slow down", errorKind: "rate_limit" })
  ]

  it("without a width: Activity as wide as the longest activity, Error whole", () => {
    const lines = renderJobList(jobs, NOW).trimEnd().split("\n")
    assert.deepEqual(lines, [
      "ID        Provider  Status     Step        Project     Duration  Activity             Error",
      "aaaa1111  claude    running    00_PRD      shop            5.0s  Reading docs/PRD.md",
      "dddd1111  claude    failed     -           blog            5.0s                       rate_limit: 429 Too Many Requests: slow down"
    ])
  })

  it("at a terminal's width: Activity and Error share the room; no Activity column when nothing runs", () => {
    const lines = renderJobList(jobs, NOW, 100).trimEnd().split("\n")
    for (const l of lines) assert.ok(displayWidth(l) <= 100, l)
    assert.deepEqual(lines, [
      "ID        Provider  Status     Step        Project     Duration  Activity          Error",
      "aaaa1111  claude    running    00_PRD      shop            5.0s  Reading docs/PR…",
      "dddd1111  claude    failed     -           blog            5.0s                    rate_limit: 429 …"
    ])
    const failedOnly = renderJobList(jobs.slice(1), NOW, 80).trimEnd().split("\n")
    assert.deepEqual(failedOnly, [
      "ID        Provider  Status     Step        Project     Duration  Error",
      "dddd1111  claude    failed     -           blog            5.0s  rate_limit: 42…"
    ])
  })
})
