/**
 * The pure parts of argument handling: when a command line asks for help, the help text's
 * layout and its check that it names every flag, and the application_name of connections.
 */
import assert from "node:assert/strict"
import { describe, test } from "node:test"
import { applicationName } from "../src/config/database.js"
import { UsageError } from "../src/cli/errors.js"
import { HelpRequested, wantsHelp } from "../src/cli/helpRequest.js"
import { answerHelp, flagUses, helpText, parseArgs, timeFlag, unusedFlag } from "../src/cli/parse.js"

describe("wantsHelp", () => {
  const cases: ReadonlyArray<readonly [ReadonlyArray<string>, boolean]> = [
    [["--help"], true],
    [["-h"], true],
    [["retry", "123456", "--help"], true],
    [["--priority", "-h"], true],
    [["--", "--help"], false],
    [["retry", "--", "-h"], false],
    [["-hx"], false],
    [["--helpful"], false],
    [[], false]
  ]
  for (const [argv, expected] of cases) {
    test(`${JSON.stringify(argv)} -> ${expected}`, () => assert.equal(wantsHelp(argv), expected))
  }
})

describe("helpText and answerHelp", () => {
  const help = {
    usage: "aidp thing [--count N]",
    about: "Does\nthe thing.",
    options: [["--count N", "how many (default 1)"]] as const,
    notes: "Notes here."
  }

  test("usage, about on one paragraph, aligned options with -h, --help, then notes", () => {
    assert.equal(helpText(help), [
      "Usage",
      "  aidp thing [--count N]",
      "",
      "Does the thing.",
      "",
      "Options",
      "  --count N   how many (default 1)",
      "  -h, --help  show this help and do nothing else",
      "",
      "Notes here.",
      ""
    ].join("\n"))
  })

  test("a long option description wraps under itself", () => {
    const text = helpText({ usage: "aidp x", about: "X.", options: [["--y", "word ".repeat(30).trim()]] })
    const lines = text.split("\n").filter((line) => line.includes("word"))
    assert.ok(lines.length > 1)
    assert.ok(lines.every((line) => line.length <= 92), lines.join("\n"))
    assert.ok(lines.slice(1).every((line) => line.startsWith("              word")), lines.join("\n"))
  })

  test("asked for help: throws HelpRequested with the text, before any validation", () => {
    assert.throws(() => parseArgs(help, ["--count", "--help"], { count: { type: "number" } }), (error: unknown) => {
      assert.ok(error instanceof HelpRequested)
      assert.equal(error.text, helpText(help))
      return true
    })
  })

  test("a help that does not name a parsed flag is a bug, reported as one", () => {
    assert.throws(() => answerHelp(help, ["-h"], { count: { type: "number" }, maxAttempts: { type: "number" } }), /does not name --max-attempts\.$/)
  })

  test("not asked: returns and parses", () => {
    assert.equal(parseArgs(help, ["--count", "3"], { count: { type: "number" } }).flags.count, 3)
  })

  test("a lone - is the value of a value flag (stdin), not a positional argument", () => {
    const parsed = parseArgs({ ...help, options: [["--file F", "where"]] }, ["--file", "-", "rest"], { file: { type: "string" } })
    assert.equal(parsed.flags.file, "-")
    assert.deepEqual(parsed.input, ["rest"])
    assert.throws(() => parseArgs(help, ["--count", "-"], { count: { type: "number" } }), /--count must be a whole number/)
  })

  test("a switch given a value (--detach=1, --retry-timeouts=yes, --no-json=x) is refused, not ignored; after -- it is an argument", () => {
    const switches = { detach: { type: "boolean" as const, default: false }, retryTimeouts: { type: "boolean" as const, default: false }, json: { type: "boolean" as const, default: false } }
    const withSwitches = { ...help, options: [["--detach", "d"], ["--retry-timeouts", "r"], ["--json", "j"]] as Array<[string, string]> }
    for (const [word, name] of [["--detach=1", "--detach"], ["--retry-timeouts=yes", "--retry-timeouts"], ["--retryTimeouts=true", "--retryTimeouts"], ["--json=false", "--json"], ["--no-json=x", "--no-json"]]) {
      assert.throws(() => parseArgs(withSwitches, [word!], switches), (error: unknown) =>
        error instanceof UsageError && error.message.startsWith(`${name} is a switch and takes no value (got "${word}").`))
    }
    assert.equal(parseArgs(withSwitches, ["--detach"], switches).flags.detach, true)
    assert.deepEqual(parseArgs(withSwitches, ["--", "--detach=1"], switches).input, ["--detach=1"])
  })

  test("a flag given twice is refused in its own spelling, a switch as a value flag; after -- the words are arguments", () => {
    const flags = { worktree: { type: "boolean" as const }, maxTurns: { type: "number" as const }, model: { type: "string" as const } }
    const named = { ...help, options: [["--worktree", "w"], ["--max-turns N", "t"], ["--model M", "m"]] as Array<[string, string]> }
    for (const [argv, sentence] of [
      [["--worktree", "--worktree"], "--worktree is given 2 times; give it once."],
      [["--worktree", "--no-worktree"], "--worktree is given 2 times; give it once."],
      [["--max-turns", "1", "--maxTurns=2"], "--max-turns is given 2 times; give it once."],
      [["--model", "a", "--model", "b", "--model=c"], "--model is given 3 times; give it once."]
    ] as const) {
      assert.throws(() => parseArgs(named, argv, flags), (error: unknown) => error instanceof UsageError && error.message === sentence, JSON.stringify(argv))
    }
    assert.deepEqual(parseArgs(named, ["--worktree", "--", "--worktree"], flags).input, ["--worktree"])
  })
})

describe("flagUses and unusedFlag", () => {
  const flags = { list: { type: "boolean" as const }, detach: { type: "boolean" as const }, maxCost: { type: "string" as const }, json: { type: "boolean" as const } }
  test("counts each flag in every spelling before --, and names the first one outside those a form uses", () => {
    assert.deepEqual([...flagUses(["--list", "--max-cost=1", "--no-detach", "--", "--json"], flags)], [["list", 1], ["detach", 1], ["maxCost", 1]])
    assert.equal(unusedFlag(["--list", "--json"], flags, ["list", "json"]), undefined)
    assert.equal(unusedFlag(["--list", "--maxCost", "2"], flags, ["list", "json"]), "--max-cost")
    assert.equal(unusedFlag(["--list", "--", "--detach"], flags, ["list"]), undefined)
  })
})

describe("timeFlag", () => {
  const now = new Date("2026-12-03T12:00:00Z")
  test("an ISO 8601 time or a positive span ago", () => {
    assert.equal(timeFlag("since", "2026-11-29T10:00Z", now)?.toISOString(), "2026-11-29T10:00:00.000Z")
    assert.equal(timeFlag("since", "30m", now)?.toISOString(), "2026-12-03T11:30:00.000Z")
    assert.equal(timeFlag("since", undefined, now), undefined)
  })
  test("a local clock time: today's, or yesterday's", () => {
    const local = (days: number, h: number, m: number) => new Date(now.getFullYear(), now.getMonth(), now.getDate() - days, h, m).toISOString()
    assert.equal(timeFlag("at", "15:00", now)?.toISOString(), local(0, 15, 0))
    assert.equal(timeFlag("at", "today 9:30", now)?.toISOString(), local(0, 9, 30))
    assert.equal(timeFlag("at", "Yesterday 15:00", now)?.toISOString(), local(1, 15, 0))
  })
  const refused: ReadonlyArray<readonly [string, RegExp]> = [
    ["-5m", /^--since -5m is not a span: a span ago is a positive number and a unit, e\.g\. --since 5m\.$/],
    ["99999999999d", /^--since 99999999999d reaches back before the year 1; write a shorter span/],
    ["1000000w", /^--since 1000000w reaches back before the year 1/],
    ["+275760-09-13", /^--since "\+275760-09-13" is outside the years 1 to 9999/],
    ["yesterday", /^--since must be an ISO 8601 time .* or a local time \(15:00, yesterday 15:00\); got "yesterday"\.$/],
    ["25:00", /^--since must be an ISO 8601 time .* got "25:00"\.$/],
    ["0d", /^--since 0d is not a span: a span ago is a positive number and a unit/],
    ["2026-02-30T00:00Z", /^--since 2026-02-30T00:00Z names a day the calendar does not have/],
    ["2026-13-01", /^--since 2026-13-01 names a day the calendar does not have/]
  ]
  for (const [value, sentence] of refused) {
    test(`refuses ${value} as a usage error naming the flag`, () => {
      assert.throws(() => timeFlag("since", value, now), (error: Error) => error instanceof UsageError && sentence.test(error.message))
    })
  }
  test("a value starting with - and a digit is the flag's value, not options", () => {
    const parsed = parseArgs({ usage: "aidp thing [--since T]", about: "Does it.", options: [["--since T", "when"]] }, ["--since", "-5m"], { since: { type: "string" } })
    assert.equal(parsed.flags.since, "-5m")
  })
})

describe("applicationName", () => {
  const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
    [["jobs", "list", "--json"], "aidp 42@box jobs list"],
    [["worker", "--count", "2"], "aidp 42@box worker"],
    [["jobs", "retry", "123456"], "aidp 42@box jobs retry"],
    [["execute", "00_PRD"], "aidp 42@box execute"],
    [[], "aidp 42@box"],
    [["jöbs"], "aidp 42@box"]
  ]
  for (const [argv, expected] of cases) {
    test(`${JSON.stringify(argv)} -> ${expected}`, () => assert.equal(applicationName(42, argv, "box"), expected))
  }
  test("a long or non-ASCII host is cut to 32 printable bytes without spaces", () => {
    assert.equal(applicationName(7, ["worker"], `büro ${"x".repeat(40)}`), `aidp 7@b?ro?${"x".repeat(27)} worker`)
  })
})
