/**
 * `--json` renderers (DESIGN.md, Command line): camelCase keys, ISO 8601 times. One JSON
 * document per command.
 */
import type { ChangeSummary, JobChanges } from "../domain/changes.js"
import { denialLabel } from "../domain/tools.js"
import { usageOf } from "../domain/usage.js"
import type { ExecutionRecord, JobRecord, LogRecord } from "../projections/queries.js"
import { usageTotals } from "./totals.js"

const iso = (date: Date | null): string | null => date === null ? null : date.toISOString()

/**
 * Changes (src/domain/changes.ts) in camelCase: {fileCount, linesAdded, linesRemoved,
 * approximate, repo, base, head, branch, worktree (its folder)}, branch and worktree null for
 * a run outside a worktree; with `files` [{path, status, added, removed}] when given (added and
 * removed null for a binary file). Null when none were recorded.
 */
export const changesJson = (changes: JobChanges | null, files?: ChangeSummary["files"]) =>
  changes === null
    ? null
    : {
      fileCount: changes.file_count,
      linesAdded: changes.lines_added,
      linesRemoved: changes.lines_removed,
      approximate: changes.approximate === true,
      repo: changes.repo,
      base: changes.base,
      head: changes.head,
      branch: changes.worktree?.branch ?? null,
      worktree: changes.worktree?.path ?? null,
      ...(files === undefined ? {} : { files })
    }

/**
 * A job: {id, provider, status, step, createdAt, runAt, retryReason, startedAt, completedAt,
 * durationMs, error, errorKind, attempts, maxAttempts, priority, timeoutMs, retryTimeouts,
 * maxCostUsd, maxTurns, metadata, permissions
 * (plan|edit|full), denied (tool calls its latest execution was refused), changes (its latest
 * execution's, {@link changesJson}, without files), worktreeState (open|merged|removed|null)}; `retryReason` says
 * why the retry policy queued it again (null otherwise); `maxCostUsd` (USD) and `maxTurns`
 * are one execution's limits (null: none).
 */
export const jobJson = (job: JobRecord) => ({
  id: job.id,
  provider: job.provider,
  model: job.model,
  status: job.status,
  step: job.step,
  prompt: job.promptSummary,
  cwd: job.cwd,
  createdAt: iso(job.createdAt),
  runAt: iso(job.runAt),
  retryReason: job.retryReason,
  startedAt: iso(job.startedAt),
  completedAt: iso(job.completedAt),
  durationMs: job.durationMs,
  error: job.error,
  errorKind: job.errorKind,
  attempts: job.attempts,
  maxAttempts: job.maxAttempts,
  priority: job.priority,
  timeoutMs: job.timeoutMs,
  retryTimeouts: job.retryTimeouts,
  maxCostUsd: job.maxCostUsd,
  maxTurns: job.maxTurns,
  metadata: job.metadata,
  permissions: job.permissions,
  denied: job.denied,
  changes: changesJson(job.changes),
  worktreeState: job.worktreeState
})

/**
 * An execution: {id, attempt, status, workerId, startedAt, completedAt, durationMs, exitCode,
 * error, errorKind, usage, costUsd, denials [{tool, target}], sessionId (the agent's session,
 * null when unknown), resumedAttempt (the attempt whose session it resumed, null for a fresh
 * start), sessionGone (that session was gone, so it started fresh), changes (what it
 * changed, with its files: {@link changesJson})}; `usage` is {inputTokens, outputTokens, cacheReadTokens,
 * cacheWriteTokens} (null when the CLI reported none), `costUsd` in USD (null likewise).
 */
export const executionJson = (execution: ExecutionRecord) => ({
  id: execution.id,
  attempt: execution.attempt,
  status: execution.status,
  workerId: execution.workerId,
  host: execution.host,
  startedAt: iso(execution.startedAt),
  completedAt: iso(execution.completedAt),
  durationMs: execution.durationMs,
  exitCode: execution.exitCode,
  signal: execution.signal,
  error: execution.error,
  errorKind: execution.errorKind,
  usage: usageOf(execution.usage),
  costUsd: execution.costUsd,
  cliVersion: execution.cliVersion,
  denials: execution.denials,
  sessionId: execution.sessionId,
  resumedAttempt: execution.resumedAttempt,
  sessionGone: execution.sessionGone,
  changes: changesJson(execution.changes, execution.changes?.files)
})

/**
 * What a person should know about a job that its status does not say: each tool call an
 * execution was refused (it completed without doing all it was asked), as
 * {kind: "denied", attempt, tool, target, message}.
 */
export const warningsJson = (executions: ReadonlyArray<ExecutionRecord>) =>
  executions.flatMap((execution) =>
    execution.denials.map((denial) => ({
      kind: "denied" as const,
      attempt: execution.attempt,
      tool: denial.tool,
      target: denial.target,
      message: `Attempt ${execution.attempt}: the agent was refused ${denialLabel(denial)}.`
    })))

/** A log line: {seq, executionId, at, stream, level, message}. */
export const logJson = (log: LogRecord) => ({
  seq: log.seq,
  executionId: log.executionId,
  at: iso(log.at),
  stream: log.stream,
  level: log.level,
  message: log.message
})

/**
 * `jobs show --json`: the job with metadata, its totals over all attempts (`totalUsage`,
 * `totalCostUsd`; null when no execution reported them), its `warnings` (see
 * {@link warningsJson}), executions in attempt order, and the log tail.
 */
export const jobDetailsJson = (job: JobRecord, executions: ReadonlyArray<ExecutionRecord>, logs: ReadonlyArray<LogRecord>) => {
  const totals = usageTotals(executions)
  return {
    ...jobJson(job),
    totalUsage: totals.usage,
    totalCostUsd: totals.costUsd,
    warnings: warningsJson(executions),
    executions: executions.map(executionJson),
    logs: logs.map(logJson)
  }
}
/** Prints one JSON document on stdout. */
export const printJson = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
}
