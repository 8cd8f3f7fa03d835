/**
 * Worktrees made by the worker (src/workers/workspace.ts) against real git repositories in
 * temporary folders: many at once in one repository, found again for a retry at their first
 * base, and the summary of what changed (committed on the branch) — without a database.
 */
import assert from "node:assert/strict"
import { execFileSync } from "node:child_process"
import { mkdtemp, realpath, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { after, describe, it } from "node:test"
import type { EventOf } from "../src/domain/events.js"
import { openWorkspace, WorkspaceRefused, workspaceChanges } from "../src/workers/workspace.js"

const git = (dir: string, ...args: string[]): string => {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("GIT_")))
  return execFileSync("git", ["-C", dir, ...args], { env, encoding: "utf8" })
}

const made: Array<string> = []
after(async () => {
  await Promise.all(made.map((dir) => rm(dir, { recursive: true, force: true })))
})

/** A repository with one commit of a.txt. */
const repository = async (): Promise<string> => {
  const dir = await realpath(await mkdtemp(path.join(tmpdir(), "aidp-ws-")))
  made.push(dir)
  git(dir, "init", "-q")
  git(dir, "config", "user.name", "Test")
  git(dir, "config", "user.email", "test@example.com")
  await writeFile(path.join(dir, "a.txt"), "a\n")
  git(dir, "add", ".")
  git(dir, "commit", "-q", "-m", "init")
  return dir
}

const job = (cwd: string, worktree?: { key?: string }): EventOf<"JobQueued">["data"] => ({
  provider: "claude", model: null, prompt: "x", cwd, step: null, priority: 0, max_attempts: 1, timeout_ms: 1000, metadata: {},
  ...(worktree === undefined ? {} : { worktree })
})

const id = (n: number): string => `${String(n).padStart(8, "0")}-0000-4000-8000-000000000000`

describe("workspace", () => {
  it("makes eight worktrees at once in one repository, each on its own branch at HEAD", async () => {
    const repo = await repository()
    const head = git(repo, "rev-parse", "HEAD").trim()
    const spaces = await Promise.all(Array.from({ length: 8 }, (_, n) => openWorkspace(id(n), job(repo, {}))))
    assert.deepEqual(spaces.map((s) => s!.cwd), Array.from({ length: 8 }, (_, n) => path.join(repo, ".git", "aidp-worktrees", id(n).slice(0, 8))))
    assert.ok(spaces.every((s) => s!.base === head))
    assert.equal(git(repo, "worktree", "list").trim().split("\n").length, 9)
    assert.equal(git(repo, "branch", "--list", "aidp/*").trim().split("\n").length, 8)
    assert.equal(git(repo, "status", "--porcelain"), "", "the main working tree sees nothing")
  })

  it("finds a worktree again by its key, at its first base, and runs a subfolder's job in the same subfolder", async () => {
    const repo = await repository()
    const first = await openWorkspace(id(1), job(repo, { key: "shared-key" }))
    await writeFile(path.join(first!.cwd, "b.txt"), "b\n")
    await writeFile(path.join(repo, "c.txt"), "moved on\n")
    git(repo, "add", "c.txt")
    git(repo, "commit", "-q", "-m", "main moved on")
    const again = await openWorkspace(id(2), job(path.join(repo), { key: "shared-key" }))
    assert.deepEqual([again!.cwd, again!.base], [first!.cwd, first!.base])
    const changes = await workspaceChanges(again!, "aidp: test")
    assert.deepEqual(changes.files, [{ path: "b.txt", status: "added", added: 1, removed: 0 }])
    assert.equal(changes.worktree?.branch, "aidp/shared-k")
    assert.equal(git(repo, "log", "-1", "--format=%an %s", "aidp/shared-k").trim(), "aidp aidp: test")
    const sub = path.join(repo, "sub")
    execFileSync("mkdir", [sub])
    const inSub = await openWorkspace(id(3), job(sub, {}))
    assert.equal(inSub!.cwd, path.join(repo, ".git", "aidp-worktrees", id(3).slice(0, 8), "sub"))
  })

  it("refuses a folder outside git and a repository without commits, making nothing", async () => {
    const plain = await realpath(await mkdtemp(path.join(tmpdir(), "aidp-ws-")))
    made.push(plain)
    await assert.rejects(openWorkspace(id(1), job(plain, {})), (error: unknown) => error instanceof WorkspaceRefused && /is not in a git repository/.test(error.message))
    assert.equal(await openWorkspace(id(1), job(plain)), null, "a plain run outside git records nothing")
    git(plain, "init", "-q")
    await assert.rejects(openWorkspace(id(1), job(plain, {})), /has no commits yet; commit something first/)
  })
})
