/**
 * Where an execution runs and what it changed there (DESIGN.md, Worktrees). Before the agent
 * starts, {@link openWorkspace} makes (or, for a retry, finds again) the `--worktree` job's git
 * worktree — `<git common dir>/aidp-worktrees/<first 8 of key>` on branch `aidp/<first 8 of
 * key>`, at the repository's HEAD — or, for a plain run in a repository, snapshots the folder.
 * When it ends, {@link workspaceChanges} commits a worktree's uncommitted work on its branch and
 * summarizes what differs from the base. Called from one place, src/workers/execution.ts.
 */
import { mkdir, open, readFile, rm, stat, writeFile } from "node:fs/promises"
import path from "node:path"
import { setTimeout as sleep } from "node:timers/promises"
import { type ChangeSummary, summarize, type WorktreeRef, worktreeBranch } from "../domain/changes.js"
import type { EventOf } from "../domain/events.js"
import { AIDP_IDENTITY, commitOf, diffFiles, EMPTY_TREE, git, GitFailed, gitSucceeds, pendingOperation, repositoryOf, snapshotTree } from "./git.js"

/** A `--worktree` job cannot run: one sentence naming the folder and the fix. The agent never starts. */
export class WorkspaceRefused extends Error {}

/** Where an execution runs, and what its changes are compared with. */
export interface Workspace {
  /** The folder the agent runs in. */
  readonly cwd: string
  /** The repository's top folder (the main working tree). */
  readonly repo: string
  /** The folder the snapshot or commit after the run is taken in: the worktree, or `repo`. */
  readonly top: string
  /** The branch's base commit (worktree), or the snapshot tree before the run (plain). */
  readonly base: string
  /** A plain run in a folder with uncommitted changes before it: its summary is approximate. */
  readonly approximate: boolean
  readonly worktree?: WorktreeRef
}

/** Longest wait for another process's worktree lock, ms. */
const LOCK_WAIT_MS = 60_000
/** A lock file older than this was left by a process that died holding it, ms. */
const STALE_LOCK_MS = 120_000
/** Tries of a git command that lost a race on one of git's own lock files. */
const GIT_LOCK_TRIES = 5

/** The folder that holds the worktrees of the repository with common git directory `commonDir`. */
const worktreesDir = (commonDir: string): string => path.join(commonDir, "aidp-worktrees")

/** Where worktree `key` of a repository lives, and its branch. */
const worktreePlace = (commonDir: string, key: string): { readonly path: string; readonly branch: string } =>
  ({ path: path.join(worktreesDir(commonDir), key.slice(0, 8)), branch: worktreeBranch(key) })

/** The file that remembers the base commit of the worktree at `worktreePath`. */
const baseFile = (worktreePath: string): string => `${worktreePath}.base`

/**
 * Runs `body` holding `file` as an exclusive lock (created with O_EXCL) across processes: waits
 * while another holds it, takes over one older than {@link STALE_LOCK_MS}. Throws
 * WorkspaceRefused after {@link LOCK_WAIT_MS}.
 */
const withLock = async <A>(file: string, body: () => Promise<A>): Promise<A> => {
  const deadline = Date.now() + LOCK_WAIT_MS
  for (;;) {
    try {
      const handle = await open(file, "wx")
      await handle.writeFile(`${process.pid}\n`)
      await handle.close()
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error
      const age = await stat(file).then((s) => Date.now() - s.mtimeMs, () => 0)
      if (age > STALE_LOCK_MS) await rm(file, { force: true })
      else if (Date.now() > deadline) throw new WorkspaceRefused(`Another aidp process has held ${file} for over a minute; if none is running, remove that file and retry the job.`)
      else await sleep(20 + Math.random() * 80)
    }
  }
  try {
    return await body()
  } finally {
    await rm(file, { force: true })
  }
}

/** Runs a git command again (a few times) when it lost a race on one of git's own lock files (index.lock, a ref's lock). */
const gitRetrying = async (dir: string, args: ReadonlyArray<string>): Promise<string> => {
  for (let attempt = 1; ; attempt++) {
    try {
      return await git(dir, args)
    } catch (error) {
      if (!(error instanceof GitFailed) || attempt >= GIT_LOCK_TRIES || !/\.lock\b|File exists/i.test(error.message)) throw error
      await sleep(50 * attempt + Math.random() * 50)
    }
  }
}

/**
 * The repository a worktree of `cwd` is made in and its HEAD commit; or, as a sentence ending
 * with `then` ("then retry the job"), why none can be: `cwd` outside a repository, a repository
 * in the middle of a merge or rebase, or one without commits.
 */
const worktreeRepository = async (cwd: string, then: string) => {
  const repo = await repositoryOf(cwd)
  if (repo === null) return `${cwd} is not in a git repository; run git init there (and commit), or run the job without --worktree.`
  const operation = await pendingOperation(repo.top)
  if (operation !== null) return `The repository ${repo.top} is in the middle of a ${operation}; finish or abort it (git ${operation} --continue or --abort), ${then}.`
  const head = await commitOf(repo.top, "HEAD")
  if (head === null) return `The repository ${repo.top} has no commits yet; commit something first, ${then}.`
  return { repo, head }
}

/**
 * Why a `--worktree` job of `cwd` could not run now (see worktreeRepository; the sentence ends
 * with `then`), or null when it could: for a command to refuse before it queues anything.
 */
export const worktreeRefusal = async (cwd: string, then: string): Promise<string | null> => {
  const checked = await worktreeRepository(cwd, then)
  return typeof checked === "string" ? checked : null
}

/**
 * The job's worktree, made at the repository's HEAD on a new branch, or found again (a retry,
 * or another job with the same key). Throws WorkspaceRefused with the sentence for a folder
 * outside a repository, a repository in the middle of a merge or rebase, or one without commits.
 */
const openWorktree = async (cwd: string, key: string): Promise<Workspace> => {
  const checked = await worktreeRepository(cwd, "then retry the job")
  if (typeof checked === "string") throw new WorkspaceRefused(checked)
  const { repo, head } = checked
  const place = worktreePlace(repo.commonDir, key)
  await mkdir(worktreesDir(repo.commonDir), { recursive: true })
  // A dot name: no worktree key can name it.
  const base = await withLock(path.join(worktreesDir(repo.commonDir), ".lock"), async () => {
    if (await isWorktree(place.path)) return (await readFile(baseFile(place.path), "utf8").catch(() => head)).trim()
    // A worktree folder removed by hand leaves its registration behind: forget it first.
    await gitRetrying(repo.top, ["worktree", "prune"])
    if (await commitOf(repo.top, `refs/heads/${place.branch}`) !== null) {
      await gitRetrying(repo.top, ["worktree", "add", "--quiet", place.path, place.branch])
      return (await readFile(baseFile(place.path), "utf8").catch(() => head)).trim()
    }
    await gitRetrying(repo.top, ["worktree", "add", "--quiet", "-b", place.branch, place.path, head])
    await writeFile(baseFile(place.path), `${head}\n`)
    return head
  })
  const agentDir = path.resolve(place.path, repo.prefix)
  await mkdir(agentDir, { recursive: true })
  return { cwd: agentDir, repo: repo.top, top: place.path, base, approximate: false, worktree: { repo: repo.top, path: place.path, branch: place.branch } }
}

/** Whether `dir` is the top of a working tree (a worktree that still exists). */
const isWorktree = async (dir: string): Promise<boolean> => {
  const exists = await stat(dir).then((s) => s.isDirectory(), () => false)
  if (!exists) return false
  return (await repositoryOf(dir))?.top === dir
}

/**
 * Where the claimed job runs: its worktree when it asked for one (`job.worktree`; key: the
 * given one, else `jobId`); else its own folder, snapshotted when it is in a git repository
 * (null when it is not: no changes can be told). Throws WorkspaceRefused (one sentence) when a
 * worktree cannot be had; other errors are git's or the file system's.
 */
export const openWorkspace = async (jobId: string, job: EventOf<"JobQueued">["data"]): Promise<Workspace | null> => {
  if (job.worktree !== undefined) {
    try {
      return await openWorktree(job.cwd, job.worktree.key ?? jobId)
    } catch (error) {
      if (error instanceof GitFailed) throw new WorkspaceRefused(`Could not make the job's git worktree: ${error.message}.`)
      throw error
    }
  }
  const repo = await repositoryOf(job.cwd)
  if (repo === null) return null
  const before = await snapshotTree(repo.top)
  const head = await commitOf(repo.top, "HEAD")
  const headTree = head === null ? EMPTY_TREE : (await git(repo.top, ["rev-parse", `${head}^{tree}`])).trim()
  return { cwd: job.cwd, repo: repo.top, top: repo.top, base: before, approximate: before !== headTree }
}

/**
 * What the execution changed in `workspace`. In a worktree, its uncommitted work (untracked
 * files too, ignored ones not) is first committed on its branch as aidp, with `message`; the
 * summary is the branch's base against its head. In a plain run, a snapshot after against the
 * one before.
 */
export const workspaceChanges = async (workspace: Workspace, message: string): Promise<ChangeSummary> => {
  let head: string
  if (workspace.worktree !== undefined) {
    await git(workspace.top, ["add", "-A", "--", "."])
    if (!(await gitSucceeds(workspace.top, ["diff", "--cached", "--quiet"]))) {
      await git(workspace.top, [...AIDP_IDENTITY, "commit", "--quiet", "--no-verify", "-m", message])
    }
    head = (await git(workspace.top, ["rev-parse", "HEAD"])).trim()
  } else {
    head = await snapshotTree(workspace.top)
  }
  const files = await diffFiles(workspace.top, workspace.base, head)
  return summarize(files, {
    repo: workspace.repo,
    base: workspace.base,
    head,
    ...(workspace.worktree === undefined ? {} : { worktree: workspace.worktree }),
    approximate: workspace.approximate
  })
}

/** A workspace ready for the agent (null: a plain run outside git, no changes told), or why the job cannot run. */
export type Prepared =
  | { readonly _tag: "Ready"; readonly workspace: Workspace | null }
  | { readonly _tag: "Refused"; readonly error: string }

/** Logs a problem with the changes of a run that does not stop it. */
type Warn = (error: unknown, what: string) => void

/**
 * {@link openWorkspace} that never rejects: Refused with the sentence when a `--worktree` job
 * cannot have its worktree; a plain run whose snapshot failed runs without one (`warn`ed).
 */
export const prepareWorkspace = async (jobId: string, job: EventOf<"JobQueued">["data"], warn: Warn): Promise<Prepared> => {
  try {
    return { _tag: "Ready", workspace: await openWorkspace(jobId, job) }
  } catch (error) {
    if (error instanceof WorkspaceRefused) return { _tag: "Refused", error: error.message }
    if (job.worktree !== undefined) return { _tag: "Refused", error: `Could not make the job's git worktree: ${error instanceof Error ? error.message : String(error)}.` }
    warn(error, "could not snapshot the folder before the run; its changes will not be recorded")
    return { _tag: "Ready", workspace: null }
  }
}

/** {@link workspaceChanges} that never rejects: null (and `warn`ed) when they cannot be told, or when there is no workspace. */
export const changesOrNull = async (workspace: Workspace | null, message: string, warn: Warn): Promise<ChangeSummary | null> => {
  if (workspace === null) return null
  try {
    return await workspaceChanges(workspace, message)
  } catch (error) {
    warn(error, "could not record the run's changes")
    return null
  }
}
