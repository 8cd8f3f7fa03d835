/**
 * `aidp jobs prune`: a history of old and new jobs; only the old finished ones go (or only
 * their output); running and queued jobs are never touched; a rebuild afterwards gives the
 * live tables; a dry run changes nothing; bad flags are usage errors.
 */
import assert from "node:assert/strict"
import { randomUUID } from "node:crypto"
import { after, before, describe, test } from "node:test"
import { prune } from "../src/projections/prune.js"
import { rebuildReadModels } from "../src/projections/rebuild.js"
import { REBUILD_LOCK } from "../src/projections/rebuildLock.js"
import { finished, runCli, runJson, startCli } from "./support/cli.js"
import { cmd } from "./support/commandBuilders.js"
import { createTestDb, type TestDb, waitUntilBlocking } from "./support/db.js"
import { type ServicesRuntime, testServices } from "./support/layers.js"
import { waitFor } from "./support/wait.js"

const DAY = 24 * 3_600_000
const NOW = Date.now()
const daysAgo = (days: number, plusMs = 0) => new Date(NOW - days * DAY + plusMs)

let db: TestDb
let services: ServicesRuntime

/** Each job's id by what it is. */
const ids = {
  oldCompleted: randomUUID(),
  oldFailed: randomUUID(),
  oldCancelled: randomUUID(),
  recentCompleted: randomUUID(),
  oldRunning: randomUUID(),
  oldQueued: randomUUID()
}

const output = (at: Date, text: string) => ({ stream: "stdout" as const, text, at: at.toISOString() })

/** A job queued `days` ago that ran (with two output lines) and ended as `end` says, a minute later. */
const history = async (id: string, days: number, end: "succeed" | "fail" | "none") => {
  const exec = randomUUID()
  await services.handle(id, cmd.enqueue({ cwd: "/work/shop" }), daysAgo(days))
  await services.handle(id, cmd.start(exec), daysAgo(days, 1_000))
  await services.handle(id, cmd.progress(exec), daysAgo(days, 2_000))
  await services.handle(id, cmd.output(exec, [output(daysAgo(days, 3_000), `{"type":"text","n":1}`), output(daysAgo(days, 3_001), "line two")]), daysAgo(days, 3_000))
  if (end === "succeed") await services.handle(id, cmd.succeed(exec), daysAgo(days, 60_000))
  if (end === "fail") {
    // aidp's own line inside the output (as a worker writes when a resumed session was gone): it outlives a prune.
    await services.handle(id, cmd.output(exec, [output(daysAgo(days, 4_000), "line three"), { stream: "system", text: "claude no longer has attempt 1's session s1: starting fresh with the original prompt.", at: daysAgo(days, 4_001).toISOString() }]), daysAgo(days, 4_000))
    await services.handle(id, cmd.fail(exec, "auth", daysAgo(days, 60_000)), daysAgo(days, 60_000))
  }
}

const counts = async () => {
  const [row] = await db.sql<Array<{ jobs: number; events: number; logs: number; output: number; executions: number }>>`
    select (select count(*)::int from jobs) as jobs, (select count(*)::int from job_events) as events,
           (select count(*)::int from job_logs) as logs, (select count(*)::int from job_logs where stream <> 'system') as output,
           (select count(*)::int from job_executions) as executions`
  return row!
}

const present = async () => (await db.sql<Array<{ id: string }>>`select id from jobs`).map((r) => r.id).sort()

before(async () => {
  db = await createTestDb()
  services = testServices(db)
})

after(async () => {
  await services.dispose()
  await db.drop()
})

describe("aidp jobs prune", () => {
  test("builds a history of old and new jobs", async () => {
    await history(ids.oldCompleted, 100, "succeed")
    await history(ids.oldFailed, 95, "fail")
    await services.handle(ids.oldCancelled, cmd.enqueue(), daysAgo(120))
    await services.handle(ids.oldCancelled, cmd.cancel(), daysAgo(120, 500))
    await history(ids.recentCompleted, 2, "succeed")
    await history(ids.oldRunning, 100, "none")
    await services.handle(ids.oldQueued, cmd.enqueue(), daysAgo(100))
    assert.equal((await counts()).jobs, 6)
  })

  test("a dry run counts the old finished jobs and changes nothing", async () => {
    const before = await counts()
    const dry = await runJson<any>(db, ["jobs", "prune", "--older-than", "90d", "--dry-run", "--json"])
    assert.equal(dry.jobs, 3)
    assert.equal(dry.executions, 2)
    assert.ok(dry.bytes > 0, JSON.stringify(dry))
    assert.deepEqual(await counts(), before)
    const text = await runCli(db, ["jobs", "prune", "--older-than", "90d", "--dry-run"])
    assert.equal(text.code, 0, text.stderr)
    assert.match(text.stdout, /^Would remove 3 jobs: \d+ events, 2 executions, \d+ log lines, [\d.]+ k?B\.$/m)
  })

  test("--output-only removes the old finished jobs' output; their story stays; a rebuild gives the live tables", async () => {
    const before = await counts()
    const result = await runJson<any>(db, ["jobs", "prune", "--older-than", "90d", "--output-only", "--json"])
    // Two old finished jobs had output (the cancelled one never ran); aidp's own line is not output.
    assert.deepEqual([result.jobs, result.outputLines, result.logLines], [2, 5, 5])
    const now = await counts()
    assert.deepEqual([now.jobs, now.events, now.executions], [before.jobs, before.events, before.executions])
    assert.equal(now.output, before.output - 5)
    const lines = await db.sql<Array<{ job_id: string; seq: number; stream: string }>>`
      select job_id, seq, stream from job_logs where job_id in ${db.sql([ids.oldCompleted, ids.oldFailed])} order by job_id, seq`
    assert.ok(lines.length > 0 && lines.every((l) => l.stream === "system"), "only aidp's own lines stay")
    for (const id of [ids.oldCompleted, ids.oldFailed]) {
      assert.deepEqual(lines.filter((l) => l.job_id === id).map((l) => Number(l.seq)), lines.filter((l) => l.job_id === id).map((_, i) => i + 1), "numbered 1, 2, 3, ...")
    }
    const [pruned] = await db.sql<Array<{ data: { lines: unknown[]; pruned_lines: number } }>>`
      select data from job_events where job_id = ${ids.oldCompleted} and type = 'ExecutionOutput'`
    assert.deepEqual([pruned!.data.lines, pruned!.data.pruned_lines], [[], 2])
    const kept = await db.sql<Array<{ data: { lines: Array<{ stream: string }>; pruned_lines: number } }>>`
      select data from job_events where job_id = ${ids.oldFailed} and type = 'ExecutionOutput' order by version`
    assert.deepEqual(kept.map((r) => [r.data.lines.map((l) => l.stream), r.data.pruned_lines]), [[[], 2], [["system"], 1]], "aidp's own line stays in its event")
    const story = await runJson<any>(db, ["jobs", "replay", ids.oldCompleted, "--json"])
    assert.deepEqual(story.entries.map((e: any) => e.kind), ["queued", "started", "ended"])
    const rebuilt = await rebuildReadModels(db.sql)
    assert.deepEqual(rebuilt.tables.map((t) => [t.table, t.identical]), [["workflows", true], ["jobs", true], ["job_executions", true], ["job_logs", true]])
    const again = await runJson<any>(db, ["jobs", "prune", "--older-than", "90d", "--output-only", "--json"])
    assert.equal(again.jobs, 0, "output pruned once is not counted again")
  })

  test("removes the old finished jobs whole; recent, running and queued jobs stay; a rebuild gives the live tables", async () => {
    const result = await runCli(db, ["jobs", "prune", "--older-than", "90d"])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /^Removed 3 jobs: /m)
    assert.deepEqual(await present(), [ids.recentCompleted, ids.oldRunning, ids.oldQueued].sort())
    const [left] = await db.sql<Array<{ n: number }>>`
      select count(*)::int as n from job_events where job_id in ${db.sql([ids.oldCompleted, ids.oldFailed, ids.oldCancelled])}`
    assert.equal(left!.n, 0, "their events are gone")
    const rebuilt = await rebuildReadModels(db.sql)
    assert.deepEqual(rebuilt.tables.map((t) => t.identical), [true, true, true, true])
    const shown = await runCli(db, ["jobs", "show", ids.oldCompleted])
    assert.equal(shown.code, 1)
    const none = await runCli(db, ["jobs", "prune", "--older-than", "90d"])
    assert.match(none.stdout, /^Nothing pruned\.$/m)
  })

  test("a prune waits while a rebuild holds its lock (the rebuilt tables would keep what it removes)", async () => {
    const old = randomUUID()
    await history(old, 100, "succeed")
    let pruning: ReturnType<typeof prune> | undefined
    await db.sql.begin(async (tx) => {
      await tx.unsafe(`select pg_advisory_xact_lock(${REBUILD_LOCK})`)
      pruning = prune(db.sql, { endedBefore: daysAgo(90), outputOnly: false, dryRun: false })
      await waitUntilBlocking(db.sql, tx)
      assert.ok((await present()).includes(old), "nothing is removed while the rebuild runs")
    })
    assert.equal((await pruning!).jobs, 1)
    assert.ok(!(await present()).includes(old))
  })

  test("bad flags are usage errors that change nothing", async () => {
    const before = await counts()
    for (const [args, says] of [
      [["jobs", "prune"], /--older-than is required/],
      [["jobs", "prune", "--older-than", "soon"], /--older-than must be an ISO 8601 time/],
      [["jobs", "prune", "--older-than", "2999-01-01"], /in the future/],
      [["jobs", "prune", "--older-than", "1d", "extra"], /Usage|unexpected|argument/i]
    ] as const) {
      const result = await runCli(db, args)
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`)
      assert.match(result.stderr, says)
    }
    assert.deepEqual(await counts(), before)
  })

  test("aidp worker with AIDP_RETENTION prunes the finished jobs past it as it starts", async () => {
    const old = randomUUID()
    await history(old, 40, "succeed")
    const worker = startCli(db, ["worker"], { env: { AIDP_RETENTION: "30d" } })
    const result = finished(worker, { timeoutMs: 60_000 })
    // The log line comes after the last batch: wait for it, not only for the job to go.
    let logged = ""
    worker.stderr!.on("data", (chunk: string) => (logged += chunk))
    try {
      await waitFor("the worker to log its prune", () => logged.includes("pruned finished jobs past AIDP_RETENTION"), 30_000)
      assert.ok(!(await present()).includes(old), "the old job is gone")
      assert.ok((await present()).includes(ids.recentCompleted), "a job that ended 2 days ago stays")
    } finally {
      worker.kill("SIGTERM")
    }
    const stopped = await result
    assert.equal(stopped.code, 0, stopped.stderr)
    assert.match(stopped.stderr, /pruned finished jobs past AIDP_RETENTION/)
  })
})
