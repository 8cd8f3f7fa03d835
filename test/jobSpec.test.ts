/**
 * The pure half of `jobs enqueue` (src/cli/jobSpec.ts): one table of fields decodes the flags
 * and every `--from` line alike; JSON Lines parsing (blank lines, CRLF, bad JSON, non-objects,
 * unknown fields, bad values) names the line and field; flags are defaults a line overrides;
 * a complete job gets the defaults.
 */
import assert from "node:assert/strict"
import { describe, test } from "node:test"
import { UsageError } from "../src/cli/errors.js"
import { JOB_DEFAULTS } from "../src/cli/jobCommands.js"
import { completeSpec, enqueueFlags, enqueueHelp, flagSource, flagSpec, LINE_SOURCE, parseJobLines, withDefaults } from "../src/cli/jobSpec.js"

const usage = "aidp jobs enqueue ..."

const refused = (body: () => unknown, ...says: ReadonlyArray<string>) =>
  assert.throws(body, (error: unknown) => {
    assert.ok(error instanceof UsageError, String(error))
    for (const text of says) assert.ok(error.message.includes(text), `${JSON.stringify(error.message)} should include ${JSON.stringify(text)}`)
    return true
  })

describe("parseJobLines", () => {
  test("one job per line, blank lines skipped, CRLF accepted, line numbers counted over blank lines", () => {
    const jobs = parseJobLines('{"provider": "claude", "prompt": "a"}\n\n  \r\n{"prompt": "b", "priority": 5}\r\n', "jobs.jsonl")
    assert.deepEqual(jobs, [
      { line: 1, spec: { provider: "claude", prompt: "a" } },
      { line: 4, spec: { prompt: "b", priority: 5 } }
    ])
  })

  test("values are decoded as the flags are: provider and permissions in any case, model trimmed, null left out, maxCost a number or decimal text", () => {
    const [job, text] = parseJobLines('{"provider": " Gemini ", "permissions": "PLAN", "model": " m1 ", "cwd": null, "metadata": {"k": [1]}, "retryTimeouts": true, "maxCost": 0.5}\n{"maxCost": "1.25"}', "f")
    assert.deepEqual(job!.spec, { provider: "gemini", permissions: "plan", model: "m1", metadata: { k: [1] }, retryTimeouts: true, maxCost: 0.5 })
    assert.deepEqual(text!.spec, { maxCost: 1.25 })
  })

  const bad: ReadonlyArray<readonly [string, string, ReadonlyArray<string>]> = [
    ["bad JSON", '{"provider": "claude",', ["Line 2 of jobs.jsonl", "not JSON", "one JSON object per line"]],
    ["an array", "[1, 2]", ["Line 2 of jobs.jsonl", "not a JSON object"]],
    ["a string", '"claude"', ["Line 2 of jobs.jsonl", "not a JSON object"]],
    ["an unknown provider", '{"provider": "copilot", "prompt": "x"}', ["Line 2 of jobs.jsonl", '"provider" must be one of claude, gemini, cursor', '"copilot"']],
    ["a priority out of range", '{"priority": 1001}', ["Line 2 of jobs.jsonl", '"priority" must be a whole number from -1000 to 1000', "1001"]],
    ["a priority as text", '{"priority": "5"}', ['"priority" must be a whole number', '"5"']],
    ["a fractional maxAttempts", '{"maxAttempts": 1.5}', ['"maxAttempts" must be a whole number from 1 to 100']],
    ["a zero timeout", '{"timeout": 0}', ['"timeout" must be a whole number of seconds']],
    ["a blank model", '{"model": "  "}', ['"model" must be a model name']],
    ["retryTimeouts as text", '{"retryTimeouts": "yes"}', ['"retryTimeouts" must be true or false']],
    ["metadata not an object", '{"metadata": [1]}', ['"metadata" must be a JSON object']],
    ["metadata nested 33 deep", `{"metadata": ${'{"a":'.repeat(33)}1${"}".repeat(33)}}`, ['"metadata" must be a JSON object nested at most 32 deep', "…"]],
    ["a NUL in the prompt", '{"prompt": "a\\u0000b"}', ['"prompt" must be text without NUL characters']],
    ["a maxCost of 0", '{"maxCost": 0}', ['"maxCost" must be an amount of US dollars above 0', "got 0."]],
    ["a maxCost with 5 decimals", '{"maxCost": 0.00001}', ['"maxCost" must be', "at most 4 decimals"]],
    ["a maxTurns of 0", '{"maxTurns": 0}', ['"maxTurns" must be a whole number from 1 to 10000', "got 0."]],
    ["an unknown field", '{"promt": "x"}', ['unknown field "promt"', "provider, prompt, promptFile"]]
  ]
  for (const [what, line, says] of bad) {
    test(`${what} is refused naming the line and the field`, () => refused(() => parseJobLines(`{"provider": "claude", "prompt": "ok"}\n${line}\n`, "jobs.jsonl"), ...says))
  }
})

describe("flagSpec", () => {
  test("the flags given, decoded by the same schemas; flags left out (and unset switches) are absent", () => {
    assert.deepEqual(flagSpec({ provider: "CLAUDE", priority: 3, retryTimeouts: false, metadata: '{"a": 1}', json: true }, usage), {
      provider: "claude",
      priority: 3,
      metadata: { a: 1 }
    })
  })

  test("a bad flag is named as a flag", () => {
    // A number flag is not repeated (the user just typed it); a text one is.
    refused(() => flagSpec({ priority: 5000 }, usage), "--priority must be a whole number from -1000 to 1000.")
    refused(() => flagSpec({ maxCost: "0" }, usage), '--max-cost must be an amount of US dollars above 0', 'got "0".')
    refused(() => flagSpec({ maxAttempts: 0 }, usage), "--max-attempts must be")
    refused(() => flagSpec({ metadata: "not json" }, usage), "--metadata must be a JSON object", '"not json"')
  })

  test("every field has a flag and a help line that names it", () => {
    const help = enqueueHelp().map(([spelling]) => spelling).join(" ")
    for (const name of Object.keys(enqueueFlags())) {
      assert.match(help, new RegExp(`--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}\\b`))
    }
  })
})

describe("withDefaults and completeSpec", () => {
  test("a line's own field wins over the flag's; the rest come from the flags", () => {
    const spec = withDefaults({ provider: "gemini", priority: 1, cwd: "/a" }, { provider: "claude", prompt: "x" })
    assert.deepEqual(spec, { provider: "claude", priority: 1, cwd: "/a", prompt: "x" })
  })

  test("the prompt is one choice: a line's promptFile replaces --prompt, and a line without one takes it", () => {
    assert.deepEqual(withDefaults({ prompt: "default" }, { promptFile: "p.md" }), { promptFile: "p.md" })
    assert.deepEqual(withDefaults({ promptFile: "p.md" }, { prompt: "own" }), { prompt: "own" })
    assert.deepEqual(withDefaults({ prompt: "default" }, {}), { prompt: "default", promptFile: undefined })
  })

  test("a complete spec gets the job defaults", () => {
    assert.deepEqual(completeSpec({ provider: "claude", prompt: "x" }, LINE_SOURCE), {
      provider: "claude",
      prompt: { text: "x" },
      cwd: undefined,
      model: null,
      priority: JOB_DEFAULTS.priority,
      maxAttempts: JOB_DEFAULTS.maxAttempts,
      timeoutMs: JOB_DEFAULTS.timeoutMs,
      permissions: undefined,
      retryTimeouts: false,
      metadata: {},
      budget: { maxCostUsd: undefined, maxTurns: undefined },
      worktree: undefined
    })
    assert.equal(completeSpec({ provider: "claude", promptFile: "p.md", timeout: 90 }, LINE_SOURCE).timeoutMs, 90_000)
    assert.deepEqual(completeSpec({ provider: "claude", prompt: "x", maxCost: 0.5, maxTurns: 7 }, LINE_SOURCE).budget, { maxCostUsd: 0.5, maxTurns: 7 })
  })

  test("a missing provider or prompt is named as the source spells it, with the way to give it", () => {
    refused(() => completeSpec({ prompt: "x" }, LINE_SOURCE), 'Missing "provider"', "or as --provider for every line")
    refused(() => completeSpec({ provider: "claude" }, LINE_SOURCE), '"prompt" or "promptFile"', "--prompt / --prompt-file for every line")
    refused(() => completeSpec({ provider: "claude", prompt: "x", promptFile: "p" }, LINE_SOURCE), "exactly one of")
    refused(() => completeSpec({ prompt: "x" }, flagSource(usage)), "Missing --provider", `Usage: ${usage}`)
  })
})
