/**
 * `aidp jobs ...` as a user runs it (built CLI, fake providers, real PostgreSQL): the
 * documented `--json` shapes, filters, logs made harmless, cancel, replay, the plain table
 * when stdout is not a terminal, and Invariant 6: bad input gives one sentence, a non-zero
 * exit and changes nothing.
 */
import assert from "node:assert/strict"
import { truncate, writeFile } from "node:fs/promises"
import path from "node:path"
import { after, before, describe, test } from "node:test"
import { runCli, runJson } from "./support/cli.js"
import { createTestDb, type TestDb } from "./support/db.js"
import {
  assertCliError,
  assertJsonShape,
  eventCount,
  EXECUTION_KEYS,
  JOB_KEYS,
  projectDirs,
  showJob,
  waitForStatus,
  withWorker
} from "./support/e2e.js"

describe("aidp jobs", () => {
  let db: TestDb
  let cwd: string
  const dirs = projectDirs()
  /** Jobs made along the way: a completed claude job, a queued-then-running gemini job, a cancelled cursor job. */
  const ids = { claude: "", gemini: "", cursor: "" }
  before(async () => {
    db = await createTestDb()
    cwd = await dirs.make({ git: false })
  })
  after(async () => {
    await dirs.cleanup()
    await db.drop()
  })
  const enqueue = async (provider: string, extra: ReadonlyArray<string> = []) =>
    runJson(db, ["jobs", "enqueue", "--provider", provider, "--prompt", `Say hello (${provider}).`, "--cwd", cwd, "--json", ...extra])

  test("enqueue --json prints the new job with the documented keys", async () => {
    const job = await enqueue("claude")
    assertJsonShape(job, JOB_KEYS)
    assert.match(job.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
    assert.equal(job.provider, "claude")
    assert.equal(job.status, "queued")
    assert.equal(job.step, null)
    assert.equal(job.attempts, 0)
    assert.equal(job.startedAt, null)
    assert.ok(job.createdAt)
    ids.claude = job.id
  })

  test("what enqueue was told is shown back: --max-attempts, --timeout, --priority, --retry-timeouts in show and show --json", async () => {
    // A schema of its own: the other tests here count this file's jobs.
    const own = await createTestDb()
    try {
      const job = await runJson<any>(own, ["jobs", "enqueue", "--provider", "claude", "--prompt", "limits", "--cwd", cwd, "--max-attempts", "5", "--timeout", "90", "--priority", "7", "--retry-timeouts", "--json"])
      assert.deepEqual([job.maxAttempts, job.timeoutMs, job.priority, job.retryTimeouts], [5, 90_000, 7, true])
      const text = (await runCli(own, ["jobs", "show", job.id])).stdout
      assert.match(text, /^Limits +5 attempts at most · timeout 1m30s each · priority 7 · a timeout is retried$/m)
    } finally {
      await own.drop()
    }
  })

  test("a worker runs it; show --json has metadata, executions and logs; logs are made harmless", async () => {
    await withWorker(db, { FAKE_AGENT_MODE: "invalid_utf8_ansi" }, () => waitForStatus(db, ids.claude, "completed"))
    const job = await showJob(db, ids.claude)
    assertJsonShape(job, [...JOB_KEYS, "metadata", "executions", "logs"])
    assert.equal(job.status, "completed")
    assert.deepEqual(job.metadata, {})
    assert.equal(typeof job.durationMs, "number")
    assert.equal(job.executions.length, 1)
    const [execution] = job.executions
    assertJsonShape(execution, EXECUTION_KEYS)
    assert.equal(execution.attempt, 1)
    assert.equal(execution.status, "succeeded")
    assert.equal(execution.exitCode, 0)
    assert.equal(execution.costUsd, 0.0123)
    assert.match(execution.sessionId, /^[0-9a-f-]{36}$/, "the agent's session id")
    assert.deepEqual([execution.resumedAttempt, execution.sessionGone], [null, false])
    assert.ok(execution.workerId)
    assert.ok(job.logs.some((log: any) => log.executionId === execution.id && log.stream === "stdout"))
    // The log keeps what the provider printed (invalid bytes as U+FFFD) ...
    assert.ok(job.logs.some((log: any) => log.message.includes("\x1b[31mred") && log.message.includes("\ufffd")))

    // ... and `jobs logs` shows it with the escape sequences made harmless.
    const logs = await runCli(db, ["jobs", "logs", ids.claude.slice(0, 8)])
    assert.equal(logs.code, 0, logs.stderr)
    assert.ok(!logs.stdout.includes("\x1b"), "no ESC byte reaches the terminal")
    assert.match(logs.stdout, /plain red text \ufffd\ufffd end/)
    assert.match(logs.stdout, /warning: bad byte \ufffd\(/)
    // --follow of a finished job prints the same and returns.
    const followed = await runCli(db, ["jobs", "logs", ids.claude, "--follow"], { timeoutMs: 15_000 })
    assert.equal(followed.code, 0, followed.stderr)
    assert.equal(followed.stdout, logs.stdout)
  })

  test("list --json with --status, --provider and --limit", async () => {
    ids.gemini = (await enqueue("gemini")).id
    ids.cursor = (await enqueue("cursor")).id
    const all = await runJson<Array<any>>(db, ["jobs", "list", "--json"])
    assert.equal(all.length, 3)
    for (const job of all) assertJsonShape(job, JOB_KEYS)
    const ids_ = (args: ReadonlyArray<string>) => runJson<Array<any>>(db, ["jobs", "list", "--json", ...args]).then((jobs) => jobs.map((j) => j.id).sort())
    assert.deepEqual(await ids_(["--status", "queued"]), [ids.gemini, ids.cursor].sort())
    assert.deepEqual(await ids_(["--status", "completed"]), [ids.claude])
    assert.deepEqual(await ids_(["--provider", "gemini"]), [ids.gemini])
    assert.deepEqual(await ids_(["--status", "queued", "--provider", "claude"]), [])
    assert.equal((await ids_(["--limit", "1"])).length, 1)
  })

  test("cancel of a queued job cancels it", async () => {
    const result = await runCli(db, ["jobs", "cancel", ids.cursor])
    assert.equal(result.code, 0, result.stderr)
    const job = await showJob(db, ids.cursor)
    assert.equal(job.status, "cancelled")
    assert.equal(job.errorKind, "cancelled")
  })

  test("retry of a queued or running job is refused and changes nothing", async () => {
    const before = await eventCount(db)
    assertCliError(await runCli(db, ["jobs", "retry", ids.gemini]), 1, /retr/i, "queued")
    assert.equal(await eventCount(db), before)

    await withWorker(db, { FAKE_AGENT_MODE: "slow", FAKE_AGENT_DELAY_MS: "60000" }, async () => {
      await waitForStatus(db, ids.gemini, "running")
      // Its output keeps adding events meanwhile: count the retry requests only.
      assertCliError(await runCli(db, ["jobs", "retry", ids.gemini]), 1, /retr/i, "running")
      assert.equal(await eventCount(db, "JobRetryRequested"), 0)
    })
    // The stopped worker gave the job back; leave nothing queued for later tests.
    assert.equal((await runCli(db, ["jobs", "cancel", ids.gemini])).code, 0)
    await waitForStatus(db, ids.gemini, "cancelled")
  })

  test("bad input: one sentence on stderr, the documented exit code, nothing changed", async (t) => {
    const unknownId = "00000000-0000-4000-8000-000000000000"
    /** A schema name nobody created: read commands must not create it. */
    const typoSchema = `${db.schema}_typo`
    /** A sparse file of 280 MB: a prompt file far over the limit, refused without being read. */
    const hugePrompt = path.join(cwd, "huge-prompt.md")
    await writeFile(hugePrompt, "")
    await truncate(hugePrompt, 280 * 1024 * 1024)
    const cases: ReadonlyArray<{ name: string; args: ReadonlyArray<string>; env?: NodeJS.ProcessEnv; input?: string; code: number; says: ReadonlyArray<string | RegExp> }> = [
      { name: "show of an unknown job", args: ["jobs", "show", unknownId], code: 1, says: [unknownId] },
      { name: "retry of an unknown job", args: ["jobs", "retry", unknownId], code: 1, says: [unknownId] },
      { name: "cancel of an unknown job", args: ["jobs", "cancel", unknownId], code: 1, says: [unknownId] },
      { name: "logs of an unknown job", args: ["jobs", "logs", unknownId], code: 1, says: [unknownId] },
      { name: "a too short prefix", args: ["jobs", "show", "abc"], code: 2, says: ["abc", "6"] },
      { name: "a missing JOB", args: ["jobs", "retry"], code: 2, says: ["JOB"] },
      { name: "an unknown flag", args: ["jobs", "list", "--bogus"], code: 2, says: ["--bogus"] },
      { name: "a switch given a value", args: ["jobs", "enqueue", "--provider", "claude", "--prompt", "x", "--retry-timeouts=yes"], code: 2, says: ["--retry-timeouts is a switch and takes no value"] },
      { name: "a flag without its value", args: ["jobs", "list", "--status"], code: 2, says: ["--status"] },
      { name: "an unknown status", args: ["jobs", "list", "--status", "bogus"], code: 2, says: ["--status", "bogus"] },
      { name: "an unknown provider", args: ["jobs", "enqueue", "--provider", "copilot", "--prompt", "x"], code: 2, says: ["--provider", "copilot"] },
      { name: "enqueue without a prompt", args: ["jobs", "enqueue", "--provider", "claude"], code: 2, says: ["--prompt"] },
      { name: "a --cwd that does not exist", args: ["jobs", "enqueue", "--provider", "claude", "--prompt", "x", "--cwd", "/nonexistent/dir"], code: 2, says: ["--cwd /nonexistent/dir does not exist; name an existing folder."] },
      { name: "an unknown jobs subcommand", args: ["jobs", "frobnicate"], code: 2, says: ["frobnicate"] },
      { name: "an unknown command", args: ["frobnicate"], code: 2, says: ["frobnicate"] },
      { name: "a prototype key as command", args: ["constructor"], code: 2, says: ["constructor"] },
      { name: "QUE_WORKER_COUNT=0", args: ["worker"], env: { QUE_WORKER_COUNT: "0" }, code: 2, says: ["QUE_WORKER_COUNT"] },
      { name: "QUE_WORKER_COUNT=abc", args: ["worker"], env: { QUE_WORKER_COUNT: "abc" }, code: 2, says: ["QUE_WORKER_COUNT"] },
      { name: "a bad schema name", args: ["jobs", "list"], env: { AIDP_DB_SCHEMA: "Bad-Name" }, code: 2, says: ["AIDP_DB_SCHEMA"] },
      ...(["list", "show", "logs", "retry", "cancel"] as const).map((command) => ({
        name: `jobs ${command} in a schema with no installation (a typo)`,
        args: ["jobs", command, ...(command === "list" ? [] : [unknownId])],
        env: { AIDP_DB_SCHEMA: typoSchema },
        code: 2,
        says: [`Schema ${typoSchema} (AIDP_DB_SCHEMA) does not exist`, "aidp db migrate"]
      })),
      ...(["--list", "pause", "resume", "cancel"] as const).map((command) => ({
        name: `execute ${command} in a schema with no installation (a typo)`,
        args: ["execute", command],
        env: { AIDP_DB_SCHEMA: typoSchema },
        code: 2,
        says: [`Schema ${typoSchema} (AIDP_DB_SCHEMA) does not exist`, "aidp db migrate"]
      })),
      // Usage errors come before any connection: in a schema not made yet, none is made.
      { name: "execute of an unknown step", args: ["execute", "99_nope"], env: { AIDP_DB_SCHEMA: typoSchema }, code: 2, says: ['Unknown step "99_nope"; the steps are 00_PRD'] },
      { name: "execute all --from an unknown step", args: ["execute", "all", "--from", "99_nope"], env: { AIDP_DB_SCHEMA: typoSchema }, code: 2, says: ['--from "99_nope" is not a step'] },
      { name: "execute all --list", args: ["execute", "all", "--list"], env: { AIDP_DB_SCHEMA: typoSchema }, code: 2, says: ['--list takes no subcommand (got "all"); use aidp execute --list.'] },
      { name: "execute --list --detach", args: ["execute", "--list", "--detach"], code: 2, says: ["--detach does not go with aidp execute --list; leave it out"] },
      { name: "execute resume --detach", args: ["execute", "resume", "--detach"], code: 2, says: ["--detach does not go with aidp execute resume; leave it out"] },
      { name: "execute init --json", args: ["execute", "init", "--json"], code: 2, says: ["--json does not go with aidp execute init"] },
      { name: "execute pause --provider", args: ["execute", "pause", "--provider", "gemini"], code: 2, says: ["--provider does not go with aidp execute pause"] },
      { name: "execute next --until", args: ["execute", "next", "--until", "03_ADR"], code: 2, says: ["--until does not go with aidp execute next; it goes with aidp execute all"] },
      { name: "execute all --worktree twice", args: ["execute", "all", "--worktree", "--worktree"], code: 2, says: ["--worktree is given 2 times; give it once."] },
      { name: "execute next --max-turns twice", args: ["execute", "next", "--max-turns", "2", "--max-turns", "3"], code: 2, says: ["--max-turns is given 2 times; give it once."] },
      { name: "--metadata claiming workflow_id", args: ["jobs", "enqueue", "--provider", "claude", "--prompt", "x", "--metadata", '{"workflow_id": "3b0c6d1e-0000-4000-8000-000000000000"}'], code: 2, says: ['--metadata may not set "workflow_id": aidp sets document, workflow_id, workflow_step, workflow itself'] },
      { name: "a --from line's metadata claiming document", args: ["jobs", "enqueue", "--from", "-"], input: '{"provider": "claude", "prompt": "x", "metadata": {"ticket": 1, "document": "../../etc/x"}}\n', code: 2, says: ['Line 1 of stdin: "metadata" may not set "document"'] },
      { name: "a prompt file larger than a prompt may be", args: ["jobs", "enqueue", "--provider", "claude", "--prompt-file", hugePrompt], code: 2, says: [`--prompt-file ${hugePrompt} is 293601280 bytes (280.0 MB); a prompt may be at most 4194304 bytes (4.0 MB)`] },
      { name: "a prompt on stdin larger than a prompt may be", args: ["jobs", "enqueue", "--provider", "claude", "--prompt-file", "-"], input: "x".repeat(4 * 1024 * 1024 + 1), code: 2, says: ["--prompt-file - is 4194305 bytes (4.0 MB); a prompt may be at most 4194304 bytes (4.0 MB): shorten it"] },
      { name: "list --step with a --cwd that does not exist", args: ["jobs", "list", "--cwd", "/nonexistent/project", "--step", "idea"], code: 2, says: ['--step "idea" is not a step of this project', "(--cwd /nonexistent/project does not exist, so no aidp.workflow.json of its could add its own)."] },
      { name: "the monitor's table in a schema with no installation", args: ["jobs"], env: { AIDP_DB_SCHEMA: typoSchema }, code: 2, says: [typoSchema] },
      { name: "replay in a schema with no installation", args: ["jobs", "replay"], env: { AIDP_DB_SCHEMA: typoSchema }, code: 2, says: [typoSchema] },
      { name: "an unreachable database", args: ["jobs", "list"], env: { AIDP_DATABASE_URL: "postgres://root@127.0.0.1:1/test" }, code: 1, says: ["127.0.0.1:1"] },
      { name: "AIDP_LOG_FILE that cannot be created", args: ["jobs", "list"], env: { AIDP_LOG_FILE: "/proc/aidp-nope/aidp.log" }, code: 2, says: ["AIDP_LOG_FILE"] },
      { name: "AIDP_LOG_FILE naming a folder", args: ["jobs", "list"], env: { AIDP_LOG_FILE: cwd }, code: 2, says: ["AIDP_LOG_FILE"] },
      { name: "AIDP_DEBUG=yes", args: ["jobs", "list"], env: { AIDP_DEBUG: "yes" }, code: 2, says: ["AIDP_DEBUG"] },
      { name: "an empty provider binary variable", args: ["jobs", "list"], env: { AIDP_CLAUDE_BIN: "" }, code: 2, says: ["AIDP_CLAUDE_BIN"] },
      { name: "execute with an unknown provider", args: ["execute", "next", "--provider", "copilot"], code: 2, says: ["copilot"] },
      { name: "replay --rebuild with a JOB", args: ["jobs", "replay", unknownId, "--rebuild"], code: 2, says: ["--rebuild"] },
      { name: "replay --since a span too long for a date", args: ["jobs", "replay", "--since", "99999999999d"], code: 2, says: ["--since 99999999999d", "shorter span"] },
      { name: "replay --since a negative span", args: ["jobs", "replay", "--since", "-5m"], code: 2, says: ["--since -5m is not a span", "positive"] },
      { name: "replay --full without JOB", args: ["jobs", "replay", "--full"], code: 2, says: ["--full", "JOB"] },
      { name: "replay --stats with --events", args: ["jobs", "replay", "--stats", "--events"], code: 2, says: ["--stats", "--events"] },
      { name: "replay --by without --stats", args: ["jobs", "replay", "--by", "step"], code: 2, says: ["--by", "--stats"] },
      { name: "replay --stats --by an unknown key", args: ["jobs", "replay", "--stats", "--by", "model"], code: 2, says: ["--by must be one of provider, step, project, day"] },
      { name: "replay with --since after --until", args: ["jobs", "replay", "--since", "2030-01-01", "--until", "2020-01-01"], code: 2, says: ["--since", "--until"] },
      { name: "an empty --model", args: ["jobs", "enqueue", "--provider", "claude", "--prompt", "x", "--model", ""], code: 2, says: ["--model"] },
      { name: "execute with an empty --model", args: ["execute", "next", "--model", " "], code: 2, says: ["--model"] },
      { name: "a prompt file that does not exist", args: ["jobs", "enqueue", "--provider", "claude", "--prompt-file", "/nonexistent/prompt.md"], code: 2, says: ["/nonexistent/prompt.md", "does not exist"] },
      { name: "QUE_WORKER_COUNT over the limit", args: ["worker"], env: { QUE_WORKER_COUNT: "99999" }, code: 2, says: ["QUE_WORKER_COUNT", "256"] }
    ]
    for (const c of cases) {
      await t.test(c.name, async () => {
        const before = await eventCount(db)
        const result = await runCli(db, c.args, { cwd, env: c.env, input: c.input, timeoutMs: 15_000 })
        assertCliError(result, c.code, ...c.says)
        assert.equal(result.stdout, "", "nothing on stdout")
        assert.equal(await eventCount(db), before, "no event appended")
      })
    }
    const [created] = await db.sql`select 1 from pg_namespace where nspname = ${typoSchema}`
    assert.equal(created, undefined, "no schema created for a mistyped AIDP_DB_SCHEMA")
  })

  test("replay: the events, --stats --json, and --rebuild reports identical tables", async () => {
    const listed = await runCli(db, ["jobs", "replay"])
    assert.equal(listed.code, 0, listed.stderr)
    const lines = listed.stdout.trim().split("\n")
    assert.equal(lines.length, await eventCount(db))
    assert.match(lines[0]!, new RegExp(`${ids.claude.slice(0, 8)}\\s+v1\\s+JobQueued`))

    const events = await runJson<Array<any>>(db, ["jobs", "replay", ids.claude, "--events", "--json"])
    assert.deepEqual(events.map((e) => e.type).filter((type) => type !== "ExecutionOutput" && type !== "ExecutionProgress"), ["JobQueued", "ExecutionStarted", "ExecutionSucceeded"])
    assert.deepEqual(events.map((e) => e.version), events.map((_, i) => i + 1))

    const story = await runCli(db, ["jobs", "replay", ids.claude.slice(0, 8)])
    assert.equal(story.code, 0, story.stderr)
    assert.match(story.stdout, new RegExp(`^Job ${ids.claude} \\(claude\\)`))
    assert.match(story.stdout, /^\+0\.0s\s+queued: claude, project /m)
    assert.match(story.stdout, /^\+\S+\s+attempt 1 started on worker \S+ \(host \S+\), after \S+ in the queue$/m)
    assert.match(story.stdout, /^\+\S+\s+attempt 1 succeeded after \S+ — \d+ tool calls?, \d+ messages?/m)
    assert.match(story.stdout, /^In all: completed after 1 execution; /m)
    const storyJson = await runJson<any>(db, ["jobs", "replay", ids.claude, "--json"])
    assert.deepEqual(storyJson.entries.map((e: any) => e.kind), ["queued", "started", "ended"])
    const full = await runJson<any>(db, ["jobs", "replay", ids.claude, "--full", "--json"])
    assert.ok(full.entries.some((e: any) => e.kind === "activity" && e.entry.kind === "result"), JSON.stringify(full.entries))
    const stats = await runJson(db, ["jobs", "replay", "--stats", "--json"])
    assert.equal(stats.events, await eventCount(db))
    assert.equal(stats.overall.jobs, 3)
    assert.deepEqual(stats.jobsByStatus, { completed: 1, cancelled: 2 })
    const byProvider = await runJson(db, ["jobs", "replay", "--stats", "--by", "Provider", "--json"])
    assert.equal(byProvider.by, "provider")
    assert.deepEqual(byProvider.groups.map((g: any) => g.key).sort(), Object.keys(ids).sort())
    const statsText = await runCli(db, ["jobs", "replay", "--stats", "--by", "project"])
    assert.equal(statsText.code, 0, statsText.stderr)
    assert.match(statsText.stdout, /^by project\s+jobs\s+1st try/m)
    assert.match(statsText.stdout, /^all jobs\s+3\s/m)

    const rebuilt = await runJson(db, ["jobs", "replay", "--rebuild", "--json"])
    assert.equal(rebuilt.events, await eventCount(db))
    assert.deepEqual(rebuilt.tables.map((t: any) => [t.table, t.identical]), [["workflows", true], ["jobs", true], ["job_executions", true], ["job_logs", true]])
    const text = await runCli(db, ["jobs", "replay", "--rebuild"])
    assert.equal(text.code, 0, text.stderr)
    assert.match(text.stdout, /jobs\s+3 rows\s+identical/)
  })

  test("aidp jobs with stdout not a terminal prints the table once and exits 0", async () => {
    const result = await runCli(db, ["jobs"], { timeoutMs: 15_000 })
    assert.equal(result.code, 0, result.stderr)
    assert.equal(result.stderr, "")
    assert.equal(result.stdout.match(/^ID\s+Provider\s+Status\s+Step\s+Project\s+Duration\s+Error$/gm)?.length, 1)
    for (const id of Object.values(ids)) assert.ok(result.stdout.includes(id.slice(0, 8)), `row of ${id}`)
    assert.ok(!result.stdout.includes("\x1b"), "no escape sequences")
  })
})
