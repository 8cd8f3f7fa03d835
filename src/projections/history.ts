/**
 * History analysis for `aidp jobs replay --stats`: a fold over events (oldest first) into
 * counts, outcomes, error kinds, retries, durations and cost, per provider. Pure.
 */
import type { RecordedEvent } from "../domain/events.js"
import type { JobStatus, Provider } from "../domain/job.js"

/** Per-provider execution outcomes. */
export interface ProviderStats {
  readonly executions: number
  readonly succeeded: number
  readonly failed: number
  /** succeeded / finished executions, 0..1; null when none finished. */
  readonly successRate: number | null
  readonly costUsd: number
}

/** What `--stats` reports. Durations are ms over finished (succeeded or failed) executions. */
export interface HistoryStats {
  readonly events: number
  readonly firstAt: string | null
  readonly lastAt: string | null
  readonly eventsByType: Record<string, number>
  readonly jobs: number
  /** Status of each job after the last event seen, counted. */
  readonly jobsByStatus: Partial<Record<JobStatus, number>>
  readonly executions: number
  readonly failuresByKind: Record<string, number>
  readonly retries: { readonly user: number; readonly policy: number }
  readonly cancelled: number
  readonly abandoned: number
  readonly durationMs: { readonly p50: number | null; readonly p95: number | null; readonly max: number | null }
  readonly costUsd: number
  readonly byProvider: Partial<Record<Provider, ProviderStats>>
}

const STATUS_AFTER: Partial<Record<RecordedEvent["event"]["type"], JobStatus>> = {
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

/** An accumulator: feed events oldest first with `add`, read the result with `stats`. */
export const statsAccumulator = () => {
  const eventsByType: Record<string, number> = {}
  const status = new Map<string, JobStatus>()
  const providerOf = new Map<string, Provider>()
  const failuresByKind: Record<string, number> = {}
  const durations: Array<number> = []
  const providers: Partial<Record<Provider, { executions: number; succeeded: number; failed: number; costUsd: number }>> = {}
  const retries = { user: 0, policy: 0 }
  let events = 0
  let executions = 0
  let cancelled = 0
  let abandoned = 0
  let costUsd = 0
  let firstAt: Date | null = null
  let lastAt: Date | null = null
  const forProvider = (jobId: string) => {
    const provider = providerOf.get(jobId)
    if (!provider) return null
    return (providers[provider] ??= { executions: 0, succeeded: 0, failed: 0, costUsd: 0 })
  }

  return {
    add(recorded: RecordedEvent): void {
      const { event, jobId } = recorded
      events += 1
      eventsByType[event.type] = (eventsByType[event.type] ?? 0) + 1
      firstAt ??= recorded.occurredAt
      lastAt = recorded.occurredAt
      const next = STATUS_AFTER[event.type]
      if (next) status.set(jobId, next)
      switch (event.type) {
        case "JobQueued":
          providerOf.set(jobId, event.data.provider)
          break
        case "ExecutionStarted": {
          executions += 1
          const p = forProvider(jobId)
          if (p) p.executions += 1
          break
        }
        case "ExecutionSucceeded": {
          durations.push(event.data.duration_ms)
          costUsd += event.data.cost_usd ?? 0
          const p = forProvider(jobId)
          if (p) {
            p.succeeded += 1
            p.costUsd += event.data.cost_usd ?? 0
          }
          break
        }
        case "ExecutionFailed": {
          durations.push(event.data.duration_ms)
          failuresByKind[event.data.error_kind] = (failuresByKind[event.data.error_kind] ?? 0) + 1
          // A failed run costs what it spent too (a run stopped at its budget spent all of it).
          costUsd += event.data.cost_usd ?? 0
          const p = forProvider(jobId)
          if (p) {
            p.failed += 1
            p.costUsd += event.data.cost_usd ?? 0
          }
          break
        }
        case "ExecutionAbandoned":
          abandoned += 1
          failuresByKind.worker_lost = (failuresByKind.worker_lost ?? 0) + 1
          break
        case "JobRetryRequested":
          retries[event.data.requested_by] += 1
          break
        case "JobCancelled":
          cancelled += 1
          break
      }
    },
    stats(): HistoryStats {
      const sorted = [...durations].sort((a, b) => a - b)
      const jobsByStatus: Partial<Record<JobStatus, number>> = {}
      for (const s of status.values()) jobsByStatus[s] = (jobsByStatus[s] ?? 0) + 1
      const byProvider: Partial<Record<Provider, ProviderStats>> = {}
      for (const [name, p] of Object.entries(providers) as Array<[Provider, NonNullable<(typeof providers)[Provider]>]>) {
        const finished = p.succeeded + p.failed
        byProvider[name] = { ...p, successRate: finished === 0 ? null : p.succeeded / finished }
      }
      return {
        events,
        firstAt: firstAt === null ? null : (firstAt as Date).toISOString(),
        lastAt: lastAt === null ? null : (lastAt as Date).toISOString(),
        eventsByType,
        jobs: status.size,
        jobsByStatus,
        executions,
        failuresByKind,
        retries: { ...retries },
        cancelled,
        abandoned,
        durationMs: { p50: quantile(sorted, 0.5), p95: quantile(sorted, 0.95), max: sorted.length ? sorted[sorted.length - 1]! : null },
        costUsd,
        byProvider
      }
    }
  }
}
