/**
 * The activity renderers (src/domain/activity), table-driven from the CLIs' real byte shapes
 * (PROVIDERS.md and test/fakes/fake-agent.mjs): what each stored line turns into.
 */
import assert from "node:assert/strict"
import { execFileSync } from "node:child_process"
import { describe, it } from "node:test"
import { fileURLToPath } from "node:url"
import { activityOf, endActivity, startActivity, stepActivity } from "../src/domain/activity/fold.js"
import type { ActivityEntry, ActivityLine } from "../src/domain/activity/types.js"
import type { Provider } from "../src/domain/job.js"

const T0 = Date.parse("2026-01-01T10:00:00Z")
const CWD = "/home/me/project"

/** Stored lines: strings are stdout, `[stream, text]` pairs name the stream; one execution. */
type Input = string | readonly ["stdout" | "stderr" | "system", string]
const linesOf = (inputs: ReadonlyArray<Input>, executionId: string | null = "e1"): ActivityLine[] =>
  inputs.map((input, i) => {
    const [stream, message] = typeof input === "string" ? (["stdout", input] as const) : input
    return { at: new Date(T0 + i * 1000), stream, message, executionId }
  })
/** Entries without their time and without the execution header, for comparing. */
const bodies = (entries: ReadonlyArray<ActivityEntry>) =>
  entries.filter((e) => e.kind !== "attempt").map(({ at: _at, ...rest }) => rest)
const j = (value: unknown): string => JSON.stringify(value)

const claudeInit = j({ type: "system", subtype: "init", cwd: CWD, session_id: "s1", tools: ["Bash"], model: "claude-sonnet-4-5-20250929", permissionMode: "acceptEdits", claude_code_version: "2.1.332", uuid: "u1" })
const claudeAssistant = (content: unknown[]) => j({ type: "assistant", message: { id: "msg_01", type: "message", role: "assistant", content, usage: { input_tokens: 3, output_tokens: 12 } }, parent_tool_use_id: null, session_id: "s1" })
const claudeToolResult = (id: string, content: unknown, isError?: boolean) =>
  j({ type: "user", message: { role: "user", content: [{ tool_use_id: id, type: "tool_result", content, ...(isError === undefined ? {} : { is_error: isError }) }] }, session_id: "s1" })
const claudeResult = (fields: Record<string, unknown>) =>
  j({ type: "result", subtype: "success", is_error: false, duration_ms: 5120, num_turns: 3, result: "Done.", session_id: "s1", total_cost_usd: 0.0123, usage: { input_tokens: 10, cache_creation_input_tokens: 4, cache_read_input_tokens: 20, output_tokens: 50 }, ...fields })

const geminiAt = "2026-01-01T10:00:00.000Z"
const gemini = (fields: Record<string, unknown>) => j({ timestamp: geminiAt, ...fields })
const geminiStats = { total_tokens: 1234, input_tokens: 1100, output_tokens: 134, cached: 7, duration_ms: 5120, tool_calls: 1 }

const cursorInit = j({ type: "system", subtype: "init", apiKeySource: "env", cwd: CWD, session_id: "s1", model: "Claude 4.5 Sonnet", permissionMode: "default" })
const cursorText = (text: string) => j({ type: "assistant", message: { role: "assistant", content: [{ type: "text", text }] }, session_id: "s1" })
const cursorThinking = (text: string) => j({ type: "thinking", subtype: "delta", text, session_id: "s1", timestamp_ms: 1 })
const cursorTool = (subtype: string, result?: unknown) =>
  j({ type: "tool_call", subtype, call_id: "call_1", tool_call: { shellToolCall: { args: { command: "ls docs" }, ...(result === undefined ? {} : { result }) } }, session_id: "s1" })

const usage = (inputTokens: number, outputTokens: number, cacheReadTokens = 0, cacheWriteTokens = 0) => ({ inputTokens, outputTokens, cacheReadTokens, cacheWriteTokens })

interface Case {
  readonly name: string
  readonly provider: Provider
  readonly lines: ReadonlyArray<Input>
  readonly expected: ReadonlyArray<Record<string, unknown>>
}

const CASES: ReadonlyArray<Case> = [
  // ---- claude ----
  { name: "claude system/init: the session with model and CLI version", provider: "claude", lines: [claudeInit], expected: [{ kind: "session", model: "claude-sonnet-4-5-20250929", version: "2.1.332" }] },
  {
    name: "claude assistant with text, thinking and tool_use blocks; paths under cwd made relative",
    provider: "claude",
    lines: [claudeInit, claudeAssistant([{ type: "thinking", thinking: "Plan: read it." }, { type: "text", text: "I'll write the file." }, { type: "tool_use", id: "toolu_01", name: "Write", input: { file_path: `${CWD}/docs/PRD.md`, content: "# PRD\n" } }])],
    expected: [
      { kind: "session", model: "claude-sonnet-4-5-20250929", version: "2.1.332" },
      { kind: "thinking", text: "Plan: read it." },
      { kind: "text", text: "I'll write the file." },
      { kind: "tool", name: "Write", target: "docs/PRD.md" }
    ]
  },
  {
    name: "claude user/tool_result: ok with its size, named after its tool_use",
    provider: "claude",
    lines: [claudeAssistant([{ type: "tool_use", id: "toolu_01", name: "Bash", input: { command: "ls -1" } }]), claudeToolResult("toolu_01", "PRD.md\nNFRS.md")],
    expected: [{ kind: "tool", name: "Bash", target: "ls -1" }, { kind: "toolResult", name: "Bash", ok: true, bytes: 14, error: null }]
  },
  {
    name: "claude user/tool_result with is_error, content as text blocks, size in UTF-8 bytes",
    provider: "claude",
    lines: [claudeToolResult("toolu_09", [{ type: "text", text: "Fehler: Datei fehlt — ✗" }], true)],
    expected: [{ kind: "toolResult", name: null, ok: false, bytes: Buffer.byteLength("Fehler: Datei fehlt — ✗"), error: "Fehler: Datei fehlt — ✗" }]
  },
  {
    name: "claude system/api_retry",
    provider: "claude",
    lines: [j({ type: "system", subtype: "api_retry", attempt: 1, max_retries: 10, retry_delay_ms: 608, error_status: 529, error: "overloaded", session_id: "s1" })],
    expected: [{ kind: "retry", attempt: 1, maxRetries: 10, delayMs: 608, status: 529, reason: "overloaded" }]
  },
  {
    name: "claude result success: usage and cost; the final text only when it says something new",
    provider: "claude",
    lines: [claudeAssistant([{ type: "text", text: "Done." }]), claudeResult({})],
    expected: [
      { kind: "text", text: "Done." },
      { kind: "result", ok: true, text: null, durationMs: 5120, turns: 3, usage: usage(10, 50, 20, 4), costUsd: 0.0123 }
    ]
  },
  {
    name: "claude result with is_error (an API failure reported as subtype success)",
    provider: "claude",
    lines: [claudeResult({ is_error: true, api_error_status: 429, result: "API Error: Request rejected (429) · rate limit", num_turns: 1, duration_ms: 812, total_cost_usd: 0, usage: { input_tokens: 0, output_tokens: 0 } })],
    expected: [{ kind: "result", ok: false, text: "API Error: Request rejected (429) · rate limit", durationMs: 812, turns: 1, usage: usage(0, 0), costUsd: 0 }]
  },
  {
    name: "claude result error_max_turns without a result text",
    provider: "claude",
    lines: [j({ type: "result", subtype: "error_max_turns", is_error: true, num_turns: 10, session_id: "s1" })],
    expected: [{ kind: "result", ok: false, text: "error_max_turns", durationMs: null, turns: 10, usage: null, costUsd: null }]
  },
  {
    name: "claude events to tolerate produce nothing",
    provider: "claude",
    lines: [j({ type: "rate_limit_event", rate_limit_info: {} }), j({ type: "tool_progress", heartbeat: true }), j({ type: "system", subtype: "hook" }), j({ type: "assistant" })],
    expected: []
  },
  // ---- gemini ----
  { name: "gemini init", provider: "gemini", lines: [gemini({ type: "init", session_id: "s1", model: "gemini-2.5-pro" })], expected: [{ kind: "session", model: "gemini-2.5-pro", version: null }] },
  {
    name: "gemini message deltas joined into one entry; the user's message left out",
    provider: "gemini",
    lines: [gemini({ type: "message", role: "user", content: "Say hello" }), gemini({ type: "message", role: "assistant", content: "Hel", delta: true }), gemini({ type: "message", role: "assistant", content: "lo the", delta: true }), gemini({ type: "message", role: "assistant", content: "re.", delta: true })],
    expected: [{ kind: "text", text: "Hello there." }]
  },
  {
    name: "gemini tool_use and tool_result success; the next event ends the joined text",
    provider: "gemini",
    lines: [
      gemini({ type: "message", role: "assistant", content: "Let me look.", delta: true }),
      gemini({ type: "tool_use", tool_name: "read_file", tool_id: "read_file-1", parameters: { file_path: "docs/PRD.md" } }),
      gemini({ type: "tool_result", tool_id: "read_file-1", status: "success", output: "# PRD" })
    ],
    expected: [{ kind: "text", text: "Let me look." }, { kind: "tool", name: "read_file", target: "docs/PRD.md" }, { kind: "toolResult", name: "read_file", ok: true, bytes: 5, error: null }]
  },
  {
    name: "gemini tool_result error",
    provider: "gemini",
    lines: [gemini({ type: "tool_result", tool_id: "x-1", status: "error", output: "", error: { type: "file_not_found", message: "File not found: a.md" } })],
    expected: [{ kind: "toolResult", name: null, ok: false, bytes: 0, error: "File not found: a.md" }]
  },
  {
    name: "gemini error events: a warning and an error",
    provider: "gemini",
    lines: [gemini({ type: "error", severity: "warning", message: "Loop detection disabled." }), gemini({ type: "error", severity: "error", message: "Tool registry failed." })],
    expected: [{ kind: "warning", text: "Loop detection disabled." }, { kind: "error", text: "Tool registry failed." }]
  },
  {
    name: "gemini result success with stats; result error with its message",
    provider: "gemini",
    lines: [gemini({ type: "result", status: "success", stats: geminiStats }), gemini({ type: "result", status: "error", error: { type: "TerminalQuotaError", message: "You have exhausted your daily quota." }, stats: geminiStats })],
    expected: [
      { kind: "result", ok: true, text: null, durationMs: 5120, turns: null, usage: usage(1100, 134, 7), costUsd: null },
      { kind: "result", ok: false, text: "You have exhausted your daily quota.", durationMs: 5120, turns: null, usage: usage(1100, 134, 7), costUsd: null }
    ]
  },
  {
    name: "gemini stderr retry notices become retries; other stderr is shown as it is",
    provider: "gemini",
    lines: [
      ["stderr", "Loaded cached credentials."],
      ["stderr", "Attempt 1 failed with status 429. Retrying with backoff... ApiError: {\"error\":{\"code\":429}}"],
      ["stderr", "Attempt 2 failed with status 429. Retrying with backoff..."]
    ],
    expected: [
      { kind: "raw", stream: "stderr", text: "Loaded cached credentials." },
      { kind: "retry", attempt: 1, maxRetries: null, delayMs: null, status: 429, reason: "ApiError: {\"error\":{\"code\":429}}" },
      { kind: "retry", attempt: 2, maxRetries: null, delayMs: null, status: 429, reason: null }
    ]
  },
  {
    name: "gemini stderr noise does not split a message being joined",
    provider: "gemini",
    lines: [gemini({ type: "message", role: "assistant", content: "One ", delta: true }), ["stderr", "Attempt 1 failed with status 429. Retrying with backoff..."], gemini({ type: "message", role: "assistant", content: "two.", delta: true })],
    expected: [{ kind: "retry", attempt: 1, maxRetries: null, delayMs: null, status: 429, reason: null }, { kind: "text", text: "One two." }]
  },
  // ---- cursor ----
  {
    name: "cursor thinking deltas joined into one thinking entry",
    provider: "cursor",
    lines: [cursorInit, cursorThinking("The user "), cursorThinking("wants a "), cursorThinking("list."), j({ type: "thinking", subtype: "completed", session_id: "s1" })],
    expected: [{ kind: "session", model: "Claude 4.5 Sonnet", version: null }, { kind: "thinking", text: "The user wants a list." }]
  },
  {
    name: "cursor tool_call started then completed",
    provider: "cursor",
    lines: [cursorTool("started"), cursorTool("completed", { success: { command: "ls docs", exitCode: 0, stdout: "PRD.md\n" } })],
    expected: [{ kind: "tool", name: "shell", target: "ls docs" }, { kind: "toolResult", name: "shell", ok: true, bytes: Buffer.byteLength(j({ command: "ls docs", exitCode: 0, stdout: "PRD.md\n" })), error: null }]
  },
  {
    name: "cursor tool_call completed with an error",
    provider: "cursor",
    lines: [cursorTool("completed", { error: { message: "Command timed out" } })],
    expected: [{ kind: "toolResult", name: "shell", ok: false, bytes: Buffer.byteLength(j({ message: "Command timed out" })), error: "Command timed out" }]
  },
  {
    name: "cursor assistant text in pieces, then whole: shown once",
    provider: "cursor",
    lines: [cursorText("I'll list "), cursorText("the docs."), cursorText("I'll list the docs."), cursorTool("started")],
    expected: [{ kind: "text", text: "I'll list the docs." }, { kind: "tool", name: "shell", target: "ls docs" }]
  },
  {
    name: "cursor result: the final text left out when the assistant said it, shown when it differs",
    provider: "cursor",
    lines: [
      cursorText("All done."),
      j({ type: "result", subtype: "success", duration_ms: 5120, is_error: false, result: "All done.", session_id: "s1" }),
      j({ type: "result", subtype: "success", duration_ms: 10, is_error: false, result: "Something else.", session_id: "s1" })
    ],
    expected: [
      { kind: "text", text: "All done." },
      { kind: "result", ok: true, text: null, durationMs: 5120, turns: null, usage: null, costUsd: null },
      { kind: "result", ok: true, text: "Something else.", durationMs: 10, turns: null, usage: null, costUsd: null }
    ]
  },
  // ---- every provider ----
  ...(["claude", "gemini", "cursor"] as const).map((provider): Case => ({
    name: `${provider}: lines that are not its JSON are shown as they are`,
    provider,
    lines: ["plain \x1b[31mred\x1b[0m text", "[1, 2]", "{not json", ["stderr", "TypeError: boom"], ["system", "Attempt 1 failed (crashed): boom"]],
    expected: [
      { kind: "raw", stream: "stdout", text: "plain \x1b[31mred\x1b[0m text" },
      { kind: "raw", stream: "stdout", text: "[1, 2]" },
      { kind: "raw", stream: "stdout", text: "{not json" },
      { kind: "raw", stream: "stderr", text: "TypeError: boom" },
      { kind: "raw", stream: "system", text: "Attempt 1 failed (crashed): boom" }
    ]
  }))
]

describe("activity renderers", () => {
  for (const c of CASES) {
    it(c.name, () => {
      assert.deepEqual(bodies(activityOf(c.provider, linesOf(c.lines))), c.expected)
    })
  }

  it("an entry joined from pieces has the time of its last piece", () => {
    const entries = activityOf("gemini", linesOf([gemini({ type: "message", role: "assistant", content: "a", delta: true }), gemini({ type: "message", role: "assistant", content: "b", delta: true })]))
    assert.deepEqual(entries.filter((e) => e.kind === "text").map((e) => e.at.getTime()), [T0 + 1000])
  })
})

describe("activity fold", () => {
  it("starts each execution with a header (its attempt from aidp's line) and forgets the last one's tools", () => {
    const first = linesOf([["system", "Attempt 1 started by worker w1 on h: claude -p"], claudeAssistant([{ type: "tool_use", id: "t1", name: "Bash", input: { command: "ls" } }])], "e1")
    const second = linesOf([["system", "Attempt 2 started by worker w1 on h: claude -p"], claudeToolResult("t1", "x")], "e2")
    const queued = linesOf([["system", "Job queued for claude."]], null)
    const entries = activityOf("claude", [...queued, ...first, ...second])
    assert.deepEqual(entries.map((e) => e.kind), ["raw", "attempt", "raw", "tool", "attempt", "raw", "toolResult"])
    assert.deepEqual(entries.filter((e) => e.kind === "attempt").map((e) => [e.executionId, e.attempt]), [["e1", 1], ["e2", 2]])
    const last = entries.at(-1)
    assert.ok(last?.kind === "toolResult" && last.name === null, "a tool call of another execution is not named")
  })

  it("a log tail that starts in the middle of an execution gets a header without a number", () => {
    const tail = linesOf([gemini({ type: "message", role: "assistant", content: "rest of a sentence.", delta: true }), gemini({ type: "tool_result", tool_id: "unknown-1", status: "success", output: "ok" })], "e7")
    const entries = activityOf("gemini", tail)
    assert.deepEqual(entries.map((e) => e.kind), ["attempt", "text", "toolResult"])
    assert.deepEqual(entries[0], { kind: "attempt", at: new Date(T0), executionId: "e7", attempt: null })
  })

  it("ends text being joined when the execution changes or aidp writes a line", () => {
    const e1 = linesOf([gemini({ type: "message", role: "assistant", content: "half", delta: true }), ["system", "Attempt 1 abandoned: worker lost"]], "e1")
    const e2 = linesOf([gemini({ type: "message", role: "assistant", content: "other", delta: true })], "e2")
    assert.deepEqual(activityOf("gemini", [...e1, ...e2]).map((e) => e.kind === "text" || e.kind === "raw" ? e.text : e.kind), ["attempt", "half", "Attempt 1 abandoned: worker lost", "attempt", "other"])
  })

  it("folds line by line as the whole-log function does; endActivity gives what is still joined", () => {
    const lines = linesOf([cursorInit, cursorThinking("a"), cursorThinking("b"), cursorText("x"), cursorText("y")])
    let state = startActivity("cursor")
    const seen: ActivityEntry[] = []
    for (const line of lines) {
      const step = stepActivity(state, line)
      state = step.state
      seen.push(...step.entries)
    }
    assert.deepEqual(seen.map((e) => e.kind), ["attempt", "session", "thinking"], "text still being joined waits")
    seen.push(...endActivity(state).entries)
    assert.deepEqual(seen, activityOf("cursor", lines))
    assert.deepEqual(bodies(seen).at(-1), { kind: "text", text: "xy" })
  })
})

describe("activity of the fake CLIs' runs (test/fakes, FAKE_AGENT_MODE=activity)", () => {
  const fake = fileURLToPath(new URL("./fakes/fake-agent.mjs", import.meta.url))
  const run = (flavor: string): ActivityLine[] => {
    const env: NodeJS.ProcessEnv = { ...process.env, FAKE_AGENT_MODE: "activity" }
    delete env.FAKE_AGENT_DELAY_MS
    const stdout = execFileSync(process.execPath, [fake, flavor], { input: "Look at the docs.", env, stdio: ["pipe", "pipe", "ignore"] }).toString("utf8")
    return linesOf(stdout.split("\n").filter((line) => line !== ""))
  }
  const EXPECTED_KINDS: Record<Provider, string[]> = {
    claude: ["session", "retry", "thinking", "text", "tool", "toolResult", "tool", "toolResult", "text", "result"],
    gemini: ["session", "warning", "tool", "toolResult", "tool", "toolResult", "text", "result"],
    cursor: ["session", "thinking", "text", "tool", "toolResult", "text", "result"]
  }
  for (const [flavor, provider] of [["claude", "claude"], ["gemini", "gemini"], ["cursor-agent", "cursor"]] as const) {
    it(`${flavor}: every line becomes an entry of the expected kind, nothing raw`, () => {
      const entries = activityOf(provider, run(flavor)).filter((e) => e.kind !== "attempt")
      assert.deepEqual(entries.map((e) => e.kind), EXPECTED_KINDS[provider])
      if (provider !== "cursor") assert.ok(entries.some((e) => e.kind === "toolResult" && !e.ok), "a failed tool call")
      assert.ok(entries.some((e) => e.kind === "result" && e.ok && e.text === null), "the final text is shown once")
    })
  }
})
