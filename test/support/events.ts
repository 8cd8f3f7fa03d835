/**
 * Test helper: one builder per job event (DESIGN.md, Events), with plausible defaults that
 * a test overrides where it matters.
 *
 *   const history = [ev.queued({ max_attempts: 2 }), ev.started(EXEC_1), ev.failed(EXEC_1, "network")]
 */
import type { EventOf } from "../../src/domain/events.js"
import type { ErrorKind } from "../../src/domain/job.js"

/** Execution ids of a job's first, second and third attempt. */
export const EXEC_1 = "11111111-1111-4111-8111-111111111111"
export const EXEC_2 = "22222222-2222-4222-8222-222222222222"
export const EXEC_3 = "33333333-3333-4333-8333-333333333333"

/** A fixed clock start; `at(ms)` is `ms` after it. */
export const T0 = new Date("2026-03-01T10:00:00.000Z")
export const at = (ms: number): Date => new Date(T0.getTime() + ms)

export const ev = {
  queued: (data: Partial<EventOf<"JobQueued">["data"]> = {}): EventOf<"JobQueued"> => ({
    type: "JobQueued",
    data: {
      provider: "claude",
      model: null,
      prompt: "Write docs/PRD.md",
      cwd: "/work/project",
      step: null,
      priority: 0,
      max_attempts: 3,
      timeout_ms: 600_000,
      metadata: {},
      ...data
    }
  }),
  started: (
    executionId: string,
    attempt = 1,
    data: Partial<EventOf<"ExecutionStarted">["data"]> = {}
  ): EventOf<"ExecutionStarted"> => ({
    type: "ExecutionStarted",
    data: {
      execution_id: executionId,
      attempt,
      worker_id: "worker-a",
      host: "host-a",
      pid: 4242,
      argv: ["claude", "-p"],
      cli_version: null,
      ...data
    }
  }),
  output: (executionId: string, lines: EventOf<"ExecutionOutput">["data"]["lines"]): EventOf<"ExecutionOutput"> => ({
    type: "ExecutionOutput",
    data: { execution_id: executionId, lines }
  }),
  progress: (executionId: string, message: string): EventOf<"ExecutionProgress"> => ({
    type: "ExecutionProgress",
    data: { execution_id: executionId, message }
  }),
  succeeded: (
    executionId: string,
    data: Partial<EventOf<"ExecutionSucceeded">["data"]> = {}
  ): EventOf<"ExecutionSucceeded"> => ({
    type: "ExecutionSucceeded",
    data: {
      execution_id: executionId,
      exit_code: 0,
      result: "done",
      usage: null,
      cost_usd: null,
      duration_ms: 1_000,
      cli_version: null,
      ...data
    }
  }),
  failed: (
    executionId: string,
    errorKind: ErrorKind,
    data: Partial<EventOf<"ExecutionFailed">["data"]> = {}
  ): EventOf<"ExecutionFailed"> => ({
    type: "ExecutionFailed",
    data: {
      execution_id: executionId,
      exit_code: 1,
      signal: null,
      error_kind: errorKind,
      error: `failed: ${errorKind}`,
      duration_ms: 500,
      cli_version: null,
      ...data
    }
  }),
  retry: (requestedBy: "user" | "policy", runAt: Date, reason?: string): EventOf<"JobRetryRequested"> => ({
    type: "JobRetryRequested",
    data: { requested_by: requestedBy, run_at: runAt.toISOString(), ...(reason === undefined ? {} : { reason }) }
  }),
  cancelRequested: (requestedBy = "user"): EventOf<"JobCancelRequested"> => ({
    type: "JobCancelRequested",
    data: { requested_by: requestedBy }
  }),
  cancelled: (executionId: string | null): EventOf<"JobCancelled"> => ({
    type: "JobCancelled",
    data: { execution_id: executionId }
  }),
  abandoned: (executionId: string, reason = "The worker's lease expired."): EventOf<"ExecutionAbandoned"> => ({
    type: "ExecutionAbandoned",
    data: { execution_id: executionId, reason }
  }),
  /** Changes of a worktree run on branch aidp/<first 8 of the job>: a text file edited, a binary added. */
  changes: (executionId: string, branch = "aidp/00000000"): EventOf<"ExecutionChanges"> => ({
    type: "ExecutionChanges",
    data: {
      execution_id: executionId,
      changes: {
        repo: "/repo",
        base: "a".repeat(40),
        head: "b".repeat(40),
        worktree: { repo: "/repo", path: "/repo/.git/aidp-worktrees/00000000", branch },
        files: [
          { path: "logo.png", status: "added", added: null, removed: null },
          { path: "src/a.ts", status: "modified", added: 3, removed: 1 }
        ],
        file_count: 2,
        lines_added: 3,
        lines_removed: 1
      }
    }
  }),
  merged: (branch = "aidp/00000000", requestedBy = "user"): EventOf<"WorktreeMerged"> => ({
    type: "WorktreeMerged",
    data: { requested_by: requestedBy, branch, into: "main", commit: "c".repeat(40) }
  }),
  removed: (reason: "discard" | "clean" = "discard", branch = "aidp/00000000"): EventOf<"WorktreeRemoved"> => ({
    type: "WorktreeRemoved",
    data: { requested_by: "user", branch, reason }
  })
}
