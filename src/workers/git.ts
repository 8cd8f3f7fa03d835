/**
 * git as a child process (`git -C DIR ...`, execFile: no shell) with a clean environment: no
 * GIT_DIR, GIT_INDEX_FILE, GIT_WORK_TREE... inherited from whoever started aidp, so every
 * command acts on the folder it names. Small helpers on top: the repository of a folder, a
 * snapshot of a folder's files as a tree object, and the files two trees or commits differ in.
 */
import { execFile } from "node:child_process"
import { access, copyFile, mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { type FileChange, parseDiff } from "../domain/changes.js"

/** A git command failed: `message` is git's own last line (stderr), `code` its exit code. */
export class GitFailed extends Error {
  constructor(readonly args: ReadonlyArray<string>, readonly code: number | null, readonly stderr: string) {
    super(stderr.trim().split("\n").filter(Boolean).at(-1) ?? `git ${args[0] ?? ""} exited ${code}`)
  }
}

/** Identity (unsigned: nobody is there to unlock a key) of the commits aidp makes itself: the agent's work left uncommitted in a worktree. */
export const AIDP_IDENTITY = ["-c", "user.name=aidp", "-c", "user.email=aidp@localhost", "-c", "commit.gpgsign=false"] as const

/** The environment of every git command: the process's without any GIT_ variable, plus `extra`; no prompts. */
export const gitEnv = (extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith("GIT_")) env[key] = value
  return { ...env, GIT_TERMINAL_PROMPT: "0", ...extra }
}

/**
 * Runs `git -C dir args...`; resolves with its stdout (UTF-8). Rejects with {@link GitFailed}
 * when git exits non-zero (or is not installed: code null).
 */
export const git = (dir: string, args: ReadonlyArray<string>, extraEnv: Readonly<Record<string, string>> = {}): Promise<string> =>
  new Promise((resolve, reject) => {
    execFile("git", ["-C", dir, ...args], { env: gitEnv(extraEnv), maxBuffer: 256 * 1024 * 1024, encoding: "utf8" }, (error, stdout, stderr) => {
      if (error) reject(new GitFailed(args, typeof error.code === "number" ? error.code : null, stderr || error.message))
      else resolve(stdout)
    })
  })

/** Whether `git -C dir args...` exits 0 (e.g. `diff --quiet`, `rev-parse --verify`). Rejects only when git cannot run. */
export const gitSucceeds = (dir: string, args: ReadonlyArray<string>): Promise<boolean> =>
  git(dir, args).then(() => true, (error: unknown) => {
    if (error instanceof GitFailed && error.code !== null) return false
    throw error
  })

/**
 * The git repository `dir` is in: its top folder, `dir`'s path inside it (`""` or `sub/`),
 * and its common git directory (absolute; shared by its worktrees). Null when `dir` is not
 * inside a repository's working tree.
 */
export const repositoryOf = async (dir: string): Promise<{ readonly top: string; readonly prefix: string; readonly commonDir: string } | null> => {
  let out: string
  try {
    out = await git(dir, ["rev-parse", "--show-toplevel", "--show-prefix", "--git-common-dir"])
  } catch (error) {
    if (error instanceof GitFailed && error.code !== null) return null
    throw error
  }
  const [top = "", prefix = "", common = ""] = out.split("\n")
  if (top === "") return null
  return { top, prefix, commonDir: path.resolve(dir, common) }
}

/** The operation a repository is in the middle of (merge, rebase, cherry-pick, revert), or null. */
export const pendingOperation = async (top: string): Promise<string | null> => {
  const markers: ReadonlyArray<readonly [string, string]> = [
    ["MERGE_HEAD", "merge"],
    ["rebase-merge", "rebase"],
    ["rebase-apply", "rebase"],
    ["CHERRY_PICK_HEAD", "cherry-pick"],
    ["REVERT_HEAD", "revert"]
  ]
  const paths = (await git(top, ["rev-parse", ...markers.flatMap(([marker]) => ["--git-path", marker])])).split("\n")
  for (const [index, [, operation]] of markers.entries()) {
    const found = await access(path.resolve(top, paths[index]!)).then(() => true, () => false)
    if (found) return operation
  }
  return null
}

/** The commit `ref` names, or null when it names none (a repository without commits, an unknown branch). */
export const commitOf = async (dir: string, ref: string): Promise<string | null> => {
  try {
    return (await git(dir, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`])).trim() || null
  } catch (error) {
    if (error instanceof GitFailed && error.code !== null) return null
    throw error
  }
}

/** The id of git's empty tree (what a repository without commits is compared with). */
export const EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"

/**
 * A snapshot of the working tree of `top` as a tree object: tracked and untracked files as
 * they are now, ignored files left out; the repository's index is not touched (a copy is
 * used). The tree stays in the repository's objects (unreferenced: `git gc` may remove it
 * after its prune delay, two weeks by default).
 */
export const snapshotTree = async (top: string): Promise<string> => {
  const scratch = await mkdtemp(path.join(tmpdir(), "aidp-index-"))
  try {
    const index = path.join(scratch, "index")
    const own = path.resolve(top, (await git(top, ["rev-parse", "--git-path", "index"])).trim())
    // Seeded from the real index so unchanged files are not hashed again.
    await copyFile(own, index).catch(() => undefined)
    const env = { GIT_INDEX_FILE: index }
    await git(top, ["add", "-A", "--", "."], env)
    return (await git(top, ["write-tree"], env)).trim()
  } finally {
    await rm(scratch, { recursive: true, force: true })
  }
}

/** The files `head` differs from `base` in (commits or trees of the repository at `dir`), by path; no renames. */
export const diffFiles = async (dir: string, base: string, head: string): Promise<Array<FileChange>> => {
  const common = ["diff", "--no-renames", "--no-ext-diff", "--no-textconv", "-z"]
  const [nameStatus, numstat] = await Promise.all([
    git(dir, [...common, "--name-status", base, head, "--"]),
    git(dir, [...common, "--numstat", base, head, "--"])
  ])
  return parseDiff(nameStatus, numstat)
}
