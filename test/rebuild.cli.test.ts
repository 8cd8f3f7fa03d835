/**
 * `aidp jobs replay --rebuild [--apply]`: a hand-edited read-model row is reported column by
 * column (table, key, both values) with exit 1 and nothing changed; --apply replaces the live
 * rows, after which a rebuild finds nothing.
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
const job = randomUUID()
const exec = randomUUID()

before(async () => {
  db = await createTestDb()
  services = testServices(db)
  await services.handle(job, cmd.enqueue(), new Date())
  await services.handle(job, cmd.start(exec), new Date())
  await services.handle(job, cmd.succeed(exec), new Date())
})

after(async () => {
  await services.dispose()
  await db.drop()
})

test("a hand-edited row: each difference reported, exit 1, nothing changed; --apply replaces it", async () => {
  await db.sql`update jobs set status = 'failed', attempts = 7 where id = ${job}`
  await db.sql`delete from job_logs where job_id = ${job} and seq = 2`

  const checked = await runCli(db, ["jobs", "replay", "--rebuild"])
  assert.equal(checked.code, 1, checked.stderr)
  assert.match(checked.stdout, /^jobs\s+1 rows\s+1 row DIFFERENT from the live table$/m)
  assert.match(checked.stdout, /^job_logs\s+\d+ rows\s+1 row DIFFERENT from the live table$/m)
  assert.match(checked.stdout, new RegExp(`^  jobs ${job} status: "failed" -> "completed"$`, "m"))
  assert.match(checked.stdout, new RegExp(`^  jobs ${job} attempts: 7 -> 1$`, "m"))
  assert.match(checked.stdout, new RegExp(`^  job_logs ${job}/2 \\(row\\): null -> \\{`, "m"))
  assert.match(checked.stderr, /nothing was changed\. Run aidp jobs replay --rebuild --apply/)
  const [still] = await db.sql<Array<{ status: string }>>`select status from jobs where id = ${job}`
  assert.equal(still!.status, "failed", "a rebuild without --apply changes nothing")

  const jsonRun = await runCli(db, ["jobs", "replay", "--rebuild", "--json"])
  assert.equal(jsonRun.code, 1, jsonRun.stderr)
  const json = JSON.parse(jsonRun.stdout)
  assert.equal(json.applied, false)
  assert.deepEqual(json.tables.map((t: any) => [t.table, t.differingRows]), [["jobs", 1], ["job_executions", 0], ["job_logs", 1]])
  assert.ok(json.differences.some((d: any) => d.table === "jobs" && d.column === "status" && d.live === "failed" && d.rebuilt === "completed"))

  const applied = await runCli(db, ["jobs", "replay", "--rebuild", "--apply"])
  assert.equal(applied.code, 0, applied.stderr)
  assert.match(applied.stdout, /replaced the live ones/)
  const [fixed] = await db.sql<Array<{ status: string }>>`select status from jobs where id = ${job}`
  assert.equal(fixed!.status, "completed")

  const clean = await runCli(db, ["jobs", "replay", "--rebuild"])
  assert.equal(clean.code, 0, clean.stderr)
  assert.doesNotMatch(clean.stdout, /DIFFERENT/)

  const usage = await runCli(db, ["jobs", "replay", "--apply"])
  assert.equal(usage.code, 2)
  assert.match(usage.stderr, /--apply keeps what --rebuild builds/)
})
