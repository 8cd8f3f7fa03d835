/**
 * History analysis for `aidp jobs replay --stats`: a fold over events (oldest first) into the
 * figures a team asks for — per group (provider, step, project or day): jobs, success on the
 * first attempt and in the end, attempts per job, run time and queue wait percentiles, failures
 * by error kind with their most frequent error line, tokens and cost — plus jobs and failures
 * per day. Pure; memory grows with the number of jobs seen, not of events.
 */
import type { RecordedEvent } from "../domain/events.js"
import { type JobStatus, projectName } from "../domain/job.js"
import { addUsage, NO_USAGE, type Usage, usageOf } from "../domain/usage.js"

/** What `--by` groups jobs by. */
export const GROUP_KEYS = ["provider", "step", "project", "day"] as const
/** One of {@link GROUP_KEYS}. */
export type GroupKey = (typeof GROUP_KEYS)[number]

/** The group of a job whose JobQueued lies before the `--since` window (its provider, step, cwd unknown). */
export const UNKNOWN_GROUP = "(queued earlier)"
/** The step group of a job enqueued without a step. */
export const NO_STEP = "(no step)"

/** Percentiles of a set of durations, ms; null when the set is empty. */
export interface Spread {
  readonly p50: number | null
  readonly p95: number | null
  readonly max: number | null
}

/** Failures of one error kind (an abandoned execution is `worker_lost`), with the line seen most. */
export interface KindFailures {
  readonly kind: string
  readonly count: number
  /** The most frequent error line of this kind (the first seen on a tie). */
  readonly topError: string
  readonly topErrorCount: number
}

/** The figures of a set of jobs (all of them, or one group). */
export interface GroupStats {
  readonly jobs: number
  readonly executions: number
  /** Share (0..1) of jobs whose first execution ended that succeeded; null when none ended. */
  readonly firstAttemptSuccessRate: number | null
  /** Share (0..1) of completed among completed and failed jobs (cancelled ones are left out); null when none. */
  readonly finalSuccessRate: number | null
  /** Executions per job, over the jobs that had at least one; null when none. */
  readonly attemptsPerJob: number | null
  /** Run time of ended (succeeded or failed) executions, ms. */
  readonly runMs: Spread
  /** From when a job could run (queued, or the retry's `run_at`) to its execution's start, ms. */
  readonly waitMs: Spread
  /** Most frequent kind first. */
  readonly failures: ReadonlyArray<KindFailures>
  readonly tokens: Usage
  /** What the executions that reported a cost spent, USD; null when none reported one (gemini, cursor-agent). */
  readonly costUsd: number | null
}

/** Jobs queued and executions that failed on one local calendar day (YYYY-MM-DD). */
export interface DayCount {
  readonly day: string
  readonly jobs: number
  readonly failures: number
}

/** What `--stats` reports. */
export interface HistoryStats {
  readonly events: number
  readonly firstAt: string | null
  readonly lastAt: string | null
  readonly eventsByType: Record<string, number>
  /** Status of each job after the last event seen, counted. */
  readonly jobsByStatus: Partial<Record<JobStatus, number>>
  readonly retries: { readonly user: number; readonly policy: number }
  readonly cancelled: number
  readonly overall: GroupStats
  readonly by: GroupKey
  /** One entry per group, most jobs first (then by key). */
  readonly groups: ReadonlyArray<{ readonly key: string } & GroupStats>
  /** Every day from the first event's to the last's, empty days included. */
  readonly days: ReadonlyArray<DayCount>
}

/** A job's status after an event of each type that sets one (the others leave it as it was). */
export const STATUS_AFTER: Partial<Record<RecordedEvent["event"]["type"], JobStatus>> = {
  JobQueued: "queued",
  ExecutionStarted: "running",
  ExecutionSucceeded: "completed",
  ExecutionFailed: "failed",
  ExecutionAbandoned: "failed",
  JobRetryRequested: "queued",
  JobCancelled: "cancelled"
}

/** The `q` quantile (0..1) of sorted values, nearest rank; null when empty. */
export const quantile = (sorted: ReadonlyArray<number>, q: number): number | null =>
  sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!

/** p50, p95 and max of unsorted values. */
export const spread = (values: ReadonlyArray<number>): Spread => {
  const sorted = [...values].sort((a, b) => a - b)
  return { p50: quantile(sorted, 0.5), p95: quantile(sorted, 0.95), max: sorted.length ? sorted[sorted.length - 1]! : null }
}

/** The local calendar day of `at`, YYYY-MM-DD. */
export const localDay = (at: Date): string =>
  `${at.getFullYear()}-${String(at.getMonth() + 1).padStart(2, "0")}-${String(at.getDate()).padStart(2, "0")}`

/** What the fold keeps of one group. */
interface GroupAccumulator {
  readonly jobs: Set<string>
  executions: number
  readonly runMs: number[]
  readonly waitMs: number[]
  /** Error kind -> error line -> count. */
  readonly errors: Map<string, Map<string, number>>
  tokens: Usage
  costUsd: number
  /** Executions that reported a cost. */
  costReported: number
}

/** What the fold keeps of one job. */
interface JobRecord {
  /** Where its figures go besides the overall ones. */
  readonly group: GroupAccumulator
  status: JobStatus
  /** When the job could next run: its queue time, or the last retry's `run_at` (ms); null while it runs. */
  runnableAt: number | null
  executions: number
  /** The first attempt's execution, when the window saw it start. */
  firstExecutionId: string | null
  /** How that execution ended, once it did. */
  firstEnded: "succeeded" | "failed" | null
}

const emptyGroup = (): GroupAccumulator => ({ jobs: new Set(), executions: 0, runMs: [], waitMs: [], errors: new Map(), tokens: NO_USAGE, costUsd: 0, costReported: 0 })

/** Adds an execution's reported cost (USD) to `group`; an unreported one (null or absent) adds nothing. */
const spend = (group: GroupAccumulator, costUsd: number | null | undefined): void => {
  if (costUsd === null || costUsd === undefined) return
  group.costUsd += costUsd
  group.costReported += 1
}

const ratio = (part: number, whole: number): number | null => (whole === 0 ? null : part / whole)

const kindFailures = (errors: Map<string, Map<string, number>>): KindFailures[] =>
  [...errors.entries()]
    .map(([kind, lines]) => {
      let topError = ""
      let topErrorCount = 0
      let count = 0
      for (const [line, n] of lines) {
        count += n
        if (n > topErrorCount) [topError, topErrorCount] = [line, n]
      }
      return { kind, count, topError, topErrorCount }
    })
    .sort((a, b) => b.count - a.count || a.kind.localeCompare(b.kind))

/**
 * An accumulator: feed events oldest first with `add`, read the result with `stats`. `by`
 * picks the groups (default provider); days are local calendar days of the machine running it.
 */
export const statsAccumulator = (by: GroupKey = "provider") => {
  const eventsByType: Record<string, number> = {}
  const jobs = new Map<string, JobRecord>()
  const groups = new Map<string, GroupAccumulator>()
  const overall = emptyGroup()
  const days = new Map<string, { jobs: number; failures: number }>()
  const retries = { user: 0, policy: 0 }
  let events = 0
  let cancelled = 0
  let firstAt: Date | null = null
  let lastAt: Date | null = null

  const groupNamed = (key: string): GroupAccumulator => {
    let group = groups.get(key)
    if (!group) groups.set(key, (group = emptyGroup()))
    return group
  }
  /** The job's record, made on its first event: from its JobQueued, or in the unknown group. */
  const recordOf = (recorded: RecordedEvent): JobRecord => {
    const { event, jobId, occurredAt } = recorded
    let record = jobs.get(jobId)
    if (!record) {
      const queued = event.type === "JobQueued" ? event.data : null
      const keys: Record<GroupKey, string> = {
        provider: queued?.provider ?? UNKNOWN_GROUP,
        step: queued ? queued.step ?? NO_STEP : UNKNOWN_GROUP,
        project: queued ? projectName(queued.cwd) : UNKNOWN_GROUP,
        day: localDay(occurredAt)
      }
      record = { group: groupNamed(keys[by]), status: "queued", runnableAt: null, executions: 0, firstExecutionId: null, firstEnded: null }
      record.group.jobs.add(jobId)
      jobs.set(jobId, record)
    }
    return record
  }
  /** The two accumulators a job's figures go to: all jobs and its group. */
  const targets = (record: JobRecord): ReadonlyArray<GroupAccumulator> => [overall, record.group]
  const dayOf = (at: Date) => {
    const key = localDay(at)
    let day = days.get(key)
    if (!day) days.set(key, (day = { jobs: 0, failures: 0 }))
    return day
  }
  /** An execution that ran to an outcome: its run time, and what it reported spending and using. */
  const ran = (record: JobRecord, durationMs: number, costUsd: number | null | undefined, reported: unknown) => {
    const usage = usageOf(reported ?? null)
    for (const target of targets(record)) {
      target.runMs.push(durationMs)
      spend(target, costUsd)
      if (usage) target.tokens = addUsage(target.tokens, usage)
    }
  }
  /** A failed or abandoned execution: its error line under its kind, and a failure on the day it happened. */
  const failure = (record: JobRecord, kind: string, line: string, at: Date) => {
    for (const target of targets(record)) {
      let lines = target.errors.get(kind)
      if (!lines) target.errors.set(kind, (lines = new Map()))
      lines.set(line, (lines.get(line) ?? 0) + 1)
    }
    dayOf(at).failures += 1
  }
  const ended = (record: JobRecord, executionId: string, how: "succeeded" | "failed") => {
    if (record.firstExecutionId === executionId && record.firstEnded === null) record.firstEnded = how
  }

  const summarise = (group: GroupAccumulator, ids: Iterable<string>): GroupStats => {
    let firstEnded = 0
    let firstSucceeded = 0
    let completed = 0
    let failed = 0
    let withExecutions = 0
    let jobCount = 0
    for (const id of ids) {
      const record = jobs.get(id)!
      jobCount += 1
      if (record.firstEnded !== null) firstEnded += 1
      if (record.firstEnded === "succeeded") firstSucceeded += 1
      if (record.status === "completed") completed += 1
      if (record.status === "failed") failed += 1
      if (record.executions > 0) withExecutions += 1
    }
    return {
      jobs: jobCount,
      executions: group.executions,
      firstAttemptSuccessRate: ratio(firstSucceeded, firstEnded),
      finalSuccessRate: ratio(completed, completed + failed),
      attemptsPerJob: ratio(group.executions, withExecutions),
      runMs: spread(group.runMs),
      waitMs: spread(group.waitMs),
      failures: kindFailures(group.errors),
      tokens: group.tokens,
      costUsd: group.costReported === 0 ? null : group.costUsd
    }
  }

  return {
    add(recorded: RecordedEvent): void {
      const { event, occurredAt } = recorded
      events += 1
      eventsByType[event.type] = (eventsByType[event.type] ?? 0) + 1
      firstAt ??= occurredAt
      lastAt = occurredAt
      const record = recordOf(recorded)
      const next = STATUS_AFTER[event.type]
      if (next) record.status = next
      switch (event.type) {
        case "JobQueued":
          record.runnableAt = occurredAt.getTime()
          dayOf(occurredAt).jobs += 1
          break
        case "ExecutionStarted": {
          record.executions += 1
          if (event.data.attempt === 1) record.firstExecutionId = event.data.execution_id
          for (const target of targets(record)) {
            target.executions += 1
            if (record.runnableAt !== null) target.waitMs.push(Math.max(0, occurredAt.getTime() - record.runnableAt))
          }
          record.runnableAt = null
          break
        }
        case "ExecutionSucceeded":
          ended(record, event.data.execution_id, "succeeded")
          ran(record, event.data.duration_ms, event.data.cost_usd, event.data.usage)
          break
        case "ExecutionFailed":
          ended(record, event.data.execution_id, "failed")
          // A failed run costs what it spent too (a run stopped at its budget spent all of it).
          ran(record, event.data.duration_ms, event.data.cost_usd, event.data.usage)
          failure(record, event.data.error_kind, event.data.error, occurredAt)
          break
        case "ExecutionAbandoned":
          ended(record, event.data.execution_id, "failed")
          failure(record, "worker_lost", event.data.reason, occurredAt)
          break
        case "JobRetryRequested":
          retries[event.data.requested_by] += 1
          record.runnableAt = Math.max(occurredAt.getTime(), new Date(event.data.run_at).getTime())
          break
        case "JobCancelled":
          cancelled += 1
          break
      }
    },
    stats(): HistoryStats {
      const jobsByStatus: Partial<Record<JobStatus, number>> = {}
      for (const record of jobs.values()) jobsByStatus[record.status] = (jobsByStatus[record.status] ?? 0) + 1
      return {
        events,
        firstAt: firstAt === null ? null : (firstAt as Date).toISOString(),
        lastAt: lastAt === null ? null : (lastAt as Date).toISOString(),
        eventsByType,
        jobsByStatus,
        retries: { ...retries },
        cancelled,
        overall: summarise(overall, jobs.keys()),
        by,
        groups: [...groups.entries()]
          .map(([key, group]) => ({ key, ...summarise(group, group.jobs) }))
          .sort((a, b) => b.jobs - a.jobs || a.key.localeCompare(b.key)),
        days: firstAt === null ? [] : calendar(firstAt, lastAt!, days)
      }
    }
  }
}

/** Every local day from `from` to `to`, with the counts of those that had any. */
const calendar = (from: Date, to: Date, counted: Map<string, { jobs: number; failures: number }>): DayCount[] => {
  const out: DayCount[] = []
  const cursor = new Date(from.getFullYear(), from.getMonth(), from.getDate())
  const last = localDay(to)
  for (;;) {
    const day = localDay(cursor)
    out.push({ day, jobs: counted.get(day)?.jobs ?? 0, failures: counted.get(day)?.failures ?? 0 })
    if (day >= last) return out
    cursor.setDate(cursor.getDate() + 1)
  }
}
