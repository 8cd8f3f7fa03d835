/**
 * `aidp jobs replay [JOB] [--since T] [--until T] [--stats] [--rebuild] [--json]`: the
 * history as recorded in the event log. Lists events, summarises them (--stats), or
 * rebuilds the read models from the log and reports whether they matched (--rebuild).
 */
import type { RecordedEvent } from "../domain/events.js"
import { readAllIn } from "../events/store.js"
import { statsAccumulator, type HistoryStats } from "../projections/history.js"
import { rebuildReadModels } from "../projections/rebuild.js"
import { printJson } from "../terminal/json.js"
import { sanitize } from "../terminal/sanitize.js"
import { countOf, formatDuration, formatTime, shortId } from "../terminal/view/format.js"
import { deniedMark } from "../terminal/view/table.js"
import { withApp } from "./app.js"
import { UsageError, UserError } from "./errors.js"
import { resolveJobRef } from "./jobRef.js"
import { type CommandHelp, noMoreArgs, parseArgs, timeFlag } from "./parse.js"

const USAGE = "aidp jobs replay [JOB] [--since T] [--until T] [--stats] [--rebuild] [--json]"
const HELP: CommandHelp = {
  usage: USAGE,
  about: `The history as recorded in the event log, oldest first: every event, or one job's (JOB: a
full id or a unique prefix of at least 6 characters).`,
  options: [
    ["--since T", "only events at or after T (ISO 8601, or a span ago: 30m, 2h, 7d)"],
    ["--until T", "only events before T"],
    ["--stats", "summarise: outcomes, error kinds, retries, durations, cost, per provider"],
    ["--rebuild", "rebuild jobs, job_executions and job_logs from the log and report whether they matched (exit 1 if not)"],
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
      return `${event.data.lines.length} line(s)`
    case "ExecutionProgress":
      return sanitize(event.data.message)
    case "ExecutionSucceeded":
      return `exit ${event.data.exit_code ?? "-"} in ${formatDuration(event.data.duration_ms)}${event.data.denials ? `, ${deniedMark(event.data.denials.length)}` : ""}`
    case "ExecutionFailed":
      return `${event.data.error_kind}: ${sanitize(event.data.error)}`
    case "JobRetryRequested":
      return `by ${event.data.requested_by}, runs at ${event.data.run_at}${event.data.reason === undefined ? "" : `: ${sanitize(event.data.reason)}`}`
    case "JobCancelRequested":
      return `by ${sanitize(event.data.requested_by)}`
    case "JobCancelled":
      return event.data.execution_id ? `execution ${shortId(event.data.execution_id)}` : "before it started"
    case "ExecutionAbandoned":
      return sanitize(event.data.reason)
  }
}

const printStats = (stats: HistoryStats): void => {
  const lines = [
    `Events     ${stats.events}${stats.firstAt ? ` from ${stats.firstAt} to ${stats.lastAt}` : ""}`,
    `Jobs       ${stats.jobs} (${Object.entries(stats.jobsByStatus).map(([k, v]) => `${v} ${k}`).join(", ") || "none"})`,
    `Executions ${stats.executions}, ${stats.abandoned} abandoned; ${countOf(stats.cancelled, "cancellation")}`,
    `Retries    ${stats.retries.user} by a person, ${stats.retries.policy} by the retry policy`,
    `Failures   ${Object.entries(stats.failuresByKind).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${v} ${k}`).join(", ") || "none"}`,
    `Duration   p50 ${formatDuration(stats.durationMs.p50)}, p95 ${formatDuration(stats.durationMs.p95)}, max ${formatDuration(stats.durationMs.max)}`,
    `Cost       $${stats.costUsd.toFixed(4)}`,
    ...Object.entries(stats.byProvider).map(([name, p]) =>
      `${name.padEnd(10)} ${countOf(p.executions, "execution")}, ${p.succeeded} succeeded, ${p.failed} failed` +
      `${p.successRate === null ? "" : ` (${Math.round(p.successRate * 100)}% success)`}, $${p.costUsd.toFixed(4)}`)
  ]
  process.stdout.write(`${lines.join("\n")}\n`)
}

/** Runs `aidp jobs replay`; returns the exit code (1 when a rebuild found differences). */
export const runReplay = (argv: ReadonlyArray<string>): Promise<number> => {
  const cli = parseArgs(HELP, argv, {
    since: { type: "string" },
    until: { type: "string" },
    stats: { type: "boolean", default: false },
    rebuild: { type: "boolean", default: false },
    json: { type: "boolean", default: false }
  })
  noMoreArgs(cli.input, 1, USAGE)
  const now = new Date()
  const since = timeFlag("since", cli.flags.since, now)
  const until = timeFlag("until", cli.flags.until, now)
  if (since && until && since >= until) {
    throw new UsageError(`--since (${since.toISOString()}) must be before --until (${until.toISOString()}).`)
  }
  if (cli.flags.rebuild && (cli.input[0] || since || until || cli.flags.stats)) {
    throw new UsageError("--rebuild replays the whole log; it takes no JOB, --since, --until or --stats.")
  }
  return withApp("quiet", async (app) => {
    if (cli.flags.rebuild) {
      const report = await rebuildReadModels(app.db.sql)
      if (cli.flags.json) printJson(report)
      else {
        process.stdout.write(`Replayed ${countOf(report.events, "event")}.\n`)
        for (const t of report.tables) {
          process.stdout.write(`${t.table.padEnd(15)} ${String(t.rows).padStart(8)} rows  ${t.identical ? "identical to the live table" : "DIFFERED from the live table (now rebuilt)"}\n`)
        }
      }
      if (report.tables.some((t) => !t.identical)) {
        throw new UserError("The rebuilt read models differed from the live ones; they now match the event log.")
      }
      return 0
    }
    const jobId = cli.input[0] ? await resolveJobRef(app.db.sql, cli.input[0], USAGE) : undefined
    const accumulator = statsAccumulator()
    const listing = !cli.flags.stats
    let first = true
    if (listing && cli.flags.json) await write("[")
    let after = 0
    for (;;) {
      const page = await readAllIn(app.db.sql, { after, limit: PAGE, since, until, jobId })
      if (page.length === 0) break
      after = page[page.length - 1]!.position
      for (const recorded of page) {
        if (!listing) accumulator.add(recorded)
        else if (cli.flags.json) {
          await write(`${first ? "\n" : ",\n"}${JSON.stringify(eventJson(recorded))}`)
          first = false
        } else {
          await write(`${formatTime(recorded.occurredAt)}  ${shortId(recorded.jobId)}  v${String(recorded.version).padEnd(3)} ${recorded.event.type.padEnd(19)} ${describeEvent(recorded)}\n`)
        }
      }
    }
    if (listing && cli.flags.json) await write("\n]\n")
    if (!listing) {
      if (cli.flags.json) printJson(accumulator.stats())
      else printStats(accumulator.stats())
    }
    return 0
  }, "installed")
}
