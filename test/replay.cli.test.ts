/**
 * `aidp jobs replay` over a bad history: a row of the log that does not decode (a corrupted
 * payload, a type this aidp does not know) is named with its position and type on stderr and
 * skipped; the rest is replayed.
 */
import assert from "node:assert/strict"
import { randomUUID } from "node:crypto"
import { after, before, test } from "node:test"
import { runCli } from "./support/cli.js"
import { cmd } from "./support/commandBuilders.js"
import { createTestDb, type TestDb } from "./support/db.js"
import { type ServicesRuntime, testServices } from "./support/layers.js"

let db: TestDb
let services: ServicesRuntime
const good = randomUUID()
const bad = randomUUID()

before(async () => {
  db = await createTestDb()
  services = testServices(db)
  for (const id of [good, bad]) {
    await services.handle(id, cmd.enqueue(), new Date())
    await services.handle(id, cmd.start(randomUUID()), new Date())
  }
})

after(async () => {
  await services.dispose()
  await db.drop()
})

test("an event that does not decode is named (position, type) and skipped; the rest is replayed", async () => {
  // A corrupted payload, and a type from a newer aidp (the check constraint is this version's).
  const [corrupted] = await db.sql<Array<{ position: string }>>`
    update job_events set data = '{"provider": 42}' where job_id = ${bad} and version = 1 returning position`
  await db.sql.unsafe(`alter table job_events drop constraint job_events_type_check`)
  const [future] = await db.sql<Array<{ position: string }>>`
    insert into job_events (job_id, version, type, data, occurred_at) values (${bad}, 3, 'JobParked', '{}', now()) returning position`

  const listed = await runCli(db, ["jobs", "replay"])
  assert.equal(listed.code, 0, listed.stderr)
  assert.match(listed.stderr, new RegExp(`^Skipped event ${corrupted!.position} \\(JobQueued, job ${bad} v1, .*\\): it does not decode as an aidp event: `, "m"))
  assert.match(listed.stderr, new RegExp(`^Skipped event ${future!.position} \\(JobParked, job ${bad} v3, `, "m"))
  assert.match(listed.stderr, /^2 events of the log could not be read and were skipped/m)
  // The other 3 events (both jobs' ExecutionStarted... and the good job's JobQueued) are listed.
  assert.equal(listed.stdout.trim().split("\n").length, 3, listed.stdout)

  const stats = await runCli(db, ["jobs", "replay", "--stats", "--json"])
  assert.equal(stats.code, 0, stats.stderr)
  assert.equal(JSON.parse(stats.stdout).events, 3)

  const before = await db.sql`select count(*)::int as n from jobs`
  const rebuild = await runCli(db, ["jobs", "replay", "--rebuild"])
  assert.equal(rebuild.code, 1, rebuild.stderr)
  assert.match(rebuild.stderr, new RegExp(`^aidp: Event ${corrupted!.position} \\(JobQueued, job ${bad} v1\\) does not decode as an aidp event .*nothing was changed`, "m"))
  assert.deepEqual(await db.sql`select count(*)::int as n from jobs`, before)

  const story = await runCli(db, ["jobs", "replay", good])
  assert.equal(story.code, 0, story.stderr)
  assert.equal(story.stderr, "", "the good job's story reads none of the bad rows")
})

test("--at T: every job as it was then, from the events alone (ISO times and spans ago), in text and JSON", async () => {
  const job = randomUUID()
  const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000)
  const exec = randomUUID()
  await services.handle(job, cmd.enqueue({ cwd: "/work/travel" }), minutesAgo(10))
  await services.handle(job, cmd.start(exec), minutesAgo(6))
  await services.handle(job, cmd.succeed(exec), minutesAgo(2))

  const groupsAt = async (t: string) => {
    const result = await runCli(db, ["jobs", "replay", "--at", t, "--json"])
    assert.equal(result.code, 0, result.stderr)
    const groups = JSON.parse(result.stdout)
    const where = (["running", "queued", "recent", "failed"] as const).filter((g) => groups[g].some((j: { id: string }) => j.id === job))
    return { where, groups }
  }
  assert.deepEqual((await groupsAt(minutesAgo(8).toISOString())).where, ["queued"])
  assert.deepEqual((await groupsAt("4m")).where, ["running"])
  const now = await groupsAt("1m")
  assert.deepEqual(now.where, ["recent"])
  assert.equal(now.groups.recent.find((j: { id: string }) => j.id === job).status, "completed")
  assert.equal((await groupsAt(minutesAgo(11).toISOString())).where.length, 0, "not yet queued")

  const text = await runCli(db, ["jobs", "replay", "--at", "4m"])
  assert.equal(text.code, 0, text.stderr)
  assert.match(text.stdout, /^Jobs as they were at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\n\nRunning \(\d+\)\nID\s+Provider\s+Status/)
  assert.match(text.stdout, new RegExp(`^${job.slice(0, 8)}\\s+gemini\\s+running`, "m"))
  // The job whose JobQueued does not decode cannot be projected: named and left out.
  const later = await runCli(db, ["jobs", "replay", "--at", new Date(Date.now() - 1).toISOString()])
  assert.equal(later.code, 0, later.stderr)
  assert.match(later.stderr, new RegExp(`^Left out job ${bad}: its events do not project: `, "m"))
  assert.match(later.stdout, new RegExp(`^${good.slice(0, 8)}\\s`, "m"))

  const future = await runCli(db, ["jobs", "replay", "--at", new Date(Date.now() + 3_600_000).toISOString()])
  assert.equal(future.code, 2)
  assert.match(future.stderr, /is in the future/)
  const refused = await runCli(db, ["jobs", "replay", "--at", "1h", "--stats"])
  assert.equal(refused.code, 2)
  assert.match(refused.stderr, /--at shows every job at one moment/)
})
