/**
 * `aidp jobs prune --older-than T [--output-only] [--dry-run] [--json]`: retention. Removes
 * finished jobs that ended before T (their events and rows), or only their agents' output,
 * in small batches that never block workers or monitors (src/projections/prune.ts), and
 * prints what went and the space its rows took.
 */
import { prune, type PruneReport } from "../projections/prune.js"
import { printJson } from "../terminal/json.js"
import { countOf } from "../terminal/view/format.js"
import { withApp } from "./app.js"
import { UsageError } from "./errors.js"
import { type CommandHelp, noMoreArgs, parseArgs, pastTimeFlag } from "./parse.js"

const USAGE = "aidp jobs prune --older-than T [--output-only] [--dry-run] [--json]"
const HELP: CommandHelp = {
  usage: USAGE,
  about: `Removes finished jobs (completed, failed, cancelled) that ended before T: their events, executions,
log lines and job rows; running and queued jobs are never touched. With --output-only, only the
agents' output lines go; each job's story, outcome, usage and cost stay. Works in small batches;
a job a worker is writing to is left for the next run.`,
  options: [
    ["--older-than T", "jobs that ended before T: a span ago (90d, 12h), an ISO 8601 time or a local time (yesterday 15:00)"],
    ["--output-only", "remove only the output lines (stdout, stderr) of those jobs"],
    ["--dry-run", "count what would go; change nothing"],
    ["--json", "the counts as one JSON object"]
  ],
  notes: "AIDP_RETENTION=90d makes aidp worker prune finished jobs older than that once a day."
}

/** A byte count as `512 B`, `12.3 kB`, `4.5 MB`, `1.2 GB` (powers of 1000). */
export const formatBytes = (bytes: number): string => {
  const units = ["B", "kB", "MB", "GB", "TB"]
  let value = bytes
  let unit = 0
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000
    unit += 1
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`
}

/** What a prune did (or would do, `dry`), in one sentence. */
export const pruneSentence = (report: PruneReport, outputOnly: boolean, dry: boolean): string => {
  const verb = dry ? "Would remove" : "Removed"
  if (report.jobs === 0) return dry ? "Nothing to prune." : "Nothing pruned."
  return outputOnly
    ? `${verb} the output of ${countOf(report.jobs, "job")}: ${countOf(report.outputLines, "output line")} and ${countOf(report.logLines, "log line")}, ${formatBytes(report.bytes)}.`
    : `${verb} ${countOf(report.jobs, "job")}: ${countOf(report.events, "event")}, ${countOf(report.executions, "execution")}, ${countOf(report.logLines, "log line")}, ${formatBytes(report.bytes)}.`
}

/** Runs `aidp jobs prune`; returns the exit code. */
export const runPrune = (argv: ReadonlyArray<string>): Promise<number> => {
  const cli = parseArgs(HELP, argv, {
    olderThan: { type: "string" },
    outputOnly: { type: "boolean", default: false },
    dryRun: { type: "boolean", default: false },
    json: { type: "boolean", default: false }
  })
  noMoreArgs(cli.input, 0, USAGE)
  const now = new Date()
  const endedBefore = pastTimeFlag("older-than", cli.flags.olderThan, now)
  if (endedBefore === undefined) throw new UsageError(`--older-than is required: say which finished jobs go, e.g. --older-than 90d. Usage: ${USAGE}`)
  return withApp("quiet", async (app) => {
    const report = await prune(app.db.sql, { endedBefore, outputOnly: cli.flags.outputOnly, dryRun: cli.flags.dryRun })
    if (cli.flags.json) printJson({ ...report, endedBefore: endedBefore.toISOString(), outputOnly: cli.flags.outputOnly, dryRun: cli.flags.dryRun })
    else process.stdout.write(`${pruneSentence(report, cli.flags.outputOnly, cli.flags.dryRun)}\n`)
    return 0
  }, "installed")
}
