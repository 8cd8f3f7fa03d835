/**
 * The event store and command handler against real PostgreSQL: append writes versions
 * 1..n and the read models in one transaction, sends exactly one NOTIFY per append, writes
 * nothing when the projector or the expected version is wrong, and concurrent commands on
 * one job serialise. Then reading the log, and the read-side queries (job refs, paging).
 */
import assert from "node:assert/strict"
import { randomUUID } from "node:crypto"
import { after, before, describe, it } from "node:test"
import { Effect } from "effect"
import type { Sql } from "postgres"
import { openSql } from "../src/config/database.js"
import type { JobEvent, RecordedEvent } from "../src/domain/events.js"
import { channelFor } from "../src/events/sqlClient.js"
import { type AppendInput, appendIn, EventStore, type Notification } from "../src/events/store.js"
import { listen } from "../src/events/listener.js"
import { project } from "../src/projections/project.js"
import { listJobs, resolveJobId } from "../src/projections/queries.js"
import { cmd } from "./support/commandBuilders.js"
import { createTestDb, testDatabaseUrl, type TestDb, waitUntilBlocking } from "./support/db.js"
import { at, ev } from "./support/events.js"
import { type ServicesRuntime, testServices } from "./support/layers.js"
import { waitFor } from "./support/wait.js"

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

let db: TestDb
let services: ServicesRuntime
let listener: Sql
/** NOTIFY payloads received on the schema's channel by a second client, oldest first (markers apart). */
const notes: Array<Notification> = []
/** The markers {@link notesOf} sent that came back. */
const markers = new Set<string>()

before(async () => {
  db = await createTestDb()
  services = testServices(db)
  listener = openSql(testDatabaseUrl, db.schema, { max: 1 })
  await listener.listen(channelFor(db.schema), (payload) => {
    const parsed = JSON.parse(payload) as Notification | { marker: string }
    if ("marker" in parsed) markers.add(parsed.marker)
    else notes.push(parsed)
  })
})

after(async () => {
  await services?.dispose()
  await listener?.end({ timeout: 5 })
  await db?.drop()
})

const append = (input: AppendInput, runtime = services) => runtime.run(EventStore.use((store) => store.append(input)))
const eventRows = (jobId: string) =>
  db.sql<Array<{ position: string; version: number; type: string }>>`
    select position, version, type from job_events where job_id = ${jobId} order by position`
/**
 * The notifications about `jobIds` received so far, once every notification of a transaction
 * committed before this call has arrived: PostgreSQL delivers notifications in commit order,
 * so a marker sent now arrives after all of them. Other tests' jobs never count.
 */
const notesOf = async (...jobIds: ReadonlyArray<string>): Promise<Array<Notification>> => {
  const marker = randomUUID()
  await db.sql`select pg_notify(${channelFor(db.schema)}, ${JSON.stringify({ marker })})`
  await waitFor("the marker notification", () => markers.has(marker), 10_000, 20)
  return notes.filter((n) => jobIds.includes(n.j))
}

describe("append", () => {
  it("stores NUL characters (which PostgreSQL text and jsonb reject) as U+FFFD, in the log and the read models", async () => {
    const jobId = randomUUID()
    const exec = randomUUID()
    const recorded = await append({
      jobId,
      expectedVersion: 0,
      events: [
        ev.queued({ prompt: "hello\u0000world" }),
        ev.started(exec),
        ev.output(exec, [{ stream: "stdout", text: "a\u0000b", at: at(1_000).toISOString() }])
      ],
      occurredAt: at(0)
    })
    const queued = recorded[0]!.event
    assert.equal(queued.type === "JobQueued" && queued.data.prompt, "hello\uFFFDworld")
    const [stored] = await db.sql<Array<{ prompt: string }>>`
      select data->>'prompt' as prompt from job_events where job_id = ${jobId} and version = 1`
    assert.equal(stored!.prompt, "hello\uFFFDworld")
    const [job] = await db.sql<Array<{ prompt_summary: string }>>`select prompt_summary from jobs where id = ${jobId}`
    assert.equal(job!.prompt_summary, "hello\uFFFDworld")
    const [line] = await db.sql<Array<{ message: string }>>`
      select message from job_logs where job_id = ${jobId} and stream = 'stdout'`
    assert.equal(line!.message, "a\uFFFDb")
  })

  it("writes versions 1..n and the read models in the same transaction", async () => {
    const jobId = randomUUID()
    const exec = randomUUID()
    const events: ReadonlyArray<JobEvent> = [
      ev.queued({ prompt: "\n  Summarise the repo  \nsecond line" }),
      ev.started(exec),
      ev.output(exec, [
        { stream: "stdout", text: "first ✓", at: at(1_000).toISOString() },
        { stream: "stderr", text: "warning: ünïcödé", at: at(1_001).toISOString() }
      ]),
      ev.progress(exec, "Tool call: Read README.md")
    ]
    const recorded = await append({ jobId, expectedVersion: 0, events, occurredAt: at(0) })

    const rows = await eventRows(jobId)
    assert.deepEqual(rows.map((r) => [r.version, r.type]), events.map((e, i) => [i + 1, e.type]))
    assert.deepEqual(recorded.map((r) => [r.version, r.position, r.event]), rows.map((r, i) => [r.version, Number(r.position), events[i]]))
    assert.ok(recorded.every((r, i) => i === 0 || r.position > recorded[i - 1]!.position))

    const [job] = await db.sql`
      select status, version, last_position, attempts, current_execution_id, progress, prompt_summary, created_at
      from jobs where id = ${jobId}`
    assert.deepEqual(job, {
      status: "running",
      version: 4,
      last_position: rows[3]!.position,
      attempts: 1,
      current_execution_id: exec,
      progress: "Tool call: Read README.md",
      prompt_summary: "Summarise the repo",
      created_at: at(0)
    })
    const executions = await db.sql`select id, attempt, status from job_executions where job_id = ${jobId}`
    assert.deepEqual([...executions], [{ id: exec, attempt: 1, status: "running" }])
    const logs = await db.sql`select seq, stream, level, message from job_logs where job_id = ${jobId} order by seq`
    assert.deepEqual(logs.map((l) => [Number(l.seq), l.stream, l.level]), [
      [1, "system", "info"],
      [2, "system", "info"],
      [3, "stdout", "info"],
      [4, "stderr", "warn"]
    ])
    assert.deepEqual(logs.slice(2).map((l) => l.message), ["first ✓", "warning: ünïcödé"])

    // One transaction wrote them all: every row carries the same creating transaction id.
    const xids = await db.sql<Array<{ xid: string }>>`
      select xmin::text as xid from job_events where job_id = ${jobId}
      union select xmin::text from jobs where id = ${jobId}
      union select xmin::text from job_executions where job_id = ${jobId}
      union select xmin::text from job_logs where job_id = ${jobId}`
    assert.equal(xids.length, 1)
  })

  it("sends one NOTIFY {p, j, t} per append on the schema's channel", async () => {
    const jobId = randomUUID()
    await services.handle(jobId, cmd.enqueue(), at(0))
    const [row] = await eventRows(jobId)
    const queued = { p: Number(row!.position), j: jobId, t: "JobQueued" }
    assert.deepEqual(await notesOf(jobId), [queued])

    const recorded = await services.handle(jobId, cmd.cancel(), at(1)) // two events, one transaction
    assert.deepEqual(recorded.map((r) => r.event.type), ["JobCancelRequested", "JobCancelled"])
    assert.deepEqual(await notesOf(jobId), [queued, { p: recorded[1]!.position, j: jobId, t: "JobCancelled" }])
  })

  it("every schema name has a channel pg_notify accepts, distinct from its neighbours'", async () => {
    const long = "s".repeat(62)
    const channels = [channelFor("aidp"), channelFor("t_x"), channelFor(`${long}a`), channelFor(`${long}b`)]
    assert.deepEqual(channels.slice(0, 2), ["aidp_events", "aidp_events:t_x"])
    assert.equal(new Set(channels).size, channels.length)
    const heard: Array<string> = []
    const subscription = await listener.listen(channels[2]!, (payload) => heard.push(payload))
    try {
      await db.sql`select pg_notify(${channels[2]!}, 'hello')`
      await waitFor("the notification", () => heard.length > 0, 5_000, 20)
      assert.deepEqual(heard, ["hello"])
    } finally {
      await subscription.unlisten()
    }
  })

  it("a projector that throws appends nothing and notifies nobody", async () => {
    const broken = testServices(db, async (tx, events) => {
      await project(tx, events)
      throw new Error("projector broke")
    })
    try {
      const jobId = randomUUID()
      await assert.rejects(
        append({ jobId, expectedVersion: 0, events: [ev.queued()], occurredAt: at(0) }, broken),
        { _tag: "DatabaseError", message: /projector broke/ }
      )
      assert.equal((await eventRows(jobId)).length, 0)
      assert.equal((await db.sql`select 1 from jobs where id = ${jobId}`).length, 0)
      assert.equal((await db.sql`select 1 from job_logs where job_id = ${jobId}`).length, 0)

      // Notifications arrive in commit order: the next one must be this job's, not the broken one's.
      const other = randomUUID()
      await services.handle(other, cmd.enqueue(), at(1))
      assert.deepEqual((await notesOf(jobId, other)).map((n) => n.j), [other])
    } finally {
      await broken.dispose()
    }
  })

  it("an event outside the catalogue is refused and nothing is written", async () => {
    const jobId = randomUUID()
    const bad = [ev.queued({ max_attempts: 0 }), ev.queued({ priority: 0.5 }), { type: "JobQueued", data: {} } as unknown as JobEvent]
    for (const event of bad) {
      await assert.rejects(append({ jobId, expectedVersion: 0, events: [event], occurredAt: at(0) }), { _tag: "DatabaseError" })
    }
    assert.equal((await eventRows(jobId)).length, 0)
    assert.deepEqual(await notesOf(jobId), [])
  })

  it("a stale expected version fails with ConcurrencyConflict and writes nothing", async () => {
    const jobId = randomUUID()
    await services.handle(jobId, cmd.enqueue(), at(0))
    await services.handle(jobId, cmd.start(randomUUID()), at(1))
    const [snapshot] = await db.sql`select * from jobs where id = ${jobId}`
    const notified = await notesOf(jobId)
    assert.deepEqual(notified.map((n) => n.t), ["JobQueued", "ExecutionStarted"])

    for (const expectedVersion of [0, 1, 5]) {
      await assert.rejects(
        append({ jobId, expectedVersion, events: [ev.cancelRequested()], occurredAt: at(2) }),
        { _tag: "ConcurrencyConflict", jobId, expectedVersion }
      )
    }
    assert.deepEqual((await eventRows(jobId)).map((r) => r.version), [1, 2])
    assert.deepEqual((await db.sql`select * from jobs where id = ${jobId}`)[0], snapshot)
    assert.deepEqual(await notesOf(jobId), notified)
  })

  it("appendAll writes several streams in one transaction with one NOTIFY, positions in input order", async () => {
    const [fresh, other, existing] = [randomUUID(), randomUUID(), randomUUID()]
    await services.handle(existing, cmd.enqueue(), at(0))
    const exec = randomUUID()
    const recorded = await services.run(EventStore.use((store) => store.appendAll([
      { jobId: fresh, expectedVersion: 0, events: [ev.queued({ prompt: "fresh" }), ev.started(exec)], occurredAt: at(1) },
      { jobId: other, expectedVersion: 0, events: [ev.queued({ prompt: "other", priority: 9 })], occurredAt: at(2) },
      { jobId: existing, expectedVersion: 1, events: [ev.cancelRequested()], occurredAt: at(3) }
    ])))
    assert.deepEqual(recorded.map((r) => [r.jobId, r.version, r.event.type]), [
      [fresh, 1, "JobQueued"], [fresh, 2, "ExecutionStarted"], [other, 1, "JobQueued"], [existing, 2, "JobCancelRequested"]
    ])
    assert.ok(recorded.every((r, i) => i === 0 || r.position > recorded[i - 1]!.position))
    const jobs = await db.sql<Array<{ id: string; status: string; version: number; last_position: string; priority: number; cancel_requested: boolean }>>`
      select id, status, version, last_position, priority, cancel_requested from jobs where id in (${fresh}, ${other}, ${existing})`
    const byId = new Map(jobs.map((job) => [job.id, job]))
    assert.deepEqual([byId.get(fresh)!.status, byId.get(fresh)!.version, Number(byId.get(fresh)!.last_position)], ["running", 2, recorded[1]!.position])
    assert.deepEqual([byId.get(other)!.status, byId.get(other)!.priority, Number(byId.get(other)!.last_position)], ["queued", 9, recorded[2]!.position])
    assert.deepEqual([byId.get(existing)!.cancel_requested, byId.get(existing)!.version], [true, 2])
    const [row] = await db.sql<Array<{ transactions: number }>>`
      select count(distinct xmin::text)::int as transactions from job_events where job_id in (${fresh}, ${other}) or (job_id = ${existing} and version = 2)`
    assert.equal(row!.transactions, 1)
    assert.deepEqual((await notesOf(fresh, other, existing)).map((n) => [n.j, n.t]), [[existing, "JobQueued"], [existing, "JobCancelRequested"]])
  })

  it("appendAll with one stale stream fails with ConcurrencyConflict naming it and writes nothing", async () => {
    const [fresh, existing] = [randomUUID(), randomUUID()]
    await services.handle(existing, cmd.enqueue(), at(0))
    await assert.rejects(
      services.run(EventStore.use((store) => store.appendAll([
        { jobId: fresh, expectedVersion: 0, events: [ev.queued()], occurredAt: at(1) },
        { jobId: existing, expectedVersion: 0, events: [ev.queued()], occurredAt: at(1) }
      ]))),
      { _tag: "ConcurrencyConflict", jobId: existing, expectedVersion: 0 }
    )
    assert.equal((await eventRows(fresh)).length, 0)
    assert.equal((await db.sql`select id from jobs where id = ${fresh}`).length, 0)
  })
})

describe("CommandHandler under concurrency", () => {
  // A slow projector keeps the first append's transaction open, so the second command has
  // loaded the same state and must hit the version conflict, reload and decide again.
  let slow: ServicesRuntime
  before(() => {
    slow = testServices(db, async (tx, events) => {
      await sleep(50)
      await project(tx, events)
    })
  })
  after(() => slow.dispose())

  const race = async (jobId: string, command: Parameters<ServicesRuntime["handle"]>[1]) => {
    const results = await Promise.allSettled([slow.handle(jobId, command, at(10)), slow.handle(jobId, command, at(10))])
    const ok = results.filter((r) => r.status === "fulfilled")
    const refused = results.flatMap((r) => r.status === "rejected" ? [r.reason as { _tag: string; message: string }] : [])
    assert.equal(ok.length, 1, JSON.stringify(refused))
    assert.equal(refused.length, 1)
    return refused[0]!
  }
  const assertVersionsContiguous = async (jobId: string) => {
    const versions = (await eventRows(jobId)).map((r) => r.version)
    assert.deepEqual(versions, versions.map((_, i) => i + 1))
  }

  it("two RequestCancel on a running job: one succeeds, one is refused", async () => {
    for (let round = 0; round < 5; round++) {
      const jobId = randomUUID()
      await services.handle(jobId, cmd.enqueue(), at(0))
      await services.handle(jobId, cmd.start(randomUUID()), at(1))
      const refused = await race(jobId, cmd.cancel())
      assert.equal(refused._tag, "IllegalTransition")
      assert.equal(refused.message, "Cancellation of this job was already requested.")
      assert.deepEqual((await eventRows(jobId)).map((r) => r.type), ["JobQueued", "ExecutionStarted", "JobCancelRequested"])
      await assertVersionsContiguous(jobId)
    }
  })

  it("two Retry of a failed job: one re-queues it, the other is told it is queued", async () => {
    for (let round = 0; round < 5; round++) {
      const jobId = randomUUID()
      const exec = randomUUID()
      await services.handle(jobId, cmd.enqueue(), at(0))
      await services.handle(jobId, cmd.start(exec), at(1))
      await services.handle(jobId, cmd.fail(exec, "auth", at(2)), at(2))
      const refused = await race(jobId, cmd.retry(at(10)))
      assert.equal(refused._tag, "IllegalTransition")
      assert.equal(refused.message, "Only a failed or cancelled job can be retried; this one is queued.")
      assert.equal((await eventRows(jobId)).filter((r) => r.type === "JobRetryRequested").length, 1)
      await assertVersionsContiguous(jobId)
    }
  })

  it("a command racing a claim (which holds the job's row) waits, then decides again; no deadlock", async () => {
    const jobId = randomUUID()
    await services.handle(jobId, cmd.enqueue(), at(0))
    let cancel: Promise<ReadonlyArray<RecordedEvent>> | undefined
    // What src/workers/claimer.ts does: lock the row, decide, append in the same transaction.
    await db.sql.begin(async (tx) => {
      await tx`select id from jobs where id = ${jobId} for update`
      cancel = services.handle(jobId, cmd.cancel(), at(2))
      await waitUntilBlocking(db.sql, tx) // the cancel has loaded "queued" and waits for the row
      await appendIn(tx, channelFor(db.schema), project, { jobId, expectedVersion: 1, events: [ev.started(randomUUID())], occurredAt: at(1) })
    })
    assert.deepEqual((await cancel!).map((r) => r.event.type), ["JobCancelRequested"])
    assert.deepEqual((await eventRows(jobId)).map((r) => r.type), ["JobQueued", "ExecutionStarted", "JobCancelRequested"])
  })

  it("two Enqueue of one new id: one job, the other is refused", async () => {
    const jobId = randomUUID()
    const refused = await race(jobId, cmd.enqueue())
    assert.equal(refused.message, "A job with this id already exists.")
    assert.deepEqual((await eventRows(jobId)).map((r) => r.version), [1])
  })
})

describe("reading the log", () => {
  it("readStream is one job oldest first; readAll is the log by position, with filters", async () => {
    const [{ max }] = await db.sql<[{ max: string | null }]>`select max(position) as max from job_events`
    const start = Number(max ?? 0)
    const a = randomUUID()
    const b = randomUUID()
    const execA = randomUUID()
    await services.handle(a, cmd.enqueue(), at(100))
    await services.handle(b, cmd.enqueue({ provider: "claude" }), at(200))
    await services.handle(a, cmd.start(execA), at(300))
    await services.handle(b, cmd.cancel(), at(400))
    await services.handle(a, cmd.progress(execA), at(500))

    const streamA = await services.run(EventStore.use((store) => store.readStream(a)))
    assert.deepEqual(streamA.map((r) => [r.version, r.event.type, r.occurredAt]), [
      [1, "JobQueued", at(100)],
      [2, "ExecutionStarted", at(300)],
      [3, "ExecutionProgress", at(500)]
    ])
    assert.deepEqual(streamA[2]!.event, ev.progress(execA, "Reading README.md"))

    const readAll = (options: Parameters<EventStore["Service"]["readAll"]>[0]) =>
      services.run(EventStore.use((store) => store.readAll(options)))
    const all = await readAll({ after: start, limit: 100 })
    assert.deepEqual(all.map((r) => [r.jobId === a ? "a" : "b", r.version]), [["a", 1], ["b", 1], ["a", 2], ["b", 2], ["b", 3], ["a", 3]])
    assert.ok(all.every((r, i) => i === 0 || r.position > all[i - 1]!.position))

    const page = await readAll({ after: all[1]!.position, limit: 2 })
    assert.deepEqual(page.map((r) => r.position), [all[2]!.position, all[3]!.position])
    assert.deepEqual((await readAll({ after: start, limit: 100, jobId: b })).map((r) => r.version), [1, 2, 3])
    const window = await readAll({ after: start, limit: 100, since: at(200), until: at(400) })
    assert.deepEqual(window.map((r) => r.occurredAt), [at(200), at(300)])
  })

  it("listen() hands over parsed notifications and asks for a resync after connecting", async () => {
    const jobId = randomUUID()
    const received: Array<Notification> = []
    let resyncs = 0
    await services.run(Effect.scoped(Effect.gen(function*() {
      yield* listen({ onNotification: (n) => received.push(n), onResync: () => (resyncs += 1) })
      yield* Effect.promise(() => services.handle(jobId, cmd.enqueue(), at(0)))
      yield* Effect.promise(() => waitFor("a notification", () => received.some((n) => n.j === jobId), 5_000, 20))
    })))
    assert.equal(resyncs, 1)
    assert.deepEqual(received.filter((n) => n.j === jobId).map((n) => n.t), ["JobQueued"])
  })
})

describe("queries", () => {
  // A schema of its own, so that the jobs of the other tests do not show up in the lists.
  let qdb: TestDb
  let q: ServicesRuntime
  before(async () => {
    qdb = await createTestDb()
    q = testServices(qdb)
  })
  after(async () => {
    await q?.dispose()
    await qdb?.drop()
  })

  it("resolveJobId takes a full id or a unique prefix of 6+ characters", async () => {
    const one = "abcdef01-1111-4111-8111-111111111111"
    const two = "abcdef02-2222-4222-8222-222222222222"
    for (const id of [one, two]) await q.handle(id, cmd.enqueue(), at(0))
    const resolve = (ref: string) => resolveJobId(qdb.sql, ref)

    assert.deepEqual(await resolve(one), { id: one })
    assert.deepEqual(await resolve(one.toUpperCase()), { id: one })
    assert.deepEqual(await resolve(` ${two} `), { id: two })
    assert.deepEqual(await resolve("abcdef01"), { id: one })
    assert.deepEqual(await resolve("abcdef02-22"), { id: two })
    assert.deepEqual(await resolve(one.replace(/-/g, "")), { id: one })
    assert.deepEqual(await resolve("abcdef"), { problem: "ambiguous" })
    assert.deepEqual(await resolve("abcdef0"), { problem: "ambiguous" })
    assert.deepEqual(await resolve("abcde"), { problem: "too_short" })
    assert.deepEqual(await resolve("abc-de"), { problem: "too_short" })
    assert.deepEqual(await resolve("zzzzzzzz"), { problem: "too_short" })
    assert.deepEqual(await resolve(`${one.replace(/-/g, "")}0`), { problem: "too_short" })
    assert.deepEqual(await resolve("123456"), { problem: "not_found" })
    assert.deepEqual(await resolve("abcdef01-1111-4111-8111-111111111112"), { problem: "not_found" })
  })

  it("listJobs pages newest first by (created_at, id) keyset, with filters", async () => {
    await qdb.sql`truncate job_logs, job_executions, jobs, job_events`
    const ids: Array<string> = []
    for (let n = 0; n < 9; n++) {
      const id = randomUUID()
      ids.push(id)
      // Jobs 3, 4 and 5 share a created_at: the id breaks the tie.
      const created = at(n >= 3 && n <= 5 ? 3_000 : n * 1_000)
      await q.handle(id, cmd.enqueue({ provider: n % 3 === 0 ? "claude" : "gemini" }), created)
      if (n % 2 === 0) await q.handle(id, cmd.cancel(), created)
    }
    const expected = await qdb.sql<Array<{ id: string }>>`select id from jobs order by created_at desc, id desc`
    const pages: Array<Array<string>> = []
    let cursor: { createdAt: Date; id: string } | undefined
    for (;;) {
      const page = await listJobs(qdb.sql, { limit: 4, before: cursor })
      if (page.length === 0) break
      pages.push(page.map((j) => j.id))
      const last = page[page.length - 1]!
      cursor = { createdAt: last.createdAt, id: last.id }
    }
    assert.deepEqual(pages.map((p) => p.length), [4, 4, 1])
    assert.deepEqual(pages.flat(), expected.map((r) => r.id))

    const cancelled = await listJobs(qdb.sql, { status: "cancelled", limit: 100 })
    assert.deepEqual(new Set(cancelled.map((j) => j.id)), new Set(ids.filter((_, n) => n % 2 === 0)))
    assert.ok(cancelled.every((j) => j.status === "cancelled"))
    const claude = await listJobs(qdb.sql, { provider: "claude", status: "queued", limit: 100 })
    assert.deepEqual(claude.map((j) => j.id), [ids[3]!])
  })
})
