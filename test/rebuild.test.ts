/**
 * DESIGN.md invariant 3: replay(job_events) == live read models. A realistic history is
 * driven through the CommandHandler (so the live projection writes the read models), then
 * `rebuildReadModels` replays the log and must reproduce every row byte for byte, and
 * repair a corrupted one.
 */
import assert from "node:assert/strict"
import { randomUUID } from "node:crypto"
import { after, before, describe, it } from "node:test"
import { openSql } from "../src/config/database.js"
import { fold } from "../src/domain/decider.js"
import type { OutputLine } from "../src/domain/events.js"
import { channelFor } from "../src/events/sqlClient.js"
import { appendIn, EventStore } from "../src/events/store.js"
import { project } from "../src/projections/project.js"
import { loadState } from "../src/projections/commandHandler.js"
import { rebuildReadModels, type RebuildReport } from "../src/projections/rebuild.js"
import { cmd } from "./support/commandBuilders.js"
import { createTestDb, type TestDb, testDatabaseUrl, waitUntilBlocking } from "./support/db.js"
import { at, ev } from "./support/events.js"
import { type ServicesRuntime, testServices } from "./support/layers.js"

let db: TestDb
let services: ServicesRuntime

before(async () => {
  db = await createTestDb()
  services = testServices(db)
})

after(async () => {
  await services?.dispose()
  await db?.drop()
})

/** Every row of the three read models as PostgreSQL's text form, in a stable order. */
const snapshot = async () => ({
  jobs: (await db.sql<Array<{ t: string }>>`select t::text from jobs t order by id`).map((r) => r.t),
  job_executions: (await db.sql<Array<{ t: string }>>`select t::text from job_executions t order by id`).map((r) => r.t),
  job_logs: (await db.sql<Array<{ t: string }>>`select t::text from job_logs t order by job_id, seq`).map((r) => r.t)
})

const lines = (ms: number, ...texts: Array<readonly [OutputLine["stream"], string]>): Array<OutputLine> =>
  texts.map(([stream, text], i) => ({ stream, text, at: at(ms + i).toISOString() }))

/** Plays a history of seven jobs, partly interleaved, one command at a time (clock = `at(ms)`). */
const playHistory = async () => {
  let clock = 0
  const run = (jobId: string, command: Parameters<ServicesRuntime["handle"]>[1]) => services.handle(jobId, command, at((clock += 1_000)))
  const [done, flaky, queuedCancel, runningCancel, lost, failedThenRetried, crashedWhileCancelling] = Array.from(
    { length: 7 },
    () => randomUUID()
  )
  const exec = Array.from({ length: 9 }, () => randomUUID())

  await run(done!, cmd.enqueue({ provider: "claude", step: "00_PRD", prompt: "\n\n# Write the PRD ✍️\nthen stop", metadata: { document: "docs/PRD.md", tags: ["a", "ü"] }, permissions: "plan" }))
  await run(flaky!, cmd.enqueue({ provider: "gemini", model: null, step: null, maxAttempts: 3, metadata: {} }))
  await run(queuedCancel!, cmd.enqueue({ provider: "cursor", prompt: "x".repeat(500) }))
  await run(done!, cmd.start(exec[0]!, { argv: ["claude", "-p", "--output-format", "stream-json"], session: { _tag: "Fresh", sessionId: "5e55a0a1-0000-4000-8000-000000000001" } }))
  await run(flaky!, cmd.start(exec[1]!))
  await run(done!, cmd.output(exec[0]!, lines(clock, ["stdout", "line one\nstill one record"], ["stdout", "ünïcödé 日本語 🚀 e\u0301"], ["stderr", "warn:\ttab\r"])))
  await run(queuedCancel!, cmd.cancel("user"))
  await run(done!, cmd.progress(exec[0]!, "Tool call: Write docs/PRD.md"))
  await run(flaky!, cmd.output(exec[1]!, lines(clock, ["stdout", "connecting…"], ["stdout", ""])))
  await run(flaky!, cmd.fail(exec[1]!, "network", at(clock), { exitCode: null, signal: "SIGTERM", error: "ECONNRESET", durationMs: 1_234, sessionId: "5e55a0a1-0000-4000-8000-000000000002" }))
  await run(done!, cmd.output(exec[0]!, lines(clock, ["stdout", "y".repeat(70_000)], ["system", "provider pid 4321"])))
  await run(done!, cmd.succeed(exec[0]!, { result: "# PRD\n\n✓ done", usage: { input_tokens: 1200, output_tokens: 345, cache: { read: 7 } }, costUsd: 0.0421, durationMs: 5_432, denials: [{ tool: "Bash", target: "rm -rf build" }, { tool: "Write", target: "" }] }))
  await run(flaky!, cmd.start(exec[2]!, { session: { _tag: "Resume", sessionId: "5e55a0a1-0000-4000-8000-000000000002", attempt: 1 } }))
  await run(runningCancel!, cmd.enqueue({ provider: "claude", priority: -3 }))
  await run(runningCancel!, cmd.start(exec[3]!))
  await run(runningCancel!, cmd.output(exec[3]!, lines(clock, ["stdout", "working"])))
  await run(flaky!, cmd.progress(exec[2]!, "second try"))
  await run(runningCancel!, cmd.cancel("user (Ctrl-C)"))
  await run(flaky!, cmd.succeed(exec[2]!, { exitCode: null, usage: null, costUsd: null, cliVersion: null, durationMs: 0, sessionId: "5e55a0a1-0000-4000-8000-000000000003", sessionGone: true }))
  await run(runningCancel!, cmd.confirmCancel(exec[3]!))
  await run(lost!, cmd.enqueue({ provider: "gemini", maxAttempts: 2 }))
  await run(lost!, cmd.start(exec[4]!))
  await run(lost!, cmd.abandon(exec[4]!, at(clock), "The worker's lease expired."))
  await run(lost!, cmd.start(exec[5]!))
  await run(lost!, { ...cmd.abandon(exec[5]!, at(clock), "The worker shut down during the execution."), workerStopping: true })
  // Abandoned executions spend no attempt: the agent's failure on the third is retried (max 2).
  await run(lost!, cmd.start(exec[8]!))
  await run(lost!, cmd.fail(exec[8]!, "network", at(clock), { error: "ECONNRESET" }))
  await run(failedThenRetried!, cmd.enqueue({ provider: "cursor", maxAttempts: 1 }))
  await run(failedThenRetried!, cmd.start(exec[6]!))
  await run(failedThenRetried!, cmd.fail(exec[6]!, "auth", at(clock), { exitCode: 3, error: "Not logged in; run cursor-agent login." }))
  await run(failedThenRetried!, { ...cmd.retry(at(clock + 30_000)), fresh: true })
  await run(crashedWhileCancelling!, cmd.enqueue({ provider: "claude" }))
  await run(crashedWhileCancelling!, cmd.start(exec[7]!))
  await run(crashedWhileCancelling!, cmd.cancel())
  await run(crashedWhileCancelling!, cmd.fail(exec[7]!, "crashed", at(clock), { exitCode: null, signal: "SIGSEGV" }))
  return {
    done: done!,
    flaky: flaky!,
    queuedCancel: queuedCancel!,
    runningCancel: runningCancel!,
    lost: lost!,
    failedThenRetried: failedThenRetried!,
    crashedWhileCancelling: crashedWhileCancelling!
  }
}

const identical = (report: RebuildReport) => Object.fromEntries(report.tables.map((t) => [t.table, t.identical]))

describe("rebuildReadModels", () => {
  let jobs: Awaited<ReturnType<typeof playHistory>>
  let live: Awaited<ReturnType<typeof snapshot>>

  before(async () => {
    jobs = await playHistory()
    live = await snapshot()
  })

  it("the history reached the statuses it was meant to", async () => {
    const rows = await db.sql<Array<{ id: string; status: string; attempts: number }>>`select id, status, attempts from jobs`
    const byId = new Map(rows.map((r) => [r.id, [r.status, r.attempts]]))
    assert.deepEqual(Object.fromEntries(Object.entries(jobs).map(([name, id]) => [name, byId.get(id)])), {
      done: ["completed", 1],
      flaky: ["completed", 2],
      queuedCancel: ["cancelled", 0],
      runningCancel: ["cancelled", 1],
      lost: ["queued", 3],
      failedThenRetried: ["queued", 1],
      crashedWhileCancelling: ["failed", 1]
    })
    assert.equal(live.job_executions.length, 9)
    // Permissions and refused tool calls are projected (and so rebuilt byte for byte below).
    const [doneRow] = await db.sql<Array<{ permissions: string; denied: number }>>`select permissions, denied from jobs where id = ${jobs.done}`
    assert.deepEqual({ ...doneRow }, { permissions: "plan", denied: 2 })
    // A cancellation names who asked for it, on the job and on its execution.
    const [queuedRow] = await db.sql<Array<{ error: string }>>`select error from jobs where id = ${jobs.queuedCancel}`
    assert.equal(queuedRow?.error, "Cancelled by user.")
    const running = await db.sql<Array<{ error: string }>>`
      select j.error from jobs j where j.id = ${jobs.runningCancel}
      union all select e.error from job_executions e where e.job_id = ${jobs.runningCancel} and e.status = 'cancelled'`
    assert.deepEqual(running.map((r) => r.error), ["Cancelled by user (Ctrl-C).", "Cancelled by user (Ctrl-C)."])
    assert.ok(live.job_logs.length > 30)
  })

  it("each jobs row carries the decide-state that folding its stream gives", async () => {
    for (const [name, id] of Object.entries(jobs)) {
      const stream = await services.run(EventStore.use((store) => store.readStream(id)))
      assert.deepEqual(await loadState(db.sql, id), fold(stream.map((r) => r.event)), name)
    }
  })

  it("replays the log into byte-for-byte the same rows", async () => {
    const [{ count }] = await db.sql<[{ count: string }]>`select count(*) from job_events`
    const report = await rebuildReadModels(db.sql)
    assert.equal(report.events, Number(count))
    assert.deepEqual(identical(report), { workflows: true, jobs: true, job_executions: true, job_logs: true })
    assert.deepEqual(
      Object.fromEntries(report.tables.map((t) => [t.table, t.rows])),
      { workflows: 0, jobs: live.jobs.length, job_executions: live.job_executions.length, job_logs: live.job_logs.length }
    )
    assert.deepEqual(await snapshot(), live)
  })

  it("leaves every index and constraint of the read models as it found them", async () => {
    const schemaOf = async () => ({
      indexes: await db.sql`select indexname, indexdef from pg_indexes where schemaname = ${db.schema} order by indexname`,
      constraints: await db.sql`
        select conrelid::regclass::text as t, conname, pg_get_constraintdef(oid) as def, convalidated from pg_constraint
        where connamespace = ${db.schema}::regnamespace order by conname`
    })
    const before = await schemaOf()
    assert.ok(before.constraints.some((c) => c.conname === "job_logs_execution_id_fkey"))
    await rebuildReadModels(db.sql)
    assert.deepEqual(await schemaOf(), before)
  })

  it("refuses a pool of one connection (its reader would wait forever) and changes nothing", async () => {
    const single = openSql(testDatabaseUrl, db.schema, { max: 1 })
    try {
      await assert.rejects(rebuildReadModels(single), { message: "Rebuild needs a connection pool of at least 2; this one has 1." })
    } finally {
      await single.end({ timeout: 5 })
    }
    assert.deepEqual(await snapshot(), live)
  })

  it("reports a corrupted read-model row and restores it", async () => {
    await db.sql`update jobs set error = 'x' where id = ${jobs.done}`
    await db.sql`delete from job_logs where job_id = ${jobs.flaky} and seq = 2`
    const report = await rebuildReadModels(db.sql)
    assert.deepEqual(identical(report), { workflows: true, jobs: false, job_executions: true, job_logs: false })
    assert.deepEqual(await snapshot(), live)
  })

  it("an append in progress when a rebuild starts completes first; no deadlock, nothing lost", async () => {
    const jobId = randomUUID()
    let rebuild: Promise<RebuildReport> | undefined
    // An append that holds the job's row (as the claimer does) while the rebuild starts.
    await db.sql.begin(async (tx) => {
      await tx`select 1 from jobs where id = ${jobId} for update`
      rebuild = rebuildReadModels(db.sql)
      await waitUntilBlocking(db.sql, tx) // the rebuild waits for the row this append holds
      await appendIn(tx, channelFor(db.schema), project, { jobId, expectedVersion: 0, events: [ev.queued()], occurredAt: at(500_000) })
    })
    const report = await rebuild!
    assert.deepEqual(identical(report), { workflows: true, jobs: true, job_executions: true, job_logs: true })
    assert.equal((await db.sql`select 1 from jobs where id = ${jobId}`).length, 1)
  })

  it("an append that had not committed when the rebuild's snapshot was taken, below a later one that had, is swapped in too", async () => {
    const early = randomUUID()
    const late = randomUUID()
    let rebuild: Promise<RebuildReport> | undefined
    await db.sql.begin(async (tx) => {
      // This append takes its position first but commits last: the snapshot skips it.
      await appendIn(tx, channelFor(db.schema), project, { jobId: early, expectedVersion: 0, events: [ev.queued()], occurredAt: at(600_000) })
      await services.handle(late, cmd.enqueue(), at(600_100))
      rebuild = rebuildReadModels(db.sql)
      await waitUntilBlocking(db.sql, tx) // the swap waits for this append
    })
    const report = await rebuild!
    assert.deepEqual(identical(report), { workflows: true, jobs: true, job_executions: true, job_logs: true })
    const rows = await db.sql<Array<{ id: string }>>`select id from jobs where id in ${db.sql([early, late])} order by created_at`
    assert.deepEqual(rows.map((r) => r.id), [early, late])
    const check = await rebuildReadModels(db.sql, { apply: false })
    assert.deepEqual(identical(check), { workflows: true, jobs: true, job_executions: true, job_logs: true })
  })

  it("leaves no schema of its own behind, applied or not", async () => {
    await rebuildReadModels(db.sql, { apply: false, differences: true })
    await rebuildReadModels(db.sql)
    const left = await db.sql`select nspname from pg_namespace where nspname like ${db.schema + "%"} and nspname <> ${db.schema}`
    assert.deepEqual(left.map((r) => r.nspname), [])
  })

  it("appends after a rebuild continue the same streams", async () => {
    const exec = randomUUID()
    await services.handle(jobs.failedThenRetried, cmd.start(exec), at(999_000))
    await services.handle(jobs.failedThenRetried, cmd.succeed(exec), at(999_500))
    const afterAppends = await snapshot()
    const report = await rebuildReadModels(db.sql)
    assert.deepEqual(identical(report), { workflows: true, jobs: true, job_executions: true, job_logs: true })
    assert.deepEqual(await snapshot(), afterAppends)
  })
})
