/**
 * Budgets end to end (issue 7 item 6): `--max-cost`/`--max-turns` reach claude as
 * `--max-budget-usd`/`--max-turns`; the fake claude stops at them (its `budget` scenario) and
 * the job ends failed, kind budget, with the sentence, not queued again by the retry policy;
 * `jobs show` names the limits (Limits line, --json maxCostUsd, maxTurns) and a rebuild gives
 * the same rows; bad values and providers that cannot be held to a budget are refused with one
 * sentence, exit 2, nothing enqueued.
 */
import assert from "node:assert/strict"
import path from "node:path"
import { describe, test } from "node:test"
import { runCli, runJson } from "./support/cli.js"
import { assertCliError, e2eSuite, eventCount, readCalls, showJob, waitForStatus, withWorker } from "./support/e2e.js"

describe("budgets end to end", () => {
  const suite = e2eSuite()
  const { dirs } = suite

  const enqueue = (cwd: string, provider: string, extra: ReadonlyArray<string> = []) =>
    runCli(suite.db, ["jobs", "enqueue", "--provider", provider, "--prompt", "Tidy up.", "--cwd", cwd, ...extra])

  test("--max-cost: claude gets --max-budget-usd, stops past it, the job fails with kind budget and is not queued again", async () => {
    const cwd = await dirs.make()
    const record = path.join(cwd, ".calls.jsonl")
    const queued = await enqueue(cwd, "claude", ["--max-cost", "0.50", "--max-turns", "10", "--json"])
    assert.equal(queued.code, 0, queued.stderr)
    const id = JSON.parse(queued.stdout).id as string
    const retriesBefore = await eventCount(suite.db, "JobRetryRequested")
    // Each turn of the fake costs $0.20: after the third, $0.60 have been spent.
    await withWorker(suite.db, { FAKE_AGENT_MODE: "budget", FAKE_AGENT_RECORD: record }, () => waitForStatus(suite.db, id, "failed"))
    const [call] = await readCalls(record)
    assert.match(call!.argv.join(" "), /--max-budget-usd 0\.5 --max-turns 10\b/)
    const job = await showJob(suite.db, id)
    assert.equal(job.status, "failed")
    assert.equal(job.errorKind, "budget")
    assert.equal(job.error, "claude stopped at its budget: $0.60 spent, limit $0.50 (--max-cost).")
    assert.equal(job.maxCostUsd, 0.5)
    assert.equal(job.maxTurns, 10)
    assert.equal(job.attempts, 1, "3 attempts allowed, one spent: a budget is not retried automatically")
    assert.equal(job.retryReason, null)
    assert.equal(job.executions.length, 1)
    assert.equal(job.executions[0].errorKind, "budget")
    assert.equal(job.executions[0].costUsd, 0.6)
    assert.ok(job.executions[0].usage && job.executions[0].usage.outputTokens > 0, `the tokens the stopped run used are kept: ${JSON.stringify(job.executions[0].usage)}`)
    assert.equal(await eventCount(suite.db, "JobRetryRequested"), retriesBefore)
    const shown = (await runCli(suite.db, ["jobs", "show", id])).stdout
    assert.match(shown, /^Limits +3 attempts at most · timeout 30m00s, cost \$0\.5000, 10 turns each · priority 0$/m)
    const rebuilt = await runJson(suite.db, ["jobs", "replay", "--rebuild", "--json"])
    assert.deepEqual(rebuilt.tables.map((t: { table: string; identical: boolean }) => [t.table, t.identical]), [["workflows", true], ["jobs", true], ["job_executions", true], ["job_logs", true]])
  })

  test("--max-turns: claude stops after that many turns, kind budget", async () => {
    const cwd = await dirs.make()
    const id = (await enqueue(cwd, "claude", ["--max-turns", "2"])).stdout.trim()
    await withWorker(suite.db, { FAKE_AGENT_MODE: "budget" }, () => waitForStatus(suite.db, id, "failed"))
    const job = await showJob(suite.db, id)
    assert.equal(job.errorKind, "budget")
    assert.equal(job.error, "claude stopped after 2 turns, limit 2 (--max-turns).")
    assert.equal(job.maxCostUsd, null)
    assert.equal(job.maxTurns, 2)
  })

  test("within its budget the run completes; a job without limits shows null and no budget flag reaches claude", async () => {
    const cwd = await dirs.make()
    const record = path.join(cwd, ".calls.jsonl")
    const within = (await enqueue(cwd, "claude", ["--max-cost", "5"])).stdout.trim()
    const unlimited = (await enqueue(cwd, "claude")).stdout.trim()
    await withWorker(suite.db, { FAKE_AGENT_MODE: "budget", FAKE_AGENT_RESULT: "All five steps done.", FAKE_AGENT_RECORD: record }, () =>
      Promise.all([within, unlimited].map((id) => waitForStatus(suite.db, id, "completed"))))
    const argvs = (await readCalls(record)).map((call) => call.argv.join(" "))
    // One of the two got the flag (the order of the calls is the workers', and each argv ends with its own session id).
    assert.deepEqual(argvs.map((argv) => argv.includes("--max-budget-usd 5")).sort(), [false, true])
    assert.ok(argvs.every((argv) => !argv.includes("--max-turns")))
    const job = await showJob(suite.db, unlimited)
    assert.equal(job.maxCostUsd, null)
    assert.equal(job.maxTurns, null)
  })

  test("a person can retry a job that stopped at its budget", async () => {
    const cwd = await dirs.make()
    const id = (await enqueue(cwd, "claude", ["--max-turns", "1", "--max-attempts", "1"])).stdout.trim()
    await withWorker(suite.db, { FAKE_AGENT_MODE: "budget" }, () => waitForStatus(suite.db, id, "failed"))
    const retried = await runCli(suite.db, ["jobs", "retry", id])
    assert.equal(retried.code, 0, retried.stderr)
    assert.equal((await showJob(suite.db, id)).status, "queued")
  })

  for (const [what, provider, args, pattern] of [
    ["gemini with --max-cost", "gemini", ["--max-cost", "0.5"], /^aidp: gemini reports no running cost and takes no turn limit, so aidp cannot hold it to --max-cost; use --provider claude, or leave out --max-cost\.$/],
    ["cursor with --max-turns", "cursor", ["--max-turns", "5"], /^aidp: cursor-agent reports no running cost and takes no turn limit, so aidp cannot hold it to --max-turns; use --provider claude, or leave out --max-turns\.$/],
    ["--max-cost 0", "claude", ["--max-cost", "0"], /^aidp: --max-cost must be an amount of US dollars above 0 and up to 100000, with at most 4 decimals \(e\.g\. --max-cost 0\.50\); got "0"\.$/],
    ["--max-cost -1", "claude", ["--max-cost", "-1"], /--max-cost must be an amount of US dollars above 0/],
    ["--max-cost $5", "claude", ["--max-cost", "$5"], /--max-cost must be an amount of US dollars above 0/],
    ["--max-cost 0.00001", "claude", ["--max-cost", "0.00001"], /with at most 4 decimals/],
    ["--max-cost without a value", "claude", ["--max-cost"], /^aidp: --max-cost needs a value\./],
    ["--max-turns 0", "claude", ["--max-turns", "0"], /^aidp: --max-turns must be a whole number from 1 to 10000\.$/],
    ["--max-turns 2.5", "claude", ["--max-turns", "2.5"], /^aidp: --max-turns must be a whole number in decimal digits/]
  ] as const) {
    test(`${what} is refused with one sentence, exit 2, nothing enqueued (jobs enqueue and execute)`, async () => {
      const cwd = await dirs.make()
      const before = await eventCount(suite.db, "JobQueued")
      assertCliError(await enqueue(cwd, provider, args), 2, pattern)
      assertCliError(await runCli(suite.db, ["execute", "next", "--provider", provider, ...args], { cwd }), 2, pattern)
      assert.equal(await eventCount(suite.db, "JobQueued"), before)
    })
  }

  test("execute --max-cost: the step's job carries the limit and fails with kind budget (exit 1)", async () => {
    const cwd = await dirs.make()
    const result = await runCli(suite.db, ["execute", "next", "--max-cost", "0.3", "--json"], { cwd, env: { FAKE_AGENT_MODE: "budget" } })
    assert.equal(result.code, 1, result.stderr)
    const job = JSON.parse(result.stdout)
    assert.equal(job.errorKind, "budget")
    assert.equal(job.maxCostUsd, 0.3)
    assert.equal(job.error, "claude stopped at its budget: $0.40 spent, limit $0.30 (--max-cost).")
  })
})
