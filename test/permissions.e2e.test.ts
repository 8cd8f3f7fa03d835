/**
 * Permissions end to end: `--permissions` / AIDP_PERMISSIONS reach each fake CLI as its own
 * flags and are shown by `jobs show`; bad values and cursor at plan are refused with one
 * sentence, exit 2, nothing enqueued; a run in which the agent was refused tool calls is
 * completed with a warning in `jobs show --json` (`warnings`), `jobs show` and `jobs list`.
 */
import assert from "node:assert/strict"
import path from "node:path"
import { describe, test } from "node:test"
import { runCli } from "./support/cli.js"
import { assertCliError, e2eSuite, eventCount, readCalls, showJob, waitForStatus, withWorker } from "./support/e2e.js"

describe("permissions end to end", () => {
  const suite = e2eSuite()
  const { dirs } = suite

  const enqueue = (cwd: string, provider: string, extra: ReadonlyArray<string> = [], env: NodeJS.ProcessEnv = {}) =>
    runCli(suite.db, ["jobs", "enqueue", "--provider", provider, "--prompt", "Tidy up.", "--cwd", cwd, "--max-attempts", "1", ...extra], { env })

  test("--permissions plan reaches claude as --permission-mode plan; AIDP_PERMISSIONS=full reaches gemini as --approval-mode yolo", async () => {
    const cwd = await dirs.make()
    const record = path.join(cwd, ".calls.jsonl")
    const plan = await enqueue(cwd, "claude", ["--permissions", "plan"], { AIDP_PERMISSIONS: "full" })
    const full = await enqueue(cwd, "gemini", [], { AIDP_PERMISSIONS: "full" })
    const ids = [plan.stdout.trim(), full.stdout.trim()]
    await withWorker(suite.db, { FAKE_AGENT_RECORD: record }, () => Promise.all(ids.map((id) => waitForStatus(suite.db, id, "completed"))))
    const calls = await readCalls(record)
    const argvOf = (flavor: string) => calls.find((call) => call.flavor === flavor)!.argv.join(" ")
    assert.match(argvOf("claude"), /--permission-mode plan\b/)
    assert.match(argvOf("gemini"), /--approval-mode yolo\b/)
    assert.equal((await showJob(suite.db, ids[0]!)).permissions, "plan")
    assert.equal((await showJob(suite.db, ids[1]!)).permissions, "full")
    const shown = await runCli(suite.db, ["jobs", "show", ids[0]!])
    assert.match(shown.stdout, /^Permissions plan \(read only\)$/m)
  })

  test("cursor at edit runs without --force, at full with it", async () => {
    const cwd = await dirs.make()
    const record = path.join(cwd, ".calls.jsonl")
    const ids = [(await enqueue(cwd, "cursor")).stdout.trim(), (await enqueue(cwd, "cursor", ["--permissions", "full"])).stdout.trim()]
    await withWorker(suite.db, { FAKE_AGENT_RECORD: record }, () => Promise.all(ids.map((id) => waitForStatus(suite.db, id, "completed"))))
    const byJob = await Promise.all(ids.map(async (id) => (await showJob(suite.db, id)).permissions))
    assert.deepEqual(byJob, ["edit", "full"])
    const forced = (await readCalls(record)).map((call) => call.argv.includes("--force") || call.argv.includes("-f")).sort()
    assert.deepEqual(forced, [false, true])
  })

  test("jobs enqueue --help and execute --help list --permissions", async () => {
    for (const command of [["jobs", "enqueue"], ["execute"]]) {
      const help = await runCli(suite.db, [...command, "--help"])
      assert.equal(help.code, 0, help.stderr)
      assert.match(help.stdout, /^ {2}--permissions L +what the agent may do: plan \(read only\), edit \(edit files\) or full/m, command.join(" "))
    }
  })

  for (const [what, args, env, pattern] of [
    ["an unknown --permissions value", ["--permissions", "root"], {}, /^aidp: --permissions must be one of plan, edit, full; got "root"\.$/],
    ["an unknown AIDP_PERMISSIONS value", [], { AIDP_PERMISSIONS: "all" }, /^aidp: Invalid AIDP_PERMISSIONS="all": expected one of plan, edit, full\.$/],
    ["cursor at plan", ["--permissions", "plan"], {}, /cursor-agent has no read-only mode/],
    ["cursor at plan from AIDP_PERMISSIONS", [], { AIDP_PERMISSIONS: "plan" }, /cannot run it with AIDP_PERMISSIONS=plan; /]
  ] as const) {
    test(`${what} is refused with one sentence, exit 2, nothing enqueued`, async () => {
      const cwd = await dirs.make()
      const before = await eventCount(suite.db, "JobQueued")
      assertCliError(await enqueue(cwd, "cursor", args, env), 2, pattern)
      assertCliError(await runCli(suite.db, ["execute", "next", "--provider", "cursor", ...args], { cwd, env }), 2, pattern)
      assert.equal(await eventCount(suite.db, "JobQueued"), before)
    })
  }

  for (const [provider, denied, listed] of [
    ["claude", 2, ["Bash rm -rf build", "Write src/app.ts"]],
    ["gemini", 1, ["run_shell_command npm test"]]
  ] as const) {
    test(`${provider}: a run with refused tool calls is completed with a warning (show --json warnings, show, list)`, async () => {
      const cwd = await dirs.make()
      const id = (await enqueue(cwd, provider)).stdout.trim()
      await withWorker(suite.db, { FAKE_AGENT_MODE: "denied" }, () => waitForStatus(suite.db, id, "completed"))
      const job = await showJob(suite.db, id)
      assert.equal(job.status, "completed")
      assert.equal(job.denied, denied)
      assert.deepEqual(job.warnings.map((w: { kind: string; tool: string; target: string }) => `${w.kind}: ${w.tool} ${w.target}`), listed.map((l) => `denied: ${l}`))
      assert.deepEqual(job.executions[0].denials.map((d: { tool: string; target: string }) => `${d.tool} ${d.target}`), listed)
      const shown = (await runCli(suite.db, ["jobs", "show", id])).stdout
      assert.match(shown, new RegExp(`^Warning +⚠ ${denied} denied: the agent was refused tool calls`, "m"))
      for (const line of listed) assert.ok(shown.includes(`denied: ${line}`), shown)
      const list = (await runCli(suite.db, ["jobs", "list", "--cwd", cwd])).stdout
      assert.match(list, new RegExp(`completed .*⚠ ${denied} denied$`, "m"))
    })
  }

  test("execute: a step whose agent was refused tool calls completes (exit 0) and says so", async () => {
    const cwd = await dirs.make()
    const result = await runCli(suite.db, ["execute", "next", "--provider", "claude", "--permissions", "plan"], { cwd, env: { FAKE_AGENT_MODE: "denied" } })
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /^Step 00_PRD completed in .*\n⚠ 2 denied: the agent was refused tool calls; aidp jobs show [0-9a-f-]{36} lists them\.$/m)
  })
})
