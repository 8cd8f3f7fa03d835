/**
 * Time travel for `aidp jobs replay --at T`: every job as it was at T, computed from the events
 * alone — the log before T folded through the live projection's pure function (evolveRows.ts),
 * so a job reads at T exactly as the `jobs` row read then — in the monitor's four groups and
 * orders. Pure; memory grows with the number of jobs, not of events.
 */
import type { RecordedEvent } from "../domain/events.js"
import { emptyStreamRows, evolveRows, type StreamRows } from "./evolveRows.js"
import { type JobRecord, jobRecordOf } from "./queries.js"

/** The monitor's groups at a moment: running, queued, recently completed, failed and cancelled. */
export interface JobsAt {
  /** Oldest start first. */
  readonly running: ReadonlyArray<JobRecord>
  /** Next to run first. */
  readonly queued: ReadonlyArray<JobRecord>
  /** Newest end first. */
  readonly recent: ReadonlyArray<JobRecord>
  /** Failed and cancelled, newest end first. */
  readonly failed: ReadonlyArray<JobRecord>
  /** Streams whose events could not be projected (a bad history), with why; left out above. */
  readonly broken: ReadonlyArray<{ readonly jobId: string; readonly problem: string }>
}

const time = (at: Date | null): number => (at === null ? 0 : at.getTime())
const byId = (a: JobRecord, b: JobRecord) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

/** An accumulator: `add` the log's events before T, oldest first; `jobs()` gives the groups. */
export const jobsAtAccumulator = () => {
  const streams = new Map<string, StreamRows>()
  const broken = new Map<string, string>()
  return {
    add(recorded: RecordedEvent): void {
      if (broken.has(recorded.jobId)) return
      try {
        streams.set(recorded.jobId, evolveRows(streams.get(recorded.jobId) ?? emptyStreamRows, recorded).rows)
      } catch (error) {
        broken.set(recorded.jobId, `event ${recorded.position} (${recorded.event.type}): ${error instanceof Error ? error.message : String(error)}`)
        streams.delete(recorded.jobId)
      }
    },
    jobs(): JobsAt {
      const all = [...streams.values()].flatMap((rows) => (rows.job ? [jobRecordOf(rows.job)] : []))
      const having = (...statuses: ReadonlyArray<string>) => all.filter((job) => statuses.includes(job.status))
      return {
        running: having("running").sort((a, b) => time(a.startedAt) - time(b.startedAt) || byId(a, b)),
        queued: having("queued").sort((a, b) =>
          b.priority - a.priority || time(a.runAt) - time(b.runAt) || time(a.createdAt) - time(b.createdAt) || byId(a, b)),
        recent: having("completed").sort((a, b) => time(b.completedAt) - time(a.completedAt) || byId(b, a)),
        failed: having("failed", "cancelled").sort((a, b) => time(b.completedAt) - time(a.completedAt) || byId(b, a)),
        broken: [...broken.entries()].map(([jobId, problem]) => ({ jobId, problem }))
      }
    }
  }
}
