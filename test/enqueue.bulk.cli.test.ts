/**
 * `aidp jobs enqueue --from FILE|-` as a user runs it (built CLI, real PostgreSQL): N lines
 * become N queued jobs in one transaction with one NOTIFY, ids printed in line order (or a
 * JSON array); the flags are every line's defaults and a line's own field wins; stdin works;
 * a bad line (anywhere, the last included) is one sentence naming its number and field,
 * exit 2, and no event at all.
 */
import assert from "node:assert/strict"
import { writeFile } from "node:fs/promises"
import path from "node:path"
import { after, before, describe, test } from "node:test"
import type { Sql } from "postgres"
import { openSql } from "../src/config/database.js"
import { channelFor } from "../src/events/sqlClient.js"
import { runCli } from "./support/cli.js"
import { createTestDb, testDatabaseUrl, type TestDb } from "./support/db.js"
import { assertCliError, assertJsonShape, eventCount, JOB_KEYS, projectDirs } from "./support/e2e.js"
import { waitFor } from "./support/wait.js"

const line = (fields: Record<string, unknown>) => JSON.stringify(fields)

describe("aidp jobs enqueue --from", () => {
  const dirs = projectDirs()
  let db: TestDb
  let cwd: string
  let listener: Sql
  /** Payloads received on the schema's channel, markers included. */
  const notes: Array<string> = []
  before(async () => {
    db = await createTestDb()
    cwd = await dirs.make({ git: false })
    listener = openSql(testDatabaseUrl, db.schema, { max: 1 })
    await listener.listen(channelFor(db.schema), (payload) => notes.push(payload))
  })
  after(async () => {
    await listener?.end({ timeout: 5 })
    await dirs.cleanup()
    await db?.drop()
  })

  /** The notifications received since `from`, once every earlier commit's have arrived (a marker sent now comes after them). */
  const notesSince = async (from: number): Promise<Array<string>> => {
    const marker = JSON.stringify({ marker: crypto.randomUUID() })
    await db.sql`select pg_notify(${channelFor(db.schema)}, ${marker})`
    await waitFor("the marker notification", () => notes.includes(marker) || null)
    return notes.slice(from, notes.indexOf(marker))
  }

  const writeLines = async (name: string, lines: ReadonlyArray<string>): Promise<string> => {
    const file = path.join(cwd, name)
    await writeFile(file, `${lines.join("\n")}\n`)
    return file
  }

  test("a file of N lines queues N jobs in one transaction with one NOTIFY, ids printed in line order", async () => {
    const n = 40
    const file = await writeLines("jobs.jsonl", Array.from({ length: n }, (_, i) => line({ provider: "claude", prompt: `job ${i}`, priority: i })))
    const heard = notes.length
    const result = await runCli(db, ["jobs", "enqueue", "--from", file], { cwd })
    assert.equal(result.code, 0, result.stderr)
    assert.equal(result.stderr, "")
    const ids = result.stdout.trim().split("\n")
    assert.equal(ids.length, n)
    const rows = await db.sql<Array<{ id: string; priority: number; status: string; prompt_summary: string }>>`
      select id, priority, status, prompt_summary from jobs where id = any(${db.sql.array(ids)}::uuid[])`
    const byId = new Map(rows.map((row) => [row.id, row]))
    ids.forEach((id, i) => assert.deepEqual({ ...byId.get(id) }, { id, priority: i, status: "queued", prompt_summary: `job ${i}` }))
    const [tx] = await db.sql<Array<{ transactions: number; events: number }>>`
      select count(distinct xmin::text)::int as transactions, count(*)::int as events from job_events
      where job_id = any(${db.sql.array(ids)}::uuid[]) and type = 'JobQueued'`
    assert.deepEqual({ ...tx }, { transactions: 1, events: n })
    const received = await notesSince(heard)
    assert.equal(received.length, 1, `one NOTIFY for the transaction: ${JSON.stringify(received)}`)
    assert.equal(JSON.parse(received[0]!).j, ids[n - 1], "it names the last job queued")
    // One time for every job, ids ascending in line order: equal jobs are claimed (by priority, run_at,
    // created_at, id) and listed (newest first: created_at desc, id desc) in the file's order.
    const listed = JSON.parse((await runCli(db, ["jobs", "list", "--json"], { cwd })).stdout) as Array<{ prompt: string }>
    assert.deepEqual(listed.map((job) => job.prompt), Array.from({ length: n }, (_, i) => `job ${n - 1 - i}`))
    // The bulk projection writes what a rebuild writes (invariant 3).
    const rebuilt = await runCli(db, ["jobs", "replay", "--rebuild", "--json"], { cwd })
    assert.equal(rebuilt.code, 0, rebuilt.stderr)
    assert.deepEqual(JSON.parse(rebuilt.stdout).tables.map((t: { table: string; identical: boolean }) => [t.table, t.identical]), [["workflows", true], ["jobs", true], ["job_executions", true], ["job_logs", true]])
  })

  test("stdin (-), the flags as defaults a line overrides, promptFile relative to the current folder, --json", async () => {
    await writeFile(path.join(cwd, "prompt.md"), "From a file.\n")
    const other = await dirs.make({ git: false })
    const input = [
      line({ prompt: "defaults only" }),
      "",
      line({ provider: "claude", promptFile: "prompt.md", priority: -3, cwd: other, metadata: { ticket: "A-1" }, maxAttempts: 5, maxCost: 0.5, maxTurns: 4 })
    ].join("\n")
    const result = await runCli(db, ["jobs", "enqueue", "--from", "-", "--provider", "gemini", "--priority", "7", "--timeout", "90", "--json"], { cwd, input })
    assert.equal(result.code, 0, result.stderr)
    const jobs = JSON.parse(result.stdout) as Array<any>
    assert.equal(jobs.length, 2)
    for (const job of jobs) assertJsonShape(job, JOB_KEYS)
    assert.deepEqual(jobs.map((job) => [job.provider, job.priority, job.timeoutMs, job.maxAttempts, job.cwd, job.prompt, job.metadata, job.maxCostUsd, job.maxTurns]), [
      ["gemini", 7, 90_000, 3, cwd, "defaults only", {}, null, null],
      ["claude", -3, 90_000, 5, other, "From a file.", { ticket: "A-1" }, 0.5, 4]
    ])
    assert.equal(new Set(jobs.map((job) => job.status)).size, 1)
  })

  test("a bad line anywhere (the last included) is named with its number and field: exit 2, no event at all", async () => {
    const good = line({ provider: "claude", prompt: "fine" })
    const cases: ReadonlyArray<{ name: string; lines: ReadonlyArray<string>; args?: ReadonlyArray<string>; says: ReadonlyArray<string> }> = [
      { name: "bad JSON on the last line", lines: [good, good, '{"provider": "claude", "prompt": '], says: ["Line 3 of", "not JSON"] },
      { name: "an unknown provider", lines: [good, line({ provider: "copilot", prompt: "x" })], says: ["Line 2 of", '"provider" must be one of claude, gemini, cursor', "copilot"] },
      { name: "a missing prompt", lines: [good, "", line({ provider: "claude" })], says: ["Line 3 of", '"prompt" or "promptFile"'] },
      { name: "a missing provider with no --provider", lines: [line({ prompt: "x" })], says: ["Line 1 of", 'missing "provider"', "--provider"] },
      { name: "a prompt with a NUL character", lines: [good, line({ provider: "claude", prompt: "nul \u0000 x" })], says: ["Line 2 of", '"prompt" must be text without NUL characters'] },
      { name: "a bad priority", lines: [good, line({ provider: "claude", prompt: "x", priority: 5000 })], says: ["Line 2 of", '"priority" must be a whole number from -1000 to 1000'] },
      { name: "a folder that does not exist", lines: [good, line({ provider: "claude", prompt: "x", cwd: "/nonexistent/dir" })], says: ["Line 2 of", '"cwd" /nonexistent/dir does not exist; name an existing folder.'] },
      { name: "a prompt file that does not exist", lines: [line({ provider: "claude", promptFile: "missing.md" })], says: ["Line 1 of", "missing.md", "does not exist"] },
      { name: "cursor at plan", lines: [good, line({ provider: "cursor", prompt: "x", permissions: "plan" })], says: ["Line 2 of", "read-only"] },
      { name: "a budget for gemini", lines: [good, line({ provider: "gemini", prompt: "x", maxCost: 0.5 })], says: ["Line 2 of", "gemini reports no running cost"] },
      { name: "a bad default flag", lines: [good], args: ["--priority", "5000"], says: ["--priority must be"] },
      { name: "a file with no job", lines: ["", "  "], says: ["has no jobs"] }
    ]
    for (const c of cases) {
      const file = await writeLines("bad.jsonl", c.lines)
      const before = await eventCount(db)
      const result = await runCli(db, ["jobs", "enqueue", "--from", file, ...(c.args ?? [])], { cwd })
      assertCliError(result, 2, ...c.says)
      assert.equal(result.stdout, "", `${c.name}: nothing on stdout`)
      assert.equal(await eventCount(db), before, `${c.name}: no event appended`)
    }
  })

  test("--from a file that does not exist or is not UTF-8, and stdin twice, are refused", async () => {
    const before = await eventCount(db)
    assertCliError(await runCli(db, ["jobs", "enqueue", "--from", "/nonexistent/jobs.jsonl"], { cwd }), 2, "--from /nonexistent/jobs.jsonl", "does not exist")
    const latin1 = path.join(cwd, "latin1.jsonl")
    await writeFile(latin1, Buffer.from([0x7b, 0x22, 0xe9, 0x22, 0x3a, 0x31, 0x7d, 0x0a]))
    assertCliError(await runCli(db, ["jobs", "enqueue", "--from", latin1], { cwd }), 2, `--from ${latin1} is not UTF-8 text`)
    assertCliError(await runCli(db, ["jobs", "enqueue", "--from", "-", "--prompt-file", "-"], { cwd, input: line({ provider: "claude" }) }), 2, "both read stdin")
    assertCliError(await runCli(db, ["jobs", "enqueue", "--from", "-"], { cwd, input: line({ provider: "claude", promptFile: "-" }) }), 2, "Line 1 of stdin", "name a file")
    assert.equal(await eventCount(db), before)
  })
})
