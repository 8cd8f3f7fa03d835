/**
 * The pure projection (src/projections/evolveRows.ts): event tables in, read-model rows out,
 * no database. The drivers' equality over real tables is test/projections.property.test.ts.
 */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import type { JobEvent, RecordedEvent } from "../src/domain/events.js"
import { emptyStreamRows, evolveRows, promptSummary, type StreamRows } from "../src/projections/evolveRows.js"
import type { LogRow } from "../src/projections/rows.js"
import { at, EXEC_1, EXEC_2, ev } from "./support/events.js"

const JOB = "99999999-9999-4999-8999-999999999999"

/** Folds `events` (the i-th at `at(i * 1000)`, position 100 + i) from an empty stream: the rows and every log line. */
const play = (events: ReadonlyArray<JobEvent>, start: StreamRows = emptyStreamRows) => {
  let rows = start
  const logs: Array<LogRow> = []
  events.forEach((event, i) => {
    const recorded: RecordedEvent = { position: 100 + i, jobId: JOB, version: i + 1, occurredAt: at(i * 1000), event }
    const next = evolveRows(rows, recorded)
    rows = next.rows
    logs.push(...next.logs)
  })
  return { rows, logs, job: rows.job!, executions: [...rows.executions.values()] }
}

const messages = (logs: ReadonlyArray<LogRow>) => logs.map((l) => [l.seq, l.stream, l.level, l.message, l.execution_id])

describe("evolveRows", () => {
  it("JobQueued writes every column of a new job row from the event", () => {
    const { job, logs, executions } = play([
      ev.queued({ provider: "gemini", model: "m", prompt: "\n  First line  \nsecond", step: "00_PRD", priority: 2, max_attempts: 4, timeout_ms: 9_000, metadata: { a: [1] }, retry_timeouts: true, max_cost_usd: 2.5, max_turns: 12 })
    ])
    assert.deepEqual(job, {
      id: JOB, provider: "gemini", model: "m", status: "queued", step: "00_PRD", prompt_summary: "First line", cwd: "/work/project",
      priority: 2, max_attempts: 4, timeout_ms: 9_000, run_at: at(0), created_at: at(0), started_at: null, completed_at: null,
      duration_ms: null, error: null, error_kind: null, attempts: 0, current_execution_id: null, cancel_requested: false,
      progress: null, metadata: { a: [1] }, version: 1, last_position: 100, permissions: "edit", denied: 0, retry_timeouts: true,
      retry_reason: null, retry_fresh: false, max_cost_usd: 2.5, max_turns: 12, changes: null, worktree_state: null
    })
    assert.deepEqual(executions, [])
    assert.deepEqual(messages(logs), [[1, "system", "info", "Job queued for gemini (step 00_PRD).", null]])
  })

  it("start, output, progress and success: one execution row, the job completed, lines numbered in order", () => {
    const { job, executions, logs, rows } = play([
      ev.queued(),
      ev.started(EXEC_1, 1, { argv: ["claude", "-p"], cli_version: "2.0" }),
      ev.output(EXEC_1, [{ stream: "stdout", text: "hello", at: at(2_500).toISOString() }, { stream: "stderr", text: "careful", at: at(2_600).toISOString() }]),
      ev.progress(EXEC_1, "Tool call: Edit"),
      ev.succeeded(EXEC_1, { duration_ms: 2_345, usage: { input_tokens: 3 }, cost_usd: 0.25, cli_version: null, denials: [{ tool: "Bash", target: "rm -rf /" }] })
    ])
    assert.deepEqual(
      { status: job.status, started_at: job.started_at, completed_at: job.completed_at, duration_ms: job.duration_ms, attempts: job.attempts, current: job.current_execution_id, progress: job.progress, denied: job.denied, version: job.version, last_position: job.last_position },
      { status: "completed", started_at: at(1000), completed_at: at(4000), duration_ms: 2_345, attempts: 1, current: null, progress: null, denied: 1, version: 5, last_position: 104 }
    )
    assert.deepEqual(executions, [{
      id: EXEC_1, job_id: JOB, attempt: 1, status: "succeeded", worker_id: "worker-a", host: "host-a", pid: 4242, argv: ["claude", "-p"],
      cli_version: "2.0", started_at: at(1000), completed_at: at(4000), duration_ms: 2_345, exit_code: 0, signal: null, error: null,
      error_kind: null, result: "done", usage: { input_tokens: 3 }, cost_usd: 0.25, denials: [{ tool: "Bash", target: "rm -rf /" }],
      session_id: null, resumed_attempt: null, session_gone: false, changes: null
    }])
    assert.deepEqual(messages(logs), [
      [1, "system", "info", "Job queued for claude.", null],
      [2, "system", "info", "Attempt 1 started by worker worker-a on host-a: claude -p", EXEC_1],
      [3, "stdout", "info", "hello", EXEC_1],
      [4, "stderr", "warn", "careful", EXEC_1],
      [5, "system", "info", "Attempt 1 succeeded in 2.3 s.", EXEC_1],
      [6, "system", "warn", "Warning: the agent was refused 1 tool call: Bash rm -rf /.", EXEC_1]
    ])
    assert.deepEqual(logs[2]!.at, at(2_500), "an output line keeps the time aidp read it")
    assert.equal(rows.lastSeq, 6)
  })

  it("sessions: a fresh retry is remembered until the next start; a resumed start and a gone session are recorded", () => {
    const fresh: JobEvent = { type: "JobRetryRequested", data: { requested_by: "user", run_at: at(3_000).toISOString(), fresh: true } }
    const queuedFresh = play([ev.queued(), ev.started(EXEC_1, 1, { session_id: "s-1" }), ev.failed(EXEC_1, "network", { session_id: "s-1" }), fresh])
    assert.equal(queuedFresh.job.retry_fresh, true)
    assert.equal(queuedFresh.logs.at(-1)!.message, "Retry requested (fresh start).")
    const { job, executions, logs } = play([
      ev.queued(),
      ev.started(EXEC_1, 1, { session_id: "s-1" }),
      ev.failed(EXEC_1, "network"),
      fresh,
      ev.started(EXEC_2, 2, { session_id: "s-1", resumed_attempt: 1 }),
      ev.succeeded(EXEC_2, { session_id: "s-2", session_gone: true })
    ])
    assert.equal(job.retry_fresh, false, "cleared by the next start")
    assert.deepEqual(executions.map((e) => [e.session_id, e.resumed_attempt, e.session_gone]), [["s-1", null, false], ["s-2", 1, true]])
    assert.ok(logs.some((l) => l.message === "Resuming attempt 1's session s-1 with a prompt to continue the task."))
  })

  it("a failure closes the execution and fails the job; a policy retry re-queues it keeping the error", () => {
    const { job, executions, logs } = play([
      ev.queued(),
      ev.started(EXEC_1),
      ev.failed(EXEC_1, "network", { exit_code: null, signal: "SIGTERM", error: "ECONNRESET", duration_ms: 700, cost_usd: 0.03 }),
      ev.retry("policy", at(60_000), "network error")
    ])
    assert.deepEqual(
      { status: job.status, run_at: job.run_at, retry_reason: job.retry_reason, started_at: job.started_at, completed_at: job.completed_at, duration_ms: job.duration_ms, error: job.error, error_kind: job.error_kind },
      { status: "queued", run_at: at(60_000), retry_reason: "network error", started_at: null, completed_at: null, duration_ms: null, error: "ECONNRESET", error_kind: "network" }
    )
    assert.deepEqual(
      { status: executions[0]!.status, duration_ms: executions[0]!.duration_ms, signal: executions[0]!.signal, error: executions[0]!.error, cost_usd: executions[0]!.cost_usd, denials: executions[0]!.denials },
      { status: "failed", duration_ms: 700, signal: "SIGTERM", error: "ECONNRESET", cost_usd: 0.03, denials: null }
    )
    assert.deepEqual(messages(logs).slice(2), [
      [3, "system", "error", "Attempt 1 failed (network): ECONNRESET", EXEC_1],
      [4, "system", "info", `Retry scheduled by policy for ${at(60_000).toISOString()}: network error.`, null]
    ])
  })

  it("a person's retry clears the job's error; the next start opens a second execution", () => {
    const { job, executions } = play([
      ev.queued(), ev.started(EXEC_1), ev.failed(EXEC_1, "auth"), ev.retry("user", at(3_000)), ev.started(EXEC_2, 2)
    ])
    assert.deepEqual(
      { status: job.status, error: job.error, attempts: job.attempts, current: job.current_execution_id },
      { status: "running", error: null, attempts: 2, current: EXEC_2 }
    )
    assert.deepEqual(executions.map((e) => [e.id, e.status]), [[EXEC_1, "failed"], [EXEC_2, "running"]])
  })

  it("an abandoned execution lasts from its start to the event", () => {
    const { job, executions, logs } = play([ev.queued(), ev.started(EXEC_1), ev.progress(EXEC_1, "x"), ev.abandoned(EXEC_1, "lease expired")])
    assert.deepEqual([executions[0]!.duration_ms, executions[0]!.error_kind, job.duration_ms, job.error, job.status], [2_000, "worker_lost", 2_000, "lease expired", "failed"])
    assert.deepEqual(messages(logs).at(-1), [3, "system", "error", "Attempt 1 abandoned: lease expired", EXEC_1])
  })

  it("a cancellation names who asked for it, on the job and its execution", () => {
    const { job, executions } = play([ev.queued(), ev.started(EXEC_1), ev.cancelRequested("user (Ctrl-C)"), ev.cancelled(EXEC_1)])
    assert.deepEqual([job.status, job.error, job.error_kind, job.cancel_requested, job.duration_ms], ["cancelled", "Cancelled by user (Ctrl-C).", "cancelled", false, 2_000])
    assert.deepEqual([executions[0]!.status, executions[0]!.error, executions[0]!.duration_ms], ["cancelled", "Cancelled by user (Ctrl-C).", 2_000])
    const queued = play([ev.queued(), ev.cancelled(null)])
    assert.deepEqual([queued.job.error, queued.job.duration_ms, queued.logs.at(-1)!.execution_id], ["Cancelled.", null, null])
  })

  it("ExecutionChanges sets the execution's summary and the job's totals (no files); merge and removal mark the worktree", () => {
    const { job, executions, logs } = play([ev.queued(), ev.started(EXEC_1), ev.changes(EXEC_1), ev.succeeded(EXEC_1)])
    const summary = ev.changes(EXEC_1).data.changes
    assert.deepEqual(executions[0]!.changes, summary)
    const { files: _files, ...totals } = summary
    assert.deepEqual([job.changes, job.worktree_state], [totals, "open"])
    assert.ok(logs.some((l) => l.message === "Changes on branch aidp/00000000: 2 files +3 −1." && l.execution_id === EXEC_1))
    const merged = play([ev.queued(), ev.started(EXEC_1), ev.changes(EXEC_1), ev.succeeded(EXEC_1), ev.merged()])
    assert.equal(merged.job.worktree_state, "merged")
    assert.equal(merged.logs.at(-1)!.message, `Branch aidp/00000000 merged into main by user (${"c".repeat(12)}).`)
    assert.equal(play([ev.queued(), ev.started(EXEC_1), ev.changes(EXEC_1), ev.succeeded(EXEC_1), ev.removed()]).job.worktree_state, "removed")
    assert.throws(() => play([ev.queued(), ev.changes(EXEC_1)]), /execution 1111.* has no row/)
  })

  it("an event needing a row the stream lacks is refused", () => {
    assert.throws(() => play([ev.started(EXEC_1)]), /job 9999.* has no row/)
    assert.throws(() => play([ev.queued(), ev.succeeded(EXEC_1)]), /execution 1111.* has no row/)
    assert.throws(() => play([ev.queued(), ev.queued()]), /queued twice/)
    assert.throws(() => play([ev.queued(), ev.started(EXEC_1), ev.started(EXEC_1)]), /started twice/)
  })

  it("leaves the rows it was given unchanged", () => {
    const before = play([ev.queued(), ev.started(EXEC_1)]).rows
    const frozen = JSON.stringify({ ...before, executions: [...before.executions] })
    play([ev.succeeded(EXEC_1)], before)
    assert.equal(JSON.stringify({ ...before, executions: [...before.executions] }), frozen)
  })

  it("summarises a prompt by its first non-empty line, cut to 120 characters", () => {
    assert.equal(promptSummary("\n\n  # Title  \nbody"), "# Title")
    assert.equal(promptSummary("y".repeat(200)), `${"y".repeat(119)}…`)
    assert.equal(promptSummary(""), "")
  })
})
