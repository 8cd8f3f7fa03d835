/**
 * `aidp jobs replay [JOB] [--full] [--events] [--since T] [--until T] [--stats [--by KEY]]
 * [--rebuild] [--json]`: the history as recorded in the event log. Tells one job's story
 * (JOB), lists events (no JOB, or --events), summarises them (--stats), or rebuilds the read
 * models from the log and reports whether they matched (--rebuild).
 */
import { compactChanges } from "../domain/changes.js"
import type { RecordedEvent } from "../domain/events.js"
import { readLogIn, type UndecodableEvent } from "../events/store.js"
import { GROUP_KEYS, type GroupKey, statsAccumulator } from "../projections/history.js"
import { RebuildRefused, rebuildReadModels } from "../projections/rebuild.js"
import { storyAccumulator } from "../projections/story.js"
import { jobsAtAccumulator } from "../projections/timeTravel.js"
import { jobJson, printJson } from "../terminal/json.js"
import { renderGroups } from "../terminal/plain.js"
import { sanitize } from "../terminal/sanitize.js"
import { renderRebuild } from "../terminal/rebuild.js"
import { renderStats } from "../terminal/stats.js"
import { renderStory } from "../terminal/story.js"
import { countOf, formatDuration, formatTime, shortId } from "../terminal/view/format.js"
import { deniedMark } from "../terminal/view/table.js"
import { collectGarbage, EVENTS_PER_COLLECTION } from "./heap.js"
import { withApp } from "./app.js"
import { UsageError, UserError } from "./errors.js"
import { resolveJobRef } from "./jobRef.js"
import { outputColumns } from "./logs.js"
import { type CommandHelp, noMoreArgs, oneOf, parseArgs, pastTimeFlag, timeFlag } from "./parse.js"

const USAGE = "aidp jobs replay [JOB [--full]] [--events] [--at T] [--since T] [--until T] [--stats [--by provider|step|project|day]] [--rebuild [--apply]] [--json]"
const HELP: CommandHelp = {
  usage: USAGE,
  about: `The history as recorded in the event log, oldest first. With JOB (a full id or a unique
prefix of at least 6 characters): the job's story — queued with what limits, each attempt's
worker, queue wait, activity (tool calls and messages counted), ending, tokens and cost, every
retry and cancel — at offsets from its first event. Without: every event.`,
  options: [
    ["--full", "with JOB: the agent's activity under each attempt, as aidp jobs logs prints it"],
    ["--events", "list the events themselves (the default without JOB)"],
    ["--at T", "every job as it was at T, in the monitor's groups, from the events alone"],
    ["--since T", "only events at or after T: ISO 8601, a span ago (30m, 2h, 7d) or a local time (15:00, yesterday 15:00)"],
    ["--until T", "only events before T"],
    ["--stats", "summarise: jobs, success on the first attempt and in the end, attempts, run time and queue wait (p50/p95), failures by kind with the error seen most, tokens, cost; jobs and failures per day"],
    ["--by KEY", "group --stats by provider (default), step, project (the cwd's last folder) or day"],
    ["--rebuild", "rebuild jobs, job_executions, job_logs and workflows from the logs and compare them row by row with the live ones: each difference (table, key, column, both values), exit 1 if any; nothing is changed"],
    ["--apply", "with --rebuild: swap the rebuilt read models in for the live ones, atomically (workers and monitors wait for the swap, then go on)"],
    ["--json", "one JSON document"]
  ]
}
/** One event of `replay --json`: its place in the log, its stream and version, time, type and data. */
const eventJson = (recorded: RecordedEvent) => ({
  position: recorded.position,
  jobId: recorded.jobId,
  version: recorded.version,
  occurredAt: recorded.occurredAt.toISOString(),
  type: recorded.event.type,
  data: recorded.event.data
})

/** Writes to stdout, waiting while the pipe is full, so a long history streams in bounded memory. */
const write = (text: string): Promise<void> =>
  new Promise((resolve) => {
    if (process.stdout.write(text)) resolve()
    else process.stdout.once("drain", resolve)
  })

/** Events read per page. */
const PAGE = 2_000

/** One line describing an event (without its output text). */
export const describeEvent = (recorded: RecordedEvent): string => {
  const { event } = recorded
  switch (event.type) {
    case "JobQueued":
      return `${event.data.provider}${event.data.step ? ` step ${event.data.step}` : ""}: ${sanitize(event.data.prompt.split("\n")[0] ?? "").slice(0, 80)}`
    case "ExecutionStarted":
      return `attempt ${event.data.attempt} on ${event.data.worker_id}`
    case "ExecutionOutput":
      return countOf(event.data.lines.length, "line")
    case "ExecutionProgress":
      return sanitize(event.data.message)
    case "ExecutionSucceeded":
      return `exit ${event.data.exit_code ?? "-"} in ${formatDuration(event.data.duration_ms)}${event.data.denials ? `, ${deniedMark(event.data.denials.length)}` : ""}`
    case "ExecutionFailed":
      return `${event.data.error_kind}: ${sanitize(event.data.error)}`
    case "JobRetryRequested":
      return `by ${event.data.requested_by}${event.data.fresh === true ? " (fresh start)" : ""}, runs at ${event.data.run_at}${event.data.reason === undefined ? "" : `: ${sanitize(event.data.reason)}`}`
    case "JobCancelRequested":
      return `by ${sanitize(event.data.requested_by)}`
    case "JobCancelled":
      return event.data.execution_id ? `execution ${shortId(event.data.execution_id)}` : "before it started"
    case "ExecutionAbandoned":
      return sanitize(event.data.reason)
    case "ExecutionChanges":
      return `${compactChanges(event.data.changes)}${event.data.changes.worktree ? ` on ${sanitize(event.data.changes.worktree.branch)}` : ""}`
    case "WorktreeMerged":
      return `${sanitize(event.data.branch)} into ${sanitize(event.data.into)} by ${sanitize(event.data.requested_by)}`
    case "WorktreeRemoved":
      return `${sanitize(event.data.branch)} (${event.data.reason}) by ${sanitize(event.data.requested_by)}`
  }
}

/** The warning for a row of the log that does not decode: its place, stream, type and the decoder's complaint. */
export const skippedLine = (bad: UndecodableEvent): string =>
  `Skipped event ${bad.position} (${sanitize(bad.type)}, job ${bad.jobId} v${bad.version}, ${formatTime(bad.occurredAt)}): it does not decode as an aidp event: ${sanitize(bad.problem)}`

/** What replay does with the events it reads, oldest first: `add` each, then `end` once. */
interface Reader {
  /** It never looks at the agents' output lines: they need not be read. */
  readonly withoutOutput: boolean
  readonly add: (recorded: RecordedEvent) => void | Promise<void>
  readonly end: () => Promise<void>
}

/** Prints each event as it comes: a line, or an element of one JSON array. */
const eventsReader = (json: boolean): Reader => {
  let first = true
  return {
    withoutOutput: false,
    add: async (recorded) => {
      if (json) await write(`${first ? "[\n" : ",\n"}${JSON.stringify(eventJson(recorded))}`)
      else await write(`${formatTime(recorded.occurredAt)}  ${shortId(recorded.jobId)}  v${String(recorded.version).padEnd(3)} ${recorded.event.type.padEnd(19)} ${describeEvent(recorded)}\n`)
      first = false
    },
    end: async () => {
      if (json) await write(first ? "[]\n" : "\n]\n")
    }
  }
}

/** Folds the events into the `--stats` figures, printed at the end. */
const statsReader = (by: GroupKey | undefined, json: boolean): Reader => {
  const accumulator = statsAccumulator(by)
  return {
    withoutOutput: true,
    add: (recorded) => accumulator.add(recorded),
    end: async () => {
      if (json) printJson(accumulator.stats())
      else await write(renderStats(accumulator.stats()))
    }
  }
}

/** Folds the log before `at` into every job's row at that moment, printed at the end by group. */
const atReader = (at: Date, json: boolean): Reader => {
  const accumulator = jobsAtAccumulator()
  return {
    withoutOutput: true,
    add: (recorded) => accumulator.add(recorded),
    end: async () => {
      const { broken, ...groups } = accumulator.jobs()
      for (const stream of broken) process.stderr.write(`Left out job ${stream.jobId}: its events do not project: ${sanitize(stream.problem)}\n`)
      if (json) {
        printJson({
          at: at.toISOString(),
          running: groups.running.map(jobJson),
          queued: groups.queued.map(jobJson),
          recent: groups.recent.map(jobJson),
          failed: groups.failed.map(jobJson)
        })
      } else await write(`Jobs as they were at ${formatTime(at)}\n\n${renderGroups(groups, at, process.stdout.isTTY ? outputColumns() : undefined)}`)
    }
  }
}

/** Folds one job's events into its story, printed at the end. */
const storyReader = (jobId: string, full: boolean, json: boolean): Reader => {
  const accumulator = storyAccumulator(jobId, full)
  return {
    withoutOutput: false,
    add: (recorded) => accumulator.add(recorded),
    end: async () => {
      if (json) printJson(accumulator.story())
      else await write(renderStory(accumulator.story(), outputColumns()))
    }
  }
}

/** Runs `aidp jobs replay`; returns the exit code (1 when a rebuild found differences). */
export const runReplay = (argv: ReadonlyArray<string>): Promise<number> => {
  const cli = parseArgs(HELP, argv, {
    since: { type: "string" },
    until: { type: "string" },
    stats: { type: "boolean", default: false },
    by: { type: "string" },
    full: { type: "boolean", default: false },
    events: { type: "boolean", default: false },
    at: { type: "string" },
    rebuild: { type: "boolean", default: false },
    apply: { type: "boolean", default: false },
    json: { type: "boolean", default: false }
  })
  noMoreArgs(cli.input, 1, USAGE)
  const now = new Date()
  const since = timeFlag("since", cli.flags.since, now)
  const until = timeFlag("until", cli.flags.until, now)
  if (since && until && since >= until) {
    throw new UsageError(`--since (${since.toISOString()}) must be before --until (${until.toISOString()}).`)
  }
  const by = oneOf("by", cli.flags.by, GROUP_KEYS)
  if (by && !cli.flags.stats) throw new UsageError("--by groups the figures of --stats; add --stats.")
  if (cli.flags.rebuild && (cli.input[0] || since || until || cli.flags.stats || cli.flags.events || cli.flags.full)) {
    throw new UsageError("--rebuild replays the whole log; it takes no JOB, --since, --until, --stats, --events or --full.")
  }
  const at = pastTimeFlag("at", cli.flags.at, now)
  if (at && (cli.input[0] || since || until || cli.flags.stats || cli.flags.events || cli.flags.full || cli.flags.rebuild || by)) {
    throw new UsageError("--at shows every job at one moment from the whole log before it; it takes no JOB, --since, --until, --stats, --events, --full or --rebuild.")
  }
  if (cli.flags.apply && !cli.flags.rebuild) throw new UsageError("--apply keeps what --rebuild builds; add --rebuild.")
  if (cli.flags.stats && cli.flags.events) throw new UsageError("--stats summarises the events and --events lists them; choose one.")
  if (cli.flags.full && (!cli.input[0] || cli.flags.events || cli.flags.stats)) {
    throw new UsageError("--full shows a job's activity in its story: give a JOB, without --events or --stats.")
  }
  return withApp("quiet", async (app) => {
    if (cli.flags.rebuild) {
      const report = await rebuildReadModels(app.db.sql, { apply: cli.flags.apply, differences: true }).catch((error: unknown) => {
        throw error instanceof RebuildRefused ? new UserError(error.message) : error
      })
      if (cli.flags.json) printJson(report)
      else await write(renderRebuild(report))
      if (report.tables.some((t) => !t.identical) && !report.applied) {
        throw new UserError("The read models differ from what the event log gives (listed above); nothing was changed. Run aidp jobs replay --rebuild --apply to replace them.")
      }
      return 0
    }
    const jobId = cli.input[0] ? await resolveJobRef(app.db.sql, cli.input[0], USAGE) : undefined
    const reader = at
      ? atReader(at, cli.flags.json)
      : cli.flags.stats
      ? statsReader(by, cli.flags.json)
      : jobId !== undefined && !cli.flags.events
        ? storyReader(jobId, cli.flags.full, cli.flags.json)
        : eventsReader(cli.flags.json)
    let after = 0
    let skipped = 0
    let sinceCollection = 0
    for (;;) {
      const page = await readLogIn(app.db.sql, { after, limit: PAGE, since, until: at ?? until, jobId, withoutOutput: reader.withoutOutput })
      if (page.length === 0) break
      sinceCollection += page.length
      if (sinceCollection >= EVENTS_PER_COLLECTION) {
        collectGarbage()
        sinceCollection = 0
      }
      for (const row of page) {
        if (row.ok) await reader.add(row.event)
        else {
          skipped += 1
          process.stderr.write(`${skippedLine(row.undecodable)}\n`)
        }
        after = row.position
      }
    }
    await reader.end()
    if (skipped > 0) process.stderr.write(`${countOf(skipped, "event")} of the log could not be read and ${skipped === 1 ? "was" : "were"} skipped; the figures above leave ${skipped === 1 ? "it" : "them"} out.\n`)
    return 0
  }, "installed")
}
