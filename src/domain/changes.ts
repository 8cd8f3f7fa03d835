/**
 * What an execution changed in its folder (DESIGN.md, Worktrees): the summary the
 * ExecutionChanges event carries — files with their added/removed line counts, binary and
 * deleted files named — read from git's own output. The full diff stays in git (`base`..`head`)
 * and is read on demand, never copied into the log. Pure; no I/O.
 */
import * as Schema from "effect/Schema"

/** Most files one summary names; the totals still count every file. */
export const MAX_SUMMARY_FILES = 500

/** How a file changed: git's A, M, D, T (no renames: a rename is a deletion and an addition). */
export const FILE_STATUSES = ["added", "modified", "deleted", "type_changed"] as const

/** One changed file. `added`/`removed`: lines; both null for a binary file. */
export const FileChangeSchema = Schema.Struct({
  path: Schema.String,
  status: Schema.Literals(FILE_STATUSES),
  added: Schema.NullOr(Schema.Int),
  removed: Schema.NullOr(Schema.Int)
})
/** Decoded {@link FileChangeSchema}. */
export type FileChange = typeof FileChangeSchema.Type

/** Where a worktree run ran: the repository (its top folder), the worktree's folder and its branch. */
export const WorktreeRefSchema = Schema.Struct({
  repo: Schema.String,
  path: Schema.String,
  branch: Schema.String
})
/** Decoded {@link WorktreeRefSchema}. */
export type WorktreeRef = typeof WorktreeRefSchema.Type

/**
 * An execution's changes. `base`/`head`: what `git diff base head` compares in `repo` — in a
 * worktree the branch's base commit and its commit after the run; in a plain run snapshots
 * (tree objects) of the folder before and after. `approximate`: a plain run whose folder had
 * uncommitted changes before it started (a person may have edited alongside the agent).
 */
export const ChangeSummarySchema = Schema.Struct({
  repo: Schema.String,
  base: Schema.String,
  head: Schema.String,
  worktree: Schema.optionalKey(WorktreeRefSchema),
  approximate: Schema.optionalKey(Schema.Boolean),
  /** At most {@link MAX_SUMMARY_FILES}, by path. */
  files: Schema.Array(FileChangeSchema),
  file_count: Schema.Int,
  lines_added: Schema.Int,
  lines_removed: Schema.Int
})
/** Decoded {@link ChangeSummarySchema}. */
export type ChangeSummary = typeof ChangeSummarySchema.Type

const STATUS_LETTERS: Readonly<Record<string, FileChange["status"]>> = { A: "added", M: "modified", D: "deleted", T: "type_changed" }

/**
 * The files of `git diff --no-renames -z --name-status` (`nameStatus`) and `... --numstat`
 * (`numstat`) of one comparison, by path. Throws on output that is not git's.
 */
export const parseDiff = (nameStatus: string, numstat: string): Array<FileChange> => {
  const statuses = new Map<string, FileChange["status"]>()
  const fields = nameStatus.split("\0")
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const status = STATUS_LETTERS[fields[i]!.charAt(0)]
    if (status === undefined) throw new Error(`Unexpected git status ${JSON.stringify(fields[i])}.`)
    statuses.set(fields[i + 1]!, status)
  }
  const files: Array<FileChange> = []
  for (const record of numstat.split("\0")) {
    if (record === "") continue
    const match = /^(-|\d+)\t(-|\d+)\t(.*)$/s.exec(record)
    if (!match) throw new Error(`Unexpected git numstat ${JSON.stringify(record)}.`)
    const [, added, removed, path] = match
    files.push({
      path: path!,
      status: statuses.get(path!) ?? "modified",
      added: added === "-" ? null : Number(added),
      removed: removed === "-" ? null : Number(removed)
    })
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}

/** The summary of `files` (all of them) between `base` and `head`: totals, and at most {@link MAX_SUMMARY_FILES} files. */
export const summarize = (
  files: ReadonlyArray<FileChange>,
  at: { readonly repo: string; readonly base: string; readonly head: string; readonly worktree?: WorktreeRef; readonly approximate?: boolean }
): ChangeSummary => ({
  repo: at.repo,
  base: at.base,
  head: at.head,
  ...(at.worktree === undefined ? {} : { worktree: at.worktree }),
  ...(at.approximate === true ? { approximate: true } : {}),
  files: files.slice(0, MAX_SUMMARY_FILES),
  file_count: files.length,
  lines_added: files.reduce((sum, f) => sum + (f.added ?? 0), 0),
  lines_removed: files.reduce((sum, f) => sum + (f.removed ?? 0), 0)
})

/** A job's latest changes as the `jobs` row keeps them: the summary without its files. */
export type JobChanges = Omit<ChangeSummary, "files">

/** The totals the job list shows. */
export interface ChangeTotals {
  readonly file_count: number
  readonly lines_added: number
  readonly lines_removed: number
  readonly approximate?: boolean | undefined
}

/** "3 files +120 −4" (U+2212 minus), "~" first when approximate; "no changes" for none. */
export const compactChanges = (totals: ChangeTotals): string => {
  const approx = totals.approximate === true ? "~" : ""
  if (totals.file_count === 0) return `${approx}no changes`
  return `${approx}${totals.file_count} file${totals.file_count === 1 ? "" : "s"} +${totals.lines_added} \u2212${totals.lines_removed}`
}

/** One file as `jobs show` lists it: "+12 −3  src/a.ts", "binary  logo.png", "deleted −7  old.ts". */
export const fileLine = (file: FileChange): string => {
  const counts = file.added === null ? "binary" : `+${file.added} \u2212${file.removed ?? 0}`
  const status = file.status === "modified" ? "" : ` (${file.status.replace("_", " ")})`
  return `${counts.padEnd(13)} ${file.path}${status}`
}

/**
 * What a worktree key may be: letters, digits, `-` and `_`, starting with a letter or digit
 * (a job id is one). Its first 8 characters name a folder and a branch, so nothing that walks
 * out of the worktrees' folder (`..`, `/`) or that git refuses in a branch name.
 */
export const WORKTREE_KEY = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/

/** The branch of worktree `key`: `aidp/` and its first 8 characters. */
export const worktreeBranch = (key: string): string => `aidp/${key.slice(0, 8)}`
