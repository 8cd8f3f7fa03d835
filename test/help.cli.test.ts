/**
 * Help never acts (issue 5): every command and subcommand answers `--help` and `-h`, before
 * or after its arguments, even among invalid ones, with its own usage naming every option,
 * on stdout, exit 0, and does nothing else: no database connection (an unreachable
 * AIDP_DATABASE_URL would fail the command), no event appended, no embedded server started.
 */
import assert from "node:assert/strict"
import { chmod, mkdtemp, readdir, readFile, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { after, before, describe, test } from "node:test"
import { type CliResult, runCli, runJson } from "./support/cli.js"
import { createTestDb, type TestDb } from "./support/db.js"
import { assertCliError, eventCount, jobStatus, projectDirs } from "./support/e2e.js"

/** Nothing listens on port 1: any connection attempt fails the command. */
const unreachable = { url: "postgres://root@127.0.0.1:1/test", schema: "aidp" }
const JOB = "123456"

/**
 * Each command line (its words, then its positional arguments and flags) and what its help
 * must say: its usage and every option it takes.
 */
const COMMANDS: ReadonlyArray<{ readonly words: ReadonlyArray<string>; readonly args?: ReadonlyArray<string>; readonly says: ReadonlyArray<string> }> = [
  { words: ["execute"], says: ["aidp execute next", "aidp execute STEP", "aidp execute --list", "--provider P", "--model M", "--retry-timeouts", "--max-cost USD", "--max-turns N", "--worktree", "--detach", "--json", "00_PRD"] },
  { words: ["execute"], args: ["next"], says: ["aidp execute next", "--provider P", "--model M", "--detach", "--list", "--json"] },
  { words: ["execute"], args: ["02_ARCHITECTURE", "--provider", "gemini"], says: ["aidp execute STEP", "--provider P"] },
  { words: ["execute"], args: ["--list"], says: ["aidp execute --list", "--list", "--json"] },
  { words: ["jobs"], says: ["aidp jobs [COMMAND]", "list", "show", "logs", "retry", "cancel", "enqueue", "replay", "prune", "diff", "merge", "discard", "clean", "q quit"] },
  { words: ["jobs", "list"], args: ["--limit", "5"], says: ["aidp jobs list", "--status S", "--provider P", "--limit N", "default 50", "--json"] },
  { words: ["jobs", "show"], args: [JOB], says: ["aidp jobs show JOB", "--json"] },
  { words: ["jobs", "logs"], args: [JOB], says: ["aidp jobs logs JOB", "--follow"] },
  { words: ["jobs", "retry"], args: [JOB], says: ["aidp jobs retry JOB", "--fresh", "unique prefix"] },
  { words: ["jobs", "cancel"], args: [JOB], says: ["aidp jobs cancel JOB"] },
  {
    words: ["jobs", "enqueue"],
    args: ["--provider", "claude", "--prompt", "hello"],
    says: ["aidp jobs enqueue", "--provider P", "--prompt TEXT", "--prompt-file F", "--cwd DIR", "--model M", "--priority N", "--max-attempts N", "--timeout SECONDS", "default 1800", "--retry-timeouts", "--max-cost USD", "--max-turns N", "--metadata JSON", "--worktree", "AIDP_WORKTREE", "--from FILE", "JSON Lines", "--json"]
  },
  { words: ["jobs", "replay"], args: [JOB, "--stats"], says: ["aidp jobs replay", "--full", "--events", "--at T", "--since T", "--until T", "--stats", "--by KEY", "--rebuild", "--apply", "--json"] },
  { words: ["jobs", "prune"], args: ["--older-than", "90d"], says: ["aidp jobs prune", "--older-than T", "--output-only", "--dry-run", "--json", "AIDP_RETENTION"] },
  { words: ["jobs", "diff"], args: [JOB], says: ["aidp jobs diff JOB", "PAGER", "unique prefix"] },
  { words: ["jobs", "merge"], args: [JOB], says: ["aidp jobs merge JOB", "uncommitted changes", "conflicts"] },
  { words: ["jobs", "discard"], args: [JOB], says: ["aidp jobs discard JOB", "branch"] },
  { words: ["jobs", "clean"], args: ["--merged"], says: ["aidp jobs clean", "--merged", "--older-than T", "--dry-run", "--json"] },
  { words: ["worker"], args: ["--count", "2"], says: ["aidp worker", "--count N", "QUE_WORKER_COUNT"] },
  { words: ["db"], says: ["aidp db migrate", "aidp db status", "aidp db stop"] },
  { words: ["db", "migrate"], says: ["aidp db migrate", "--json"] },
  { words: ["db", "status"], says: ["aidp db status", "--json"] },
  { words: ["db", "stop"], says: ["aidp db stop", "embedded"] },
  { words: ["doctor"], says: ["aidp doctor", "changes nothing"] }
]

/** Asserts `result` is a help: exit 0, nothing on stderr, the usage and options on stdout. */
const assertHelp = (result: CliResult, says: ReadonlyArray<string>, line: string): void => {
  assert.equal(result.code, 0, `aidp ${line}: exit ${result.code}, stderr ${result.stderr}`)
  assert.equal(result.stderr, "", `aidp ${line} printed on stderr`)
  assert.match(result.stdout, /^Usage\n/, `aidp ${line}`)
  assert.match(result.stdout, /-h, --help/, `aidp ${line}`)
  for (const text of says) assert.ok(result.stdout.includes(text), `aidp ${line}: the help names ${JSON.stringify(text)}:\n${result.stdout}`)
}

describe("--help and -h, with no database to reach", () => {
  for (const { words, args = [], says } of COMMANDS) {
    test(`aidp ${[...words, ...args].join(" ")}: --help after the arguments, -h before them`, async () => {
      const lines = [[...words, ...args, "--help"], [...words, "-h", ...args]]
      const results = await Promise.all(lines.map((line) => runCli(unreachable, line)))
      for (const [index, result] of results.entries()) assertHelp(result, says, lines[index]!.join(" "))
      assert.equal(results[0]!.stdout, results[1]!.stdout, "--help and -h print the same help")
    })
  }

  test("help wins over invalid arguments: bad values, missing values, unknown flags and steps", async () => {
    const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
      [["jobs", "enqueue", "--priority", "--help"], "--max-attempts N"],
      [["jobs", "enqueue", "--provider", "nope", "--timeout", "x", "-h"], "--timeout SECONDS"],
      [["worker", "--count", "0", "--help"], "--count N"],
      [["execute", "NO_SUCH_STEP", "extra", "-h"], "aidp execute STEP"],
      [["jobs", "list", "--bogus", "--help"], "--status S"],
      [["jobs", "retry", "a", "b", "c", "-h"], "aidp jobs retry JOB"],
      [["db", "stop", "--json", "-h"], "aidp db stop"],
      [["db", "nonsense", "--help"], "aidp db migrate"],
      [["jobs", "nonsense", "-h"], "aidp jobs [COMMAND]"]
    ]
    const results = await Promise.all(cases.map(([line]) => runCli(unreachable, line)))
    for (const [index, result] of results.entries()) assertHelp(result, [cases[index]![1]], cases[index]![0].join(" "))
  })

  test("aidp --help, -h, help and help COMMAND print help; --version and -v the version", async () => {
    const pkg = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
    const [long, short, word, topic, version, v] = await Promise.all([
      runCli(unreachable, ["--help"]),
      runCli(unreachable, ["-h"]),
      runCli(unreachable, ["help"]),
      runCli(unreachable, ["help", "jobs", "enqueue"]),
      runCli(unreachable, ["--version"]),
      runCli(unreachable, ["-v"])
    ])
    for (const result of [long, short, word]) {
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stdout, /^aidp — run AI coding agents/)
      assert.match(result.stdout, /aidp jobs enqueue/)
      // Every command's options, as README's list of commands has them.
      assert.match(result.stdout, /aidp jobs list \[--status S\] \[--provider P\] \[--cwd DIR\] \[--step S\] \[--limit N\] \[--json\]/)
      assert.match(result.stdout, /aidp jobs logs JOB \[--follow\] \[--raw \| --json\]/)
    }
    assertHelp(topic, ["--max-attempts N"], "help jobs enqueue")
    for (const result of [version, v]) {
      assert.equal(result.code, 0, result.stderr)
      assert.equal(result.stdout, `${pkg.version}\n`)
    }
  })

  test("help of an unknown command and --version with arguments are usage errors, exit 2", async () => {
    const [bogus, extra, vExtra] = await Promise.all([
      runCli(unreachable, ["help", "bogus"]),
      runCli(unreachable, ["--version", "extra"]),
      runCli(unreachable, ["-v", "1", "2"])
    ])
    assertCliError(bogus, 2, 'Unknown command "bogus" in aidp help', "execute, jobs, worker, db, doctor")
    assertCliError(extra, 2, '--version takes no arguments, got "extra"; run aidp --version alone.')
    assertCliError(vExtra, 2, '-v takes no arguments, got "1 2"')
    for (const result of [bogus, extra, vExtra]) assert.equal(result.stdout, "")
  })

  test("words after -- are arguments, not flags: `jobs retry -- --help` looks for a job named --help", async () => {
    const result = await runCli(unreachable, ["jobs", "retry", "--", "--help"])
    assert.notEqual(result.code, 0)
    assert.doesNotMatch(result.stdout, /Usage/)
    assert.match(result.stderr, /^aidp: /)
  })
})

describe("--help changes nothing in the database", () => {
  let db: TestDb
  const dirs = projectDirs()
  before(async () => {
    db = await createTestDb()
  })
  after(async () => {
    await dirs.cleanup()
    await db.drop()
  })

  test("execute next, jobs enqueue, cancel, retry and worker with --help/-h append no event", async () => {
    const cwd = await dirs.make({ git: false })
    const job = await runJson<{ id: string }>(db, ["jobs", "enqueue", "--provider", "claude", "--prompt", "stay queued", "--cwd", cwd, "--json"])
    const events = await eventCount(db)
    const lines: ReadonlyArray<ReadonlyArray<string>> = [
      ["execute", "next", "--help"],
      ["execute", "00_PRD", "--detach", "-h"],
      ["jobs", "enqueue", "--provider", "claude", "--prompt", "x", "--cwd", cwd, "--help"],
      ["jobs", "cancel", job.id, "--help"],
      ["jobs", "cancel", "-h", job.id],
      ["jobs", "retry", job.id, "-h"],
      ["worker", "--count", "1", "--help"],
      ["jobs", "replay", "--rebuild", "-h"],
      ["jobs", "merge", job.id, "--help"],
      ["jobs", "discard", job.id, "-h"],
      ["jobs", "clean", "--help"]
    ]
    for (const line of lines) {
      const result = await runCli(db, line, { cwd, timeoutMs: 20_000 })
      assert.equal(result.code, 0, `aidp ${line.join(" ")}: ${result.stderr}`)
      assert.match(result.stdout, /^Usage\n/)
    }
    assert.equal(await eventCount(db), events, "no event appended")
    assert.equal(await jobStatus(db, job.id), "queued", "the job was not cancelled")
    assert.deepEqual(await readdir(cwd), [], "no step document, nothing written in the project")
  })

  test("db migrate --help applies no migration", async () => {
    const bare = await createTestDb({ migrate: false })
    try {
      const result = await runCli(bare, ["db", "migrate", "--help"])
      assert.equal(result.code, 0, result.stderr)
      const [row] = await bare.sql<Array<{ n: number }>>`select count(*)::int as n from pg_tables where schemaname = ${bare.schema}`
      assert.equal(row!.n, 0, "no table was created in the schema")
    } finally {
      await bare.drop()
    }
  })
})

describe("--help never starts the embedded server", () => {
  let dataHome: string
  before(async () => {
    dataHome = await mkdtemp(path.join(tmpdir(), "aidp-help-data-"))
    await chmod(dataHome, 0o755)
  })
  after(async () => {
    await rm(dataHome, { recursive: true, force: true })
  })

  test("with no database URL, help of every database command leaves the data home empty", async () => {
    const env = { AIDP_DATABASE_URL: undefined, DATABASE_URL: undefined, XDG_DATA_HOME: dataHome }
    const noUrl = { url: "", schema: "aidp" }
    const lines = [["db", "stop", "--help"], ["db", "status", "-h"], ["db", "migrate", "-h"], ["execute", "next", "--help"], ["jobs", "-h"], ["jobs", "list", "--help"], ["doctor", "-h"], ["worker", "--help"]]
    const results = await Promise.all(lines.map((line) => runCli(noUrl, line, { env })))
    for (const [index, result] of results.entries()) {
      assert.equal(result.code, 0, `aidp ${lines[index]!.join(" ")}: ${result.stderr}`)
      assert.match(result.stdout, /^Usage\n/)
    }
    assert.deepEqual(await readdir(dataHome), [], "no server data directory was created")
  })
})
