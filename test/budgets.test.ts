/**
 * Pure tests of budgets (issue 7 item 6): `--max-cost`/`--max-turns` in the argv of each
 * provider, claude's `error_max_budget_usd`/`error_max_turns` results classified as `budget`
 * whatever `is_error` and the exit code say, the refusal of providers that cannot be held to
 * a budget, the JobQueued fields, the retry policy leaving `budget` to a person, and the
 * details' Limits line.
 */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { Result } from "effect"
import { decide, fold } from "../src/domain/decider.js"
import { decodeEvent } from "../src/domain/events.js"
import { type Budget, budgetRefusal, type Provider } from "../src/domain/job.js"
import { lineText } from "../src/terminal/view.js"
import { detailsContent } from "../src/terminal/view/details.js"
import { claudeAdapter } from "../src/workers/providers/claude.js"
import { adapterFor, argvOptions } from "../src/workers/providers/index.js"
import type { ExitInfo } from "../src/workers/providers/types.js"
import { cmd } from "./support/commandBuilders.js"
import { at, ev, EXEC_1 } from "./support/events.js"
import { details, job, NOW } from "./support/monitor-fixtures.js"

const exited = (exitCode: number): ExitInfo => ({ exitCode, signal: null, stderrTail: "", timedOut: false, cancelled: false, killedAfterTerminal: false })

const BUDGET_FLAGS = ["--max-budget-usd", "--max-turns"]

/** The budget flags (and their values) in an argv. */
const budgetFlags = (argv: ReadonlyArray<string>): string[] =>
  argv.filter((arg, i) => BUDGET_FLAGS.includes(arg) || BUDGET_FLAGS.includes(argv[i - 1] ?? ""))

describe("argv per provider", () => {
  const cases: ReadonlyArray<[Provider, Budget | undefined, ReadonlyArray<string>]> = [
    ["claude", { maxCostUsd: 0.5, maxTurns: 12 }, ["--max-budget-usd", "0.5", "--max-turns", "12"]],
    ["claude", { maxCostUsd: 2 }, ["--max-budget-usd", "2"]],
    ["claude", { maxCostUsd: 0.0001 }, ["--max-budget-usd", "0.0001"]],
    ["claude", { maxTurns: 1 }, ["--max-turns", "1"]],
    ["claude", {}, []],
    ["claude", undefined, []],
    // Refused when queued (budgetRefusal); their CLIs take no such flag.
    ["gemini", { maxCostUsd: 0.5, maxTurns: 12 }, []],
    ["cursor", { maxCostUsd: 0.5, maxTurns: 12 }, []]
  ]
  for (const [provider, budget, flags] of cases) {
    it(`${provider} with ${JSON.stringify(budget)}: ${flags.join(" ") || "no budget flag"}`, () => {
      const argv = adapterFor(provider).argv({ cwd: "/w", permissions: "edit", budget })
      assert.deepEqual(budgetFlags(argv), flags, argv.join(" "))
    })
  }

  it("a JobQueued's max_cost_usd and max_turns reach claude's argv", () => {
    const options = argvOptions(ev.queued({ provider: "claude", max_cost_usd: 0.75, max_turns: 30 }).data)
    assert.deepEqual(options.budget, { maxCostUsd: 0.75, maxTurns: 30 })
    assert.deepEqual(budgetFlags(claudeAdapter.argv(options)), ["--max-budget-usd", "0.75", "--max-turns", "30"])
  })
})

describe("claude stopped at a limit: kind budget", () => {
  const init = { type: "system", subtype: "init", cwd: "/w", session_id: "s1", model: "claude-sonnet-4-5", claude_code_version: "2.1.332" }
  // The result shape of PROVIDERS.md: no `result` text, cost and turns so far.
  const limitResult = (subtype: string, isError: boolean, costUsd: number, turns: number) =>
    ({ type: "result", subtype, is_error: isError, duration_ms: 5120, num_turns: turns, total_cost_usd: costUsd, usage: { input_tokens: 10, output_tokens: 50 }, session_id: "s1", permission_denials: [] })
  const judge = (budget: Budget | undefined, result: unknown, exitCode: number) => {
    let state = claudeAdapter.initial(budget)
    for (const line of [init, result]) state = claudeAdapter.onLine(state, JSON.stringify(line), "stdout").state
    return claudeAdapter.finish(state, exited(exitCode))
  }
  const cases: ReadonlyArray<[string, Budget | undefined, unknown, string]> = [
    ["error_max_budget_usd", { maxCostUsd: 0.5 }, limitResult("error_max_budget_usd", false, 0.52, 7), "claude stopped at its budget: $0.52 spent, limit $0.50 (--max-cost)."],
    ["error_max_budget_usd", { maxCostUsd: 0.5 }, limitResult("error_max_budget_usd", true, 0.52, 7), "claude stopped at its budget: $0.52 spent, limit $0.50 (--max-cost)."],
    ["error_max_budget_usd", { maxCostUsd: 0.0125 }, limitResult("error_max_budget_usd", false, 0.01312, 1), "claude stopped at its budget: $0.0131 spent, limit $0.0125 (--max-cost)."],
    ["error_max_budget_usd", { maxCostUsd: 3 }, limitResult("error_max_budget_usd", false, 3.1, 40), "claude stopped at its budget: $3.10 spent, limit $3.00 (--max-cost)."],
    ["error_max_budget_usd", undefined, limitResult("error_max_budget_usd", false, 0.6, 3), "claude stopped at its budget: $0.60 spent."],
    ["error_max_budget_usd", undefined, { type: "result", subtype: "error_max_budget_usd", is_error: true, session_id: "s1" }, "claude stopped at its budget."],
    ["error_max_turns", { maxTurns: 12 }, limitResult("error_max_turns", false, 0.3, 12), "claude stopped after 12 turns, limit 12 (--max-turns)."],
    ["error_max_turns", { maxTurns: 1, maxCostUsd: 5 }, limitResult("error_max_turns", true, 0.01, 1), "claude stopped after 1 turn, limit 1 (--max-turns)."],
    ["error_max_turns", undefined, { type: "result", subtype: "error_max_turns", is_error: false, session_id: "s1" }, "claude stopped at its turn limit."]
  ]
  for (const [subtype, budget, result, error] of cases) {
    for (const exitCode of [0, 1]) {
      const isError = (result as { is_error: boolean }).is_error
      it(`${subtype}, is_error ${isError}, exit ${exitCode}, limits ${JSON.stringify(budget)}: ${error}`, () => {
        const outcome = judge(budget, result, exitCode)
        assert.equal(outcome.kind, "failed", JSON.stringify(outcome))
        if (outcome.kind !== "failed") return
        assert.equal(outcome.errorKind, "budget")
        assert.equal(outcome.error, error)
        assert.equal(outcome.retryHint, undefined)
        assert.equal(outcome.cliVersion, "2.1.332")
      })
    }
  }

  it("other subtypes are not budget: success succeeds, error_during_execution is classified from its text", () => {
    const success = judge({ maxCostUsd: 1 }, { ...limitResult("success", false, 0.2, 2), result: "Done." }, 0)
    assert.equal(success.kind, "succeeded")
    const during = judge({ maxCostUsd: 1 }, { ...limitResult("error_during_execution", true, 0.2, 2), errors: ["Tool crashed"] }, 1)
    assert.equal(during.kind === "failed" ? during.errorKind : during.kind, "unknown")
  })
})

describe("providers that cannot be held to a budget are refused", () => {
  const cases: ReadonlyArray<[Provider, Budget, string | undefined]> = [
    ["claude", { maxCostUsd: 0.5, maxTurns: 12 }, undefined],
    ["gemini", {}, undefined],
    ["cursor", {}, undefined],
    ["gemini", { maxCostUsd: 0.5 }, "gemini reports no running cost and takes no turn limit, so aidp cannot hold it to --max-cost; use --provider claude, or leave out --max-cost."],
    ["gemini", { maxTurns: 3 }, "gemini reports no running cost and takes no turn limit, so aidp cannot hold it to --max-turns; use --provider claude, or leave out --max-turns."],
    ["cursor", { maxCostUsd: 1, maxTurns: 3 }, "cursor-agent reports no running cost and takes no turn limit, so aidp cannot hold it to --max-cost or --max-turns; use --provider claude, or leave out --max-cost and --max-turns."]
  ]
  for (const [provider, budget, refusal] of cases) {
    it(`${provider} with ${JSON.stringify(budget)}: ${refusal === undefined ? "runs" : "refused"}`, () => {
      assert.equal(budgetRefusal(provider, budget), refusal)
    })
  }
})

describe("the decider and the event", () => {
  it("Enqueue records the budget in JobQueued; none leaves the fields out", () => {
    const withBudget = decide(cmd.enqueue({ provider: "claude", budget: { maxCostUsd: 0.5, maxTurns: 12 } }), fold([]))
    assert.ok(Result.isSuccess(withBudget))
    const queued = withBudget.success[0]!
    assert.equal(queued.type, "JobQueued")
    if (queued.type !== "JobQueued") return
    assert.equal(queued.data.max_cost_usd, 0.5)
    assert.equal(queued.data.max_turns, 12)
    const without = decide(cmd.enqueue({ provider: "claude" }), fold([]))
    assert.ok(Result.isSuccess(without))
    assert.ok(!("max_cost_usd" in without.success[0]!.data) && !("max_turns" in without.success[0]!.data))
  })

  it("Enqueue of a gemini job with a budget is refused with the sentence", () => {
    const refused = decide(cmd.enqueue({ provider: "gemini", budget: { maxCostUsd: 0.5 } }), fold([]))
    assert.ok(Result.isFailure(refused))
    assert.match(refused.failure.message, /^gemini reports no running cost/)
  })

  it("a budget failure with attempts left is not re-queued: it waits for a person", () => {
    const history = [ev.queued({ provider: "claude", max_cost_usd: 0.5 }), ev.started(EXEC_1)]
    const events = decide(cmd.fail(EXEC_1, "budget", at(10_000)), fold(history))
    assert.ok(Result.isSuccess(events))
    assert.deepEqual(events.success.map((e) => e.type), ["ExecutionFailed"])
    assert.equal(fold([...history, ...events.success]).status, "failed")
    const retried = decide({ _tag: "Retry", now: at(20_000) }, fold([...history, ...events.success]))
    assert.ok(Result.isSuccess(retried), "a person can retry it")
  })

  it("old JobQueued events decode without the fields; a limit of 0 is refused by the schema", () => {
    const data = { provider: "claude", model: null, prompt: "x", cwd: "/w", step: null, priority: 0, max_attempts: 3, timeout_ms: 1000, metadata: {} }
    const old = decodeEvent({ type: "JobQueued", data })
    assert.ok(old.type === "JobQueued" && old.data.max_cost_usd === undefined && old.data.max_turns === undefined)
    assert.throws(() => decodeEvent({ type: "JobQueued", data: { ...data, max_cost_usd: 0 } }))
    assert.throws(() => decodeEvent({ type: "JobQueued", data: { ...data, max_turns: 0 } }))
    assert.throws(() => decodeEvent({ type: "JobQueued", data: { ...data, max_turns: 1.5 } }))
  })
})

describe("details: the Limits line", () => {
  const screen = (fields: Parameters<typeof details>[1]) => ({
    jobId: "aaaa1111-0000-4000-8000-000000000001",
    data: details(job("aaaa1111-0000-4000-8000-000000000001", { status: "failed" }), fields),
    loading: false,
    error: null,
    scroll: 0,
    follow: false,
    raw: false
  })
  const limits = (fields: Parameters<typeof details>[1]) =>
    detailsContent(screen(fields), NOW, 100).map((line) => lineText(line).trimEnd()).find((line) => line.startsWith("Limits"))

  it("names the cost and turns of each attempt when set, and nothing of them otherwise", () => {
    assert.equal(limits({ maxCostUsd: 0.5, maxTurns: 12 }), "Limits      3 attempts at most · timeout 30m00s, cost $0.5000, 12 turns each · priority 0")
    assert.equal(limits({ maxTurns: 1 }), "Limits      3 attempts at most · timeout 30m00s, 1 turn each · priority 0")
    assert.equal(limits({}), "Limits      3 attempts at most · timeout 30m00s each · priority 0")
  })
})
