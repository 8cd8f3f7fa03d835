/**
 * `aidp jobs logs` and `aidp execute` as a user runs them (built CLI, fake providers in their
 * `activity` scenario, real PostgreSQL): the activity by default, `--raw`, `--json`,
 * `--follow` of a running job, escape sequences made harmless in each.
 */
import assert from "node:assert/strict"
import { describe, test } from "node:test"
import { finished, runCli, runJson, startCli } from "./support/cli.js"
import { assertCliError, e2eSuite, showJob, waitForStatus, withWorker } from "./support/e2e.js"
import { formatClock } from "../src/terminal/view/format.js"

const PROVIDERS = ["claude", "gemini", "cursor"] as const

describe("aidp jobs logs", () => {
  const suite = e2eSuite()
  const ids = { claude: "", gemini: "", cursor: "" }
  const enqueue = async (provider: string, cwd: string): Promise<string> =>
    (await runJson(suite.db, ["jobs", "enqueue", "--provider", provider, "--prompt", "Look at the docs.", "--cwd", cwd, "--json"])).id
  const logs = async (...args: string[]): Promise<string> => {
    const result = await runCli(suite.db, ["jobs", "logs", ...args])
    assert.equal(result.code, 0, result.stderr)
    assert.equal(result.stderr, "")
    return result.stdout
  }

  test("a claude, a gemini and a cursor job run to completion", async () => {
    const cwd = await suite.dirs.make({ git: false })
    for (const provider of PROVIDERS) ids[provider] = await enqueue(provider, cwd)
    await withWorker(suite.db, { FAKE_AGENT_MODE: "activity" }, async () => {
      for (const provider of PROVIDERS) await waitForStatus(suite.db, ids[provider], "completed")
    })
  })

  test("by default it prints the activity in words, wrapped to 100 columns when piped", async () => {
    const claude = await logs(ids.claude.slice(0, 8))
    for (const pattern of [
      /^── Attempt 1 ──$/m,
      /^\d\d:\d\d:\d\d aidp {5}Attempt 1 started by worker /m,
      /^\d\d:\d\d:\d\d session {2}model claude-sonnet-4-5-20250929, CLI 2\.1\.332$/m,
      /^\d\d:\d\d:\d\d retry {4}API call attempt 1 of 10 failed \(HTTP 529 rate_limit\); the CLI retries in 1\.0s$/m,
      /^\d\d:\d\d:\d\d thinking The user wants a look at the docs folder\.$/m,
      /^\d\d:\d\d:\d\d agent {4}I'll read the notes first\.$/m,
      /^\d\d:\d\d:\d\d tool {5}Read missing\.md$/m,
      /^\d\d:\d\d:\d\d output {3}Read failed \(\d+ bytes\): <tool_use_error>File does not exist\.<\/tool_use_error>$/m,
      /^\d\d:\d\d:\d\d tool {5}Bash ls docs$/m,
      /^\d\d:\d\d:\d\d output {3}Bash ok, 6 bytes$/m,
      /^\d\d:\d\d:\d\d result {3}succeeded in 5\.1s, 3 turns; tokens 10 in, 50 out; cost \$0\.0123$/m
    ]) assert.match(claude, pattern)

    const gemini = await logs(ids.gemini)
    for (const pattern of [
      /^\d\d:\d\d:\d\d stderr {3}Loaded cached credentials\.$/m,
      /^\d\d:\d\d:\d\d retry {4}API call attempt 1 failed \(HTTP 429 ApiError:\n {18}\{"error":\{"code":429,/m,
      /^\d\d:\d\d:\d\d warning {2}Loop detection was disabled for this session\.$/m,
      /^\d\d:\d\d:\d\d output {3}read_file failed \(0 bytes\): File not found: missing\.md$/m,
      /^\d\d:\d\d:\d\d tool {5}run_shell_command ls docs$/m,
      /^\d\d:\d\d:\d\d agent {4}The docs folder has one file\.$/m,
      /^\d\d:\d\d:\d\d result {3}succeeded in 5\.1s; tokens 1,100 in, 134 out$/m
    ]) assert.match(gemini, pattern)

    const cursor = await logs(ids.cursor)
    assert.match(cursor, /^\d\d:\d\d:\d\d thinking The user wants a look at the docs folder\.$/m)
    assert.equal(cursor.match(/I'll list/g)?.length, 1, "pieces, then whole: shown once")
    assert.match(cursor, /^\d\d:\d\d:\d\d tool {5}shell ls docs\n\d\d:\d\d:\d\d output {3}shell ok, \d+ bytes$/m)

    for (const out of [claude, gemini, cursor]) {
      assert.doesNotMatch(out, /\{"type"/, "no raw JSON")
      for (const line of out.split("\n")) assert.ok([...line].length <= 100, `wider than 100 columns: ${line}`)
    }
  })

  test("--raw prints the stored lines unchanged", async () => {
    const job = await showJob(suite.db, ids.gemini)
    const expected = job.logs.map((log: any) => `${formatClock(new Date(log.at))} ${log.stream.padEnd(6)} ${log.message}\n`).join("")
    assert.ok(job.logs.some((log: any) => log.message.startsWith("{\"type\":\"init\"")))
    assert.equal(await logs(ids.gemini, "--raw"), expected)
  })

  test("--json prints the activity entries as one JSON document", async () => {
    const entries = JSON.parse(await logs(ids.claude, "--json")) as Array<any>
    const job = await showJob(suite.db, ids.claude)
    const executionId = job.executions[0].id
    assert.deepEqual(entries.find((e) => e.kind === "attempt"), { kind: "attempt", at: entries.find((e) => e.kind === "attempt").at, executionId, attempt: 1 })
    assert.deepEqual(
      entries.filter((e) => e.kind !== "raw" && e.kind !== "attempt").map((e) => e.kind),
      ["session", "retry", "thinking", "text", "tool", "toolResult", "tool", "toolResult", "text", "result"]
    )
    const result = entries.find((e) => e.kind === "result")
    assert.deepEqual(result.usage, { inputTokens: 10, outputTokens: 50, cacheReadTokens: 0, cacheWriteTokens: 0 })
    assert.equal(result.costUsd, 0.0123)
    assert.equal(entries.find((e) => e.kind === "tool").target, "missing.md")
    assert.equal(entries.find((e) => e.kind === "toolResult").ok, false)
    assert.match(entries[0].at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
  })

  test("--raw and --json together are refused", async () => {
    assertCliError(await runCli(suite.db, ["jobs", "logs", ids.claude, "--raw", "--json"]), 2, "--raw", "--json")
  })

  test("--follow of a running job prints its activity as it arrives and returns when it ends; with --json, JSON lines", async () => {
    const cwd = await suite.dirs.make({ git: false })
    const id = await enqueue("cursor", cwd)
    await withWorker(suite.db, { FAKE_AGENT_MODE: "activity", FAKE_AGENT_DELAY_MS: "300" }, async () => {
      await waitForStatus(suite.db, id, "running")
      const followedAt = new Date()
      const text = finished(startCli(suite.db, ["jobs", "logs", id, "--follow"]), { timeoutMs: 30_000 })
      const json = finished(startCli(suite.db, ["jobs", "logs", id, "--follow", "--json"]), { timeoutMs: 30_000 })
      const [followed, followedJson] = await Promise.all([text, json])
      const job = await showJob(suite.db, id)
      assert.equal(job.status, "completed")
      assert.ok(new Date(job.completedAt) > followedAt, "the job was still running when --follow started")
      assert.equal(followed.code, 0, followed.stderr)
      assert.equal(followed.stdout, await logs(id), "the same activity as printed at the end")
      assert.match(followed.stdout, /result {3}succeeded/)
      assert.equal(followedJson.code, 0, followedJson.stderr)
      const entries = followedJson.stdout.trimEnd().split("\n").map((line) => JSON.parse(line))
      assert.deepEqual(entries, JSON.parse(await logs(id, "--json")))
    })
  })

  test("escape sequences stay harmless in the activity, --raw and --json", async () => {
    const cwd = await suite.dirs.make({ git: false })
    const id = await enqueue("gemini", cwd)
    await withWorker(suite.db, { FAKE_AGENT_MODE: "invalid_utf8_ansi" }, () => waitForStatus(suite.db, id, "completed"))
    const job = await showJob(suite.db, id)
    assert.ok(job.logs.some((log: any) => log.message.includes("\x1b[31m")), "the log keeps the escape sequence")
    for (const args of [[], ["--raw"], ["--json"]]) {
      const out = await logs(id, ...args)
      assert.ok(!out.includes("\x1b"), `no ESC byte with ${args.join(" ") || "no flag"}`)
    }
    assert.match(await logs(id), /stdout {3}plain red text \ufffd\ufffd end/)
    assert.match(await logs(id, "--raw"), /stdout plain red text \ufffd\ufffd end/)
  })
})

describe("aidp execute prints the activity while it waits", () => {
  const suite = e2eSuite()

  test("the attempt line, then the agent's activity without aidp's own lines", async () => {
    const cwd = await suite.dirs.make()
    const result = await runCli(suite.db, ["execute", "next"], { cwd, env: { FAKE_AGENT_MODE: "activity", FAKE_AGENT_RESULT: "# PRD\nThe product." } })
    assert.equal(result.code, 0, result.stderr)
    const out = result.stdout
    assert.match(out, /^Attempt 1 of \d+ started\.\n\d\d:\d\d:\d\d session {2}model claude/m)
    assert.match(out, /^\d\d:\d\d:\d\d tool {5}Bash ls docs$/m)
    assert.match(out, /^\d\d:\d\d:\d\d retry {4}API call attempt 1 of 10 failed/m)
    assert.match(out, /^\d\d:\d\d:\d\d result {3}succeeded in 5\.1s/m)
    assert.match(out, /^Step 00_PRD completed in /m)
    assert.doesNotMatch(out, /── Attempt|aidp {5}|\{"type"/)
  })
})
