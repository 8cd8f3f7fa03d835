/**
 * End to end: `aidp execute all` and the workflow's process manager as a user runs them (the
 * built CLI, fake claude, real PostgreSQL): steps strictly in order, a failed step that pauses
 * and whose retry resumes, workers killed with SIGKILL between and during steps, racing workers,
 * and the commands that steer a workflow.
 */
import assert from "node:assert/strict"
import type { ChildProcess } from "node:child_process"
import { readFile, writeFile } from "node:fs/promises"
import path from "node:path"
import { describe, test } from "node:test"
import { STEPS } from "../src/domain/steps.js"
import { builtInWorkflowFile } from "../src/domain/workflowFile.js"
import { finished, runCli, startCli } from "./support/cli.js"
import { assertCliError, e2eSuite, readCalls, withWorker } from "./support/e2e.js"
import { waitFor } from "./support/wait.js"

const TEST_MS = 240_000

describe("aidp execute all (fake claude)", () => {
  const suite = e2eSuite()
  const { dirs } = suite

  /** The step jobs of workflow `id` in step order, with the numbers the tests check. */
  const stepJobsOf = (id: string) =>
    suite.db.sql<Array<{ id: string; step: string; status: string; attempts: number; index: number; created_at: Date; completed_at: Date | null; succeeded: number; queued_events: number }>>`
      select j.id, j.step, j.status, j.attempts, (j.metadata->>'workflow_step')::int as index, j.created_at, j.completed_at,
             (select count(*)::int from job_executions e where e.job_id = j.id and e.status = 'succeeded') as succeeded,
             (select count(*)::int from job_events v where v.job_id = j.id and v.type = 'JobQueued') as queued_events
      from jobs j where j.metadata->>'workflow_id' = ${id} order by (j.metadata->>'workflow_step')::int`
  const workflowStatus = async (id: string) => (await suite.db.sql<Array<{ status: string }>>`select status from workflows where id = ${id}`)[0]?.status
  const workflowEvents = async (id: string) =>
    (await suite.db.sql<Array<{ type: string }>>`select type from workflow_events where workflow_id = ${id} order by version`).map((row) => row.type)
  /** The workflow id `execute all` printed first (`Workflow <id>: ...`) or alone (--detach). */
  const workflowIdIn = (stdout: string) => /^(?:Workflow )?([0-9a-f-]{36})/.exec(stdout)![1]!

  /** Asserts workflow `id` ran every built-in step exactly once to success, strictly one after another. */
  const assertRanInOrder = async (id: string, cwd: string) => {
    const jobs = await stepJobsOf(id)
    assert.deepEqual(jobs.map((job) => [job.index, job.step, job.status, job.succeeded, job.queued_events]), STEPS.map((step, index) => [index, step.name, "completed", 1, 1]))
    for (const [index, job] of jobs.entries()) {
      if (index > 0) assert.ok(job.created_at >= jobs[index - 1]!.completed_at!, `step ${job.step} was queued before ${jobs[index - 1]!.step} completed`)
    }
    for (const step of STEPS) assert.ok((await readFile(path.join(cwd, step.document), "utf8")).length > 0, `${step.document} is missing`)
  }

  test("execute all with succeeding agents: seven jobs strictly in order, seven documents, exit 0", { timeout: TEST_MS }, async () => {
    const cwd = await dirs.make()
    const result = await runCli(suite.db, ["execute", "all"], { cwd, timeoutMs: TEST_MS })
    assert.equal(result.code, 0, result.stderr)
    assert.equal(result.stderr, "")
    const id = workflowIdIn(result.stdout)
    assert.match(result.stdout, /^Workflow [0-9a-f-]{36}: 7 steps \(00_PRD, 01_NFRS, .*06_IMPLEMENTATION\)/)
    assert.match(result.stdout, /Step 1\/7 00_PRD: job [0-9a-f-]{36} with claude\.\n/)
    assert.match(result.stdout, /Step 06_IMPLEMENTATION completed in .+: docs\/IMPLEMENTATION\.md \(.+ since the workflow began\)\.\n/)
    assert.match(result.stdout, /Workflow [0-9a-f-]{36} completed: 7 steps\.\n$/)
    await assertRanInOrder(id, cwd)
    assert.deepEqual(await workflowEvents(id), ["WorkflowStarted", "WorkflowCompleted"])

    const again = await runCli(suite.db, ["execute", "all"], { cwd })
    assert.equal(again.code, 0, again.stderr)
    assert.equal(again.stdout, `Every step asked for in ${cwd} is completed.\n`)
  })

  test("a failing step pauses the workflow (exit 1); its jobs retry resumes it to the end with no other command", { timeout: TEST_MS }, async () => {
    const cwd = await dirs.make()
    const failed = await runCli(suite.db, ["execute", "all"], { cwd, env: { FAKE_AGENT_FAIL_ON: "Markdown to docs/ARCHITECTURE.md" }, timeoutMs: TEST_MS })
    const line = assertCliError(failed, 1, "paused: step 02_ARCHITECTURE failed: Invalid API key · Please run /login.", "aidp jobs retry", "aidp execute resume")
    const id = workflowIdIn(failed.stdout)
    assert.equal(await workflowStatus(id), "paused")
    const jobs = await stepJobsOf(id)
    assert.deepEqual(jobs.map((job) => [job.step, job.status]), [["00_PRD", "completed"], ["01_NFRS", "completed"], ["02_ARCHITECTURE", "failed"]])
    assert.ok(line.includes(`aidp jobs retry ${jobs[2]!.id}`), line)

    await withWorker(suite.db, {}, async () => {
      const retry = await runCli(suite.db, ["jobs", "retry", jobs[2]!.id.slice(0, 8)])
      assert.equal(retry.code, 0, retry.stderr)
      await waitFor("the workflow to complete", async () => (await workflowStatus(id)) === "completed", TEST_MS)
    })
    const after = await stepJobsOf(id)
    assert.deepEqual(after.map((job) => [job.step, job.status, job.attempts, job.succeeded, job.queued_events]), STEPS.map((step) => [step.name, "completed", step.name === "02_ARCHITECTURE" ? 2 : 1, 1, 1]))
    assert.deepEqual(await workflowEvents(id), ["WorkflowStarted", "WorkflowPaused", "WorkflowResumed", "WorkflowCompleted"])
  })

  test("workers killed with SIGKILL between and during steps, again and again: every step runs once to success, none skipped", { timeout: TEST_MS }, async () => {
    const cwd = await dirs.make()
    const detached = await runCli(suite.db, ["execute", "all", "--detach"], { cwd })
    assert.equal(detached.code, 0, detached.stderr)
    const id = workflowIdIn(detached.stdout)
    // Slow agents, so a kill can land inside a step.
    const env = { FAKE_AGENT_MODE: "slow", FAKE_AGENT_DELAY_MS: "150", AIDP_WORKER_LEASE_MS: "2000" }
    const completed = async () => (await stepJobsOf(id)).filter((job) => job.status === "completed").length
    const running = async () => (await stepJobsOf(id)).some((job) => job.status === "running")
    const kill = async (child: ChildProcess) => {
      const done = finished(child, { timeoutMs: TEST_MS })
      child.kill("SIGKILL")
      assert.equal((await done).signal, "SIGKILL")
    }
    for (let round = 0; round < 6; round++) {
      const worker = startCli(suite.db, ["worker"], { cwd, env })
      if (round % 2 === 0) {
        // During a step: its execution is abandoned and the step's one job runs again.
        await waitFor("a step to run", running, TEST_MS, 20)
      } else {
        // Between steps: the instant a step completed, before or after its manager queued the next.
        const before = await completed()
        await waitFor("a step to complete", async () => (await completed()) > before, TEST_MS, 10)
      }
      await kill(worker)
    }
    await withWorker(suite.db, env, () => waitFor("the workflow to complete", async () => (await workflowStatus(id)) === "completed", TEST_MS))
    await assertRanInOrder(id, cwd)
    const [row] = await suite.db.sql<Array<{ abandoned: number }>>`
      select count(*)::int as abandoned from job_executions e join jobs j on j.id = e.job_id
      where j.metadata->>'workflow_id' = ${id} and e.status = 'abandoned'`
    assert.ok(row!.abandoned >= 1, "no kill landed during a step")
  })

  test("three workers racing on one workflow: one job per step", { timeout: TEST_MS }, async () => {
    const cwd = await dirs.make()
    const workers = [0, 1, 2].map(() => startCli(suite.db, ["worker", "--count", "2"], { cwd }))
    const stopped = workers.map((worker) => finished(worker, { timeoutMs: TEST_MS }))
    try {
      const detached = await runCli(suite.db, ["execute", "all", "--detach"], { cwd })
      assert.equal(detached.code, 0, detached.stderr)
      const id = workflowIdIn(detached.stdout)
      await waitFor("the workflow to complete", async () => (await workflowStatus(id)) === "completed", TEST_MS)
      await assertRanInOrder(id, cwd)
      assert.deepEqual(await workflowEvents(id), ["WorkflowStarted", "WorkflowCompleted"])
    } finally {
      for (const worker of workers) worker.kill("SIGTERM")
    }
    for (const result of await Promise.all(stopped)) assert.equal(result.code, 0, result.stderr)
  })

  test("--detach queues the first step; pause, resume and cancel steer it; a second workflow, or a lone step, is refused", { timeout: TEST_MS }, async () => {
    const cwd = await dirs.make()
    const detached = await runCli(suite.db, ["execute", "all", "--from", "01_nfrs", "--until", "02_ARCHITECTURE", "--detach"], { cwd })
    assert.equal(detached.code, 0, detached.stderr)
    const id = detached.stdout.trim()
    assert.match(id, /^[0-9a-f-]{36}$/)
    assert.deepEqual((await stepJobsOf(id)).map((job) => [job.step, job.status]), [["01_NFRS", "queued"]])

    assertCliError(await runCli(suite.db, ["execute", "all"], { cwd }), 1, `already has running workflow ${id}`, "aidp execute cancel")
    assertCliError(await runCli(suite.db, ["execute", "01_nfrs"], { cwd }), 1, `Step 01_NFRS is a step of running workflow ${id}, which runs it`)
    const paused = await runCli(suite.db, ["execute", "pause"], { cwd })
    assert.equal(paused.code, 0, paused.stderr)
    assert.equal(paused.stdout, `Workflow ${id} paused.\n`)
    assertCliError(await runCli(suite.db, ["execute", "pause"], { cwd }), 1, "already paused; aidp execute resume")
    assert.equal((await runCli(suite.db, ["execute", "resume"], { cwd })).code, 0)
    assert.equal(await workflowStatus(id), "running")
    const cancelled = await runCli(suite.db, ["execute", "cancel", "--json"], { cwd })
    assert.equal(cancelled.code, 0, cancelled.stderr)
    const shown = JSON.parse(cancelled.stdout)
    assert.deepEqual([shown.id, shown.status, shown.steps.map((s: any) => [s.step, s.status])], [id, "cancelled", [["01_NFRS", "cancelled"], ["02_ARCHITECTURE", "pending"]]])
    assertCliError(await runCli(suite.db, ["execute", "resume"], { cwd }), 1, `${cwd} has no running or paused workflow; start one with aidp execute all.`)
    assert.deepEqual(await workflowEvents(id), ["WorkflowStarted", "WorkflowPaused", "WorkflowResumed", "WorkflowCancelled"])
  })

  test("usage errors: an unknown --from step, --until before --from, --from without all", async () => {
    const cwd = await dirs.make()
    assertCliError(await runCli(suite.db, ["execute", "all", "--from", "99_NOPE"], { cwd }), 2, '--from "99_NOPE" is not a step of this workflow; the steps are 00_PRD')
    assertCliError(await runCli(suite.db, ["execute", "all", "--from", "03_ADR", "--until", "01_NFRS"], { cwd }), 2, "--until 01_NFRS comes before --from 03_ADR")
    assertCliError(await runCli(suite.db, ["execute", "next", "--from", "03_ADR"], { cwd }), 2, "--from does not go with aidp execute next; it goes with aidp execute all")
    assert.equal((await suite.db.sql`select 1 from workflows where cwd = ${cwd}`).length, 0, "nothing was started")
  })

  test("a project's aidp.workflow.json with three steps runs them, each with its agent; --list shows where it stands", { timeout: TEST_MS }, async () => {
    const cwd = await dirs.make()
    const record = path.join(cwd, ".fake-calls.jsonl")
    await writeFile(path.join(cwd, "aidp.workflow.json"), JSON.stringify({
      steps: [
        { id: "idea", document: "notes/idea.md", prompt: "Write down the idea." },
        { id: "plan", document: "notes/plan.md", prompt: "Plan it.", builds_on: ["idea"] },
        { id: "review", document: "notes/review.md", prompt: "Review the plan.", builds_on: ["plan"], provider: "gemini", permissions: "plan" }
      ]
    }))
    const result = await runCli(suite.db, ["execute", "all"], { cwd, env: { FAKE_AGENT_RECORD: record }, timeoutMs: TEST_MS })
    assert.equal(result.code, 0, result.stderr)
    const id = workflowIdIn(result.stdout)
    const jobs = await suite.db.sql<Array<{ step: string; provider: string; status: string; permissions: string }>>`
      select step, provider, status, permissions from jobs where metadata->>'workflow_id' = ${id} order by (metadata->>'workflow_step')::int`
    assert.deepEqual(jobs.map((job) => [job.step, job.provider, job.status, job.permissions]), [["idea", "claude", "completed", "edit"], ["plan", "claude", "completed", "edit"], ["review", "gemini", "completed", "plan"]])
    for (const document of ["notes/idea.md", "notes/plan.md", "notes/review.md"]) assert.ok(await readFile(path.join(cwd, document), "utf8"))
    const calls = await readCalls(record)
    assert.deepEqual(calls.map((call) => call.flavor), ["claude", "claude", "gemini"])
    assert.match(calls[1]!.prompt, /Read these earlier documents first and build on them; do not contradict them:\n- notes\/idea\.md \(idea\)\n\nTask: Plan it\./)

    const list = await runCli(suite.db, ["execute", "--list"], { cwd })
    assert.equal(list.code, 0, list.stderr)
    assert.match(list.stdout, new RegExp(`^Workflow ${id} \\(3 steps: idea…review\\): completed\n\nStep {2,}Status`))
    assert.match(list.stdout, /\nreview {2,}completed {2,}notes\/review\.md ✓/)
    const rows = JSON.parse((await runCli(suite.db, ["execute", "--list", "--json"], { cwd })).stdout)
    assert.deepEqual(rows.map((row: any) => [row.step, row.status, row.workflowId, row.workflowStatus]), [["idea", "completed", id, "completed"], ["plan", "completed", id, "completed"], ["review", "completed", id, "completed"]])
    // jobs list --step knows the project's own steps (from its directory, or --cwd's).
    const listed = JSON.parse((await runCli(suite.db, ["jobs", "list", "--step", "plan", "--json"], { cwd })).stdout)
    assert.deepEqual(listed.map((job: any) => job.step), ["plan"])
    const unknown = await runCli(suite.db, ["jobs", "list", "--cwd", cwd, "--step", "00_PRD"])
    assert.equal(unknown.code, 2)
    assert.match(unknown.stderr, /--step "00_PRD" is not a step of this project; its steps are idea, plan, review\./)
  })

  test("a bad aidp.workflow.json is one sentence naming the step and the field (exit 2), and nothing runs", async () => {
    const cwd = await dirs.make()
    await writeFile(path.join(cwd, "aidp.workflow.json"), JSON.stringify({ steps: [{ id: "idea", document: "idea.md", prompt: "Idea." }, { id: "plan", document: "plan.md" }] }))
    for (const args of [["execute", "all"], ["execute", "next"], ["execute", "--list"]]) {
      assertCliError(await runCli(suite.db, args, { cwd }), 2, 'aidp.workflow.json: step 2 ("plan"): field "prompt" is missing; it must be the task as text.')
    }
    assert.equal((await suite.db.sql`select 1 from jobs where cwd = ${cwd}`).length, 0)
  })

  test("execute init writes the built-in workflow for editing, once", async () => {
    const cwd = await dirs.make()
    const init = await runCli(suite.db, ["execute", "init"], { cwd })
    assert.equal(init.code, 0, init.stderr)
    const file = path.join(cwd, "aidp.workflow.json")
    assert.equal(init.stdout, `Wrote the built-in workflow to ${file}; edit its steps, and aidp execute runs them.\n`)
    assert.equal(await readFile(file, "utf8"), builtInWorkflowFile())
    assertCliError(await runCli(suite.db, ["execute", "init"], { cwd }), 1, `${file} already exists; edit it, or delete it first`)
  })

  test("Ctrl-C on execute all cancels the running step and the workflow pauses (exit 130); execute resume retries it and a worker goes on to the end", { timeout: TEST_MS }, async () => {
    const cwd = await dirs.make()
    const child = startCli(suite.db, ["execute", "all"], { cwd, env: { FAKE_AGENT_MODE: "slow", FAKE_AGENT_DELAY_MS: "1000" } })
    const done = finished(child, { timeoutMs: TEST_MS })
    const id = await waitFor("the workflow's first step to run", async () => {
      const rows = await suite.db.sql<Array<{ id: string }>>`
        select w.id from workflows w join jobs j on j.metadata->>'workflow_id' = w.id::text where w.cwd = ${cwd} and j.status = 'running'`
      return rows[0]?.id
    }, TEST_MS, 50)
    child.kill("SIGINT")
    const result = await done
    assertCliError(result, 130, `Workflow ${id} paused: step 00_PRD cancelled`, "aidp execute resume")
    assert.equal(await workflowStatus(id), "paused")
    const started = new Date()
    await withWorker(suite.db, {}, async () => {
      // Registered first, so resume knows a worker will run the workflow.
      await waitFor("the worker to register", async () => (await suite.db.sql`select 1 from workers where stopped_at is null and started_at >= ${started}`).length > 0)
      const resumed = await runCli(suite.db, ["execute", "resume"], { cwd })
      assert.equal(resumed.code, 0, resumed.stderr)
      assert.equal(resumed.stdout, `Workflow ${id} resumed.\n`)
      await waitFor("the workflow to complete", async () => (await workflowStatus(id)) === "completed", TEST_MS)
    })
    await assertRanInOrder(id, cwd)
    assert.deepEqual(await workflowEvents(id), ["WorkflowStarted", "WorkflowPaused", "WorkflowResumed", "WorkflowCompleted"])
  })
})
