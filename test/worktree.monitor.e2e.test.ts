/**
 * The monitor with `--worktree` jobs, in a pseudo-terminal (issue 11's "done when"): the list
 * shows what each changed, `D` hands the diff to the user's pager and takes the terminal back,
 * the action menu merges one job's branch and discards another's.
 */
import assert from "node:assert/strict"
import { execFileSync } from "node:child_process"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import path from "node:path"
import { describe, it } from "node:test"
import { CLI, cliEnv, runCli } from "./support/cli.js"
import { e2eSuite, waitForStatus, withWorker } from "./support/e2e.js"
import { spawnInPty } from "./support/pty.js"
import { waitFor } from "./support/wait.js"

const git = (dir: string, ...args: string[]): string => {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("GIT_")))
  return execFileSync("git", ["-C", dir, ...args], { env, encoding: "utf8" })
}

describe("the monitor with worktree jobs", { timeout: 180_000 }, () => {
  const suite = e2eSuite()

  it("shows each job's changes, pages a diff with D, merges one and discards another from the menu", async () => {
    const repo = await suite.dirs.make()
    git(repo, "config", "user.name", "Test")
    git(repo, "config", "user.email", "test@example.com")
    writeFileSync(path.join(repo, "shared.txt"), "base\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "init")
    const ids: Array<string> = []
    for (const prompt of ["version one", "version two"]) {
      const result = await runCli(suite.db, ["jobs", "enqueue", "--provider", "claude", "--prompt", prompt, "--cwd", repo, "--worktree"])
      assert.equal(result.code, 0, result.stderr)
      ids.push(result.stdout.trim())
    }
    await withWorker(suite.db, { FAKE_AGENT_WRITE: "shared.txt", FAKE_AGENT_WRITE_PROMPT: "1" }, async () => {
      for (const id of ids) await waitForStatus(suite.db, id, "completed")
    })
    const paged = path.join(repo, ".git", "paged.txt")
    const env = cliEnv(suite.db, { PAGER: `cat > '${paged}'`, NO_COLOR: "1" }) as Record<string, string>
    const monitor = spawnInPty(process.execPath, [CLI, "jobs"], { cols: 110, rows: 24, env })
    try {
      await monitor.waitForText("Recently completed (2)")
      const screen = () => monitor.screenText()
      for (const id of ids) assert.match(screen(), new RegExp(`${id.slice(0, 8)} .*completed .*1 file \\+1 −1`))
      // The newest job is at the top of its group, selected by Home then Down past the empty groups.
      await monitor.press("home")
      const selected = (): string | undefined => /^› ([0-9a-f]{8})/m.exec(screen())?.[1]
      const first = await waitFor("a selected job", () => selected())
      assert.ok(ids.some((id) => id.startsWith(first)))
      const other = ids.find((id) => !id.startsWith(first))!.slice(0, 8)

      await monitor.press("D")
      await waitFor("the pager to be given the diff", () => existsSync(paged) && readFileSync(paged, "utf8").includes("+++ b/shared.txt"))
      assert.match(readFileSync(paged, "utf8"), /^\+version (one|two)$/m)
      await monitor.waitForText("Recently completed (2)")

      await monitor.press("enter")
      await monitor.waitForText("Merge branch")
      await monitor.press("m")
      await monitor.waitForText(new RegExp(`Merged aidp/${first} into master`))
      assert.match(git(repo, "log", "-1", "--format=%s"), new RegExp(`^Merge aidp job ${first} `))
      await monitor.waitForText(/1 file \+1 −1 \(merged\)/)

      await monitor.press("down")
      await waitFor("the other job selected", () => selected() === other)
      await monitor.press("enter")
      await monitor.waitForText(/Discard +x/)
      await monitor.press("x")
      await monitor.waitForText(`Removed the worktree and branch aidp/${other}`)
      assert.equal(git(repo, "branch", "--list", `aidp/${other}`), "")
      assert.equal(git(repo, "status", "--porcelain"), "", "the main working tree holds only the merged work")
      assert.equal(readFileSync(path.join(repo, "shared.txt"), "utf8"), readFileSync(paged, "utf8").includes("+version one") ? "version one\n" : "version two\n")
      await monitor.press("q")
      assert.equal(await monitor.exitCode, 0)
    } finally {
      try {
        monitor.kill("SIGKILL")
      } catch {
        // already gone
      }
    }
  })
})
