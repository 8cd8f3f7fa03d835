/**
 * Landing a job's work (DESIGN.md, Worktrees), git's side: merge its branch into the branch
 * checked out in the repository, or remove its worktree and branch; and read its diff. A
 * refusal is a {@link LandingRefused} sentence and leaves the repository as it was (a
 * conflicting merge is aborted).
 */
import { rm } from "node:fs/promises"
import type { JobChanges, WorktreeRef } from "../domain/changes.js"
import { git, GitFailed, pendingOperation } from "./git.js"

/** The merge or removal cannot be done: one sentence naming the repository and the fix; nothing was changed. */
export class LandingRefused extends Error {}

/**
 * Merges `worktree.branch` into the branch checked out in `worktree.repo`: always a merge
 * commit (`--no-ff`) named after job `jobId`, so the history shows the job's work as one
 * unit; made with the repository's own git identity. Returns the
 * branch merged into and the commit HEAD is at after. Throws LandingRefused when the
 * repository has uncommitted changes to tracked files, is in the middle of another operation,
 * has no branch checked out, or the merge conflicts (then aborted: nothing changed).
 */
export const mergeWorktree = async (worktree: WorktreeRef, jobId: string): Promise<{ readonly into: string; readonly commit: string }> => {
  const { repo, branch } = worktree
  const operation = await pendingOperation(repo)
  if (operation !== null) throw new LandingRefused(`The repository ${repo} is in the middle of a ${operation}; finish or abort it first, then merge again.`)
  const dirty = (await git(repo, ["status", "--porcelain", "--untracked-files=no"])).trim()
  if (dirty !== "") {
    throw new LandingRefused(`The repository ${repo} has uncommitted changes (${dirty.split("\n").length} file(s)); commit or stash them, then merge again.`)
  }
  const into = await git(repo, ["symbolic-ref", "--quiet", "--short", "HEAD"]).then((out) => out.trim(), () => null)
  if (into === null) throw new LandingRefused(`The repository ${repo} has no branch checked out (detached HEAD); check out the branch to merge into, then merge again.`)
  try {
    await git(repo, ["merge", "--no-ff", "--no-edit", "-m", `Merge aidp job ${jobId.slice(0, 8)} (${branch})`, branch])
  } catch (error) {
    if (!(error instanceof GitFailed)) throw error
    const conflicts = (await git(repo, ["diff", "--name-only", "--diff-filter=U"]).catch(() => "")).trim().split("\n").filter(Boolean)
    await git(repo, ["merge", "--abort"]).catch(() => undefined)
    if (conflicts.length > 0) {
      throw new LandingRefused(`Merging ${branch} into ${into} conflicts in ${conflicts.slice(0, 5).join(", ")}${conflicts.length > 5 ? ` and ${conflicts.length - 5} more` : ""}; nothing was changed. Merge it by hand (git merge ${branch}) to resolve them.`)
    }
    throw new LandingRefused(`git could not merge ${branch} into ${into}: ${error.message}; nothing was changed.`)
  }
  return { into, commit: (await git(repo, ["rev-parse", "HEAD"])).trim() }
}

/**
 * Removes the worktree folder (with whatever is in it) and deletes its branch, merged or not.
 * A folder or branch already gone is not an error.
 */
export const removeWorktree = async (worktree: WorktreeRef): Promise<void> => {
  await git(worktree.repo, ["worktree", "remove", "--force", "--force", worktree.path]).catch(async () => {
    await rm(worktree.path, { recursive: true, force: true })
    await git(worktree.repo, ["worktree", "prune"])
  })
  await rm(`${worktree.path}.base`, { force: true })
  await git(worktree.repo, ["branch", "-D", worktree.branch]).catch((error: unknown) => {
    if (!(error instanceof GitFailed) || !/not found/i.test(error.message)) throw error
  })
}

/**
 * The full diff of recorded `changes` (`git diff base head` in its repository), as git
 * prints it without colour. Throws LandingRefused when git no longer has those commits or trees.
 */
export const changesDiff = async (changes: JobChanges): Promise<string> => {
  try {
    return await git(changes.repo, ["diff", "--no-ext-diff", "--no-textconv", "--no-color", "--no-renames", changes.base, changes.head, "--"])
  } catch (error) {
    if (error instanceof GitFailed && error.code !== null) {
      throw new LandingRefused(`The diff is no longer in the repository ${changes.repo} (${error.message}): its branch or snapshots were removed.`)
    }
    throw error
  }
}
