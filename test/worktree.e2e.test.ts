/**
 * Isolated runs end to end (issue 11): `--worktree` jobs run in git worktrees of their own, two
 * at once in one repository; every ending execution records what it changed (worktree and plain
 * runs, binary and deleted files); a folder outside git or a repository mid-rebase fails the job
 * before its agent starts; `jobs diff`, `merge`, `discard` and `clean` land or drop the work.
 * Real git repositories in temporary folders, the built CLI, fake agents.
 */
import assert from "node:assert/strict"
import { execFileSync } from "node:child_process"
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import path from "node:path"
import { describe, test } from "node:test"
import { finished, runCli, startCli } from "./support/cli.js"
import { assertCliError, e2eSuite, eventCount, readCalls, showJob, waitForStatus, withWorker } from "./support/e2e.js"

/** `git -C dir args...` with no GIT_ variable from the test's environment; its stdout. */
const git = (dir: string, ...args: string[]): string => {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("GIT_")))
  return execFileSync("git", ["-C", dir, ...args], { env, encoding: "utf8" })
}

describe("isolated runs: worktrees and what each run changed", () => {
  const suite = e2eSuite()

  /** A repository with one commit: shared.txt ("base"), old.txt (deleted by some fakes), .gitignore. */
  const repository = async (): Promise<string> => {
    const dir = await suite.dirs.make()
    git(dir, "config", "user.name", "Test")
    git(dir, "config", "user.email", "test@example.com")
    writeFileSync(path.join(dir, "shared.txt"), "base\n")
    writeFileSync(path.join(dir, "old.txt"), "to be deleted\n")
    git(dir, "add", ".")
    git(dir, "commit", "-q", "-m", "init")
    return dir
  }

  /** Queues one claude job in `cwd` with `prompt` and `flags`; its id. */
  const enqueue = async (cwd: string, prompt: string, ...flags: string[]): Promise<string> => {
    const result = await runCli(suite.db, ["jobs", "enqueue", "--provider", "claude", "--prompt", prompt, "--cwd", cwd, ...flags])
    assert.equal(result.code, 0, result.stderr)
    return result.stdout.trim()
  }

  /** Runs a worker with `env` until every job of `ids` has `status`. */
  const runUntil = (ids: ReadonlyArray<string>, status: string, env: NodeJS.ProcessEnv) =>
    withWorker(suite.db, env, async () => {
      for (const id of ids) await waitForStatus(suite.db, id, status)
    })

  test("execute all --worktree: every step of the workflow runs in its one worktree and sees the earlier documents; the main tree is untouched", async () => {
    const repo = await repository()
    const record = path.join(repo, ".git", "calls.jsonl")
    writeFileSync(path.join(repo, "aidp.workflow.json"), JSON.stringify({
      steps: [
        { id: "idea", document: "notes/idea.md", prompt: "Write down the idea." },
        { id: "plan", document: "notes/plan.md", prompt: "Plan it.", builds_on: ["idea"] }
      ]
    }))
    git(repo, "add", "aidp.workflow.json")
    git(repo, "commit", "-q", "-m", "workflow")
    const result = await runCli(suite.db, ["execute", "all", "--worktree"], { cwd: repo, env: { FAKE_AGENT_RECORD: record }, timeoutMs: 120_000 })
    assert.equal(result.code, 0, result.stderr)
    const calls = await readCalls(record)
    assert.equal(calls.length, 2)
    assert.equal(calls[0]!.cwd, calls[1]!.cwd, "both steps ran in one worktree")
    assert.ok(calls[0]!.cwd.includes(`${path.sep}aidp-worktrees${path.sep}`), calls[0]!.cwd)
    assert.ok(existsSync(path.join(calls[1]!.cwd, "notes", "idea.md")), "the second step sees the first step's document")
    assert.ok(!existsSync(path.join(repo, "notes")), "the main working tree has no document")
    assert.equal(git(repo, "status", "--porcelain"), "", "the main working tree is untouched")
  })

  test("two --worktree jobs write one file at once, in two workers: each branch holds its own version, the main tree is untouched", async () => {
    const repo = await repository()
    const record = path.join(repo, ".git", "calls.jsonl")
    const ids = [await enqueue(repo, "version one", "--worktree"), await enqueue(repo, "version two", "--worktree")]
    const env = { FAKE_AGENT_MODE: "slow", FAKE_AGENT_DELAY_MS: "300", FAKE_AGENT_WRITE: "shared.txt", FAKE_AGENT_WRITE_PROMPT: "1", FAKE_AGENT_RECORD: record }
    const workers = [startCli(suite.db, ["worker"], { env }), startCli(suite.db, ["worker"], { env })]
    const done = workers.map((child) => finished(child))
    try {
      for (const id of ids) await waitForStatus(suite.db, id, "completed")
    } finally {
      for (const child of workers) child.kill("SIGTERM")
      for (const result of await Promise.all(done)) assert.equal(result.code, 0, result.stderr)
    }
    const executions = await suite.db.sql<Array<{ worker_id: string; started_at: Date; completed_at: Date }>>`
      select worker_id, started_at, completed_at from job_executions where job_id = any(${ids}::uuid[]) order by started_at`
    assert.equal(executions.length, 2)
    assert.notEqual(executions[0]!.worker_id, executions[1]!.worker_id, "two workers ran them")
    assert.ok(executions[1]!.started_at < executions[0]!.completed_at, "they ran at the same time")
    for (const [index, id] of ids.entries()) {
      const branch = `aidp/${id.slice(0, 8)}`
      assert.equal(git(repo, "show", `${branch}:shared.txt`), `version ${index === 0 ? "one" : "two"}\n`)
      const job = await showJob(suite.db, id)
      assert.equal(job.changes.branch, branch)
      assert.equal(job.changes.worktree, path.join(repo, ".git", "aidp-worktrees", id.slice(0, 8)))
      assert.deepEqual(job.executions[0].changes.files, [{ path: "shared.txt", status: "modified", added: 1, removed: 1 }])
    }
    const calls = await readCalls(record)
    assert.deepEqual(calls.map((call) => call.cwd).sort(), ids.map((id) => path.join(repo, ".git", "aidp-worktrees", id.slice(0, 8))).sort())
    assert.equal(readFileSync(path.join(repo, "shared.txt"), "utf8"), "base\n", "the main working tree is untouched")
    assert.equal(git(repo, "status", "--porcelain"), "")
    assert.equal(git(repo, "branch", "--show-current").trim(), "master")
  })

  test("a worktree run's summary names a binary and a deleted file; a retry runs in the same worktree", async () => {
    const repo = await repository()
    const record = path.join(repo, ".git", "calls.jsonl")
    const id = await enqueue(repo, "change things", "--worktree")
    await runUntil([id], "failed", { FAKE_AGENT_MODE: "crash", FAKE_AGENT_RECORD: record })
    assert.equal((await runCli(suite.db, ["jobs", "retry", id])).code, 0)
    await runUntil([id], "completed", { FAKE_AGENT_WRITE: "notes.md", FAKE_AGENT_WRITE_BINARY: "logo.png", FAKE_AGENT_DELETE: "old.txt", FAKE_AGENT_RECORD: record })
    const calls = await readCalls(record)
    assert.equal(calls.length, 2)
    assert.equal(calls[0]!.cwd, calls[1]!.cwd, "the retry ran in the same worktree")
    const job = await showJob(suite.db, id)
    assert.equal(job.executions[0].changes.fileCount, 0, "the crashed attempt changed nothing")
    assert.deepEqual(job.executions[1].changes.files, [
      { path: "logo.png", status: "added", added: null, removed: null },
      { path: "notes.md", status: "added", added: 2, removed: 0 },
      { path: "old.txt", status: "deleted", added: 0, removed: 1 }
    ])
    assert.deepEqual([job.changes.fileCount, job.changes.linesAdded, job.changes.linesRemoved, job.changes.approximate], [3, 2, 1, false])
    const shown = await runCli(suite.db, ["jobs", "show", id])
    assert.match(shown.stdout, new RegExp(`^Changes \\(attempt 2\\): 3 files \\+2 −1 · aidp jobs diff ${id.slice(0, 8)}$`, "m"))
    assert.match(shown.stdout, /^ {2}binary +logo\.png \(added\)$/m)
    assert.match(shown.stdout, /^ {2}\+0 −1 +old\.txt \(deleted\)$/m)
    const list = await runCli(suite.db, ["jobs", "list"])
    assert.match(list.stdout, new RegExp(`^${id.slice(0, 8)} .*completed.*3 files \\+2 −1$`, "m"))
    assert.equal(git(repo, "log", "-1", "--format=%s", `aidp/${id.slice(0, 8)}`).trim(), `aidp: job ${id.slice(0, 8)}, attempt 2`)
    assert.ok(existsSync(path.join(repo, "old.txt")), "the main working tree keeps its files")
  })

  test("a plain run records the files it changed: exact in a clean tree, approximate in a dirty one", async () => {
    const repo = await repository()
    const clean = await enqueue(repo, "edit", "--max-attempts", "1")
    await runUntil([clean], "completed", { FAKE_AGENT_WRITE: "shared.txt", FAKE_AGENT_WRITE_BINARY: "logo.png", FAKE_AGENT_DELETE: "old.txt" })
    const first = await showJob(suite.db, clean)
    assert.deepEqual(first.executions[0].changes.files, [
      { path: "logo.png", status: "added", added: null, removed: null },
      { path: "old.txt", status: "deleted", added: 0, removed: 1 },
      { path: "shared.txt", status: "modified", added: 2, removed: 1 }
    ])
    assert.equal(first.changes.approximate, false)
    assert.equal(first.changes.branch, null)
    // The tree is dirty now (the first run's edits are not committed): the next summary is approximate.
    const dirty = await enqueue(repo, "more", "--max-attempts", "1")
    await runUntil([dirty], "completed", { FAKE_AGENT_WRITE: "new.md" })
    const second = await showJob(suite.db, dirty)
    assert.deepEqual(second.executions[0].changes.files, [{ path: "new.md", status: "added", added: 2, removed: 0 }])
    assert.equal(second.changes.approximate, true)
    const diff = await runCli(suite.db, ["jobs", "diff", dirty])
    assert.equal(diff.code, 0, diff.stderr)
    assert.match(diff.stdout, /^\+written by fake claude$/m)
  })

  test("not a git repository, or a repository mid-rebase: the job fails before its agent starts, with one sentence; nothing is created", async () => {
    const plain = await suite.dirs.make({ git: false })
    const record = path.join(plain, "calls.jsonl")
    const outside = await enqueue(plain, "x", "--worktree")
    const repo = await repository()
    mkdirSync(path.join(repo, ".git", "rebase-merge"))
    const rebasing = await enqueue(repo, "x", "--worktree")
    await runUntil([outside, rebasing], "failed", { FAKE_AGENT_RECORD: record })
    const [a, b] = [await showJob(suite.db, outside), await showJob(suite.db, rebasing)]
    assert.equal(a.errorKind, "worktree")
    assert.equal(a.error, `${plain} is not in a git repository; run git init there (and commit), or run the job without --worktree.`)
    assert.equal(b.errorKind, "worktree")
    assert.match(b.error, /^The repository .* is in the middle of a rebase; finish or abort it \(git rebase --continue or --abort\), then retry the job\.$/)
    assert.deepEqual([a.attempts, b.attempts, a.status, b.status], [1, 1, "failed", "failed"], "not retried by the policy")
    assert.deepEqual(await readCalls(record), [], "no agent started")
    assert.equal(git(repo, "worktree", "list").trim().split("\n").length, 1)
    assert.equal(git(repo, "branch", "--list", "aidp/*"), "")
  })

  test("jobs given one worktree key (a --from line's {\"key\": K}) share one worktree and branch: the second sees the first's document", async () => {
    const repo = await repository()
    const lines = ["A", "B"].map((doc) => JSON.stringify({ provider: "claude", prompt: `Write the result as Markdown to docs/${doc}.md`, cwd: repo, worktree: { key: "workflow-7" } }))
    const enqueued = await runCli(suite.db, ["jobs", "enqueue", "--from", "-"], { input: `${lines.join("\n")}\n` })
    assert.equal(enqueued.code, 0, enqueued.stderr)
    const ids = enqueued.stdout.trim().split("\n")
    const record = path.join(repo, ".git", "calls.jsonl")
    await runUntil(ids, "completed", { FAKE_AGENT_RECORD: record })
    const calls = await readCalls(record)
    assert.deepEqual(calls.map((call) => call.cwd), [path.join(repo, ".git", "aidp-worktrees", "workflow"), path.join(repo, ".git", "aidp-worktrees", "workflow")])
    const second = await showJob(suite.db, ids[1]!)
    assert.equal(second.changes.branch, "aidp/workflow")
    assert.deepEqual(second.executions[0].changes.files.map((file: { path: string }) => file.path), ["docs/A.md", "docs/B.md"])
  })

  /** A repository with two finished --worktree jobs that wrote different versions of shared.txt. */
  const twoBranches = async () => {
    const repo = await repository()
    const ids = [await enqueue(repo, "version one", "--worktree"), await enqueue(repo, "version two", "--worktree")]
    await runUntil(ids, "completed", { FAKE_AGENT_WRITE: "shared.txt", FAKE_AGENT_WRITE_PROMPT: "1" })
    return { repo, ids }
  }

  test("jobs merge: a dirty target is refused, a clean merge lands, a conflicting one is refused with nothing changed", async () => {
    const { repo, ids } = await twoBranches()
    const [one, two] = ids as [string, string]
    writeFileSync(path.join(repo, "old.txt"), "edited by hand\n")
    const before = await eventCount(suite.db, "WorktreeMerged")
    assertCliError(await runCli(suite.db, ["jobs", "merge", one]), 1, `The repository ${repo} has uncommitted changes (1 file(s)); commit or stash them, then merge again.`)
    assert.equal(readFileSync(path.join(repo, "old.txt"), "utf8"), "edited by hand\n")
    git(repo, "checkout", "-q", "--", "old.txt")
    const merged = await runCli(suite.db, ["jobs", "merge", one.slice(0, 8)])
    assert.equal(merged.code, 0, merged.stderr)
    assert.match(merged.stdout, new RegExp(`^Merged aidp/${one.slice(0, 8)} into master \\([0-9a-f]{12}\\)\\.\\n$`))
    assert.equal(readFileSync(path.join(repo, "shared.txt"), "utf8"), "version one\n")
    const head = git(repo, "rev-parse", "HEAD")
    assertCliError(await runCli(suite.db, ["jobs", "merge", two]), 1, `Merging aidp/${two.slice(0, 8)} into master conflicts in shared.txt; nothing was changed.`)
    assert.equal(git(repo, "rev-parse", "HEAD"), head)
    assert.equal(git(repo, "status", "--porcelain"), "")
    assert.equal(readFileSync(path.join(repo, "shared.txt"), "utf8"), "version one\n")
    assert.equal(await eventCount(suite.db, "WorktreeMerged"), before + 1)
    const job = await showJob(suite.db, one)
    assert.equal(job.worktreeState, "merged")
    assert.equal(git(repo, "log", "-1", "--format=%s").trim(), `Merge aidp job ${one.slice(0, 8)} (aidp/${one.slice(0, 8)})`)
  })

  test("jobs diff prints the diff escape-safe; jobs discard removes branch and worktree; jobs clean --merged only the merged", async () => {
    const repo = await repository()
    const ids = [await enqueue(repo, "red \x1b[31mtext\x1b]0;title\x07 end", "--worktree"), await enqueue(repo, "two", "--worktree"), await enqueue(repo, "three", "--worktree")]
    await runUntil(ids, "completed", { FAKE_AGENT_WRITE: "notes.md", FAKE_AGENT_WRITE_PROMPT: "1" })
    const [first, second, third] = ids as [string, string, string]
    const diff = await runCli(suite.db, ["jobs", "diff", first])
    assert.equal(diff.code, 0, diff.stderr)
    assert.doesNotMatch(diff.stdout, /\x1b|\x07/)
    assert.match(diff.stdout, /^\+red text end$/m)
    assert.match(diff.stdout, /^\+\+\+ b\/notes\.md$/m)

    const discarded = await runCli(suite.db, ["jobs", "discard", first])
    assert.equal(discarded.code, 0, discarded.stderr)
    assert.equal(git(repo, "branch", "--list", `aidp/${first.slice(0, 8)}`), "")
    assert.ok(!existsSync(path.join(repo, ".git", "aidp-worktrees", first.slice(0, 8))))
    assertCliError(await runCli(suite.db, ["jobs", "discard", first]), 1, "already removed")
    assert.equal((await showJob(suite.db, first)).worktreeState, "removed")

    assert.equal((await runCli(suite.db, ["jobs", "merge", second])).code, 0)
    // The suite's other jobs share the schema: only this test's are looked at.
    const cleaned = async (...flags: string[]): Promise<Array<string>> => {
      const result = await runCli(suite.db, ["jobs", "clean", ...flags, "--json"])
      assert.equal(result.code, 0, result.stderr)
      return JSON.parse(result.stdout).map((job: { id: string }) => job.id).filter((id: string) => ids.includes(id))
    }
    assert.deepEqual(await cleaned("--merged"), [second])
    assert.equal(git(repo, "branch", "--list", "--format=%(refname:short)", "aidp/*").trim(), `aidp/${third.slice(0, 8)}`)
    assert.deepEqual(await cleaned("--older-than", "1d"), [])
    assert.deepEqual(await cleaned("--dry-run"), [third])
    assert.equal(git(repo, "worktree", "list").trim().split("\n").length, 2, "a dry run removes nothing")
    assert.deepEqual(await cleaned(), [third])
    assert.equal(git(repo, "worktree", "list").trim().split("\n").length, 1)
    const removed = await suite.db.sql`select 1 from job_events where type = 'WorktreeRemoved' and job_id = any(${ids}::uuid[])`
    assert.equal(removed.length, 3)
  })
})
