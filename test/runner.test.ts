/**
 * The runner against real processes: the fake CLIs in test/fakes (one per provider flavor)
 * misbehave in every way PROVIDERS.md lists, and the runner must report each correctly and
 * leave no process behind.
 */
import assert from "node:assert/strict"
import { chmodSync, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { after, describe, it } from "node:test"
import { Effect, Fiber } from "effect"
import type { OutputLine } from "../src/domain/events.js"
import type { ErrorKind, Provider } from "../src/domain/job.js"
import { adapterFor } from "../src/workers/providers/index.js"
import { runProvider, type RunOutcome, type RunSpec } from "../src/workers/runner.js"

const FAKE_BINS: Record<Provider, string> = {
  claude: resolve("test/fakes/bin/claude"),
  gemini: resolve("test/fakes/bin/gemini"),
  cursor: resolve("test/fakes/bin/cursor-agent")
}
const PROVIDERS: Provider[] = ["claude", "gemini", "cursor"]
const PROMPT = "Write docs/PRD.md.\nLine two with ünïcödé and a 'quote' and $HOME.\n"

interface Recorded {
  readonly argv: string[]
  readonly cwd: string
  readonly envKeys: string[]
  readonly stdin: string
  readonly pid: number
  readonly grandchildPid?: number
}

interface Run {
  readonly spec: RunSpec
  readonly record: string
  readonly outputs: Array<ReadonlyArray<OutputLine>>
  readonly progress: string[]
  readonly starts: number[]
}

/** Every run's directory lives under this one, removed when the file's tests end. */
const root = realpathSync(mkdtempSync(join(tmpdir(), "aidp-runner-")))
after(() => rmSync(root, { recursive: true, force: true }))

/** A spec for the fake of `provider` in a fresh directory, with hooks that collect everything. */
function prepare(provider: Provider, env: Record<string, string>, overrides: Partial<RunSpec> = {}): Run & { effect: Effect.Effect<RunOutcome> } {
  const cwd = mkdtempSync(join(root, "run-"))
  const record = join(cwd, "record.jsonl")
  const adapter = adapterFor(provider)
  const spec: RunSpec = {
    provider,
    bin: FAKE_BINS[provider],
    args: adapter.argv({ cwd, model: "test-model", permissions: "edit" }),
    prompt: PROMPT,
    cwd,
    env: { ...process.env, CLAUDECODE: "1", CLAUDE_CODE_ENTRYPOINT: "cli", FAKE_AGENT_RECORD: record, ...env },
    timeoutMs: 20_000,
    graceMs: 300,
    terminalGraceMs: 300,
    ...overrides
  }
  const run: Run = { spec, record, outputs: [], progress: [], starts: [] }
  const effect = runProvider(adapter, spec, {
    onOutput: (batches, progress) => Effect.sync(() => {
      run.outputs.push(...batches)
      run.progress.push(...progress)
    }),
    onStart: (pid) => Effect.sync(() => void run.starts.push(pid))
  })
  return { ...run, effect }
}

async function execute(provider: Provider, env: Record<string, string>, overrides: Partial<RunSpec> = {}) {
  const run = prepare(provider, env, overrides)
  const outcome = await Effect.runPromise(run.effect)
  // The last batch comes back with the outcome (recorded with it in one transaction).
  if (outcome.tail.lines.length > 0) run.outputs.push(outcome.tail.lines)
  run.progress.push(...outcome.tail.progress)
  return { ...run, outcome, lines: run.outputs.flat(), records: records(run.record) }
}

function records(file: string): Recorded[] {
  if (!existsSync(file)) return []
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Recorded)
}

/** Whether `pid` is a live process (a zombie waiting for a reaper counts as dead). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z"
  } catch {
    return false
  }
}

async function waitFor(check: () => boolean, ms = 3_000): Promise<boolean> {
  const until = Date.now() + ms
  while (Date.now() < until) {
    if (check()) return true
    await new Promise((done) => setTimeout(done, 20))
  }
  return check()
}

function assertFailed(outcome: RunOutcome, errorKind: ErrorKind, error: string | RegExp): void {
  assert.equal(outcome.kind, "failed", JSON.stringify(outcome))
  if (outcome.kind !== "failed") return
  assert.equal(outcome.errorKind, errorKind, outcome.error)
  if (typeof error === "string") assert.equal(outcome.error, error)
  else assert.match(outcome.error, error)
}

describe("runProvider: success", () => {
  for (const provider of PROVIDERS) {
    it(`${provider}: result, prompt on stdin only, file written, env cleaned`, async () => {
      const run = await execute(provider, { FAKE_AGENT_WRITE: "docs/PRD.md", FAKE_AGENT_RESULT: "Wrote the PRD." })
      assert.equal(run.outcome.kind, "succeeded", JSON.stringify(run.outcome))
      assert.equal(run.outcome.kind === "succeeded" && run.outcome.result, "Wrote the PRD.")
      assert.equal(run.outcome.exitCode, 0)
      assert.ok(run.outcome.durationMs > 0)
      const [recorded] = run.records
      assert.ok(recorded)
      assert.equal(recorded.stdin, PROMPT)
      assert.deepEqual(recorded.argv, run.spec.args)
      assert.ok(!recorded.argv.some((arg) => arg.includes("PRD.md")), "the prompt is not in argv")
      assert.equal(recorded.cwd, run.spec.cwd)
      assert.ok(!recorded.envKeys.includes("CLAUDECODE") && !recorded.envKeys.includes("CLAUDE_CODE_ENTRYPOINT"))
      assert.ok(recorded.envKeys.includes("FAKE_AGENT_RECORD"))
      assert.match(readFileSync(join(run.spec.cwd, "docs/PRD.md"), "utf8"), /written by fake/)
      assert.deepEqual(run.starts, [recorded.pid])
      assert.ok(run.progress.some((message) => message.startsWith("tool: ")), run.progress.join("\n"))
      assert.ok(run.lines.some((line) => line.stream === "stdout" && line.text.includes('"type":"result"')))
      assert.ok(run.lines.every((line) => !Number.isNaN(Date.parse(line.at))))
    })
  }

  it("claude records its CLI version", async () => {
    const run = await execute("claude", {})
    assert.equal(run.outcome.kind === "succeeded" && run.outcome.cliVersion, "2.1.332")
    assert.equal(run.outcome.kind === "succeeded" && run.outcome.costUsd, 0.0123)
  })

  it("gemini stderr noise with a success result is still success", async () => {
    const run = await execute("gemini", {})
    assert.equal(run.outcome.kind, "succeeded")
    assert.ok(run.lines.some((line) => line.stream === "stderr" && line.text === "Loaded cached credentials."))
  })
})

describe("runProvider: failures", () => {
  const table: Array<[Provider, string, Record<string, string>, ErrorKind, string | RegExp]> = [
    ["claude", "auth", {}, "auth", "Invalid API key · Please run /login"],
    ["claude", "auth", { FAKE_AGENT_EXIT: "0" }, "auth", "Invalid API key · Please run /login"],
    ["claude", "rate_limit", {}, "rate_limit", /^API Error: Request rejected \(429\) · This request would exceed the rate limit/],
    ["claude", "rate_limit", { FAKE_AGENT_EXIT: "0" }, "rate_limit", "API Error: Rate limit reached"],
    ["claude", "overloaded", {}, "overloaded", /^API Error: Repeated 529 Overloaded errors/],
    ["claude", "quota", {}, "quota", "You've hit your limit · resets 4pm (Europe/Berlin)"],
    ["gemini", "auth", {}, "auth", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential."],
    ["gemini", "rate_limit", {}, "rate_limit", "Resource has been exhausted (e.g. check quota). Suggested retry after 1s."],
    ["gemini", "overloaded", {}, "overloaded", "The model is overloaded. Please try again later."],
    ["gemini", "quota", {}, "quota", "You have exhausted your daily quota on this model. Please try again after the quota resets."],
    ["cursor", "auth", {}, "auth", "Authentication required. Please run 'agent login' first, or set CURSOR_API_KEY environment variable."],
    ["cursor", "rate_limit", {}, "rate_limit", "Error: Rate limit exceeded. Please wait a moment and try again."],
    ["cursor", "overloaded", {}, "overloaded", "The model is currently overloaded. Please try again in a few minutes."],
    ["cursor", "quota", {}, "quota", /usage limit/]
  ]
  for (const [provider, mode, env, kind, message] of table) {
    it(`${provider} ${mode}${env["FAKE_AGENT_EXIT"] === undefined ? "" : ` (exit ${env["FAKE_AGENT_EXIT"]})`} -> ${kind}`, async () => {
      const run = await execute(provider, { FAKE_AGENT_MODE: mode, ...env })
      assertFailed(run.outcome, kind, message)
    })
  }

  for (const provider of PROVIDERS) {
    it(`${provider} crash: exit 2 with a stack trace -> crashed, the error line only`, async () => {
      const run = await execute(provider, { FAKE_AGENT_MODE: "crash" })
      assertFailed(run.outcome, "crashed", "TypeError: Cannot read properties of undefined (reading 'content')")
      assert.equal(run.outcome.exitCode, 2)
    })
  }

  it("killed by a signal -> crashed with the signal name", async () => {
    const run = await execute("claude", { FAKE_AGENT_MODE: "signal", FAKE_AGENT_SIGNAL: "SIGKILL" })
    assertFailed(run.outcome, "crashed", "claude was killed by SIGKILL before its result")
    assert.equal(run.outcome.kind === "failed" && run.outcome.signal, "SIGKILL")
  })

  it("exit 0 without a result event -> bad_output", async () => {
    const run = await execute("gemini", { FAKE_AGENT_MODE: "no_terminal" })
    assertFailed(run.outcome, "bad_output", "gemini exited with code 0 without a result")
  })

  it("a missing binary -> not_installed naming the variable and the fix", async () => {
    const run = await execute("claude", {}, { bin: "aidp-no-such-claude" })
    assertFailed(
      run.outcome,
      "not_installed",
      "claude is not installed (AIDP_CLAUDE_BIN=aidp-no-such-claude not found on PATH). Install it: npm install -g @anthropic-ai/claude-code"
    )
  })

  it("a binary that is not executable -> not_installed", async () => {
    const file = join(mkdtempSync(join(root, "bin-")), "gemini")
    writeFileSync(file, "#!/bin/sh\n")
    chmodSync(file, 0o644)
    const run = await execute("gemini", {}, { bin: file })
    assertFailed(run.outcome, "not_installed", `gemini is not installed (AIDP_GEMINI_BIN=${file} is not executable). Install it: npm install -g @google/gemini-cli`)
  })

  it("a missing working directory is reported as such", async () => {
    const run = await execute("claude", {}, { cwd: "/nonexistent/aidp-dir" })
    assertFailed(run.outcome, "unknown", "Working directory /nonexistent/aidp-dir does not exist.")
  })
})

describe("runProvider: output", () => {
  it("delivers a line of several MB complete", async () => {
    const run = await execute("claude", { FAKE_AGENT_MODE: "huge_line" })
    assert.equal(run.outcome.kind, "succeeded")
    const result = run.outcome.kind === "succeeded" ? run.outcome.result : ""
    assert.ok(result.length >= 5 * 1024 * 1024 && result.endsWith("END"))
    const resultLine = run.lines.find((line) => line.text.startsWith('{"type":"result"'))
    assert.ok(resultLine)
    assert.equal((JSON.parse(resultLine.text) as { result: string }).result, result)
    for (const batch of run.outputs) {
      const bytes = batch.reduce((sum, line) => sum + Buffer.byteLength(line.text), 0)
      assert.ok(batch.length === 1 || bytes <= 64 * 1024, `batch of ${batch.length} lines, ${bytes} bytes`)
    }
  })

  it("reassembles a JSON line written in pieces", async () => {
    const run = await execute("claude", { FAKE_AGENT_MODE: "split_json" })
    assert.equal(run.outcome.kind, "succeeded")
    assert.ok(run.progress.includes("assistant: I'll write the file."), run.progress.join("\n"))
  })

  it("reassembles multi-byte characters split across writes", async () => {
    const run = await execute("cursor", { FAKE_AGENT_MODE: "split_utf8" })
    assert.equal(run.outcome.kind === "succeeded" && run.outcome.result, "Fertig: héllo wörld — 日本語 🎉 ✓")
    assert.ok(run.lines.every((line) => !line.text.includes("\ufffd")))
  })

  it("keeps invalid bytes as U+FFFD and escape sequences verbatim", async () => {
    const run = await execute("gemini", { FAKE_AGENT_MODE: "invalid_utf8_ansi" })
    assert.equal(run.outcome.kind, "succeeded")
    assert.ok(run.lines.some((line) => line.stream === "stdout" && line.text === "plain \x1b[31mred\x1b[0m text \ufffd\ufffd end"))
    assert.ok(run.lines.some((line) => line.stream === "stderr" && line.text === "\x1b[33mwarning:\x1b[0m bad byte \ufffd("))
  })

  it("streams slow output as it comes, in several batches", async () => {
    const run = await execute("claude", { FAKE_AGENT_MODE: "slow", FAKE_AGENT_DELAY_MS: "150" })
    assert.equal(run.outcome.kind, "succeeded")
    assert.ok(run.outputs.length >= 4, `${run.outputs.length} batches`)
  })
})

describe("runProvider: stopping", () => {
  it("timeout: SIGTERM ignored, SIGKILL after the grace, grandchild gone", async () => {
    // The timeout leaves the fake time to start and install its SIGTERM handler, even on a loaded machine.
    const run = await execute("claude", { FAKE_AGENT_MODE: "ignore_sigterm,leave_child" }, { timeoutMs: 3_000, graceMs: 300 })
    assertFailed(run.outcome, "timeout", "claude ran past the job's timeout and aidp stopped it.")
    assert.equal(run.outcome.kind === "failed" && run.outcome.signal, "SIGKILL")
    assert.ok(run.outcome.durationMs >= 3_300 && run.outcome.durationMs < 10_000, `${run.outcome.durationMs} ms`)
    const [recorded] = run.records
    assert.ok(recorded?.grandchildPid !== undefined)
    assert.ok(await waitFor(() => !alive(recorded.pid) && !alive(recorded.grandchildPid ?? 0)), "no process survives")
  })

  it("a grandchild left behind by a successful run is killed", async () => {
    const run = await execute("gemini", { FAKE_AGENT_MODE: "leave_child" })
    assert.equal(run.outcome.kind, "succeeded")
    const grandchild = run.records[0]?.grandchildPid
    assert.ok(grandchild !== undefined)
    assert.ok(await waitFor(() => !alive(grandchild)), "grandchild gone")
  })

  it("interrupting the fiber kills the process group before it completes", async () => {
    const run = prepare("claude", { FAKE_AGENT_MODE: "ignore_sigterm,leave_child" }, { graceMs: 300 })
    const fiber = Effect.runFork(run.effect)
    assert.ok(await waitFor(() => records(run.record).length > 0), "the fake started")
    const [recorded] = records(run.record)
    assert.ok(recorded?.grandchildPid !== undefined && alive(recorded.pid))
    await Effect.runPromise(Fiber.interrupt(fiber))
    assert.ok(!alive(recorded.pid), "the child was waited for")
    assert.ok(await waitFor(() => !alive(recorded.grandchildPid ?? 0)), "grandchild gone")
  })

  it("cancel signal: cancelled outcome with the output so far", async () => {
    const controller = new AbortController()
    const run = prepare("gemini", { FAKE_AGENT_MODE: "slow", FAKE_AGENT_DELAY_MS: "60000" }, { cancel: controller.signal })
    const pending = Effect.runPromise(run.effect)
    assert.ok(await waitFor(() => run.outputs.flat().some((line) => line.text.includes('"type":"init"'))))
    controller.abort()
    const outcome = await pending
    assertFailed(outcome, "cancelled", /Cancelled/)
    assert.ok(outcome.durationMs < 30_000, `stopped long before its next line: ${outcome.durationMs} ms`)
    assert.ok(!alive(records(run.record)[0]?.pid ?? 0))
  })

  it("cursor prints its result and never exits: succeeded after the terminal grace", async () => {
    const run = await execute("cursor", { FAKE_AGENT_MODE: "hang_after_result", FAKE_AGENT_RESULT: "done" }, { terminalGraceMs: 300, timeoutMs: 60_000 })
    assert.match(run.outcome.sessionId ?? "", /^[0-9a-f-]{36}$/, "the session cursor reported")
    const { tail: _tail, ...outcome } = run.outcome
    assert.deepEqual({ ...outcome, durationMs: 0 }, { kind: "succeeded", exitCode: null, result: "done", denials: [], durationMs: 0, sessionId: run.outcome.sessionId })
    assert.ok(run.outcome.durationMs < 30_000, `ended by the terminal grace, long before the timeout: ${run.outcome.durationMs} ms`)
    assert.ok(!alive(run.records[0]?.pid ?? 0))
  })
})
