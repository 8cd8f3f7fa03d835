/**
 * `aidp jobs list` and `aidp jobs show` as a user runs them (built CLI, fake providers, real
 * PostgreSQL): the Step and Project columns, `--cwd`/`--step` and their bad input, a
 * cancellation worded as who asked for it, each execution's tokens and cost with the job's
 * totals, and today's spend the monitor's title shows.
 */
import assert from "node:assert/strict"
import { mkdir, rm, symlink } from "node:fs/promises"
import path from "node:path"
import { after, before, describe, test } from "node:test"
import { monitorSnapshot, spendSince, startOfLocalDay } from "../src/projections/queries.js"
import { runCli, runJson } from "./support/cli.js"
import { createTestDb, type TestDb } from "./support/db.js"
import { assertCliError, eventCount, projectDirs, showJob, waitForStatus, withWorker } from "./support/e2e.js"

describe("aidp jobs list and show: steps, projects, cancellations, usage", () => {
  let db: TestDb
  const dirs = projectDirs()
  /** Two project folders side by side, whose last folder names the project. */
  const projects = { shop: "", blog: "" }
  /** shop: step 00_PRD (claude, runs and is retried once); blog: step 01_NFRS (gemini), and one without a step (cursor, cancelled). */
  const ids = { prd: "", nfrs: "", plain: "" }
  before(async () => {
    db = await createTestDb()
    const base = await dirs.make({ git: false })
    for (const name of ["shop", "blog"] as const) {
      projects[name] = path.join(base, name)
      await mkdir(projects[name])
    }
    const step = (cwd: string, name: string, provider: string, extra: ReadonlyArray<string> = []) =>
      runJson(db, ["execute", name, "--provider", provider, "--detach", "--json", ...extra], { cwd })
    ids.prd = (await step(projects.shop, "00_PRD", "claude")).id
    ids.nfrs = (await step(projects.blog, "01_NFRS", "gemini")).id
    ids.plain = (await runJson(db, ["jobs", "enqueue", "--provider", "cursor", "--prompt", "Tidy up.", "--cwd", projects.blog, "--json"])).id
  })
  after(async () => {
    await dirs.cleanup()
    await db.drop()
  })
  const short = (id: string) => id.slice(0, 8)
  const listed = async (args: ReadonlyArray<string>, cwd?: string): Promise<string[]> => {
    const jobs = await runJson<Array<{ id: string }>>(db, ["jobs", "list", "--json", ...args], cwd === undefined ? {} : { cwd })
    return jobs.map((j) => j.id).sort()
  }

  test("list shows the Step and Project columns", async () => {
    const result = await runCli(db, ["jobs", "list"])
    assert.equal(result.code, 0, result.stderr)
    const lines = result.stdout.trimEnd().split("\n")
    assert.equal(lines[0], "ID        Provider  Status     Step        Project     Duration  Error")
    assert.ok(lines.includes(`${short(ids.prd)}  claude    queued     00_PRD      shop               -`), result.stdout)
    assert.ok(lines.includes(`${short(ids.nfrs)}  gemini    queued     01_NFRS     blog               -`), result.stdout)
    assert.ok(lines.includes(`${short(ids.plain)}  cursor    queued     -           blog               -`), result.stdout)
  })

  test("list --cwd (resolved like enqueue's) and --step (any case) narrow the list", async () => {
    assert.deepEqual(await listed(["--cwd", projects.blog]), [ids.nfrs, ids.plain].sort())
    assert.deepEqual(await listed(["--cwd", "."], projects.shop), [ids.prd])
    assert.deepEqual(await listed(["--cwd", "../blog"], projects.shop), [ids.nfrs, ids.plain].sort())
    // A symbolic link names the folder it points to, for list as for enqueue.
    const link = path.join(path.dirname(projects.blog), "blog-link")
    await symlink(projects.blog, link)
    assert.deepEqual(await listed(["--cwd", link]), [ids.nfrs, ids.plain].sort())
    const elsewhere = await dirs.make({ git: false })
    const elsewhereLink = `${elsewhere}-link`
    await symlink(elsewhere, elsewhereLink)
    const linked = await runJson(db, ["jobs", "enqueue", "--provider", "cursor", "--prompt", "Via the link.", "--cwd", elsewhereLink, "--json"])
    assert.equal((await runCli(db, ["jobs", "cancel", linked.id])).code, 0)
    assert.deepEqual(await listed(["--cwd", elsewhere]), [linked.id], "enqueue stored the folder the link points to")
    await rm(elsewhereLink)
    assert.deepEqual(await listed(["--step", "01_nfrs"]), [ids.nfrs])
    assert.deepEqual(await listed(["--cwd", projects.shop, "--status", "QUEUED", "--provider", "Claude"]), [ids.prd], "--status and --provider take any case too")
    assert.deepEqual(await listed(["--cwd", projects.blog, "--step", "01_NFRS"]), [ids.nfrs])
    assert.deepEqual(await listed(["--cwd", projects.shop, "--step", "01_NFRS"]), [])
    assert.deepEqual(await listed(["--cwd", projects.blog, "--provider", "cursor"]), [ids.plain])
    const none = await runCli(db, ["jobs", "list", "--cwd", projects.shop, "--step", "01_NFRS"])
    assert.equal(none.stdout, "No jobs.\n")
  })

  test("list --cwd/--step bad input: one sentence, exit 2, nothing changed", async (t) => {
    const cases = [
      { name: "an unknown step", args: ["--step", "07_DEPLOY"], says: ["--step", "07_DEPLOY", "00_PRD", "06_IMPLEMENTATION"] },
      { name: "an empty --cwd", args: ["--cwd", ""], says: ["--cwd"] },
      { name: "--step without its value", args: ["--step"], says: ["--step"] }
    ]
    for (const c of cases) {
      await t.test(c.name, async () => {
        const before = await eventCount(db)
        const result = await runCli(db, ["jobs", "list", ...c.args])
        assertCliError(result, 2, ...c.says)
        assert.equal(result.stdout, "")
        assert.equal(await eventCount(db), before)
      })
    }
  })

  test("a cancelled job says who cancelled it, the same in list and show; a rebuild gives the same rows", async () => {
    assert.equal((await runCli(db, ["jobs", "cancel", ids.plain])).code, 0)
    const job = await showJob(db, ids.plain)
    assert.deepEqual([job.status, job.errorKind, job.error], ["cancelled", "cancelled", "Cancelled by user."])
    const list = await runCli(db, ["jobs", "list", "--status", "cancelled"])
    assert.match(list.stdout, new RegExp(`^${short(ids.plain)} +cursor +cancelled +- +blog +- +cancelled by user$`, "m"))
    assert.doesNotMatch(list.stdout, /Cancelled\./)
    const show = await runCli(db, ["jobs", "show", ids.plain])
    assert.match(show.stdout, /^Error +cancelled by user$/m)
    assert.match(show.stdout, new RegExp(`^Project +${projects.blog.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "m"))
    const rebuilt = await runJson(db, ["jobs", "replay", "--rebuild", "--json"])
    assert.deepEqual(rebuilt.tables.map((t: any) => [t.table, t.identical]), [["workflows", true], ["jobs", true], ["job_executions", true], ["job_logs", true]])
  })

  test("show: each execution's tokens and cost, and the job's totals over both attempts", async () => {
    // Attempt 1 of both step jobs fails at auth (not retried by policy); a person retries; attempt 2 succeeds.
    await withWorker(db, { FAKE_AGENT_MODE: "auth" }, async () => {
      await waitForStatus(db, ids.prd, "failed")
      await waitForStatus(db, ids.nfrs, "failed")
    })
    for (const id of [ids.prd, ids.nfrs]) assert.equal((await runCli(db, ["jobs", "retry", id])).code, 0)
    await withWorker(db, {}, async () => {
      await waitForStatus(db, ids.prd, "completed")
      await waitForStatus(db, ids.nfrs, "completed")
    })

    const job = await showJob(db, ids.prd)
    assert.equal(job.executions.length, 2)
    const [first, second] = job.executions
    // claude's failed result says what the attempt cost and used ($0, no tokens: the API refused it); gemini's says no cost.
    const none = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 }
    assert.deepEqual([first.status, first.usage, first.costUsd], ["failed", none, 0])
    const usage = { inputTokens: 10, outputTokens: 50, cacheReadTokens: 0, cacheWriteTokens: 0 }
    assert.deepEqual([second.status, second.usage, second.costUsd], ["succeeded", usage, 0.0123])
    assert.deepEqual([job.totalUsage, job.totalCostUsd], [usage, 0.0123])

    const text = (await runCli(db, ["jobs", "show", ids.prd])).stdout
    assert.match(text, /^Tokens +10 in · 50 out · 0 cache read · 0 cache write \(2 attempts\)$/m)
    assert.match(text, /^Cost +\$0\.0123 \(2 attempts\)$/m)
    assert.match(text, /^ +2 {2}succeeded +.*\$0\.0123\n +tokens: 10 in · 50 out · 0 cache read · 0 cache write$/m)
    assert.match(text, /^Step +00_PRD$/m)
  })

  test("show of a gemini job: its stats as tokens, no cost reported", async () => {
    const job = await showJob(db, ids.nfrs)
    const usage = { inputTokens: 1100, outputTokens: 134, cacheReadTokens: 0, cacheWriteTokens: 0 }
    // The failed attempt's result reported its stats too: the tokens it used count.
    assert.deepEqual(job.executions.map((e: any) => [e.status, e.usage, e.costUsd]), [["failed", usage, null], ["succeeded", usage, null]])
    assert.deepEqual([job.totalUsage, job.totalCostUsd], [{ ...usage, inputTokens: 2200, outputTokens: 268 }, null])
    const text = (await runCli(db, ["jobs", "show", ids.nfrs])).stdout
    assert.match(text, /^Tokens +2,200 in · 268 out · 0 cache read · 0 cache write \(2 attempts\)$/m)
    assert.match(text, /^Cost +-$/m)
  })

  test("today's spend: the cost of the executions that ended today, none before today", async () => {
    const now = new Date()
    assert.deepEqual(await spendSince(db.sql, startOfLocalDay(now)), { costUsd: 0.0123, executions: 2 })
    assert.equal((await monitorSnapshot(db.sql, now, 30_000)).spendTodayUsd, 0.0123)
    const tomorrow = new Date(startOfLocalDay(now).getTime() + 36 * 3_600_000)
    assert.deepEqual(await spendSince(db.sql, startOfLocalDay(tomorrow)), { costUsd: 0, executions: 0 })
    assert.equal((await monitorSnapshot(db.sql, tomorrow, 30_000)).spendTodayUsd, null)
  })
})
