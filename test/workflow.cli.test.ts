/**
 * `aidp execute` steering a workflow from the command line (built CLI, fake claude, real
 * PostgreSQL), without running it to the end: what resume says when no worker will run the
 * workflow, which lone steps may run beside an unfinished workflow, and `--worktree` refused up
 * front outside a git repository.
 */
import assert from "node:assert/strict"
import { describe, test } from "node:test"
import { runCli } from "./support/cli.js"
import { assertCliError, e2eSuite, eventCount, withWorker } from "./support/e2e.js"
import { waitFor } from "./support/wait.js"

describe("aidp execute: steering a workflow", () => {
  const suite = e2eSuite()
  const { dirs } = suite
  const workflowEvents = async (cwd: string) =>
    (await suite.db.sql<Array<{ type: string }>>`
      select e.type from workflow_events e join workflows w on w.id = e.workflow_id where w.cwd = ${cwd} order by e.version`).map((row) => row.type)

  test("resume with no live worker says the steps wait for aidp worker; with one running it only says resumed", { timeout: 120_000 }, async () => {
    const cwd = await dirs.make()
    const detached = await runCli(suite.db, ["execute", "all", "--from", "01_NFRS", "--until", "01_NFRS", "--detach"], { cwd })
    assert.equal(detached.code, 0, detached.stderr)
    const id = detached.stdout.trim()
    assert.equal((await runCli(suite.db, ["execute", "pause"], { cwd })).code, 0)
    const listed = await runCli(suite.db, ["execute", "--list"], { cwd })
    assert.match(listed.stdout, new RegExp(`^Workflow ${id} \\(1 step: 01_NFRS\\): paused`, "m"), "one step is named once")
    const idle = await runCli(suite.db, ["execute", "resume"], { cwd })
    assert.equal(idle.code, 0, idle.stderr)
    assert.equal(idle.stdout, `Workflow ${id} resumed; no aidp worker is running, so its steps wait until you start one with aidp worker.\n`)
    assert.equal((await runCli(suite.db, ["execute", "pause"], { cwd })).code, 0)
    // A worker that is alive has registered (its heartbeat row) before it claims the step.
    const started = new Date()
    await withWorker(suite.db, { FAKE_AGENT_MODE: "slow", FAKE_AGENT_DELAY_MS: "60000" }, async () => {
      await waitFor("the worker to register", async () => (await suite.db.sql`select 1 from workers where stopped_at is null and started_at >= ${started}`).length > 0)
      const resumed = await runCli(suite.db, ["execute", "resume"], { cwd })
      assert.equal(resumed.code, 0, resumed.stderr)
      assert.equal(resumed.stdout, `Workflow ${id} resumed.\n`)
      assert.equal((await runCli(suite.db, ["execute", "cancel"], { cwd })).code, 0)
    })
    assert.deepEqual(await workflowEvents(cwd), ["WorkflowStarted", "WorkflowPaused", "WorkflowResumed", "WorkflowPaused", "WorkflowResumed", "WorkflowCancelled"])
  })

  test("beside an unfinished workflow, a step it has still to run is refused naming it; a step outside it runs", async () => {
    const cwd = await dirs.make()
    const detached = await runCli(suite.db, ["execute", "all", "--from", "01_NFRS", "--until", "02_ARCHITECTURE", "--detach"], { cwd })
    assert.equal(detached.code, 0, detached.stderr)
    const id = detached.stdout.trim()
    for (const step of ["01_nfrs", "02_ARCHITECTURE"]) {
      const before = await eventCount(suite.db)
      assertCliError(await runCli(suite.db, ["execute", step, "--detach"], { cwd }), 1,
        `is a step of running workflow ${id}, which runs it; follow it with aidp execute --list, or end the workflow with aidp execute cancel`)
      assert.equal(await eventCount(suite.db), before, "nothing queued")
    }
    assert.equal((await runCli(suite.db, ["execute", "pause"], { cwd })).code, 0)
    assertCliError(await runCli(suite.db, ["execute", "02_architecture", "--detach"], { cwd }), 1, `Step 02_ARCHITECTURE is a step of paused workflow ${id}`, "go on with aidp execute resume")
    // 00_PRD is not one of its steps: it runs alone (and is "next", the first not completed).
    const lone = await runCli(suite.db, ["execute", "next", "--detach"], { cwd })
    assert.equal(lone.code, 0, lone.stderr)
    const [job] = await suite.db.sql<Array<{ step: string; workflow: string | null }>>`select step, metadata->>'workflow_id' as workflow from jobs where id = ${lone.stdout.trim()}`
    assert.deepEqual(job, { step: "00_PRD", workflow: null })
    assert.equal((await runCli(suite.db, ["execute", "cancel"], { cwd })).code, 0)
    assert.equal((await runCli(suite.db, ["jobs", "cancel", lone.stdout.trim()], { cwd })).code, 0)
  })

  test("--worktree (or AIDP_WORKTREE=1) outside a git repository is refused before anything is queued", async () => {
    const cwd = await dirs.make({ git: false })
    const before = await eventCount(suite.db)
    for (const [args, env] of [[["execute", "all", "--worktree"], {}], [["execute", "all", "--detach"], { AIDP_WORKTREE: "1" }], [["execute", "00_PRD", "--worktree"], {}]] as const) {
      assertCliError(await runCli(suite.db, args, { cwd, env }), 1, `${cwd} is not in a git repository; run git init there (and commit), or run the job without --worktree.`)
    }
    assert.equal(await eventCount(suite.db), before, "no job event")
    assert.deepEqual(await workflowEvents(cwd), [], "no workflow started")
  })

  test("a new workflow is refused while a step it would run has a job queued outside it (a retried job of a cancelled workflow): one agent per document", async () => {
    const cwd = await dirs.make()
    const detached = await runCli(suite.db, ["execute", "all", "--until", "00_PRD", "--detach"], { cwd })
    assert.equal(detached.code, 0, detached.stderr)
    const [job] = await suite.db.sql<Array<{ id: string }>>`select id from jobs where cwd = ${cwd} and step = '00_PRD'`
    assert.equal((await runCli(suite.db, ["execute", "cancel"], { cwd })).code, 0)
    await waitFor("the step's job to be cancelled with its workflow", async () =>
      (await suite.db.sql`select 1 from jobs where id = ${job!.id} and status = 'cancelled'`).length > 0)
    const retried = await runCli(suite.db, ["jobs", "retry", job!.id])
    assert.equal(retried.code, 0, retried.stderr)
    const before = await eventCount(suite.db)
    assertCliError(await runCli(suite.db, ["execute", "all", "--detach"], { cwd }), 1,
      `Step 00_PRD already has queued job ${job!.id}; follow it with aidp jobs logs ${job!.id} --follow, or cancel it with aidp jobs cancel ${job!.id}.`)
    assert.equal(await eventCount(suite.db), before, "nothing queued")
    assert.deepEqual(await workflowEvents(cwd), ["WorkflowStarted", "WorkflowCancelled"], "no second workflow")
    assert.equal((await runCli(suite.db, ["jobs", "cancel", job!.id])).code, 0)
  })
})
