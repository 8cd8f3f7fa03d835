/**
 * `aidp jobs replay --rebuild [--apply]`: a hand-edited read-model row is reported column by
 * column (table, key, both values) with exit 1 and nothing changed; --apply replaces the live
 * rows, after which a rebuild finds nothing; --apply while a worker runs jobs: the worker
 * waits for it and goes on, every job completes, no event is lost; `workflows` is rebuilt from
 * `workflow_events` the same way.
 */
import assert from "node:assert/strict"
import { randomUUID } from "node:crypto"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { after, before, test } from "node:test"
import { finished, runCli, runJson, startCli } from "./support/cli.js"
import { cmd } from "./support/commandBuilders.js"
import { createTestDb, type TestDb } from "./support/db.js"
import { type ServicesRuntime, testServices } from "./support/layers.js"
import { waitFor } from "./support/wait.js"

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
  assert.match(checked.stdout, /^jobs\s+1 row\s+1 row DIFFERENT from the live table$/m)
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
  assert.deepEqual(json.tables.map((t: any) => [t.table, t.differingRows]), [["workflows", 0], ["jobs", 1], ["job_executions", 0], ["job_logs", 1]])
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

test("--apply while a worker runs slow jobs: the worker waits and goes on, every job completes, nothing is lost", { timeout: 120_000 }, async () => {
  const ids: string[] = []
  // The fake agent writes into the job's directory: a throwaway one.
  const cwd = await mkdtemp(path.join(tmpdir(), "aidp-rebuild-"))
  after(() => rm(cwd, { recursive: true, force: true }))
  for (let i = 0; i < 6; i++) {
    ids.push((await runJson<{ id: string }>(db, ["jobs", "enqueue", "--provider", "claude", "--prompt", `job ${i}`, "--cwd", cwd, "--json"])).id)
  }
  const worker = startCli(db, ["worker"], { env: { QUE_WORKER_COUNT: "2", FAKE_AGENT_MODE: "slow", FAKE_AGENT_DELAY_MS: "150" } })
  const result = finished(worker, { timeoutMs: 110_000 })
  try {
    await waitFor("a job to run", async () => (await db.sql`select 1 from jobs where status = 'running'`).length > 0, 30_000)
    for (let i = 0; i < 3; i++) {
      const applied = await runCli(db, ["jobs", "replay", "--rebuild", "--apply"])
      assert.equal(applied.code, 0, applied.stderr)
    }
    await waitFor("every job to complete", async () =>
      (await db.sql<Array<{ n: number }>>`select count(*)::int as n from jobs where id in ${db.sql(ids)} and status = 'completed'`)[0]!.n === ids.length, 90_000)
  } finally {
    worker.kill("SIGTERM")
  }
  const stopped = await result
  assert.equal(stopped.code, 0, stopped.stderr.slice(-2000))
  assert.doesNotMatch(stopped.stderr, /ERROR|Unexpected|deadlock/i)
  const clean = await runCli(db, ["jobs", "replay", "--rebuild"])
  assert.equal(clean.code, 0, clean.stdout + clean.stderr)
  const [gaps] = await db.sql<Array<{ n: number }>>`
    select count(*)::int as n from (select job_id, version, lag(version) over (partition by job_id order by version) as before from job_events) v
    where before is not null and version <> before + 1`
  assert.equal(gaps!.n, 0, "every stream's versions follow one another")
})


test("workflows are rebuilt from workflow_events: a hand-edited row is reported and --apply restores it; an --apply with nothing to fix says it swapped", async () => {
  const cwd = await mkdtemp(path.join(tmpdir(), "aidp-rebuild-workflow-"))
  after(() => rm(cwd, { recursive: true, force: true }))
  const detached = await runCli(db, ["execute", "all", "--detach"], { cwd })
  assert.equal(detached.code, 0, detached.stderr)
  const [workflow] = await db.sql<Array<{ id: string; status: string }>>`select id, status from workflows order by created_at desc limit 1`
  assert.equal(workflow!.status, "running")
  await db.sql`update workflows set status = 'cancelled', paused_reason = 'edited by hand' where id = ${workflow!.id}`

  const checked = await runCli(db, ["jobs", "replay", "--rebuild"])
  assert.equal(checked.code, 1, checked.stderr)
  assert.match(checked.stdout, /^workflows\s+1 row\s+1 row DIFFERENT from the live table$/m)
  assert.match(checked.stdout, new RegExp(`^  workflows ${workflow!.id} status: "cancelled" -> "running"$`, "m"))
  assert.match(checked.stdout, new RegExp(`^  workflows ${workflow!.id} paused_reason: "edited by hand" -> null$`, "m"))

  const applied = await runCli(db, ["jobs", "replay", "--rebuild", "--apply"])
  assert.equal(applied.code, 0, applied.stderr)
  const [fixed] = await db.sql<Array<{ status: string; paused_reason: string | null }>>`select status, paused_reason from workflows where id = ${workflow!.id}`
  assert.deepEqual({ ...fixed }, { status: "running", paused_reason: null })
  const paused = await runCli(db, ["execute", "pause"], { cwd })
  assert.equal(paused.code, 0, `${paused.stdout}${paused.stderr}`)

  const again = await runCli(db, ["jobs", "replay", "--rebuild", "--apply"])
  assert.equal(again.code, 0, again.stderr)
  assert.match(again.stdout, /^workflows\s+1 row\s+identical to the live table$/m)
  assert.match(again.stdout, /replaced the live ones \(they were identical\)/)
  const [kept] = await db.sql<Array<{ status: string }>>`select status from workflows where id = ${workflow!.id}`
  assert.equal(kept!.status, "paused", "the swapped-in row carries the pause appended after the first rebuild")
})
