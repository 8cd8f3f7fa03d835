/**
 * Test helper: one builder per job command (src/domain/decider.ts), with defaults a test
 * overrides where it matters. Pairs with `ev` in ./events.ts.
 *
 *   decide(cmd.fail(EXEC_1, "network", now), state)
 */
import type { JobCommand } from "../../src/domain/decider.js"
import type { OutputLine } from "../../src/domain/events.js"
import type { ErrorKind } from "../../src/domain/job.js"

type Command<T extends JobCommand["_tag"]> = Extract<JobCommand, { _tag: T }>
type Fields<T extends JobCommand["_tag"]> = Partial<Omit<Command<T>, "_tag">>

export const cmd = {
  enqueue: (fields: Fields<"Enqueue"> = {}): Command<"Enqueue"> => ({
    _tag: "Enqueue",
    provider: "gemini",
    model: "gemini-2.5-pro",
    prompt: "Write docs/NFRS.md\nin detail",
    cwd: "/work/project",
    step: "01_NFRS",
    priority: 5,
    maxAttempts: 3,
    timeoutMs: 120_000,
    metadata: { document: "docs/NFRS.md" },
    permissions: "edit",
    ...fields
  }),
  start: (executionId: string, fields: Fields<"Start"> = {}): Command<"Start"> => ({
    _tag: "Start",
    executionId,
    workerId: "worker-b",
    host: "host-b",
    pid: 77,
    argv: ["gemini", "--output-format", "stream-json"],
    ...fields
  }),
  output: (executionId: string, lines: ReadonlyArray<OutputLine>): Command<"RecordOutput"> => ({
    _tag: "RecordOutput",
    executionId,
    lines
  }),
  progress: (executionId: string, message = "Reading README.md"): Command<"RecordProgress"> => ({
    _tag: "RecordProgress",
    executionId,
    message
  }),
  succeed: (executionId: string, fields: Fields<"Succeed"> = {}): Command<"Succeed"> => ({
    _tag: "Succeed",
    executionId,
    exitCode: 0,
    result: "# NFRS",
    usage: { input_tokens: 10 },
    costUsd: 0.25,
    durationMs: 4_000,
    cliVersion: "1.2.3",
    denials: [],
    ...fields
  }),
  fail: (executionId: string, errorKind: ErrorKind, now: Date, fields: Fields<"Fail"> = {}): Command<"Fail"> => ({
    _tag: "Fail",
    executionId,
    exitCode: 1,
    signal: null,
    errorKind,
    error: `boom: ${errorKind}`,
    durationMs: 900,
    cliVersion: null,
    now,
    ...fields
  }),
  abandon: (executionId: string, now: Date, reason = "lease expired"): Command<"Abandon"> => ({
    _tag: "Abandon",
    executionId,
    reason,
    now
  }),
  retry: (now: Date): Command<"Retry"> => ({ _tag: "Retry", now }),
  cancel: (requestedBy = "user"): Command<"RequestCancel"> => ({ _tag: "RequestCancel", requestedBy }),
  confirmCancel: (executionId: string | null): Command<"ConfirmCancel"> => ({ _tag: "ConfirmCancel", executionId })
}
