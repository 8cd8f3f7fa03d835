#!/usr/bin/env node
// A fake provider CLI for tests: reproduces the stream-json shapes of claude, gemini and
// cursor-agent (PROVIDERS.md) and can misbehave in every way the runner must survive.
// No dependencies. Usage: fake-agent.mjs <claude|gemini|cursor-agent> [the CLI's args...]
// (test/fakes/bin/* are the wrappers that pick the flavor).
//
// Environment:
//   FAKE_AGENT_MODE      comma-separated; one scenario: success (default), slow, split_json,
//                        huge_line, split_utf8, invalid_utf8_ansi, auth, rate_limit, overloaded,
//                        quota, crash, signal, ignore_sigterm, no_terminal, hang_after_result,
//                        activity (a successful run showing every activity shape, see activityRun),
//                        denied (a successful run in which tool calls were refused, see deniedRun),
//                        budget (claude: turns of rising cost that stop at the --max-budget-usd
//                        and --max-turns it was given, see budgetRun);
//                        plus the modifier leave_child (a grandchild that sleeps forever).
//   FAKE_AGENT_RESUME_MODE  the scenarios of a run given `--resume <id>` (default: FAKE_AGENT_MODE),
//                        plus session_gone: the CLI does not have that session and says so on
//                        stderr — claude `No conversation found with session ID: <id>`, exit 1
//                        (PROVIDERS.md); gemini `Error resuming session: Invalid session
//                        identifier "<id>". ...`, exit 42 (gemini-cli's source); cursor-agent
//                        `Error: Chat not found: <id>`, exit 1 (assumed, see
//                        src/workers/providers/session.ts).
// Sessions (PROVIDERS.md): every run has a session id, reported as the real CLIs do (claude and
// cursor in init, result and other lines; gemini in init): the one given by `--session-id`
// (claude, gemini) or `--resume`, else a new random UUID.
//   FAKE_AGENT_RECORD    file to append one JSON line {flavor, argv, cwd, envKeys, stdin, prompt,
//                        pid, grandchildPid} to, after stdin was read to EOF.
//   FAKE_AGENT_WRITE     file (relative to cwd) the success scenario writes, as an edit tool would;
//                        default: the document the prompt asks for (aidp's step prompts: "Write
//                        the result as Markdown to docs/PRD.md"), else notes.md. The file is
//                        written whenever FAKE_AGENT_WRITE is set or the result says so.
//   FAKE_AGENT_WRITE_PROMPT=1  the file written holds the prompt instead of the usual two lines
//                        (jobs with different prompts then write different versions of one file).
//   FAKE_AGENT_WRITE_BINARY  file (relative to cwd) the success scenario also writes, binary bytes.
//   FAKE_AGENT_DELETE    file (relative to cwd) the success scenario deletes.
//   FAKE_AGENT_RESULT    the final result text (default "Wrote <file>.").
//   FAKE_AGENT_DELAY_MS  pause between lines in `slow` (default 200) and `activity` (default 0).
//   FAKE_AGENT_HUGE_BYTES size of the `huge_line` result (default 6 MiB).
//   FAKE_AGENT_EXIT      exit code of claude's API-error scenarios (default 1; 0 = older versions).
//   FAKE_AGENT_RETRY_DELAY_MS  retry_delay_ms of claude's system/api_retry lines (default 1000).
//   FAKE_AGENT_SIGNAL    signal of `signal` (default SIGSEGV).
//   FAKE_AGENT_MODEL     model named in the init event.
//   FAKE_AGENT_TURNS     turns of the `budget` scenario when no limit stops it (default 5).
//   FAKE_AGENT_TURN_COST_USD  what each turn of `budget` adds to total_cost_usd (default 0.2).
//   FAKE_AGENT_FAIL_ON   text: a run whose prompt contains it fails as `auth` whatever the mode
//                        (one step of a workflow fails, the others succeed).
import { spawn } from "node:child_process"
import { randomUUID } from "node:crypto"
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs"
import { dirname, resolve } from "node:path"

const [flavor = "claude", ...argv] = process.argv.slice(2)
const env = process.env
/** The value after `flag` in the CLI's argv (the real CLIs echo some of them, e.g. claude's permission mode in init). */
const argAfter = (flag) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined)
const resuming = argAfter("--resume")
const modes = new Set(((resuming !== undefined && env.FAKE_AGENT_RESUME_MODE) || env.FAKE_AGENT_MODE || "success").split(",").map((mode) => mode.trim()).filter(Boolean))
const MODIFIERS = new Set(["leave_child"])
const scenario = [...modes].find((mode) => !MODIFIERS.has(mode)) ?? "success"
const cwd = process.cwd()
const sessionId = argAfter("--session-id") ?? resuming ?? randomUUID()
const model = env.FAKE_AGENT_MODEL || { claude: "claude-sonnet-4-5-20250929", gemini: "gemini-2.5-pro", "cursor-agent": "Claude 4.5 Sonnet" }[flavor]
/** The file the success scenario writes (set in main, once the prompt is read). */
let writeTarget = env.FAKE_AGENT_WRITE || "notes.md"
const apiExit = env.FAKE_AGENT_EXIT === undefined ? 1 : Number(env.FAKE_AGENT_EXIT)

const sleep = (ms) => new Promise((done) => setTimeout(done, ms))
const hang = () => setInterval(() => {}, 1 << 30)
const now = () => new Date().toISOString()
const json = (value) => `${JSON.stringify(value)}\n`
/** Writes and waits until the bytes are handed to the pipe, so pauses between writes are real. */
const write = (stream, data) => new Promise((done) => stream.write(data, done))
const out = (data) => write(process.stdout, data)
const err = (data) => write(process.stderr, data)

async function readStdin() {
  const chunks = []
  for await (const chunk of process.stdin) chunks.push(chunk)
  return Buffer.concat(chunks).toString("utf8")
}

function leaveChild() {
  const child = spawn(process.execPath, ["-e", "process.on('SIGTERM', () => {}); setInterval(() => {}, 1 << 30)"], {
    stdio: ["ignore", "inherit", "inherit"]
  })
  child.unref()
  return child.pid
}

function resultText() {
  if (env.FAKE_AGENT_RESULT !== undefined) return env.FAKE_AGENT_RESULT
  if (scenario === "huge_line") {
    const size = Number(env.FAKE_AGENT_HUGE_BYTES || 6 * 1024 * 1024)
    return "0123456789abcdef".repeat(Math.ceil(size / 16)).slice(0, size - 3) + "END"
  }
  if (scenario === "split_utf8") return "Fertig: héllo wörld — 日本語 🎉 ✓"
  return `Wrote ${writeTarget}.`
}

// ---- event shapes per flavor (PROVIDERS.md) ----

const claude = {
  init: () => json({ type: "system", subtype: "init", cwd, session_id: sessionId, tools: ["Task", "Bash", "Edit", "Read", "Write"], mcp_servers: [], model, permissionMode: argAfter("--permission-mode") ?? "default", slash_commands: [], apiKeySource: "ANTHROPIC_API_KEY", claude_code_version: "2.1.332", output_style: "default", uuid: "0b7f6c1e-0001-4000-8000-000000000001" }),
  assistant: (content) => json({ type: "assistant", message: { id: "msg_01", type: "message", role: "assistant", model, content, stop_reason: null, stop_sequence: null, usage: { input_tokens: 3, output_tokens: 12 } }, parent_tool_use_id: null, session_id: sessionId, uuid: "0b7f6c1e-0002-4000-8000-000000000002" }),
  text: (text) => claude.assistant([{ type: "text", text }]),
  toolUse: () => claude.assistant([{ type: "tool_use", id: "toolu_01", name: "Write", input: { file_path: resolve(cwd, writeTarget), content: "# Notes\n" } }]),
  toolResult: () => json({ type: "user", message: { role: "user", content: [{ tool_use_id: "toolu_01", type: "tool_result", content: `File created successfully at: ${resolve(cwd, writeTarget)}` }] }, parent_tool_use_id: null, session_id: sessionId, uuid: "0b7f6c1e-0003-4000-8000-000000000003" }),
  result: (result, denials = [], spent = { num_turns: 3, total_cost_usd: 0.0123 }) => json({ type: "result", subtype: "success", is_error: false, duration_ms: 5120, duration_api_ms: 4810, num_turns: spent.num_turns, result, session_id: sessionId, total_cost_usd: spent.total_cost_usd, usage: { input_tokens: 10, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 50, service_tier: "standard" }, permission_denials: denials, uuid: "0b7f6c1e-0004-4000-8000-000000000004" }),
  /** A run claude stopped at a limit it was given (PROVIDERS.md): no `result` text, `is_error:false`. */
  limit: (subtype, spent) => json({ type: "result", subtype, is_error: false, duration_ms: 5120, duration_api_ms: 4810, num_turns: spent.num_turns, session_id: sessionId, total_cost_usd: spent.total_cost_usd, usage: { input_tokens: 10, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 50, service_tier: "standard" }, permission_denials: [], uuid: "0b7f6c1e-0007-4000-8000-000000000007" }),
  apiError: (result, status) => json({ type: "result", subtype: "success", is_error: true, ...(status === undefined ? {} : { api_error_status: status }), duration_ms: 812, duration_api_ms: 0, num_turns: 1, result, session_id: sessionId, total_cost_usd: 0, usage: { input_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 0 }, permission_denials: [], uuid: "0b7f6c1e-0005-4000-8000-000000000005" }),
  retry: (attempt, status) => json({ type: "system", subtype: "api_retry", attempt, max_retries: 10, retry_delay_ms: Number(env.FAKE_AGENT_RETRY_DELAY_MS || 1000), error_status: status, error: "rate_limit", session_id: sessionId, uuid: "0b7f6c1e-0006-4000-8000-000000000006" })
}

const gemini = {
  init: () => json({ type: "init", timestamp: now(), session_id: sessionId, model }),
  user: (content) => json({ type: "message", timestamp: now(), role: "user", content }),
  delta: (content) => json({ type: "message", timestamp: now(), role: "assistant", content, delta: true }),
  toolUse: () => json({ type: "tool_use", timestamp: now(), tool_name: "write_file", tool_id: "write_file-1767-1", parameters: { file_path: writeTarget, content: "# Notes\n" } }),
  toolResult: () => json({ type: "tool_result", timestamp: now(), tool_id: "write_file-1767-1", status: "success", output: `Successfully created and wrote to new file: ${resolve(cwd, writeTarget)}.` }),
  stats: () => ({ total_tokens: 1234, input_tokens: 1100, output_tokens: 134, cached: 0, input: 1100, duration_ms: 5120, tool_calls: 1 }),
  result: () => json({ type: "result", timestamp: now(), status: "success", stats: gemini.stats() }),
  error: (type, message) => json({ type: "result", timestamp: now(), status: "error", error: { type, message }, stats: gemini.stats() }),
  /** A failed API call as 0.61.0 ends it (PROVIDERS.md): the API's JSON body wrapped in `[API Error: ...]`. */
  apiError: (code, status, message) => gemini.error("unknown", `[API Error: ${JSON.stringify({ error: { code, message, status, details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: status, domain: "googleapis.com" }] } })}]`)
}

const cursor = {
  init: () => json({ type: "system", subtype: "init", apiKeySource: "env", cwd, session_id: sessionId, model, permissionMode: "default" }),
  user: (text) => json({ type: "user", message: { role: "user", content: [{ type: "text", text }] }, session_id: sessionId }),
  text: (text) => json({ type: "assistant", message: { role: "assistant", content: [{ type: "text", text }] }, session_id: sessionId }),
  tool: (subtype) => json({ type: "tool_call", subtype, call_id: "toolu_vrtx_01", tool_call: { writeToolCall: { args: { path: resolve(cwd, writeTarget), fileText: "# Notes\n" }, ...(subtype === "completed" ? { result: { success: { path: resolve(cwd, writeTarget), linesCreated: 1, fileSize: 8 } } } : {}) } }, session_id: sessionId }),
  result: (result) => json({ type: "result", subtype: "success", duration_ms: 5120, duration_api_ms: 5120, is_error: false, result, session_id: sessionId, request_id: "req_01" })
}

/** The lines of a successful run. Index 1 is the line `split_json` cuts into pieces. */
function successLines(prompt, result) {
  if (flavor === "gemini") {
    const middle = [...result].length >> 1
    const chars = [...result]
    return [gemini.init(), gemini.user(prompt), gemini.toolUse(), gemini.toolResult(), gemini.delta(chars.slice(0, middle).join("")), gemini.delta(chars.slice(middle).join("")), gemini.result()]
  }
  if (flavor === "cursor-agent") {
    return [cursor.init(), cursor.user(prompt), cursor.text("I'll write the file."), cursor.tool("started"), cursor.tool("completed"), cursor.text(result), cursor.result(result)]
  }
  return [claude.init(), claude.text("I'll write the file."), claude.toolUse(), claude.toolResult(), claude.text(result), claude.result(result)]
}

const initLine = () => ({ claude: claude.init, gemini: gemini.init, "cursor-agent": cursor.init })[flavor]()

/** The same text split right after every lead byte of a multi-byte character. */
async function writeSplitUtf8(line) {
  const bytes = Buffer.from(line, "utf8")
  let start = 0
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] >= 0xc0) {
      await out(bytes.subarray(start, i + 1))
      await sleep(5)
      start = i + 1
    }
  }
  await out(bytes.subarray(start))
}

async function succeed(prompt, { hangAfter = false } = {}) {
  const result = resultText()
  // Say only what was done: a result claiming the write comes with the file.
  if (env.FAKE_AGENT_WRITE || result === `Wrote ${writeTarget}.`) {
    mkdirSync(dirname(resolve(cwd, writeTarget)), { recursive: true })
    writeFileSync(resolve(cwd, writeTarget), env.FAKE_AGENT_WRITE_PROMPT === "1" ? `${prompt}\n` : `# Notes\nwritten by fake ${flavor}\n`)
  }
  if (env.FAKE_AGENT_WRITE_BINARY) writeFileSync(resolve(cwd, env.FAKE_AGENT_WRITE_BINARY), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01, 0xff, 0xfe]))
  if (env.FAKE_AGENT_DELETE) rmSync(resolve(cwd, env.FAKE_AGENT_DELETE), { force: true })
  if (flavor === "gemini") await err("Loaded cached credentials.\n")
  if (scenario === "invalid_utf8_ansi") {
    await out(Buffer.concat([Buffer.from("plain \x1b[31mred\x1b[0m text "), Buffer.from([0xff, 0xfe]), Buffer.from(" end\n")]))
    await err(Buffer.concat([Buffer.from("\x1b[33mwarning:\x1b[0m bad byte "), Buffer.from([0xc3, 0x28]), Buffer.from("\n")]))
  }
  const lines = successLines(prompt, result)
  for (const [index, line] of lines.entries()) {
    if (scenario === "slow" && index > 0) await sleep(Number(env.FAKE_AGENT_DELAY_MS || 200))
    if (scenario === "split_json" && index === 1) {
      const third = Math.floor(line.length / 3)
      for (const piece of [line.slice(0, third), line.slice(third, 2 * third), line.slice(2 * third)]) {
        await out(piece)
        await sleep(40)
      }
    } else if (scenario === "split_utf8") await writeSplitUtf8(line)
    else await out(line)
  }
  if (hangAfter) return hang()
  process.exit(0)
}

/**
 * The `activity` scenario: a successful run with every shape the activity view renders, per
 * PROVIDERS.md: claude's `system/api_retry`, a `thinking` block and a `tool_result` with
 * `is_error`; gemini's stderr retry noise ("Attempt 1 failed with status 429. Retrying with
 * backoff..."), a non-fatal `error` event (severity warning) and a failed `tool_result`;
 * cursor's `thinking` deltas and assistant text in pieces, then whole. Writes no file.
 */
async function activityRun(prompt) {
  const result = env.FAKE_AGENT_RESULT ?? "The docs folder has one file."
  const entries = activityEntries(prompt, result)
  for (const [index, entry] of entries.entries()) {
    if (index > 0 && env.FAKE_AGENT_DELAY_MS) await sleep(Number(env.FAKE_AGENT_DELAY_MS))
    await (entry.stderr === undefined ? out(entry) : err(entry.stderr))
  }
  process.exit(0)
}

/** The lines of {@link activityRun}: strings go to stdout, `{stderr}` to stderr. */
function activityEntries(prompt, result) {
  if (flavor === "gemini") {
    const stamp = { timestamp: now() }
    return [
      { stderr: "Loaded cached credentials.\n" },
      { stderr: "Attempt 1 failed with status 429. Retrying with backoff... ApiError: {\"error\":{\"code\":429,\"message\":\"Resource exhausted. Please try again later.\",\"status\":\"RESOURCE_EXHAUSTED\"}}\n" },
      gemini.init(),
      gemini.user(prompt),
      json({ type: "error", ...stamp, severity: "warning", message: "Loop detection was disabled for this session." }),
      json({ type: "tool_use", ...stamp, tool_name: "read_file", tool_id: "read_file-1767-1", parameters: { file_path: "missing.md" } }),
      json({ type: "tool_result", ...stamp, tool_id: "read_file-1767-1", status: "error", output: "", error: { type: "file_not_found", message: "File not found: missing.md" } }),
      json({ type: "tool_use", ...stamp, tool_name: "run_shell_command", tool_id: "run_shell_command-1767-2", parameters: { command: "ls docs", description: "List the docs" } }),
      json({ type: "tool_result", ...stamp, tool_id: "run_shell_command-1767-2", status: "success", output: "PRD.md\n" }),
      gemini.delta("The docs folder "),
      gemini.delta(result.slice("The docs folder ".length)),
      gemini.result()
    ]
  }
  if (flavor === "cursor-agent") {
    const thinking = (text) => json({ type: "thinking", subtype: "delta", text, session_id: sessionId, timestamp_ms: 1767000000000 })
    const shell = (subtype) => json({ type: "tool_call", subtype, call_id: "toolu_vrtx_02", tool_call: { shellToolCall: { args: { command: "ls docs" }, ...(subtype === "completed" ? { result: { success: { command: "ls docs", exitCode: 0, stdout: "PRD.md\n", stderr: "" } } } : {}) } }, session_id: sessionId })
    return [
      cursor.init(),
      cursor.user(prompt),
      thinking("The user wants "),
      thinking("a look at the docs "),
      thinking("folder."),
      json({ type: "thinking", subtype: "completed", session_id: sessionId, timestamp_ms: 1767000000001 }),
      cursor.text("I'll list "),
      cursor.text("the docs."),
      cursor.text("I'll list the docs."),
      shell("started"),
      shell("completed"),
      cursor.text(result),
      cursor.result(result)
    ]
  }
  const toolUse = (id, name, input) => claude.assistant([{ type: "tool_use", id, name, input }])
  const toolResult = (id, content, isError) => json({ type: "user", message: { role: "user", content: [{ tool_use_id: id, type: "tool_result", content, ...(isError ? { is_error: true } : {}) }] }, parent_tool_use_id: null, session_id: sessionId })
  return [
    claude.init(),
    claude.retry(1, 529),
    claude.assistant([{ type: "thinking", thinking: "The user wants a look at the docs folder.", signature: "EqQBCkYIBxgCKkB" }]),
    claude.text("I'll read the notes first."),
    toolUse("toolu_02", "Read", { file_path: resolve(cwd, "missing.md") }),
    toolResult("toolu_02", "<tool_use_error>File does not exist.</tool_use_error>", true),
    toolUse("toolu_03", "Bash", { command: "ls docs", description: "List the docs" }),
    toolResult("toolu_03", [{ type: "text", text: "PRD.md" }], false),
    claude.text(result),
    claude.result(result)
  ]
}

/**
 * The `denied` scenario: a run that "succeeds" although tool calls were refused (PROVIDERS.md).
 * claude: two tool calls answered with its permission error, then listed in the result's
 * `permission_denials` ({tool_name, tool_use_id, tool_input}); gemini: a call to
 * run_shell_command, which its approval mode did not register, answered by a `tool_result`
 * with error type `tool_not_registered`. cursor-agent's refusals have no documented shape:
 * it runs the success scenario. Writes no file.
 */
async function deniedRun(prompt) {
  const result = env.FAKE_AGENT_RESULT ?? "I could not run the commands; here is the plan instead."
  if (flavor === "cursor-agent") return succeed(prompt)
  for (const line of deniedLines(prompt, result)) await out(line)
  process.exit(0)
}

/** The stdout lines of {@link deniedRun}. */
function deniedLines(prompt, result) {
  if (flavor === "gemini") {
    const message = 'Tool "run_shell_command" not found in registry. Tools must use the exact names that are registered. Did you mean one of: "read_file", "glob", "search_file_content"?'
    return [
      gemini.init(),
      gemini.user(prompt),
      json({ type: "tool_use", timestamp: now(), tool_name: "run_shell_command", tool_id: "run_shell_command-1767-3", parameters: { command: "npm test", description: "Run the tests" } }),
      json({ type: "tool_result", timestamp: now(), tool_id: "run_shell_command-1767-3", status: "error", output: message, error: { type: "tool_not_registered", message } }),
      gemini.delta(result),
      gemini.result()
    ]
  }
  const calls = [
    { tool_name: "Bash", tool_use_id: "toolu_04", tool_input: { command: "rm -rf build", description: "Remove the build folder" } },
    { tool_name: "Write", tool_use_id: "toolu_05", tool_input: { file_path: resolve(cwd, "src/app.ts"), content: "export {}\n" } }
  ]
  return [
    claude.init(),
    ...calls.flatMap((call) => [
      claude.assistant([{ type: "tool_use", id: call.tool_use_id, name: call.tool_name, input: call.tool_input }]),
      json({ type: "user", message: { role: "user", content: [{ type: "tool_result", content: `Claude requested permissions to use ${call.tool_name}, but you haven't granted it yet.`, is_error: true, tool_use_id: call.tool_use_id }] }, parent_tool_use_id: null, session_id: sessionId })
    ]),
    claude.text(result),
    claude.result(result, calls)
  ]
}

/**
 * The `budget` scenario (claude; the other flavors run the success scenario): turn after turn,
 * each a Bash tool call and its result adding FAKE_AGENT_TURN_COST_USD to the cost. As claude
 * does, the limits are checked after each turn: once the cost has reached `--max-budget-usd`
 * the run ends with subtype `error_max_budget_usd`, after `--max-turns` turns with
 * `error_max_turns` (exit FAKE_AGENT_EXIT, default 1); after FAKE_AGENT_TURNS turns it succeeds.
 */
async function budgetRun(prompt) {
  if (flavor !== "claude") return succeed(prompt)
  const maxCost = argAfter("--max-budget-usd") === undefined ? Infinity : Number(argAfter("--max-budget-usd"))
  const maxTurns = argAfter("--max-turns") === undefined ? Infinity : Number(argAfter("--max-turns"))
  const turnCost = Number(env.FAKE_AGENT_TURN_COST_USD || 0.2)
  const turns = Number(env.FAKE_AGENT_TURNS || 5)
  await out(claude.init())
  for (let turn = 1; turn <= turns; turn++) {
    const id = `toolu_budget_${turn}`
    await out(claude.assistant([{ type: "tool_use", id, name: "Bash", input: { command: `echo step ${turn}`, description: `Step ${turn}` } }]))
    await out(json({ type: "user", message: { role: "user", content: [{ tool_use_id: id, type: "tool_result", content: `step ${turn}` }] }, parent_tool_use_id: null, session_id: sessionId }))
    const spent = { num_turns: turn, total_cost_usd: Number((turn * turnCost).toFixed(6)) }
    const subtype = spent.total_cost_usd >= maxCost ? "error_max_budget_usd" : turn >= maxTurns ? "error_max_turns" : undefined
    if (subtype !== undefined) {
      await out(claude.limit(subtype, spent))
      process.exit(apiExit)
    }
  }
  const result = resultText()
  await out(claude.text(result))
  await out(claude.result(result, [], { num_turns: turns, total_cost_usd: Number((turns * turnCost).toFixed(6)) }))
  process.exit(0)
}

const STACK = [
  "file:///usr/lib/node_modules/agent/cli.js:4821",
  "      throw new TypeError(\"Cannot read properties of undefined (reading 'content')\");",
  "      ^",
  "",
  "TypeError: Cannot read properties of undefined (reading 'content')",
  "    at parseMessage (file:///usr/lib/node_modules/agent/cli.js:4821:13)",
  "    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)",
  "",
  "Node.js v20.11.1",
  ""
].join("\n")

/** Claude's API failures: a final is_error result line, exit 1 (2.1.332) or 0 (older). */
async function claudeApiError(message, status) {
  await out(claude.init())
  if (status === 429) for (const attempt of [1, 2]) await out(claude.retry(attempt, 429))
  await out(claude.apiError(message, status))
  process.exit(apiExit)
}

/** Cursor's failures: a message on stderr, no JSON, a non-zero exit (PROVIDERS.md). */
async function failWith(stderr, code) {
  await err(stderr)
  process.exit(code)
}

/**
 * Gemini's API failures (0.61.0, PROVIDERS.md): init and user lines, retry noise on stderr,
 * a final `result` line with `status:"error"`, exit with the HTTP status mod 256.
 */
async function geminiFail(prompt, httpStatus, resultLine, stderr = "") {
  await out(gemini.init() + gemini.user(prompt))
  if (stderr !== "") await err(stderr)
  await out(resultLine)
  process.exit(httpStatus % 256)
}

const GEMINI_RETRY_NOISE = "Attempt 1 failed with status 429. Retrying with backoff... ApiError: {\"error\":{\"code\":429,\"message\":\"Resource exhausted. Please try again later.\",\"status\":\"RESOURCE_EXHAUSTED\"}}\nAttempt 2 failed with status 429. Retrying with backoff...\n"

const FAILURES = {
  auth: {
    claude: () => claudeApiError("Invalid API key · Please run /login"),
    gemini: (prompt) => geminiFail(prompt, 401, gemini.apiError(401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.")),
    "cursor-agent": () => failWith("Authentication required. Please run 'agent login' first, or set CURSOR_API_KEY environment variable.\n", 1)
  },
  rate_limit: {
    claude: () =>
      apiExit === 0
        ? claudeApiError("API Error: Rate limit reached")
        : claudeApiError("API Error: Request rejected (429) · This request would exceed the rate limit for your organization of 30,000 input tokens per minute.", 429),
    gemini: (prompt) => geminiFail(prompt, 429, gemini.error("unknown", "[API Error: Resource has been exhausted (e.g. check quota).\nSuggested retry after 1s.]\nPlease wait and try again later. To increase your limits, request a quota increase through AI Studio, or switch to another /auth method"), GEMINI_RETRY_NOISE),
    "cursor-agent": () => failWith("Error: Rate limit exceeded. Please wait a moment and try again.\n", 1)
  },
  overloaded: {
    claude: () => claudeApiError("API Error: Repeated 529 Overloaded errors. The API is temporarily overloaded, please try again later.", 529),
    gemini: (prompt) => geminiFail(prompt, 503, gemini.apiError(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")),
    "cursor-agent": () => failWith("The model is currently overloaded. Please try again in a few minutes.\n", 1)
  },
  quota: {
    claude: () => claudeApiError("You've hit your limit · resets 4pm (Europe/Berlin)"),
    gemini: (prompt) => geminiFail(prompt, 429, gemini.error("TerminalQuotaError", "You have exhausted your daily quota on this model. Please try again after the quota resets.")),
    "cursor-agent": () => failWith("Error: You've reached the usage limit for your plan. Upgrade or wait until it resets.\n", 1)
  }
}

/** Each CLI's answer to `--resume` with a session it does not have (see FAKE_AGENT_RESUME_MODE). */
const SESSION_GONE = {
  claude: () => failWith(`No conversation found with session ID: ${resuming}\n`, 1),
  gemini: () => failWith(`Error resuming session: Invalid session identifier "${resuming}".\n  Searched for sessions in ${env.HOME ?? "~"}/.gemini/tmp/0f3a/chats.\n  Use --list-sessions to see available sessions, then use --resume {number}, --resume {uuid}, or --resume latest.\n`, 42),
  "cursor-agent": () => failWith(`Error: Chat not found: ${resuming}\n`, 1)
}

/** What each real CLI prints for `--version` (the versions PROVIDERS.md was observed with). */
const VERSIONS = { claude: "2.1.332 (Claude Code)", gemini: "0.61.0", "cursor-agent": "2025.11.25-8d7f2ab" }

async function main() {
  if (argv.includes("--version")) {
    await out(`${VERSIONS[flavor]}\n`)
    return
  }
  const stdin = await readStdin()
  const prompt = stdin !== "" || flavor !== "cursor-agent" ? stdin : argv.at(-1) ?? ""
  writeTarget = env.FAKE_AGENT_WRITE || /Write the result as Markdown to (\S+?\.md)\b/.exec(prompt)?.[1] || "notes.md"
  const grandchildPid = modes.has("leave_child") ? leaveChild() : undefined
  if (grandchildPid !== undefined) await err(`fake: grandchild pid ${grandchildPid}\n`)
  // Before the record is written: a test that saw the record may signal at once.
  if (scenario === "ignore_sigterm") process.on("SIGTERM", () => void err("fake: ignoring SIGTERM\n"))
  if (env.FAKE_AGENT_RECORD) {
    const record = { flavor, argv, cwd, envKeys: Object.keys(env).sort(), stdin, prompt, pid: process.pid, grandchildPid }
    appendFileSync(env.FAKE_AGENT_RECORD, json(record))
  }
  if (env.FAKE_AGENT_FAIL_ON && prompt.includes(env.FAKE_AGENT_FAIL_ON)) return FAILURES.auth[flavor](prompt)
  switch (scenario) {
    case "auth":
    case "rate_limit":
    case "overloaded":
    case "quota":
      return FAILURES[scenario][flavor](prompt)
    case "session_gone":
      return SESSION_GONE[flavor]()
    case "crash":
      await out(initLine())
      await err(STACK)
      return process.exit(2)
    case "signal":
      await out(initLine())
      process.kill(process.pid, env.FAKE_AGENT_SIGNAL || "SIGSEGV")
      return hang()
    case "ignore_sigterm":
      await out(initLine())
      return hang()
    case "no_terminal":
      await out(initLine())
      await out(flavor === "gemini" ? gemini.delta("Working on it") : flavor === "claude" ? claude.text("Working on it") : cursor.text("Working on it"))
      return process.exit(0)
    case "hang_after_result":
      return succeed(prompt, { hangAfter: true })
    case "activity":
      return activityRun(prompt)
    case "denied":
      return deniedRun(prompt)
    case "budget":
      return budgetRun(prompt)
    default:
      return succeed(prompt)
  }
}

await main()
