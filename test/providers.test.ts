/**
 * Pure tests of the provider adapters and classification: recorded stream-json lines in,
 * progress and outcomes out (shapes and messages from PROVIDERS.md).
 */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import type { ErrorKind } from "../src/domain/job.js"
import { classifyError, classifyText, errorLine, retryHint } from "../src/workers/classify.js"
import { claudeAdapter } from "../src/workers/providers/claude.js"
import { cursorAdapter } from "../src/workers/providers/cursor.js"
import { geminiAdapter, geminiExitKind } from "../src/workers/providers/gemini.js"
import { adapterFor, resolveBin } from "../src/workers/providers/index.js"
import type { ChildStream, ExitInfo, Outcome, ProviderAdapter } from "../src/workers/providers/types.js"

const exited = (exitCode: number | null, extra: Partial<ExitInfo> = {}): ExitInfo => ({
  exitCode,
  signal: null,
  stderrTail: "",
  timedOut: false,
  cancelled: false,
  killedAfterTerminal: false,
  ...extra
})

interface Replay {
  readonly outcome: Outcome
  readonly progress: string[]
  readonly terminalAt: number | undefined
}

/** Feeds `stdout` (a recorded byte string, `\n`-separated) and `stderr` lines through an adapter. */
function replay<S>(adapter: ProviderAdapter<S>, stdout: string, exit: ExitInfo, stderr = ""): Replay {
  let state = adapter.initial()
  const progress: string[] = []
  let terminalAt: number | undefined
  const lines: Array<[string, ChildStream]> = [
    ...stderr.split("\n").filter((line) => line !== "").map((line): [string, ChildStream] => [line, "stderr"]),
    ...stdout.split("\n").filter((line) => line !== "").map((line): [string, ChildStream] => [line, "stdout"])
  ]
  lines.forEach(([line, stream], index) => {
    const step = adapter.onLine(state, line, stream)
    state = step.state
    progress.push(...(step.progress ?? []))
    if (step.terminal === true) terminalAt ??= index
  })
  return { outcome: adapter.finish(state, { ...exit, stderrTail: stderr.trimEnd() }), progress, terminalAt }
}

function assertFailed(outcome: Outcome, errorKind: ErrorKind, error: string | RegExp): void {
  assert.equal(outcome.kind, "failed", JSON.stringify(outcome))
  if (outcome.kind !== "failed") return
  assert.equal(outcome.errorKind, errorKind, outcome.error)
  if (typeof error === "string") assert.equal(outcome.error, error)
  else assert.match(outcome.error, error)
}

// ---- recorded output (PROVIDERS.md shapes) ----

const CLAUDE_INIT = `{"type":"system","subtype":"init","cwd":"/work/proj","session_id":"s1","tools":["Edit","Write"],"model":"claude-sonnet-4-5","permissionMode":"acceptEdits","claude_code_version":"2.1.332","uuid":"u1"}`
const CLAUDE_SUCCESS = [
  CLAUDE_INIT,
  `{"type":"rate_limit_event","rate_limit_info":{"status":"allowed"}}`,
  `{"type":"assistant","message":{"role":"assistant","content":[{"type":"text","text":"I'll update the PRD.\\nFirst, reading it."}]},"session_id":"s1"}`,
  `{"type":"assistant","message":{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"Edit","input":{"file_path":"/work/proj/docs/PRD.md","old_string":"a","new_string":"b"}}]},"session_id":"s1"}`,
  `{"type":"tool_progress","heartbeat":true}`,
  `{"type":"user","message":{"role":"user","content":[{"tool_use_id":"t1","type":"tool_result","content":"ok"}]}}`,
  `Some banner that is not JSON`,
  `{"type":"result","subtype":"success","is_error":false,"duration_ms":5120,"num_turns":3,"result":"Updated docs/PRD.md.","session_id":"s1","total_cost_usd":0.0123,"usage":{"input_tokens":10,"output_tokens":50},"some_new_field":{"x":1}}`
].join("\n")
const claudeError = (result: string, extra = "") =>
  `${CLAUDE_INIT}\n{"type":"result","subtype":"success","is_error":true,${extra}"duration_ms":812,"num_turns":1,"result":${JSON.stringify(result)},"session_id":"s1","total_cost_usd":0}`

const GEMINI_SUCCESS = [
  `{"type":"init","timestamp":"2026-09-25T03:30:00.000Z","session_id":"g1","model":"gemini-2.5-pro"}`,
  `{"type":"message","timestamp":"2026-09-25T03:30:00.001Z","role":"user","content":"Write the PRD"}`,
  `{"type":"message","timestamp":"2026-09-25T03:30:01.000Z","role":"assistant","content":"Sure, ","delta":true}`,
  `{"type":"message","timestamp":"2026-09-25T03:30:01.100Z","role":"assistant","content":"writing it.","delta":true}`,
  `{"type":"tool_use","timestamp":"2026-09-25T03:30:02.000Z","tool_name":"write_file","tool_id":"c1","parameters":{"file_path":"docs/PRD.md","content":"# PRD"}}`,
  `{"type":"tool_result","timestamp":"2026-09-25T03:30:02.100Z","tool_id":"c1","status":"success","output":"ok"}`,
  `{"type":"error","timestamp":"2026-09-25T03:30:02.200Z","severity":"warning","message":"Loop detected, continuing"}`,
  `{"type":"message","timestamp":"2026-09-25T03:30:03.000Z","role":"assistant","content":" Done.","delta":true}`,
  `{"type":"result","timestamp":"2026-09-25T03:30:03.100Z","status":"success","stats":{"total_tokens":1234,"input_tokens":1100,"output_tokens":134,"duration_ms":3100,"tool_calls":1}}`
].join("\n")
const GEMINI_HEAD = GEMINI_SUCCESS.split("\n").slice(0, 2).join("\n")
const GEMINI_RETRY_NOISE = 'Attempt 1 failed with status 429. Retrying with backoff... ApiError: {"error":{"code":429,"message":"Resource exhausted. Please try again later.","status":"RESOURCE_EXHAUSTED"}}\n'

const CURSOR_SUCCESS = [
  `{"type":"system","subtype":"init","apiKeySource":"env","cwd":"/work/proj","session_id":"c1","model":"Claude 4.5 Sonnet","permissionMode":"default"}`,
  `{"type":"user","message":{"role":"user","content":[{"type":"text","text":"Write the PRD"}]},"session_id":"c1"}`,
  `{"type":"thinking","subtype":"delta","text":"Thinking..."}`,
  `{"type":"assistant","message":{"role":"assistant","content":[{"type":"text","text":"Running the tests."}]},"session_id":"c1"}`,
  `{"type":"tool_call","subtype":"started","call_id":"x1","tool_call":{"shellToolCall":{"args":{"command":"npm test"}}},"session_id":"c1"}`,
  `{"type":"tool_call","subtype":"completed","call_id":"x1","tool_call":{"shellToolCall":{"args":{"command":"npm test"},"result":{"success":{"exitCode":0}}}},"session_id":"c1"}`,
  `{"type":"connection","subtype":"reconnecting"}`,
  `{"type":"result","subtype":"success","duration_ms":1234,"is_error":false,"result":"All tests pass.","session_id":"c1","request_id":"r1"}`
].join("\n")

describe("claude adapter", () => {
  it("builds argv without the prompt", () => {
    assert.deepEqual(claudeAdapter.argv({ cwd: "/w", permissions: "edit" }), ["-p", "--output-format", "stream-json", "--verbose", "--permission-mode", "acceptEdits"])
    assert.deepEqual(claudeAdapter.argv({ cwd: "/w", model: "opus", permissions: "edit" }).slice(4, 6), ["--model", "opus"])
  })

  it("succeeds with result, usage, cost, version and progress", () => {
    const { outcome, progress, terminalAt } = replay(claudeAdapter, CLAUDE_SUCCESS, exited(0))
    assert.deepEqual(outcome, {
      kind: "succeeded",
      exitCode: 0,
      result: "Updated docs/PRD.md.",
      usage: { input_tokens: 10, output_tokens: 50 },
      costUsd: 0.0123,
      cliVersion: "2.1.332",
      denials: [],
      sessionId: "s1"
    })
    assert.deepEqual(progress, [
      "started: model claude-sonnet-4-5, claude 2.1.332",
      "assistant: I'll update the PRD. First, reading it.",
      "tool: Edit docs/PRD.md"
    ])
    assert.equal(terminalAt, 7)
  })

  it("treats is_error:true as a failure even with exit 0 (older versions)", () => {
    assertFailed(replay(claudeAdapter, claudeError("API Error: Rate limit reached"), exited(0)).outcome, "rate_limit", "API Error: Rate limit reached")
  })

  // [the CLI's result text, extra result fields, kind, the error shown when it differs from the text]
  const failures: Array<[string, string, ErrorKind, string?]> = [
    ["Invalid API key · Please run /login", "", "auth"],
    ["Not logged in · Please run /login", "", "auth"],
    ["Credit balance is too low", "", "quota"],
    ["You've hit your limit · resets 4pm (Europe/Berlin)", "", "quota"],
    ["API Error: Request rejected (429) · This request would exceed the rate limit for your organization", `"api_error_status":429,`, "rate_limit"],
    ["API Error: Repeated 529 Overloaded errors. Please retry", `"api_error_status":529,`, "overloaded"],
    ["API Error: 529 {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}", "", "overloaded", "API Error: 529 Overloaded"],
    ["API Error: Connection error.", "", "network"],
    ["Request timed out. Check your network", "", "network"],
    ["API Error: 500 Internal server error. Please retry", `"api_error_status":500,`, "server_error"],
    ["API Error: 500 {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"Internal server error\"}}", "", "server_error", "API Error: 500 Internal server error"]
  ]
  for (const [message, extra, kind, shown] of failures) {
    it(`classifies "${message.slice(0, 40)}" (exit 1) as ${kind}`, () => {
      const { outcome } = replay(claudeAdapter, claudeError(message, extra), exited(1))
      assertFailed(outcome, kind, shown ?? message)
      assert.equal(outcome.kind === "failed" && outcome.cliVersion, "2.1.332")
    })
  }

  it("a run of api_retry lines ending in an is_error result (exit 1) is classified by the result", () => {
    const retry = (attempt: number) =>
      `{"type":"system","subtype":"api_retry","attempt":${attempt},"max_retries":10,"retry_delay_ms":608,"error_status":529,"error":"overloaded","session_id":"s1","uuid":"u${attempt}"}`
    const stdout = [CLAUDE_INIT, retry(1), retry(2), claudeError("API Error: Repeated 529 Overloaded errors. The API is temporarily overloaded, please try again later.", `"api_error_status":529,`).split("\n")[1]].join("\n")
    const { outcome, progress } = replay(claudeAdapter, stdout, exited(1))
    assertFailed(outcome, "overloaded", "API Error: Repeated 529 Overloaded errors. The API is temporarily overloaded, please try again later.")
    assert.deepEqual(progress.slice(1), ["retry: API attempt 1 (HTTP 529)", "retry: API attempt 2 (HTTP 529)"])
  })

  it("fails a success event with a non-zero exit", () => {
    assertFailed(replay(claudeAdapter, CLAUDE_SUCCESS, exited(3), "boom\n").outcome, "crashed", "claude exited with code 3 after reporting success: boom")
  })

  it("fails an empty result", () => {
    const empty = CLAUDE_SUCCESS.replace(`"result":"Updated docs/PRD.md."`, `"result":"  "`)
    assertFailed(replay(claudeAdapter, empty, exited(0)).outcome, "bad_output", /empty result/)
  })

  it("reports error subtypes: a limit it was given is budget (test/budgets.test.ts), others by name", () => {
    const maxTurns = `${CLAUDE_INIT}\n{"type":"result","subtype":"error_max_turns","is_error":true,"num_turns":5,"session_id":"s1"}`
    assertFailed(replay(claudeAdapter, maxTurns, exited(1)).outcome, "budget", "claude stopped after 5 turns.")
    const during = `${CLAUDE_INIT}\n{"type":"result","subtype":"error_during_execution","is_error":true,"num_turns":5,"session_id":"s1"}`
    assertFailed(replay(claudeAdapter, during, exited(1)).outcome, "unknown", "claude stopped: error_during_execution")
  })

  it("without a result: bad_output on exit 0, crashed on a signal, stderr message otherwise", () => {
    assertFailed(replay(claudeAdapter, CLAUDE_INIT, exited(0)).outcome, "bad_output", "claude exited with code 0 without a result")
    assertFailed(replay(claudeAdapter, CLAUDE_INIT, exited(null, { signal: "SIGSEGV" })).outcome, "crashed", "claude was killed by SIGSEGV before its result")
    assertFailed(
      replay(claudeAdapter, "", exited(1), "Error: When using --print, --output-format=stream-json requires --verbose\n").outcome,
      "crashed",
      "Error: When using --print, --output-format=stream-json requires --verbose"
    )
    // PROVIDERS.md: on SIGTERM claude exits 143 with no result line.
    assertFailed(replay(claudeAdapter, CLAUDE_INIT, exited(143)).outcome, "crashed", "claude exited with code 143 without a result.")
  })

  it("reports a Node crash by its error line, not the stack", () => {
    const stack = "file:///x/cli.js:12\n    throw err;\n    ^\n\nTypeError: Cannot read properties of undefined (reading 'x')\n    at f (file:///x/cli.js:12:5)\n\nNode.js v20.11.1\n"
    assertFailed(replay(claudeAdapter, CLAUDE_INIT, exited(2), stack).outcome, "crashed", "TypeError: Cannot read properties of undefined (reading 'x')")
  })

  it("cancel and timeout win over everything else", () => {
    assertFailed(replay(claudeAdapter, CLAUDE_SUCCESS, exited(null, { signal: "SIGTERM", cancelled: true })).outcome, "cancelled", /Cancelled/)
    assertFailed(replay(claudeAdapter, CLAUDE_INIT, exited(null, { signal: "SIGKILL", timedOut: true })).outcome, "timeout", /timeout/)
  })
})

describe("gemini adapter", () => {
  it("builds argv with the prompt on stdin", () => {
    assert.deepEqual(geminiAdapter.argv({ cwd: "/w", model: "gemini-2.5-pro", permissions: "edit" }), ["-o", "stream-json", "-m", "gemini-2.5-pro", "--approval-mode", "auto_edit", "--skip-trust", "-p", ""])
  })

  it("joins assistant deltas into the result and reports them once per turn", () => {
    const { outcome, progress } = replay(geminiAdapter, GEMINI_SUCCESS, exited(0), "Loaded cached credentials.\nAttempt 1 failed with status 429. Retrying with backoff...\n")
    assert.deepEqual(outcome, {
      kind: "succeeded",
      exitCode: 0,
      result: "Sure, writing it. Done.",
      usage: { total_tokens: 1234, input_tokens: 1100, output_tokens: 134, duration_ms: 3100, tool_calls: 1 },
      denials: [],
      sessionId: "g1"
    })
    assert.deepEqual(progress, ["started: model gemini-2.5-pro", "assistant: Sure, writing it.", "tool: write_file docs/PRD.md", "warning: Loop detected, continuing", "assistant: Done."])
  })

  it("maps exit codes (HTTP status mod 256) to error kinds", () => {
    const table: Array<[number, ErrorKind | undefined]> = [
      [41, "auth"],
      [42, "unknown"],
      [130, "cancelled"],
      [144, "unknown"],
      [145, "auth"],
      [173, "rate_limit"],
      [244, "server_error"],
      [247, "overloaded"],
      [1, undefined]
    ]
    for (const [code, kind] of table) assert.equal(geminiExitKind(code), kind, `exit ${code}`)
  })

  it("classifies failures from exit code, result error and stderr", () => {
    const quota = `${GEMINI_HEAD}\n{"type":"result","timestamp":"t","status":"error","error":{"type":"TerminalQuotaError","message":"You have exhausted your daily quota on this model."},"stats":{}}`
    assertFailed(replay(geminiAdapter, quota, exited(173)).outcome, "quota", "You have exhausted your daily quota on this model.")
    assertFailed(
      replay(geminiAdapter, GEMINI_HEAD, exited(173), "Attempt 1 failed with status 429. Retrying with backoff...\n").outcome,
      "rate_limit",
      "Attempt 1 failed with status 429. Retrying with backoff..."
    )
    const retried = 'Attempt 1 failed with status 429. Retrying with backoff... ApiError: {"error":{"code":429,"message":"Resource exhausted. Please try again later.","status":"RESOURCE_EXHAUSTED"}}\n' +
      "Attempt 2 failed with status 429. Retrying with backoff...\n"
    assertFailed(replay(geminiAdapter, GEMINI_HEAD, exited(173), retried).outcome, "rate_limit", "ApiError: Resource exhausted. Please try again later.")
    assertFailed(replay(geminiAdapter, GEMINI_HEAD, exited(247), "Error when talking to Gemini API: [API Error: The model is overloaded. Please try again later.]\n").outcome, "overloaded", "The model is overloaded. Please try again later.")
    const authJson = `{"error":{"type":"FatalAuthenticationError","message":"Please set an Auth method in your settings.json","code":41}}\n`
    assertFailed(replay(geminiAdapter, "", exited(41), authJson).outcome, "auth", "Please set an Auth method in your settings.json")
    assertFailed(replay(geminiAdapter, "", exited(145), "\n").outcome, "auth", "gemini exited with code 145 without a result.")
  })

  // Gemini 0.61.0's failed API calls (PROVIDERS.md): a final `result` line whose error.message
  // wraps the API's JSON body or text in `[API Error: ...]`, exit = HTTP status mod 256.
  const apiFailure = (message: string) =>
    `${GEMINI_HEAD}\n${JSON.stringify({ type: "result", timestamp: "2026-12-03T14:05:00.000Z", status: "error", error: { type: "unknown", message }, stats: { total_tokens: 0, input_tokens: 0, output_tokens: 0, duration_ms: 812, tool_calls: 0 } })}`
  const body = (code: number, status: string, message: string, details: unknown[] = []) =>
    `[API Error: ${JSON.stringify({ error: { code, message, status, details } })}]`
  // [HTTP status, error.message of the result line, kind, the line the user sees]
  const apiFailures: Array<[number, string, ErrorKind, string]> = [
    [
      401,
      body(401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.", [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "ACCESS_TOKEN_TYPE_UNSUPPORTED" }]),
      "auth",
      "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential."
    ],
    [
      400,
      body(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "API_KEY_INVALID" }]),
      "auth",
      "API key not valid. Please pass a valid API key."
    ],
    [400, body(400, "INVALID_ARGUMENT", "Request contains an invalid argument."), "unknown", "Request contains an invalid argument."],
    [
      429,
      "[API Error: Resource has been exhausted (e.g. check quota).\nSuggested retry after 1s.]\nPlease wait and try again later. To increase your limits, request a quota increase through AI Studio, or switch to another /auth method",
      "rate_limit",
      "Resource has been exhausted (e.g. check quota). Suggested retry after 1s."
    ],
    [
      429,
      body(429, "RESOURCE_EXHAUSTED", "You exceeded your current quota, please check your plan and billing details.\n* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 10\nPlease retry in 38.461756325s.", [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "38s" }]),
      "quota",
      "You exceeded your current quota, please check your plan and billing details. * Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 10 Please retry in 38.461756325s."
    ],
    [
      500,
      body(500, "INTERNAL", "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting"),
      "server_error",
      "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting"
    ],
    [503, body(503, "UNAVAILABLE", "The model is overloaded. Please try again later."), "overloaded", "The model is overloaded. Please try again later."]
  ]
  for (const [code, message, kind, shown] of apiFailures) {
    it(`classifies a ${code} result line (exit ${code % 256}) as ${kind} with the API's own sentence`, () => {
      const { outcome } = replay(geminiAdapter, apiFailure(message), exited(code % 256), GEMINI_RETRY_NOISE)
      assertFailed(outcome, kind, shown)
      assert.doesNotMatch(outcome.kind === "failed" ? outcome.error : "", /[{}[\]]|\n/)
    })
  }

  it("a 145 exit is not a signal, and a signal is crashed", () => {
    const { outcome } = replay(geminiAdapter, GEMINI_HEAD, exited(145))
    assert.equal(outcome.kind === "failed" && outcome.signal, null)
    assertFailed(replay(geminiAdapter, GEMINI_HEAD, exited(null, { signal: "SIGKILL" })).outcome, "crashed", /killed by SIGKILL/)
  })

  it("a success event with a non-zero exit fails", () => {
    assertFailed(replay(geminiAdapter, GEMINI_SUCCESS, exited(1)).outcome, "crashed", "gemini exited with code 1 after reporting success")
  })
})

describe("cursor adapter", () => {
  it("builds argv with --trust and --workspace", () => {
    assert.deepEqual(cursorAdapter.argv({ cwd: "/w", model: "gpt-5", permissions: "edit" }), ["-p", "--output-format", "stream-json", "--trust", "--model", "gpt-5", "--workspace", "/w"])
  })

  it("succeeds from the result event and reports tools", () => {
    const { outcome, progress } = replay(cursorAdapter, CURSOR_SUCCESS, exited(0))
    assert.deepEqual(outcome, { kind: "succeeded", exitCode: 0, result: "All tests pass.", denials: [], sessionId: "c1" })
    assert.deepEqual(progress, ["started: model Claude 4.5 Sonnet", "assistant: Running the tests.", "tool: shell npm test"])
  })

  it("succeeds when aidp ended it after the result (it never exited)", () => {
    const { outcome } = replay(cursorAdapter, CURSOR_SUCCESS, exited(null, { signal: "SIGTERM", killedAfterTerminal: true }))
    assert.deepEqual(outcome, { kind: "succeeded", exitCode: null, result: "All tests pass.", denials: [], sessionId: "c1" })
  })

  const failures: Array<[string, ErrorKind]> = [
    ["Authentication required. Please run 'agent login' first, or set CURSOR_API_KEY environment variable.", "auth"],
    ["The provided API key is invalid", "auth"],
    ["Error: You've reached the usage limit for your plan.", "quota"],
    ["Error: Rate limit exceeded.", "rate_limit"],
    ["Something odd happened", "crashed"]
  ]
  for (const [message, kind] of failures) {
    it(`classifies stderr "${message.slice(0, 40)}" as ${kind}`, () => {
      assertFailed(replay(cursorAdapter, "", exited(1), `\x1b[31m${message}\x1b[0m\n`).outcome, kind, message)
    })
  }

  it("a refusal that exits 0 without JSON is bad_output with its text", () => {
    assertFailed(replay(cursorAdapter, "Workspace Trust Required", exited(0)).outcome, "bad_output", "cursor exited with code 0 without a result: Workspace Trust Required")
  })
})

describe("classify", () => {
  const table: Array<[string, ErrorKind]> = [
    ["Invalid API key · Fix external API key", "auth"],
    ["Not logged in · Please run /login", "auth"],
    ["Authentication required. Please run 'agent login' first", "auth"],
    ["The provided API key is invalid", "auth"],
    ["HTTP 401 Unauthorized", "auth"],
    ["status 403 forbidden", "auth"],
    ["API Error: Rate limit reached", "rate_limit"],
    ["Request failed with status code 429", "rate_limit"],
    ["Quota exceeded for metric: generate_content_free_tier_requests, limit: 10 per minute (429)", "rate_limit"],
    ["Credit balance is too low", "quota"],
    ["You’ve hit your limit · resets 4pm", "quota"],
    ["You have reached your usage limit", "quota"],
    ["Quota exceeded for quota metric 'Generate Content API requests per day'", "quota"],
    ["You have exhausted your daily quota on this model.", "quota"],
    ["API Error: 529 overloaded_error", "overloaded"],
    ["503 Service Unavailable", "overloaded"],
    ["The model is overloaded. Please try again later.", "overloaded"],
    ["API Error: Connection error.", "network"],
    ["connect ECONNREFUSED 127.0.0.1:443", "network"],
    ["getaddrinfo ENOTFOUND api.anthropic.com", "network"],
    ["TypeError: fetch failed", "network"],
    ["Request timed out", "network"],
    ["504 Gateway Timeout", "server_error"],
    ["API Error: 500 Internal server error.", "server_error"],
    ["An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting", "server_error"],
    ["502 Bad Gateway", "server_error"],
    ["Resource has been exhausted (e.g. check quota).", "rate_limit"],
    ["at Object.<anonymous> (/x/cli.js:401:12)", "unknown"],
    ["Something else", "unknown"]
  ]
  for (const [text, kind] of table) it(`"${text}" -> ${kind}`, () => assert.equal(classifyText(text), kind))

  it("prefers the structured error, refining a 429 by quota words", () => {
    assert.equal(classifyError({ status: 429, text: "whatever" }), "rate_limit")
    assert.equal(classifyError({ status: 429, text: "daily quota exhausted" }), "quota")
    assert.equal(classifyError({ structured: "auth", text: "Rate limit" }), "auth")
    assert.equal(classifyError({ structured: "unknown", text: "Rate limit" }), "rate_limit")
  })

  it("extracts one trimmed line", () => {
    assert.equal(errorLine(""), "")
    assert.equal(errorLine("\n  \x1b[1mfirst\x1b[0m  line \n second"), "first line")
    assert.equal(errorLine("x".repeat(1000)).length, 300)
    assert.equal(errorLine("noise\nAPI Error: Connection error.\nmore"), "API Error: Connection error.")
  })
})

describe("retry hints: the time a provider names for trying again", () => {
  it("reads reset times and delays from the CLIs' messages", () => {
    assert.deepEqual(retryHint("claude", "You've hit your limit · resets 4pm (Europe/Berlin)"), {
      _tag: "Reset",
      hour: 16,
      minute: 0,
      timeZone: "Europe/Berlin",
      said: "claude: resets 4pm (Europe/Berlin)"
    })
    assert.deepEqual(retryHint("claude", "You've hit your limit · resets 12:30am"), { _tag: "Reset", hour: 0, minute: 30, timeZone: "UTC", said: "claude: resets 12:30am" })
    assert.deepEqual(retryHint("gemini", "Resource has been exhausted (e.g. check quota). Suggested retry after 1s."), { _tag: "Delay", ms: 1_000, said: "gemini asked for 1 s" })
    assert.deepEqual(retryHint("gemini", "Quota exceeded for metric: x, limit: 10\nPlease retry in 38.461756325s."), { _tag: "Delay", ms: 38_462, said: "gemini asked for 38 s" })
    assert.deepEqual(retryHint("gemini", `{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"300s"}`), { _tag: "Delay", ms: 300_000, said: "gemini asked for 5 min" })
    assert.equal(retryHint("claude", "API Error: Repeated 529 Overloaded errors."), undefined)
  })

  it("an outcome carries the hint: claude's last retry_delay_ms, gemini's result text, claude's reset time", () => {
    const retry = (ms: number) => `{"type":"system","subtype":"api_retry","attempt":1,"max_retries":10,"retry_delay_ms":${ms},"error_status":429,"error":"rate_limit"}`
    const rateLimited = [CLAUDE_INIT, retry(608), retry(38_000), claudeError("API Error: Rate limit reached", `"api_error_status":429,`).split("\n")[1]].join("\n")
    const hintOf = (outcome: Outcome) => (outcome.kind === "failed" ? outcome.retryHint : undefined)
    assert.deepEqual(hintOf(replay(claudeAdapter, rateLimited, exited(1)).outcome), { _tag: "Delay", ms: 38_000, said: "claude asked for 38 s" })
    assert.equal(hintOf(replay(claudeAdapter, claudeError("You've hit your limit · resets 4pm (Europe/Berlin)"), exited(1)).outcome)?._tag, "Reset")
    const gemini429 = `${GEMINI_HEAD}\n${JSON.stringify({ type: "result", status: "error", error: { type: "unknown", message: "[API Error: Resource has been exhausted (e.g. check quota).\nSuggested retry after 1s.]" } })}`
    assert.deepEqual(hintOf(replay(geminiAdapter, gemini429, exited(173)).outcome), { _tag: "Delay", ms: 1_000, said: "gemini asked for 1 s" })
    assert.equal(hintOf(replay(claudeAdapter, rateLimited.split("\n").slice(0, 3).join("\n"), exited(null, { signal: "SIGKILL", timedOut: true })).outcome), undefined, "aidp's timeout names no time")
  })
})

describe("registry", () => {
  it("resolves executables from the environment", () => {
    assert.equal(resolveBin(adapterFor("claude"), {}), "claude")
    assert.equal(resolveBin(adapterFor("gemini"), { AIDP_GEMINI_BIN: " /opt/gemini " }), "/opt/gemini")
    assert.equal(resolveBin(adapterFor("cursor"), { AIDP_CURSOR_BIN: "" }), "cursor-agent")
    assert.equal(adapterFor("cursor").binEnv, "AIDP_CURSOR_BIN")
  })
})
