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

  const story = await runCli(db, ["jobs", "replay", good])
  assert.equal(story.code, 0, story.stderr)
  assert.equal(story.stderr, "", "the good job's story reads none of the bad rows")
})
