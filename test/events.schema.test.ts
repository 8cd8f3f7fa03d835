/** The event catalogue's schemas: what `decodeEvent` accepts from the log and what it rejects. */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { decodeEvent, type JobEvent, type JobEventType } from "../src/domain/events.js"
import { ev, EXEC_1, T0 } from "./support/events.js"

const valid: Record<JobEventType, JobEvent> = {
  JobQueued: ev.queued({ model: "opus", step: "00_PRD", metadata: { document: "docs/PRD.md", nested: { n: 1 } } }),
  ExecutionStarted: ev.started(EXEC_1, 1, { cli_version: "2.0.1" }),
  ExecutionOutput: ev.output(EXEC_1, [
    { stream: "stdout", text: "ünïcödé ✓", at: T0.toISOString() },
    { stream: "stderr", text: "", at: T0.toISOString() },
    { stream: "system", text: "line\twith tab", at: T0.toISOString() }
  ]),
  ExecutionProgress: ev.progress(EXEC_1, "Tool call: Read README.md"),
  ExecutionSucceeded: ev.succeeded(EXEC_1, { exit_code: null, usage: { input_tokens: 3 }, cost_usd: 0.0123 }),
  ExecutionFailed: ev.failed(EXEC_1, "rate_limit", { exit_code: null, signal: "SIGKILL" }),
  JobRetryRequested: ev.retry("policy", T0),
  JobCancelRequested: ev.cancelRequested("user (Ctrl-C)"),
  JobCancelled: ev.cancelled(null),
  ExecutionAbandoned: ev.abandoned(EXEC_1),
  ExecutionChanges: ev.changes(EXEC_1),
  WorktreeMerged: ev.merged(),
  WorktreeRemoved: ev.removed("clean")
}

/** `event` with `data` changed by `edit` (a deep copy; the fixture stays intact). */
const withData = (event: JobEvent, edit: (data: Record<string, unknown>) => void): unknown => {
  const copy = structuredClone(event) as { type: string; data: Record<string, unknown> }
  edit(copy.data)
  return copy
}

describe("decodeEvent", () => {
  for (const [type, event] of Object.entries(valid)) {
    it(`decodes a valid ${type}, as it reads back from jsonb`, () => {
      assert.deepEqual(decodeEvent(JSON.parse(JSON.stringify(event))), event)
    })
  }

  const malformed: ReadonlyArray<readonly [string, unknown]> = [
    ["an unknown type", { type: "JobExploded", data: {} }],
    ["a row without data", { type: "JobCancelled" }],
    ["not an object", "JobQueued"],
    ["JobQueued without a prompt", withData(valid.JobQueued, (d) => delete d.prompt)],
    ["JobQueued with an unknown provider", withData(valid.JobQueued, (d) => (d.provider = "copilot"))],
    ["JobQueued with max_attempts 0", withData(valid.JobQueued, (d) => (d.max_attempts = 0))],
    ["JobQueued with a fractional priority", withData(valid.JobQueued, (d) => (d.priority = 1.5))],
    ["ExecutionStarted without an execution_id", withData(valid.ExecutionStarted, (d) => delete d.execution_id)],
    ["ExecutionStarted with attempt 0", withData(valid.ExecutionStarted, (d) => (d.attempt = 0))],
    ["ExecutionOutput with an unknown stream", withData(valid.ExecutionOutput, (d) => (d.lines = [{ stream: "stdin", text: "x", at: "t" }]))],
    ["ExecutionSucceeded with a negative duration", withData(valid.ExecutionSucceeded, (d) => (d.duration_ms = -1))],
    ["ExecutionSucceeded with a text cost", withData(valid.ExecutionSucceeded, (d) => (d.cost_usd = "0.1"))],
    ["ExecutionFailed with a bad error_kind", withData(valid.ExecutionFailed, (d) => (d.error_kind = "oops"))],
    ["ExecutionFailed with a negative duration", withData(valid.ExecutionFailed, (d) => (d.duration_ms = -5))],
    ["JobRetryRequested by someone else", withData(valid.JobRetryRequested, (d) => (d.requested_by = "cron"))],
    ["JobCancelled without execution_id", withData(valid.JobCancelled, (d) => delete d.execution_id)],
    ["ExecutionAbandoned without a reason", withData(valid.ExecutionAbandoned, (d) => delete d.reason)],
    ["ExecutionChanges with a bad file status", withData(valid.ExecutionChanges, (d) => ((d.changes as any).files[0].status = "renamed"))],
    ["WorktreeRemoved for an unknown reason", withData(valid.WorktreeRemoved, (d) => (d.reason = "gc"))]
  ]
  for (const [name, input] of malformed) {
    it(`rejects ${name}`, () => assert.throws(() => decodeEvent(input)))
  }
})
