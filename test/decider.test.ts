/**
 * The job Decider, table-driven (STYLE.md): given these events, when this command, then
 * these events or this error. Then evolve/fold against DESIGN.md's status table, and the
 * retry policy's backoff.
 */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { Result } from "effect"
import { decide, evolve, fold, initialState, type JobCommand } from "../src/domain/decider.js"
import { decodeEvent, type JobEvent } from "../src/domain/events.js"
import { type ErrorKind, type JobStatus, MAX_PROMPT_BYTES } from "../src/domain/job.js"
import {
  abandonDelayMs,
  AGENT_RETRY_FLOOR_MS,
  AGENT_RETRY_MAX_MS,
  agentBackoffMs,
  agentRetry,
  type AgentFailure,
  BASE_BACKOFF_MS,
  formatWait,
  hintTime,
  MAX_ABANDONED_IN_ROW,
  MAX_BACKOFF_MS,
  RETRY_MARGIN_MS
} from "../src/domain/retryPolicy.js"
import { cmd } from "./support/commandBuilders.js"
import { at, ev, EXEC_1, EXEC_2, EXEC_3, T0 } from "./support/events.js"

const NOW = at(60_000)

const LINES = [{ stream: "stdout", text: "hello", at: NOW.toISOString() }] as const

/** Histories that leave a job (max_attempts 3) in each status. */
const given = {
  queued: [ev.queued()],
  running: [ev.queued(), ev.started(EXEC_1)],
  cancelRequested: [ev.queued(), ev.started(EXEC_1), ev.cancelRequested()],
  completed: [ev.queued(), ev.started(EXEC_1), ev.succeeded(EXEC_1)],
  failed: [ev.queued(), ev.started(EXEC_1), ev.failed(EXEC_1, "auth")],
  cancelled: [ev.queued(), ev.cancelRequested(), ev.cancelled(null)],
  requeuedByPolicy: [ev.queued(), ev.started(EXEC_1), ev.failed(EXEC_1, "network"), ev.retry("policy", at(5_000))],
  runningSecond: [
    ev.queued(),
    ev.started(EXEC_1),
    ev.failed(EXEC_1, "network"),
    ev.retry("policy", at(5_000)),
    ev.started(EXEC_2, 2)
  ],
  runningThird: [
    ev.queued(),
    ev.started(EXEC_1),
    ev.failed(EXEC_1, "network"),
    ev.retry("policy", at(5_000)),
    ev.started(EXEC_2, 2),
    ev.failed(EXEC_2, "network"),
    ev.retry("policy", at(15_000)),
    ev.started(EXEC_3, 3)
  ]
} satisfies Record<string, ReadonlyArray<JobEvent>>

/** Execution id of the `n`th execution (1-based) in {@link abandonedRuns}. */
const execN = (n: number): string => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`

/**
 * `n` executions of a queued job, each started and then ended by aidp's own side (abandoned
 * and re-queued by policy), leaving the job queued.
 */
const abandonedRuns = (n: number, first = 1): Array<JobEvent> =>
  Array.from({ length: n }, (_, i) => [
    ev.started(execN(first + i), first + i),
    ev.abandoned(execN(first + i), "lease expired"),
    ev.retry("policy", at(i))
  ]).flat()

type Then = ReadonlyArray<JobEvent> | { readonly error: "JobNotFound" | "IllegalTransition"; readonly message?: string | RegExp }

interface Case {
  readonly name: string
  readonly given: ReadonlyArray<JobEvent>
  readonly when: JobCommand
  readonly then: Then
}

const refused = (message?: string | RegExp): Then => ({ error: "IllegalTransition", ...(message ? { message } : {}) })
/** The policy's retry of an execution ended on aidp's side, `delayMs` after NOW. */
const requeue = (delayMs: number, reason = "its worker was lost") => ev.retry("policy", new Date(NOW.getTime() + delayMs), reason)
/** The policy's retry of an agent's failure of `kind` (its `spent`th attempt), after the jittered backoff. */
const backoffRetry = (kind: ErrorKind, spent: number, executionId = EXEC_1) => {
  const waitMs = agentBackoffMs(spent, executionId)
  return ev.retry("policy", new Date(NOW.getTime() + waitMs), `${kind.replace("_", " ")}, backoff ${formatWait(waitMs)}`)
}
const failedEvent = (kind: ErrorKind, executionId = EXEC_1) =>
  ev.failed(executionId, kind, { error: `boom: ${kind}`, duration_ms: 900 })
const abandonedEvent = (executionId = EXEC_1) => ev.abandoned(executionId, "lease expired")

const merge: JobCommand = { _tag: "MergeWorktree", requestedBy: "user", branch: "aidp/00000000", into: "main", commit: "c".repeat(40) }
const remove: JobCommand = { _tag: "RemoveWorktree", requestedBy: "user", branch: "aidp/00000000", reason: "clean" }

const cases: ReadonlyArray<Case> = [
  // Enqueue
  {
    name: "Enqueue on a new stream queues the job",
    given: [],
    when: cmd.enqueue(),
    then: [ev.queued({
      provider: "gemini",
      model: "gemini-2.5-pro",
      prompt: "Write docs/NFRS.md\nin detail",
      step: "01_NFRS",
      priority: 5,
      timeout_ms: 120_000,
      metadata: { document: "docs/NFRS.md" },
      permissions: "edit"
    })]
  },
  { name: "Enqueue of an existing job is refused", given: given.queued, when: cmd.enqueue(), then: refused(/already exists/) },
  {
    name: "Enqueue records the job's permissions",
    given: [],
    when: cmd.enqueue({ provider: "claude", permissions: "plan" }),
    then: [ev.queued({ provider: "claude", model: "gemini-2.5-pro", prompt: "Write docs/NFRS.md\nin detail", step: "01_NFRS", priority: 5, timeout_ms: 120_000, metadata: { document: "docs/NFRS.md" }, permissions: "plan" })]
  },
  {
    name: "Enqueue of cursor at plan is refused: cursor has no read-only mode",
    given: [],
    when: cmd.enqueue({ provider: "cursor", permissions: "plan" }),
    then: refused(/cursor-agent has no read-only mode/)
  },
  {
    name: "Enqueue of a prompt over MAX_PROMPT_BYTES (UTF-8 bytes, not characters) is refused",
    given: [],
    when: cmd.enqueue({ prompt: "é".repeat(MAX_PROMPT_BYTES / 2 + 1) }),
    then: refused("The prompt is longer than 4 MiB, the most a job takes; shorten it, or point the agent at files to read instead.")
  },
  // JobNotFound
  ...[
    cmd.start(EXEC_1),
    cmd.output(EXEC_1, LINES),
    cmd.progress(EXEC_1),
    cmd.succeed(EXEC_1),
    cmd.fail(EXEC_1, "network", NOW),
    cmd.abandon(EXEC_1, NOW),
    cmd.retry(NOW),
    cmd.cancel(),
    cmd.confirmCancel(EXEC_1)
  ].map((when): Case => ({
    name: `${when._tag} on an empty stream is JobNotFound`,
    given: [],
    when,
    then: { error: "JobNotFound", message: "No such job." }
  })),
  // Start
  {
    name: "Start of a queued job opens attempt 1",
    given: given.queued,
    when: cmd.start(EXEC_1),
    then: [ev.started(EXEC_1, 1, { worker_id: "worker-b", host: "host-b", pid: 77, argv: ["gemini", "--output-format", "stream-json"] })]
  },
  {
    name: "Start after a policy retry opens attempt 2",
    given: given.requeuedByPolicy,
    when: cmd.start(EXEC_2),
    then: [ev.started(EXEC_2, 2, { worker_id: "worker-b", host: "host-b", pid: 77, argv: ["gemini", "--output-format", "stream-json"] })]
  },
  ...(["running", "completed", "failed", "cancelled"] as const).map((status): Case => ({
    name: `Start of a ${status} job is refused`,
    given: given[status],
    when: cmd.start(EXEC_2),
    then: refused(`Only a queued job can start; this one is ${status}.`)
  })),
  // RecordOutput / RecordProgress
  {
    name: "RecordOutput of the current execution",
    given: given.running,
    when: cmd.output(EXEC_1, LINES),
    then: [ev.output(EXEC_1, [{ stream: "stdout", text: "hello", at: NOW.toISOString() }])]
  },
  {
    name: "RecordOutput while a cancel is pending is still recorded",
    given: given.cancelRequested,
    when: cmd.output(EXEC_1, LINES),
    then: [ev.output(EXEC_1, [{ stream: "stdout", text: "hello", at: NOW.toISOString() }])]
  },
  { name: "RecordOutput of another execution is refused", given: given.running, when: cmd.output(EXEC_2, LINES), then: refused(/not the running execution/) },
  { name: "RecordOutput of an earlier attempt is refused", given: given.runningSecond, when: cmd.output(EXEC_1, LINES), then: refused() },
  { name: "RecordOutput of a queued job is refused", given: given.queued, when: cmd.output(EXEC_1, LINES), then: refused() },
  { name: "RecordProgress of the current execution", given: given.running, when: cmd.progress(EXEC_1), then: [ev.progress(EXEC_1, "Reading README.md")] },
  { name: "RecordProgress of another execution is refused", given: given.running, when: cmd.progress(EXEC_2), then: refused(/not the running execution/) },
  { name: "RecordProgress of a completed job is refused", given: given.completed, when: cmd.progress(EXEC_1), then: refused() },
  // Succeed
  {
    name: "Succeed of the current execution completes the job",
    given: given.running,
    when: cmd.succeed(EXEC_1),
    then: [ev.succeeded(EXEC_1, { result: "# NFRS", usage: { input_tokens: 10 }, cost_usd: 0.25, duration_ms: 4_000, cli_version: "1.2.3" })]
  },
  {
    name: "Succeed with refused tool calls records them on the event",
    given: given.running,
    when: cmd.succeed(EXEC_1, { denials: [{ tool: "Bash", target: "rm -rf build" }] }),
    then: [ev.succeeded(EXEC_1, { result: "# NFRS", usage: { input_tokens: 10 }, cost_usd: 0.25, duration_ms: 4_000, cli_version: "1.2.3", denials: [{ tool: "Bash", target: "rm -rf build" }] })]
  },
  { name: "Succeed of another execution is refused", given: given.running, when: cmd.succeed(EXEC_2), then: refused() },
  { name: "Succeed twice is refused", given: given.completed, when: cmd.succeed(EXEC_1), then: refused() },
  // Fail
  { name: "Fail, non-transient: only ExecutionFailed", given: given.running, when: cmd.fail(EXEC_1, "auth", NOW), then: [failedEvent("auth")] },
  ...(["rate_limit", "overloaded", "server_error", "network"] as const).map((kind): Case => ({
    name: `Fail, transient ${kind} on attempt 1 of 3: retried by policy after the 60 s backoff`,
    given: given.running,
    when: cmd.fail(EXEC_1, kind, NOW),
    then: [failedEvent(kind), backoffRetry(kind, 1)]
  })),
  {
    name: "Fail, transient on attempt 2 of 3: retried by policy after the doubled backoff",
    given: given.runningSecond,
    when: cmd.fail(EXEC_2, "network", NOW),
    then: [failedEvent("network", EXEC_2), backoffRetry("network", 2, EXEC_2)]
  },
  {
    name: "Fail, rate_limit with a delay the provider asked for: run_at is that delay plus the margin",
    given: given.running,
    when: cmd.fail(EXEC_1, "rate_limit", NOW, { retryHint: { _tag: "Delay", ms: 38_000, said: "claude asked for 38 s" } }),
    then: [failedEvent("rate_limit"), ev.retry("policy", new Date(NOW.getTime() + 38_000 + RETRY_MARGIN_MS), "rate limit, claude asked for 38 s")]
  },
  {
    name: "Fail, quota with a reset time: retried at the reset plus the margin",
    given: given.running,
    when: cmd.fail(EXEC_1, "quota", NOW, { retryHint: { _tag: "Reset", hour: 16, minute: 0, timeZone: "UTC", said: "claude: resets 4pm" } }),
    then: [failedEvent("quota"), ev.retry("policy", new Date(Date.UTC(NOW.getUTCFullYear(), NOW.getUTCMonth(), NOW.getUTCDate() + (NOW.getUTCHours() >= 16 ? 1 : 0), 16) + RETRY_MARGIN_MS), "quota, claude: resets 4pm")]
  },
  { name: "Fail, quota without a reset time: not retried", given: given.running, when: cmd.fail(EXEC_1, "quota", NOW), then: [failedEvent("quota")] },
  { name: "Fail, timeout (a hang): not retried by default", given: given.running, when: cmd.fail(EXEC_1, "timeout", NOW), then: [failedEvent("timeout")] },
  {
    name: "Fail, timeout of a job enqueued with --retry-timeouts: retried after the backoff",
    given: [ev.queued({ retry_timeouts: true }), ev.started(EXEC_1)],
    when: cmd.fail(EXEC_1, "timeout", NOW),
    then: [failedEvent("timeout"), backoffRetry("timeout", 1)]
  },
  {
    name: "Fail, transient on the last attempt: no retry",
    given: given.runningThird,
    when: cmd.fail(EXEC_3, "network", NOW),
    then: [failedEvent("network", EXEC_3)]
  },
  {
    name: "Fail, transient with max_attempts 1: no retry",
    given: [ev.queued({ max_attempts: 1 }), ev.started(EXEC_1)],
    when: cmd.fail(EXEC_1, "rate_limit", NOW),
    then: [failedEvent("rate_limit")]
  },
  {
    name: "Fail, transient after a cancel request: no retry (the user asked to stop)",
    given: given.cancelRequested,
    when: cmd.fail(EXEC_1, "rate_limit", NOW),
    then: [failedEvent("rate_limit")]
  },
  { name: "Fail of another execution is refused", given: given.running, when: cmd.fail(EXEC_2, "auth", NOW), then: refused() },
  { name: "Fail of a failed job is refused", given: given.failed, when: cmd.fail(EXEC_1, "auth", NOW), then: refused() },
  // Abandon: aidp's own side ended the execution; it spends no attempt (issue 6)
  { name: "Abandon on attempt 1 of 3: queued again after 5 s", given: given.running, when: cmd.abandon(EXEC_1, NOW), then: [abandonedEvent(), requeue(5_000)] },
  {
    name: "Abandon on the last attempt: queued again, it spent no attempt",
    given: given.runningThird,
    when: cmd.abandon(EXEC_3, NOW),
    then: [abandonedEvent(EXEC_3), requeue(5_000)]
  },
  {
    name: "Abandon with max_attempts 1: queued again",
    given: [ev.queued({ max_attempts: 1 }), ev.started(EXEC_1)],
    when: cmd.abandon(EXEC_1, NOW),
    then: [abandonedEvent(), requeue(5_000)]
  },
  {
    name: "Abandon, the 3rd in a row: backoff 20 s",
    given: [ev.queued(), ...abandonedRuns(2), ev.started(execN(3), 3)],
    when: cmd.abandon(execN(3), NOW),
    then: [abandonedEvent(execN(3)), requeue(20_000)]
  },
  {
    name: `Abandon, the ${MAX_ABANDONED_IN_ROW}th in a row: the job fails (worker_lost), not queued again`,
    given: [ev.queued(), ...abandonedRuns(MAX_ABANDONED_IN_ROW - 1), ev.started(execN(MAX_ABANDONED_IN_ROW), MAX_ABANDONED_IN_ROW)],
    when: cmd.abandon(execN(MAX_ABANDONED_IN_ROW), NOW),
    then: [abandonedEvent(execN(MAX_ABANDONED_IN_ROW))]
  },
  {
    name: `Abandon by a stopping worker, the ${MAX_ABANDONED_IN_ROW}th in a row: the job fails too`,
    given: [ev.queued(), ...abandonedRuns(MAX_ABANDONED_IN_ROW - 1), ev.started(execN(MAX_ABANDONED_IN_ROW), MAX_ABANDONED_IN_ROW)],
    when: { ...cmd.abandon(execN(MAX_ABANDONED_IN_ROW), NOW), workerStopping: true },
    then: [abandonedEvent(execN(MAX_ABANDONED_IN_ROW))]
  },
  {
    name: "Abandon after 9 abandoned, then an agent's failure: the row starts again, queued",
    given: [
      ev.queued({ max_attempts: 2 }),
      ...abandonedRuns(MAX_ABANDONED_IN_ROW - 1),
      ev.started(execN(10), 10),
      ev.failed(execN(10), "network"),
      ev.retry("policy", at(0)),
      ev.started(execN(11), 11)
    ],
    when: cmd.abandon(execN(11), NOW),
    then: [abandonedEvent(execN(11)), requeue(5_000)]
  },
  { name: "Abandon after a cancel request: no retry", given: given.cancelRequested, when: cmd.abandon(EXEC_1, NOW), then: [abandonedEvent()] },
  {
    name: "Abandon by a stopping worker on the last attempt: queued again at once",
    given: given.runningThird,
    when: { ...cmd.abandon(EXEC_3, NOW), workerStopping: true },
    then: [abandonedEvent(EXEC_3), requeue(0, "its worker shut down")]
  },
  {
    name: "Abandon by a stopping worker after a cancel request: no retry",
    given: given.cancelRequested,
    when: { ...cmd.abandon(EXEC_1, NOW), workerStopping: true },
    then: [abandonedEvent()]
  },
  // Attempts spent are the agent's failures only
  {
    name: "Fail (overloaded) of attempt 2 of 2 after a shutdown ended attempt 1: retried, one attempt was spent",
    given: [ev.queued({ max_attempts: 2 }), ...abandonedRuns(1), ev.started(EXEC_2, 2)],
    when: cmd.fail(EXEC_2, "overloaded", NOW),
    then: [failedEvent("overloaded", EXEC_2), backoffRetry("overloaded", 1, EXEC_2)]
  },
  {
    name: "Fail (network) with max_attempts 1 after 3 abandoned executions: no retry, its one attempt is spent",
    given: [ev.queued({ max_attempts: 1 }), ...abandonedRuns(3), ev.started(execN(4), 4)],
    when: cmd.fail(execN(4), "network", NOW),
    then: [failedEvent("network", execN(4))]
  },
  {
    name: "Fail (network), 2nd spent attempt of 3 after an abandoned one: doubled backoff (by spent attempts)",
    given: [ev.queued(), ev.started(EXEC_1), ev.failed(EXEC_1, "network"), ev.retry("policy", at(0)), ...abandonedRuns(1, 2), ev.started(EXEC_3, 3)],
    when: cmd.fail(EXEC_3, "network", NOW),
    then: [failedEvent("network", EXEC_3), backoffRetry("network", 2, EXEC_3)]
  },
  { name: "Abandon of a stale execution is refused", given: given.runningSecond, when: cmd.abandon(EXEC_1, NOW), then: refused() },
  { name: "Abandon of a completed job is refused", given: given.completed, when: cmd.abandon(EXEC_1, NOW), then: refused() },
  // Retry
  { name: "Retry of a failed job", given: given.failed, when: cmd.retry(NOW), then: [ev.retry("user", NOW)] },
  { name: "Retry of a cancelled job", given: given.cancelled, when: cmd.retry(NOW), then: [ev.retry("user", NOW)] },
  ...(["queued", "running", "completed"] as const).map((status): Case => ({
    name: `Retry of a ${status} job is refused with a clear sentence`,
    given: given[status],
    when: cmd.retry(NOW),
    then: refused(`Only a failed or cancelled job can be retried; this one is ${status}.`)
  })),
  // RequestCancel
  {
    name: "RequestCancel of a queued job cancels it at once",
    given: given.queued,
    when: cmd.cancel(),
    then: [ev.cancelRequested("user"), ev.cancelled(null)]
  },
  { name: "RequestCancel of a running job asks its worker", given: given.running, when: cmd.cancel(), then: [ev.cancelRequested("user")] },
  {
    name: "RequestCancel twice is refused",
    given: given.cancelRequested,
    when: cmd.cancel(),
    then: refused("Cancellation of this job was already requested.")
  },
  ...(["completed", "failed", "cancelled"] as const).map((status): Case => ({
    name: `RequestCancel of a ${status} job is refused`,
    given: given[status],
    when: cmd.cancel(),
    then: refused(`Only a queued or running job can be cancelled; this one is ${status}.`)
  })),
  // ConfirmCancel
  { name: "ConfirmCancel of a pending cancel", given: given.cancelRequested, when: cmd.confirmCancel(EXEC_1), then: [ev.cancelled(EXEC_1)] },
  {
    name: "ConfirmCancel without an execution id closes the current execution",
    given: given.cancelRequested,
    when: cmd.confirmCancel(null),
    then: [ev.cancelled(EXEC_1)]
  },
  {
    name: "ConfirmCancel by a stale execution is refused",
    given: [...given.runningSecond, ev.cancelRequested()],
    when: cmd.confirmCancel(EXEC_1),
    then: refused(/not the running execution/)
  },
  { name: "ConfirmCancel with no cancel requested is refused", given: given.running, when: cmd.confirmCancel(EXEC_1), then: refused(/no pending cancellation/) },
  { name: "ConfirmCancel of a cancelled job is refused", given: given.cancelled, when: cmd.confirmCancel(EXEC_1), then: refused() },
  // Worktrees and changes
  {
    name: "Enqueue with a worktree records it, with its key when given",
    given: [],
    when: { ...cmd.enqueue(), worktree: { key: "workflow-1" } },
    then: [{ ...ev.queued({ provider: "gemini", model: "gemini-2.5-pro", prompt: "Write docs/NFRS.md\nin detail", step: "01_NFRS", priority: 5, timeout_ms: 120_000, metadata: { document: "docs/NFRS.md" }, permissions: "edit" }), data: { ...ev.queued({ provider: "gemini", model: "gemini-2.5-pro", prompt: "Write docs/NFRS.md\nin detail", step: "01_NFRS", priority: 5, timeout_ms: 120_000, metadata: { document: "docs/NFRS.md" }, permissions: "edit" }).data, worktree: { key: "workflow-1" } } }]
  },
  { name: "Enqueue with a worktree key that is not a name is refused", given: [], when: { ...cmd.enqueue(), worktree: { key: "../up" } }, then: refused(/The worktree key "..\/up" is not a name/) },
  { name: "RecordChanges of the running execution", given: given.running, when: { _tag: "RecordChanges", executionId: EXEC_1, changes: ev.changes(EXEC_1).data.changes }, then: [ev.changes(EXEC_1)] },
  { name: "RecordChanges of another execution is refused", given: given.running, when: { _tag: "RecordChanges", executionId: EXEC_2, changes: ev.changes(EXEC_1).data.changes }, then: refused(/not the running execution/) },
  { name: "MergeWorktree of a finished job with a worktree", given: [...given.running, ev.changes(EXEC_1), ev.succeeded(EXEC_1)], when: merge, then: [ev.merged()] },
  { name: "MergeWorktree of a running job is refused", given: [...given.running, ev.changes(EXEC_1)], when: merge, then: refused("The job is running; wait until it has finished (or cancel it) first.") },
  { name: "MergeWorktree of a job without a worktree is refused", given: given.completed, when: merge, then: refused(/has no worktree/) },
  { name: "RemoveWorktree after a merge", given: [...given.running, ev.changes(EXEC_1), ev.failed(EXEC_1, "auth"), ev.merged()], when: remove, then: [ev.removed("clean")] },
  { name: "RemoveWorktree twice is refused", given: [...given.running, ev.changes(EXEC_1), ev.succeeded(EXEC_1), ev.removed()], when: remove, then: refused("The job's worktree and branch were already removed.") }
]

describe("decide", () => {
  for (const c of cases) {
    it(c.name, () => {
      const result = decide(c.when, fold(c.given))
      if ("error" in c.then) {
        assert.ok(Result.isFailure(result), `expected ${c.then.error}, got ${JSON.stringify(Result.isSuccess(result) && result.success)}`)
        assert.equal(result.failure._tag, c.then.error)
        if (typeof c.then.message === "string") assert.equal(result.failure.message, c.then.message)
        else if (c.then.message) assert.match(result.failure.message, c.then.message)
      } else {
        assert.ok(Result.isSuccess(result), `expected events, got ${Result.isFailure(result) && result.failure.message}`)
        assert.deepEqual(result.success, c.then)
      }
    })
  }

  it("every event a command produces decodes (the log stays readable)", () => {
    for (const c of cases) {
      if ("error" in c.then) continue
      const result = decide(c.when, fold(c.given))
      if (Result.isSuccess(result)) for (const event of result.success) assert.deepEqual(decodeEvent(event), event)
    }
  })
})

const pick = ({ attempts, abandoned, abandonedInRow }: { attempts: number; abandoned: number; abandonedInRow: number }) =>
  ({ attempts, abandoned, abandonedInRow })

describe("evolve / fold", () => {
  const statusAfter: ReadonlyArray<readonly [string, ReadonlyArray<JobEvent>, JobStatus]> = [
    ["JobQueued", given.queued, "queued"],
    ["ExecutionStarted", given.running, "running"],
    ["ExecutionOutput", [...given.running, ev.output(EXEC_1, [])], "running"],
    ["ExecutionProgress", [...given.running, ev.progress(EXEC_1, "x")], "running"],
    ["ExecutionSucceeded", given.completed, "completed"],
    ["ExecutionFailed", given.failed, "failed"],
    ["JobRetryRequested (policy)", given.requeuedByPolicy, "queued"],
    ["JobRetryRequested (user)", [...given.failed, ev.retry("user", T0)], "queued"],
    ["JobCancelRequested (status unchanged)", given.cancelRequested, "running"],
    ["JobCancelled", given.cancelled, "cancelled"],
    ["ExecutionAbandoned", [...given.running, ev.abandoned(EXEC_1)], "failed"],
    ["ExecutionChanges (status unchanged)", [...given.running, ev.changes(EXEC_1)], "running"],
    ["WorktreeMerged (status unchanged)", [...given.completed, ev.merged()], "completed"]
  ]
  for (const [name, events, status] of statusAfter) {
    it(`status after ${name} is ${status}`, () => assert.equal(fold(events).status, status))
  }

  it("starts empty", () => {
    assert.deepEqual(fold([]), initialState)
    assert.equal(initialState.version, 0)
    assert.equal(initialState.status, null)
  })

  it("counts versions, tracks attempts, max_attempts and the current execution", () => {
    const states = given.runningThird.reduce((acc, event) => [...acc, evolve(acc[acc.length - 1]!, event)], [initialState])
    assert.deepEqual(states.map((s) => s.version), [0, 1, 2, 3, 4, 5, 6, 7, 8])
    assert.deepEqual(states.map((s) => s.attempts), [0, 0, 1, 1, 1, 2, 2, 2, 3])
    assert.deepEqual(states.map((s) => s.currentExecutionId), [null, null, EXEC_1, null, null, EXEC_2, null, null, EXEC_3])
    assert.equal(states[1]!.maxAttempts, 3)
  })

  it("counts abandoned executions, in all and in a row; an execution the agent ended resets the row", () => {
    const abandonedTwice = [ev.queued(), ...abandonedRuns(2)]
    assert.deepEqual(pick(fold(abandonedTwice)), { attempts: 2, abandoned: 2, abandonedInRow: 2 })
    const ends = [ev.succeeded(execN(3)), ev.failed(execN(3), "crashed"), ev.cancelled(execN(3))]
    for (const end of ends) {
      assert.deepEqual(pick(fold([...abandonedTwice, ev.started(execN(3), 3), end])), { attempts: 3, abandoned: 2, abandonedInRow: 0 }, end.type)
    }
    // Cancelling a queued job ends no execution: the row goes on.
    assert.deepEqual(pick(fold([...abandonedTwice, ev.cancelRequested(), ev.cancelled(null)])), { attempts: 2, abandoned: 2, abandonedInRow: 2 })
  })

  it("tracks a pending cancel until the execution ends, whichever way", () => {
    assert.equal(fold(given.cancelRequested).cancelRequested, true)
    for (const end of [ev.succeeded(EXEC_1), ev.failed(EXEC_1, "crashed"), ev.abandoned(EXEC_1), ev.cancelled(EXEC_1)]) {
      const state = fold([...given.cancelRequested, end])
      assert.equal(state.cancelRequested, false, end.type)
      assert.equal(state.currentExecutionId, null, end.type)
    }
  })
})

describe("retry policy", () => {
  it("requeues executions ended on aidp's side after 5 s, 10 s, 20 s, ... capped at 5 min", () => {
    assert.equal(BASE_BACKOFF_MS, 5_000)
    assert.equal(MAX_BACKOFF_MS, 300_000)
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 20].map(abandonDelayMs), [5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000])
    assert.equal(abandonDelayMs(0), 5_000)
  })

  it("waits at least 60 s before retrying an agent's failure, doubling with up to 25 % jitter, capped at 30 min", () => {
    assert.equal(AGENT_RETRY_FLOOR_MS, 60_000)
    assert.equal(AGENT_RETRY_MAX_MS, 30 * 60_000)
    const seeds = Array.from({ length: 50 }, (_, i) => execN(i))
    for (const [spent, base] of [[1, 60_000], [2, 120_000], [3, 240_000], [5, 960_000]] as const) {
      const waits = seeds.map((seed) => agentBackoffMs(spent, seed))
      for (const wait of waits) assert.ok(wait >= base && wait <= base * 1.25, `${spent}: ${wait}`)
      assert.ok(new Set(waits).size > 10, "jittered")
    }
    assert.equal(agentBackoffMs(7, EXEC_1), AGENT_RETRY_MAX_MS)
    assert.equal(agentBackoffMs(1, EXEC_1), agentBackoffMs(1, EXEC_1), "the same on replay")
  })

  it("retries transient kinds below max_attempts; a timeout only with --retry-timeouts, quota only with a reset time", () => {
    const failure: Omit<AgentFailure, "errorKind"> = { spentAttempts: 1, maxAttempts: 3, retryTimeouts: false, hint: undefined, executionId: EXEC_1, now: NOW }
    const retried = (errorKind: ErrorKind, more: Partial<AgentFailure> = {}) => agentRetry({ ...failure, ...more, errorKind }) !== undefined
    for (const kind of ["rate_limit", "overloaded", "server_error", "network"] as const) {
      assert.equal(retried(kind), true, kind)
      assert.equal(retried(kind, { spentAttempts: 3 }), false, kind)
    }
    for (const kind of ["auth", "quota", "timeout", "budget", "not_installed", "bad_output", "crashed", "cancelled", "unknown"] as const) assert.equal(retried(kind), false, kind)
    assert.equal(retried("timeout", { retryTimeouts: true }), true)
    const reset = { _tag: "Reset", hour: 16, minute: 0, timeZone: "Europe/Berlin", said: "claude: resets 4pm (Europe/Berlin)" } as const
    assert.equal(retried("quota", { hint: reset }), true)
    assert.equal(retried("auth", { hint: reset }), false, "auth does not get better by waiting")
  })

  it("resolves a reset time in the provider's time zone to the next such moment", () => {
    const now = new Date("2026-12-03T14:05:00Z") // 15:05 in Berlin (CET, UTC+1)
    const resets = (hour: number, timeZone: string) => hintTime({ _tag: "Reset", hour, minute: 0, timeZone, said: "" }, now).toISOString()
    assert.equal(resets(16, "Europe/Berlin"), "2026-12-03T15:00:00.000Z")
    assert.equal(resets(9, "Europe/Berlin"), "2026-12-04T08:00:00.000Z", "already past today: tomorrow")
    assert.equal(resets(16, "UTC"), "2026-12-03T16:00:00.000Z")
    assert.equal(resets(16, "Not/AZone"), "2026-12-03T16:00:00.000Z", "an unknown zone is read as UTC")
    assert.equal(hintTime({ _tag: "Delay", ms: 38_000, said: "" }, now).toISOString(), "2026-12-03T14:05:38.000Z")
  })
})
