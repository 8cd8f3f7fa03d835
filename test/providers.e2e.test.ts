/**
 * End to end per provider: `aidp execute next --provider P` succeeds with each fake, and one
 * failure of each is recorded with its error kind and the CLI's own one-line message. Also
 * a provider binary that does not exist.
 */
import assert from "node:assert/strict"
import { readFile } from "node:fs/promises"
import path from "node:path"
import { describe, test } from "node:test"
import { findStep, stepPrompt } from "../src/domain/steps.js"
import { runCli, runJson } from "./support/cli.js"
import { assertCliError, e2eSuite, readCalls, showJob, waitForStatus, withWorker } from "./support/e2e.js"
import { waitFor } from "./support/wait.js"

interface Case {
  readonly provider: "claude" | "gemini" | "cursor"
  readonly flavor: string
  /** The failure to provoke, what it must be classified as, and the message the user sees. */
  readonly mode: string
  readonly errorKind: string
  readonly error: RegExp
  readonly exitCode: number | null
}

const CASES: ReadonlyArray<Case> = [
  { provider: "claude", flavor: "claude", mode: "overloaded", errorKind: "overloaded", error: /^API Error: Repeated 529 Overloaded errors\./, exitCode: 1 },
  { provider: "gemini", flavor: "gemini", mode: "rate_limit", errorKind: "rate_limit", error: /^Resource has been exhausted \(e\.g\. check quota\)\. Suggested retry after 1s\.$/, exitCode: 173 },
  { provider: "cursor", flavor: "cursor-agent", mode: "auth", errorKind: "auth", error: /^Authentication required\. Please run 'agent login' first/, exitCode: 1 }
]
/** Failures beyond one per provider: gemini's 401 `result` line (PROVIDERS.md, 0.61.0). */
const MORE_FAILURES: ReadonlyArray<Case> = [
  { provider: "gemini", flavor: "gemini", mode: "auth", errorKind: "auth", error: /^Request had invalid authentication credentials\. Expected OAuth 2 access token, login cookie or other valid authentication credential\.$/, exitCode: 145 }
]

describe("providers end to end", () => {
  const suite = e2eSuite()
  const { dirs } = suite

  for (const c of CASES) {
    test(`${c.provider}: execute next succeeds, prompt on stdin, document written`, async () => {
      const cwd = await dirs.make()
      const record = path.join(cwd, ".calls.jsonl")
      const result = await runCli(suite.db, ["execute", "next", "--provider", c.provider, "--json"], {
        cwd,
        env: { FAKE_AGENT_RECORD: record, FAKE_AGENT_RESULT: `PRD by ${c.provider}`, CLAUDECODE: "1", CLAUDE_CODE_ENTRYPOINT: "cli" }
      })
      assert.equal(result.code, 0, result.stderr)
      const job = JSON.parse(result.stdout)
      assert.equal(job.provider, c.provider)
      assert.equal(job.status, "completed")
      assert.equal(await readFile(path.join(cwd, "docs/PRD.md"), "utf8"), `PRD by ${c.provider}\n`)
      const [call] = await readCalls(record)
      assert.equal(call!.flavor, c.flavor)
      assert.equal(call!.stdin, stepPrompt(findStep("00_PRD")!))
      assert.ok(!call!.argv.some((arg) => arg.includes("Product Requirements")), `no prompt in argv: ${call!.argv.join(" ")}`)
      assert.ok(!call!.envKeys.includes("CLAUDECODE") && !call!.envKeys.includes("CLAUDE_CODE_ENTRYPOINT"), "no nested-agent variables")
    })
  }

  for (const c of [...CASES, ...MORE_FAILURES]) {
    test(`${c.provider}: ${c.mode} fails the job as ${c.errorKind} with the CLI's own message`, async () => {
      const cwd = await dirs.make()
      const env = { FAKE_AGENT_MODE: c.mode }
      const id = (await runCli(suite.db, ["jobs", "enqueue", "--provider", c.provider, "--prompt", "Write docs/PRD.md.", "--cwd", cwd, "--max-attempts", "1"])).stdout.trim()
      assert.match(id, /^[0-9a-f-]{36}$/)
      await withWorker(suite.db, env, () => waitForStatus(suite.db, id, "failed"))
      const job = await showJob(suite.db, id)
      assert.equal(job.errorKind, c.errorKind)
      assert.match(job.error, c.error)
      assert.doesNotMatch(job.error, /\n|^\s*at |^\{/, "one line of text, not a stack or JSON")
      assert.equal(job.executions.length, 1)
      assert.equal(job.executions[0].exitCode, c.exitCode)
      assert.equal(job.executions[0].errorKind, c.errorKind)
    })
  }

  test("gemini rate_limit with attempts left goes back to the queue (retry policy)", async () => {
    const cwd = await dirs.make()
    const id = (await runCli(suite.db, ["jobs", "enqueue", "--provider", "gemini", "--prompt", "x", "--cwd", cwd, "--max-attempts", "2"])).stdout.trim()
    await withWorker(suite.db, { FAKE_AGENT_MODE: "rate_limit" }, () =>
      waitFor("the first attempt to fail", async () =>
        (await suite.db.sql`select 1 from job_executions where job_id = ${id} and status = 'failed'`).length === 1))
    const job = await showJob(suite.db, id)
    assert.equal(job.executions[0].errorKind, "rate_limit")
    assert.equal(job.status, "queued")
    assert.equal(job.attempts, 1)
    assert.equal((await runCli(suite.db, ["jobs", "cancel", id])).code, 0)
  })

  test("a missing binary fails the job as not_installed naming the variable and an install hint", async () => {
    const cwd = await dirs.make()
    const result = await runCli(suite.db, ["execute", "next"], { cwd, env: { AIDP_CLAUDE_BIN: "/nonexistent/claude" } })
    assertCliError(result, 1, "not_installed", "AIDP_CLAUDE_BIN", "npm install -g @anthropic-ai/claude-code")
    const [job] = (await runJson<Array<any>>(suite.db, ["jobs", "list", "--json"])).filter((j) => j.cwd === cwd)
    assert.equal(job.status, "failed")
    assert.equal(job.errorKind, "not_installed")
    assert.match(job.error, /AIDP_CLAUDE_BIN=\/nonexistent\/claude/)
    assert.match(job.error, /Install it: npm install -g @anthropic-ai\/claude-code/)
  })
})
