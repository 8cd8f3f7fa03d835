/**
 * `aidp jobs diff | merge | discard | clean` (DESIGN.md, Worktrees): read what a job changed,
 * and land or drop a `--worktree` job's branch. git does the work (src/workers/landing.ts);
 * each merge or removal is then an event in the job's stream (WorktreeMerged, WorktreeRemoved).
 */
import { worktreeRefusal } from "../domain/decider.js"
import type { Queryable } from "../events/sqlClient.js"
import { getJob, type JobRecord } from "../projections/queries.js"
import { renderDiff } from "../terminal/diff.js"
import { printJson } from "../terminal/json.js"
import { countOf, shortId } from "../terminal/view/format.js"
import { changesDiff, mergeWorktree, removeWorktree } from "../workers/landing.js"
import { type App, withApp } from "./app.js"
import { UserError } from "./errors.js"
import { submitCommand } from "./jobCommands.js"
import { resolveJobRef } from "./jobRef.js"
import { page } from "./pager.js"
import { type CommandHelp, noMoreArgs, parseArgs, pastTimeFlag, usageLine } from "./parse.js"

const JOB_REF = "JOB is a full job id or a unique prefix of at least 6 characters."

/** The job `ref` names (a UserError when it vanished meanwhile). */
const loadJob = async (sql: Queryable, ref: string | undefined, help: CommandHelp): Promise<JobRecord> => {
  const id = await resolveJobRef(sql, ref, usageLine(help))
  const job = await getJob(sql, id)
  if (!job) throw new UserError(`Job ${id} disappeared while it was being read.`)
  return job
}

/**
 * The job's worktree, when it may be merged or removed now; throws UserError with the
 * decider's sentence otherwise (still running, none, already removed).
 */
const landable = (job: JobRecord) => {
  const refusal = worktreeRefusal(job.status, job.worktreeState ?? "none")
  const worktree = job.changes?.worktree
  if (refusal !== undefined || worktree === undefined) throw new UserError(`Job ${shortId(job.id)}: ${refusal ?? "it has no worktree."}`)
  return worktree
}

const DIFF_HELP: CommandHelp = {
  usage: "aidp jobs diff JOB",
  about: `Shows the full diff of what the job's latest execution changed, read from git (its branch in a worktree, or the snapshots taken around a plain run), through your pager ($PAGER, default less -R) on a terminal. Escape sequences in files are shown harmless. ${JOB_REF}`
}

/**
 * The diff of what `job`'s latest execution changed, made harmless (coloured when `color`);
 * "" when it changed nothing. Throws UserError when it recorded no changes, LandingRefused
 * when git no longer has them.
 */
export const jobDiff = async (job: JobRecord, color: boolean): Promise<string> => {
  if (job.changes === null) {
    throw new UserError(`Job ${shortId(job.id)} recorded no changes (none of its executions has ended, or its folder is not in a git repository).`)
  }
  return renderDiff(await changesDiff(job.changes), color)
}

/** Whether diffs are coloured: on a terminal, unless NO_COLOR is set and not empty. */
export const diffColor = (terminal: boolean): boolean => terminal && (process.env.NO_COLOR ?? "") === ""

/**
 * A `aidp jobs VERB JOB` command: parses `argv` against `help` (one JOB, no options), loads the
 * job and runs `action` on it; resolves to the exit code (0). Fails with UsageError / UserError.
 */
const jobCommand = (help: CommandHelp, action: (app: App, job: JobRecord) => Promise<void>) => (argv: ReadonlyArray<string>) => {
  const cli = parseArgs(help, argv, {})
  noMoreArgs(cli.input, 1, help)
  return withApp("quiet", async (app) => {
    await action(app, await loadJob(app.db.sql, cli.input[0], help))
    return 0
  }, "installed")
}

const diff = jobCommand(DIFF_HELP, async (_app, job) => {
  const terminal = process.stdout.isTTY === true
  const text = await jobDiff(job, diffColor(terminal))
  if (text === "") process.stdout.write(`Job ${shortId(job.id)} changed nothing.\n`)
  else await page(text, terminal)
})

const MERGE_HELP: CommandHelp = {
  usage: "aidp jobs merge JOB",
  about: `Merges the branch of a finished --worktree job (aidp/<first 8 of its id>) into the branch checked out in its repository, as one merge commit. Refuses, changing nothing, when that working tree has uncommitted changes or the merge conflicts. ${JOB_REF}`
}

/**
 * Merges job `job`'s branch and records it (WorktreeMerged, by `requestedBy`); returns the
 * sentence to print. Throws UserError / LandingRefused with the refusal, nothing changed.
 */
export const mergeJob = async (app: App, job: JobRecord, requestedBy: string): Promise<string> => {
  const worktree = landable(job)
  const { into, commit } = await mergeWorktree(worktree, job.id)
  await submitCommand(app, job.id, { _tag: "MergeWorktree", requestedBy, branch: worktree.branch, into, commit })
  return `Merged ${worktree.branch} into ${into} (${commit.slice(0, 12)}).`
}

/**
 * Removes job `job`'s worktree and branch and records it (WorktreeRemoved, `reason`); returns
 * the sentence to print. Throws UserError with the refusal.
 */
export const discardJob = async (app: App, job: JobRecord, requestedBy: string, reason: "discard" | "clean" = "discard"): Promise<string> => {
  const worktree = landable(job)
  await removeWorktree(worktree)
  await submitCommand(app, job.id, { _tag: "RemoveWorktree", requestedBy, branch: worktree.branch, reason })
  return `Removed the worktree and branch ${worktree.branch} of job ${shortId(job.id)}.`
}

const merge = jobCommand(MERGE_HELP, async (app, job) => {
  process.stdout.write(`${await mergeJob(app, job, "user")}\n`)
})

const DISCARD_HELP: CommandHelp = {
  usage: "aidp jobs discard JOB",
  about: `Deletes the worktree and the branch of a finished --worktree job, merged or not; its events and summary stay. ${JOB_REF}`
}

const discard = jobCommand(DISCARD_HELP, async (app, job) => {
  process.stdout.write(`${await discardJob(app, job, "user")}\n`)
})

const CLEAN_USAGE = "aidp jobs clean [--merged] [--older-than T] [--dry-run] [--json]"
const CLEAN_HELP: CommandHelp = {
  usage: CLEAN_USAGE,
  about: "Removes the worktrees and branches of finished --worktree jobs in bulk (each recorded in its job's stream); queued and running jobs are never touched.",
  options: [
    ["--merged", "only jobs whose branch was merged (aidp jobs merge)"],
    ["--older-than T", "only jobs that finished before T: a span ago (7d, 12h), an ISO 8601 time or a local time (yesterday 15:00)"],
    ["--dry-run", "list what would go; change nothing"],
    ["--json", "the jobs removed (or that would be) as a JSON array of {id, branch, worktree}"]
  ]
}

/** Finished jobs with a worktree still there, oldest first: merged only, and/or finished before `before`. */
const cleanable = async (sql: Queryable, merged: boolean, before: Date | null): Promise<Array<string>> => {
  const rows = await sql<Array<{ id: string }>>`
    select id from jobs
    where worktree_state ${merged ? sql`= 'merged'` : sql`in ('open', 'merged')`}
      and status in ('completed', 'failed', 'cancelled')
      ${before === null ? sql`` : sql`and completed_at < ${before}`}
    order by completed_at, id`
  return rows.map((row) => row.id)
}

const clean = (argv: ReadonlyArray<string>) => {
  const cli = parseArgs(CLEAN_HELP, argv, {
    merged: { type: "boolean", default: false },
    olderThan: { type: "string" },
    dryRun: { type: "boolean", default: false },
    json: { type: "boolean", default: false }
  })
  noMoreArgs(cli.input, 0, CLEAN_USAGE)
  const before = pastTimeFlag("older-than", cli.flags.olderThan, new Date()) ?? null
  return withApp("quiet", async (app) => {
    const ids = await cleanable(app.db.sql, cli.flags.merged, before)
    const removed: Array<{ id: string; branch: string; worktree: string }> = []
    for (const id of ids) {
      const job = await getJob(app.db.sql, id)
      const worktree = job?.changes?.worktree
      if (!job || worktree === undefined) continue
      if (!cli.flags.dryRun) await discardJob(app, job, "user", "clean")
      removed.push({ id, branch: worktree.branch, worktree: worktree.path })
    }
    if (cli.flags.json) printJson(removed)
    else if (removed.length === 0) process.stdout.write("No worktree to remove.\n")
    else {
      const verb = cli.flags.dryRun ? "Would remove" : "Removed"
      process.stdout.write(`${verb} ${countOf(removed.length, "worktree")}:\n${removed.map((r) => `  ${shortId(r.id)}  ${r.branch}  ${r.worktree}\n`).join("")}`)
    }
    return 0
  }, "installed")
}

/** The subcommands of this file, by name. */
export const LAND_COMMANDS = { diff, merge, discard, clean } as const satisfies Readonly<Record<string, (argv: ReadonlyArray<string>) => Promise<number>>>
