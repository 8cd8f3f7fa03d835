/**
 * The workflow's process manager against real PostgreSQL, in-process: managers racing on one
 * workflow record each reaction once (one JobQueued per step, one pause, one completion), a
 * step that completed while no manager ran (its worker killed between steps) is followed by the
 * next one, and a cancelled workflow queues nothing more.
 */
import assert from "node:assert/strict"
import { after, before, describe, test } from "node:test"
import { stepJobId, type WorkflowEvent } from "../src/domain/workflow.js"
import { appendWorkflowIn } from "../src/events/workflowStore.js"
import { project } from "../src/projections/project.js"
import { prune } from "../src/projections/prune.js"
import { getWorkflow, workflowsOfJobs } from "../src/projections/workflows.js"
import { advanceWorkflow } from "../src/workers/processManager.js"
import { cmd } from "./support/commandBuilders.js"
import { type Commands, commandsFor } from "./support/commands.js"
import { createTestDb, type TestDb } from "./support/db.js"

/** A channel nobody listens on: these tests wake no worker. */
const CHANNEL = "aidp_test_process_manager"
const RACERS = 8

describe("process manager (PostgreSQL)", () => {
  let db: TestDb
  let commands: Commands
  before(async () => {
    db = await createTestDb()
    commands = commandsFor(db, { channel: CHANNEL })
  })
  after(async () => {
    await commands.dispose()
    await db.drop()
  })

  const step = (name: string) => ({ name, document: `${name}.md`, prompt: `Write ${name}.md`, provider: "claude" as const, model: null, permissions: "edit" as const })
  const start = async (): Promise<string> => {
    const id = crypto.randomUUID()
    const started: WorkflowEvent = {
      type: "WorkflowStarted",
      data: { cwd: `/tmp/${id}`, steps: [step("a"), step("b"), step("c")], priority: 0, max_attempts: 3, timeout_ms: 60_000, retry_timeouts: false }
    }
    await db.sql.begin((tx) => appendWorkflowIn(tx, CHANNEL, id, 0, [started], new Date()))
    return id
  }
  /** `RACERS` managers bringing workflow `id` up to date at once. */
  const race = (id: string) => Promise.all(Array.from({ length: RACERS }, () => advanceWorkflow(db.sql, CHANNEL, project, id)))
  const events = async (id: string) =>
    (await db.sql<Array<{ type: string }>>`select type from workflow_events where workflow_id = ${id} order by version`).map((row) => row.type)
  const queuedSteps = async (id: string) =>
    (await db.sql<Array<{ step: string; n: number }>>`
      select j.step, (select count(*)::int from job_events e where e.job_id = j.id and e.type = 'JobQueued') as n
      from jobs j where j.metadata->>'workflow_id' = ${id} order by (j.metadata->>'workflow_step')::int`).map((row) => [row.step, row.n])
  /** Runs step `index`'s job to success (or to an auth failure) as a worker would, with no manager looking. */
  const run = async (id: string, index: number, outcome: "succeed" | "fail") => {
    const jobId = stepJobId(id, index)
    const execution = crypto.randomUUID()
    await commands.handle(jobId, cmd.start(execution))
    await commands.handle(jobId, outcome === "succeed" ? cmd.succeed(execution) : cmd.fail(execution, "auth", new Date()))
  }

  test(`${RACERS} managers racing on a new workflow queue its first step once`, async () => {
    const id = await start()
    await race(id)
    assert.deepEqual(await queuedSteps(id), [["a", 1]])
  })

  test("a step that completed while no manager ran is followed by the next, once; a failure pauses once; the retry resumes once; the end completes once", async () => {
    const id = await start()
    await race(id)
    await run(id, 0, "succeed")
    await race(id)
    assert.deepEqual(await queuedSteps(id), [["a", 1], ["b", 1]])
    await run(id, 1, "fail")
    await race(id)
    assert.deepEqual(await events(id), ["WorkflowStarted", "WorkflowPaused"])
    await commands.handle(stepJobId(id, 1), cmd.retry(new Date()))
    await race(id)
    assert.deepEqual(await events(id), ["WorkflowStarted", "WorkflowPaused", "WorkflowResumed"])
    assert.deepEqual(await queuedSteps(id), [["a", 1], ["b", 1]], "the retried step keeps its one job")
    await run(id, 1, "succeed")
    await race(id)
    await run(id, 2, "succeed")
    await race(id)
    assert.deepEqual(await queuedSteps(id), [["a", 1], ["b", 1], ["c", 1]])
    assert.deepEqual(await events(id), ["WorkflowStarted", "WorkflowPaused", "WorkflowResumed", "WorkflowCompleted"])
    const [row] = await db.sql<Array<{ status: string; version: number }>>`select status, version from workflows where id = ${id}`
    assert.deepEqual(row, { status: "completed", version: 4 })
  })

  test("a cancelled workflow queues nothing more, even after its step completes", async () => {
    const id = await start()
    await race(id)
    await db.sql.begin((tx) => appendWorkflowIn(tx, CHANNEL, id, 1, [{ type: "WorkflowCancelled", data: { requested_by: "user" } }], new Date()))
    await run(id, 0, "succeed")
    await race(id)
    assert.deepEqual(await queuedSteps(id), [["a", 1]])
    assert.deepEqual(await events(id), ["WorkflowStarted", "WorkflowCancelled"])
  })

  test("an append at a stale version is refused and changes nothing", async () => {
    const id = await start()
    await assert.rejects(
      db.sql.begin((tx) => appendWorkflowIn(tx, CHANNEL, id, 0, [{ type: "WorkflowCancelled", data: { requested_by: "user" } }], new Date())),
      /changed while a decision was made \(expected version 0\)/
    )
    assert.deepEqual(await events(id), ["WorkflowStarted"])
  })

  test("a prune keeps the finished step jobs of an unfinished workflow (its manager would queue them again), not of a finished one", async () => {
    const paused = await start()
    await race(paused)
    await run(paused, 0, "succeed")
    await race(paused)
    await run(paused, 1, "fail")
    await race(paused)
    const cancelled = await start()
    await race(cancelled)
    await run(cancelled, 0, "succeed")
    await db.sql.begin((tx) => appendWorkflowIn(tx, CHANNEL, cancelled, 1, [{ type: "WorkflowCancelled", data: { requested_by: "user" } }], new Date()))
    await prune(db.sql, { endedBefore: new Date(Date.now() + 60_000), outputOnly: false, dryRun: false })
    assert.deepEqual(await queuedSteps(paused), [["a", 1], ["b", 1]])
    assert.deepEqual(await queuedSteps(cancelled), [])
    await race(paused)
    assert.deepEqual(await queuedSteps(paused), [["a", 1], ["b", 1]], "nothing queued again")
  })

  test("a workflow_id a person put in a job's metadata that names no workflow is no workflow", async () => {
    const id = await start()
    const spoofed = crypto.randomUUID()
    await commands.handle(spoofed, cmd.enqueue({ metadata: { workflow_id: "not a uuid" } }))
    const named = crypto.randomUUID()
    await commands.handle(named, cmd.enqueue({ metadata: { workflow_id: id } }))
    assert.deepEqual(await workflowsOfJobs(db.sql, [spoofed, named]), [id])
    assert.equal(await getWorkflow(db.sql, "not a uuid"), null)
  })
})
