/**
 * Pure tests of permissions: each level mapped to each CLI's flags, the refusal of cursor at
 * plan, refused tool calls read from claude's `permission_denials` and gemini's tool results,
 * and how the list, the monitor and the details mark a run that was refused tools.
 */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { decodeEvent } from "../src/domain/events.js"
import { PERMISSIONS, type Permissions, type Provider } from "../src/domain/job.js"
import { renderJobList } from "../src/terminal/plain.js"
import { init, update } from "../src/terminal/update.js"
import { lineText, view } from "../src/terminal/view.js"
import { detailsContent } from "../src/terminal/view/details.js"
import { claudeAdapter, claudeDenials } from "../src/workers/providers/claude.js"
import { geminiAdapter } from "../src/workers/providers/gemini.js"
import { adapterFor, argvOptions } from "../src/workers/providers/index.js"
import type { ExitInfo, ProviderAdapter } from "../src/workers/providers/types.js"
import { details, execution, job, NOW, snapshot } from "./support/monitor-fixtures.js"

const exit0: ExitInfo = { exitCode: 0, signal: null, stderrTail: "", timedOut: false, cancelled: false, killedAfterTerminal: false }

/** Feeds stdout lines to an adapter and judges the run as exit 0. */
function run<S>(adapter: ProviderAdapter<S>, lines: ReadonlyArray<unknown>) {
  let state = adapter.initial()
  for (const line of lines) state = adapter.onLine(state, JSON.stringify(line), "stdout").state
  return adapter.finish(state, exit0)
}

describe("argv per provider and level", () => {
  const expected: ReadonlyArray<[Provider, Permissions, ReadonlyArray<string>]> = [
    ["claude", "plan", ["--permission-mode", "plan"]],
    ["claude", "edit", ["--permission-mode", "acceptEdits"]],
    ["claude", "full", ["--permission-mode", "bypassPermissions"]],
    ["gemini", "plan", ["--approval-mode", "plan"]],
    ["gemini", "edit", ["--approval-mode", "auto_edit"]],
    ["gemini", "full", ["--approval-mode", "yolo"]],
    ["cursor", "edit", []],
    ["cursor", "full", ["--force"]]
  ]
  for (const [provider, permissions, flags] of expected) {
    it(`${provider} at ${permissions}: ${flags.join(" ") || "no permission flag"}`, () => {
      const argv = adapterFor(provider).argv({ cwd: "/w", permissions })
      const permissionFlags = argv.filter((arg, i) =>
        ["--permission-mode", "--approval-mode", "--force", "-f", "--yolo", "-y"].includes(arg) ||
        ["--permission-mode", "--approval-mode"].includes(argv[i - 1] ?? ""))
      assert.deepEqual(permissionFlags, flags, argv.join(" "))
    })
  }

  it("cursor at plan throws the sentence that refuses such jobs: it has no read-only mode", () => {
    assert.throws(() => adapterFor("cursor").argv({ cwd: "/w", permissions: "plan" }), /cursor-agent has no read-only mode/)
  })

  it("a JobQueued from before permissions existed decodes and runs at edit", () => {
    const event = decodeEvent({
      type: "JobQueued",
      data: { provider: "claude", model: null, prompt: "x", cwd: "/w", step: null, priority: 0, max_attempts: 3, timeout_ms: 1000, metadata: {} }
    })
    assert.equal(event.type, "JobQueued")
    if (event.type !== "JobQueued") return
    assert.equal(event.data.permissions, undefined)
    assert.deepEqual(argvOptions(event.data), { model: undefined, cwd: "/w", permissions: "edit", budget: { maxCostUsd: undefined, maxTurns: undefined } })
  })

  it("an unknown level in an event is refused by the schema", () => {
    assert.throws(() => decodeEvent({
      type: "JobQueued",
      data: { provider: "claude", model: null, prompt: "x", cwd: "/w", step: null, priority: 0, max_attempts: 3, timeout_ms: 1000, metadata: {}, permissions: "root" }
    }))
    assert.deepEqual([...PERMISSIONS], ["plan", "edit", "full"])
  })
})

describe("refused tool calls", () => {
  // The real claude result shape (PROVIDERS.md): is_error false, refusals in permission_denials.
  const claudeResult = {
    type: "result",
    subtype: "success",
    is_error: false,
    result: "Here is the plan instead.",
    session_id: "s",
    total_cost_usd: 0.01,
    usage: { input_tokens: 1, output_tokens: 2 },
    permission_denials: [
      { tool_name: "Bash", tool_use_id: "toolu_04", tool_input: { command: "rm -rf build", description: "Remove the build folder" } },
      { tool_name: "Write", tool_use_id: "toolu_05", tool_input: { file_path: "/w/src/app.ts", content: "x" } }
    ]
  }

  it("claude: permission_denials are read with each call's main argument, paths relative to the cwd", () => {
    assert.deepEqual(claudeDenials(claudeResult, "/w"), [
      { tool: "Bash", target: "rm -rf build" },
      { tool: "Write", target: "src/app.ts" }
    ])
    assert.deepEqual(claudeDenials({ ...claudeResult, permission_denials: [] }, "/w"), [])
    assert.deepEqual(claudeDenials({ type: "result" }, "/w"), [], "older versions print no permission_denials")
  })

  it("claude: a run with permission_denials succeeds, carrying them", () => {
    const outcome = run(claudeAdapter, [{ type: "system", subtype: "init", cwd: "/w", model: "m" }, claudeResult])
    assert.equal(outcome.kind, "succeeded")
    if (outcome.kind !== "succeeded") return
    assert.deepEqual(outcome.denials.map((d) => d.tool), ["Bash", "Write"])
  })

  it("gemini: a call to a tool the approval mode did not give is a refusal; a tool that failed is not", () => {
    const call = (id: string, tool: string, parameters: object) => ({ type: "tool_use", tool_name: tool, tool_id: id, parameters })
    const failed = (id: string, type: string) => ({ type: "tool_result", tool_id: id, status: "error", output: "", error: { type, message: "m" } })
    const outcome = run(geminiAdapter, [
      { type: "init", model: "g" },
      call("a", "run_shell_command", { command: "npm test" }),
      failed("a", "tool_not_registered"),
      call("b", "read_file", { file_path: "missing.md" }),
      failed("b", "file_not_found"),
      call("c", "write_file", { file_path: "x.md", content: "x" }),
      failed("c", "execution_denied"),
      { type: "message", role: "assistant", content: "Done.", delta: true },
      { type: "result", status: "success", stats: {} }
    ])
    assert.equal(outcome.kind, "succeeded")
    if (outcome.kind !== "succeeded") return
    assert.deepEqual(outcome.denials, [{ tool: "run_shell_command", target: "npm test" }, { tool: "write_file", target: "x.md" }])
  })
})

describe("a completed run with refused tool calls, on screen", () => {
  const warned = job("cccc9999-0000-4000-8000-000000000000", { status: "completed", completedAt: NOW, durationMs: 5000, attempts: 1, denied: 2 })

  it("jobs list marks it ⚠ 2 denied", () => {
    const lines = renderJobList([warned], NOW, 100).trimEnd().split("\n")
    assert.match(lines[1]!, /completed .*⚠ 2 denied$/)
  })

  it("the monitor marks it under Recently completed (80 and 60 columns)", () => {
    for (const width of [80, 60]) {
      let [model] = init(NOW, width, 24)
      ;[model] = update(model, { type: "snapshotLoaded", snapshot: snapshot({ recent: [warned] }) })
      const row = view(model, width, 24).map(lineText).find((l) => l.includes("cccc9999")) ?? ""
      assert.match(row, /⚠ 2 denied/, `${width}: ${row}`)
    }
  })

  it("details show the permissions, the warning and each refused call under its execution", () => {
    const data = details(warned, {
      permissions: "plan",
      executions: [execution(1, { status: "succeeded", exitCode: 0, denials: [{ tool: "Bash", target: "rm -rf build" }, { tool: "Write", target: "src/app.ts" }] })]
    })
    const screen = { jobId: warned.id, data, loading: false, error: null, scroll: 0, follow: false, raw: false }
    const lines = detailsContent(screen, NOW, 80).map((l) => lineText(l).trimEnd())
    assert.ok(lines.includes("Permissions plan (read only)"), lines.join("\n"))
    assert.ok(lines.some((l) => l.startsWith("Warning     ⚠ 2 denied: the agent was refused tool calls")), lines.join("\n"))
    assert.ok(lines.includes("     denied: Bash rm -rf build"), lines.join("\n"))
    assert.ok(lines.includes("     denied: Write src/app.ts"), lines.join("\n"))
  })
})
