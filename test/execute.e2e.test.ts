/**
 * End to end: `aidp execute` as a user runs it, in a fresh git repository, with the fake
 * claude, against a throwaway schema.
 */
import assert from "node:assert/strict"
import { mkdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises"
import path from "node:path"
import { describe, test } from "node:test"
import { findStep, stepPrompt } from "../src/domain/steps.js"
import { finished, runCli, runJson, startCli } from "./support/cli.js"
import { assertCliError, e2eSuite, readCalls, showJob, waitForStatus, withWorker } from "./support/e2e.js"
import { startDbProxy } from "./support/proxy.js"
import { waitFor } from "./support/wait.js"

describe("aidp execute (fake claude)", () => {
  const suite = e2eSuite()
  const { dirs } = suite

  /** A fresh repository and the file the fake records its calls in. */
  const project = async () => {
    const cwd = await dirs.make()
    return { cwd, record: path.join(cwd, ".fake-calls.jsonl") }
  }
  const jobsOf = async (cwd: string) => (await runJson<Array<any>>(suite.db, ["jobs", "list", "--json"])).filter((job) => job.cwd === cwd)

  test("execute next runs 00_PRD, aidp writes the answer to docs/PRD.md, then next runs 01_NFRS", async () => {
    const { cwd, record } = await project()
    const env = { FAKE_AGENT_RECORD: record, FAKE_AGENT_RESULT: "# PRD\nThe product." }
    const first = await runCli(suite.db, ["execute", "next"], { cwd, env })
    assert.equal(first.code, 0, first.stderr)
    assert.equal(first.stderr, "")
    assert.match(first.stdout, /00_PRD/)
    assert.equal(await readFile(path.join(cwd, "docs/PRD.md"), "utf8"), "# PRD\nThe product.\n")

    const [job] = await jobsOf(cwd)
    assert.equal(job.status, "completed")
    assert.equal(job.step, "00_PRD")
    assert.equal(job.attempts, 1)

    const [call] = await readCalls(record)
    assert.equal(call!.stdin, stepPrompt(findStep("00_PRD")!), "the prompt goes to stdin")
    assert.equal(call!.cwd, cwd)
    assert.ok(!call!.argv.some((arg) => arg.includes("PRD")), `argv carries no prompt: ${call!.argv.join(" ")}`)
    assert.ok(call!.argv.includes("-p") && call!.argv.includes("stream-json"))

    const second = await runCli(suite.db, ["execute", "next"], { cwd, env: { FAKE_AGENT_RECORD: record } })
    assert.equal(second.code, 0, second.stderr)
    const jobs = await jobsOf(cwd)
    assert.deepEqual(jobs.map((j) => [j.step, j.status]).sort(), [["00_PRD", "completed"], ["01_NFRS", "completed"]])
    assert.equal((await readCalls(record))[1]!.stdin, stepPrompt(findStep("01_NFRS")!))

    const list = await runCli(suite.db, ["execute", "--list"], { cwd })
    assert.equal(list.code, 0, list.stderr)
    assert.match(list.stdout, /^Step {2,}Status {2,}Document {2,}Job\n00_PRD {2,}completed {2}/, "a header row, columns as wide as their cells")
    assert.match(list.stdout, /00_PRD\s+completed/)
    assert.match(list.stdout, /01_NFRS\s+completed/)
    assert.match(list.stdout, /02_ARCHITECTURE\s+pending/)
    const rows = await runJson<Array<any>>(suite.db, ["execute", "--list", "--json"], { cwd })
    assert.equal(rows.length, 7)
    assert.deepEqual(rows[0], { ...rows[0], step: "00_PRD", status: "completed", jobId: job.id })
    assert.equal(rows[2].status, "pending")
  })

  test("an agent that wrote the document itself keeps its file", async () => {
    const { cwd } = await project()
    const result = await runCli(suite.db, ["execute", "next"], { cwd, env: { FAKE_AGENT_WRITE: "docs/PRD.md", FAKE_AGENT_RESULT: "I wrote docs/PRD.md." } })
    assert.equal(result.code, 0, result.stderr)
    assert.equal(await readFile(path.join(cwd, "docs/PRD.md"), "utf8"), "# Notes\nwritten by fake claude\n")
  })

  test("a document that was there before the run is left as it was, and execute says so", async () => {
    const { cwd } = await project()
    await mkdir(path.join(cwd, "docs"))
    await writeFile(path.join(cwd, "docs/PRD.md"), "# My own PRD\n")
    // Written an hour ago, as a user's file usually is: not mistaken for the agent's.
    const anHourAgo = new Date(Date.now() - 3_600_000)
    await utimes(path.join(cwd, "docs/PRD.md"), anHourAgo, anHourAgo)
    const result = await runCli(suite.db, ["execute", "next"], { cwd, env: { FAKE_AGENT_RESULT: "# PRD\nThe agent's answer." } })
    assert.equal(result.code, 0, result.stderr)
    assert.equal(await readFile(path.join(cwd, "docs/PRD.md"), "utf8"), "# My own PRD\n")
    assert.match(result.stdout, /docs\/PRD\.md was already there and is left as it was \(the agent's answer: aidp jobs show [0-9a-f-]{36}\)\.\n$/)
  })

  test("a failing agent: exit 1 with its error line; retry + worker gives attempt 2 and keeps attempt 1", async () => {
    const { cwd } = await project()
    const failed = await runCli(suite.db, ["execute", "next"], { cwd, env: { FAKE_AGENT_MODE: "auth" } })
    assertCliError(failed, 1, "Invalid API key · Please run /login", "00_PRD", "Run it again with aidp execute 00_PRD")
    const [job] = await jobsOf(cwd)
    assert.equal(job.status, "failed")
    assert.equal(job.errorKind, "auth")
    assert.equal(job.error, "Invalid API key · Please run /login")

    const retry = await runCli(suite.db, ["jobs", "retry", job.id.slice(0, 8)])
    assert.equal(retry.code, 0, retry.stderr)
    // Queued again: the old attempt's error, start and duration belong to that execution only.
    const requeued = await showJob(suite.db, job.id)
    assert.deepEqual(
      [requeued.status, requeued.error, requeued.errorKind, requeued.startedAt, requeued.durationMs],
      ["queued", null, null, null, null]
    )
    assert.equal(requeued.executions[0].error, "Invalid API key · Please run /login")
    await withWorker(suite.db, {}, () => waitForStatus(suite.db, job.id, "completed"))

    const shown = await showJob(suite.db, job.id)
    assert.equal(shown.status, "completed")
    assert.equal(shown.attempts, 2)
    assert.deepEqual(shown.executions.map((e: any) => [e.attempt, e.status, e.errorKind]), [[1, "failed", "auth"], [2, "succeeded", null]])
    assert.equal(shown.executions[0].error, "Invalid API key · Please run /login")
    const logged = new Set(shown.logs.map((log: any) => log.executionId))
    for (const execution of shown.executions) assert.ok(logged.has(execution.id), `no log lines of execution ${execution.attempt}`)
    assert.ok(await readFile(path.join(cwd, "docs/PRD.md"), "utf8"))
  })

  test("--detach prints the id; a second execute of the queued step refuses naming the job", async () => {
    const { cwd } = await project()
    const detached = await runCli(suite.db, ["execute", "next", "--detach"], { cwd })
    assert.equal(detached.code, 0, detached.stderr)
    const id = detached.stdout.trim()
    assert.match(id, /^[0-9a-f-]{36}$/)
    const [job] = await jobsOf(cwd)
    assert.equal(job.id, id)
    assert.equal(job.status, "queued")

    const refused = await runCli(suite.db, ["execute", "next"], { cwd })
    assertCliError(refused, 1, id, "00_PRD")
    assert.equal((await jobsOf(cwd)).length, 1, "the refusal enqueued nothing")

    const cancelled = await runCli(suite.db, ["jobs", "cancel", id])
    assert.equal(cancelled.code, 0, cancelled.stderr)
  })

  test("Ctrl-C cancels the running job: exit 130, one sentence, job cancelled", async () => {
    const { cwd } = await project()
    const child = startCli(suite.db, ["execute", "next"], { cwd, env: { FAKE_AGENT_MODE: "slow", FAKE_AGENT_DELAY_MS: "60000" } })
    const done = finished(child, { timeoutMs: 30_000 })
    const id = await waitFor("the job to run", async () => (await jobsOf(cwd)).find((job) => job.status === "running")?.id as string | undefined)
    child.kill("SIGINT")
    const result = await done
    assertCliError(result, 130, "cancelled", id)
    assert.equal((await showJob(suite.db, id)).status, "cancelled")
  })

  /**
   * `aidp execute next` through a proxy with the slow fake (`delayMs` between its lines), its
   * job running, then the proxy stopped and the outage reported; `proxy.close()` after.
   */
  const executeInOutage = async (delayMs: string) => {
    const { cwd } = await project()
    const proxy = await startDbProxy()
    const child = startCli(suite.db, ["execute", "next"], { cwd, env: { AIDP_DATABASE_URL: proxy.url, FAKE_AGENT_MODE: "slow", FAKE_AGENT_DELAY_MS: delayMs } })
    const done = finished(child, { timeoutMs: 60_000 })
    const out = { stdout: "", stderr: "" }
    child.stdout!.on("data", (chunk: Buffer) => (out.stdout += chunk.toString()))
    child.stderr!.on("data", (chunk: Buffer) => (out.stderr += chunk.toString()))
    await waitFor("the job to run", () => /Attempt 1 .*started/.test(out.stdout))
    await proxy.stop()
    await waitFor("execute to report the outage", () => out.stderr.includes("database unreachable"))
    return { cwd, proxy, child, done, out }
  }

  test("execute rides out a database that stops and starts again while its job runs", async () => {
    const { proxy, done } = await executeInOutage("1500")
    try {
      await proxy.start()
      const result = await done
      assert.equal(result.code, 0, result.stderr)
      // The reason is the first failure seen: a refused connection, or a query cut by the stop.
      assert.match(result.stderr, /database unreachable \(.+\); retrying every 2 s/)
      assert.doesNotMatch(result.stderr, /Unexpected error/)
      assert.match(result.stdout, /Step 00_PRD completed/)
    } finally {
      await proxy.close()
    }
  })

  test("Ctrl-C during a database outage still cancels the job, once the database is back: exit 130", async () => {
    const { cwd, proxy, child, done, out } = await executeInOutage("60000")
    try {
      child.kill("SIGINT")
      await waitFor("execute to say it cancels", () => out.stdout.includes("Cancelling the job"))
      await proxy.start()
      const result = await done
      assert.equal(result.code, 130, result.stderr)
      assert.match(result.stderr, /aidp: Step 00_PRD was cancelled/)
      const [job] = await jobsOf(cwd)
      assert.equal(job.status, "cancelled")
    } finally {
      await proxy.close()
    }
  })

  test("a step's job is the active or last-ended one: an older job retried after a newer one was cancelled stands for the step", async () => {
    const { cwd } = await project()
    const detach = async () => (await runJson<any>(suite.db, ["execute", "04_TEST_PLAN", "--detach", "--json"], { cwd })).id as string
    const older = await detach()
    assert.equal((await runCli(suite.db, ["jobs", "cancel", older])).code, 0)
    const newer = await detach()
    assert.equal((await runCli(suite.db, ["jobs", "cancel", newer])).code, 0)
    assert.equal((await runCli(suite.db, ["jobs", "retry", older])).code, 0)

    // The retried older job is queued: no second job for the step, and --list names it.
    assertCliError(await runCli(suite.db, ["execute", "04_TEST_PLAN", "--detach"], { cwd }), 1, `already has queued job ${older}`)
    const rows = await runJson<Array<any>>(suite.db, ["execute", "--list", "--json"], { cwd })
    assert.deepEqual([rows.find((row) => row.step === "04_TEST_PLAN")?.jobId, rows.find((row) => row.step === "04_TEST_PLAN")?.status], [older, "queued"])
    assert.equal((await runCli(suite.db, ["jobs", "cancel", older])).code, 0)
  })

  test("execute STEP runs that step; an unknown step is a usage error", async () => {
    const { cwd } = await project()
    const result = await runCli(suite.db, ["execute", "02_ARCHITECTURE", "--provider", "claude"], { cwd })
    assert.equal(result.code, 0, result.stderr)
    const jobs = await jobsOf(cwd)
    assert.deepEqual(jobs.map((j) => [j.step, j.status]), [["02_ARCHITECTURE", "completed"]])
    assert.ok(await readFile(path.join(cwd, "docs/ARCHITECTURE.md"), "utf8"))

    const again = await runCli(suite.db, ["execute", "02_ARCHITECTURE"], { cwd })
    assert.equal(again.code, 0, again.stderr)
    assert.match(again.stdout, new RegExp(`^Step 02_ARCHITECTURE completed before \\(job ${jobs[0].id}\\); running it again\\.$`, "m"))
    assert.deepEqual((await jobsOf(cwd)).map((j) => [j.step, j.status]), [["02_ARCHITECTURE", "completed"], ["02_ARCHITECTURE", "completed"]])

    assertCliError(await runCli(suite.db, ["execute", "99_NOPE"], { cwd }), 2, "99_NOPE")
    assert.equal((await jobsOf(cwd)).length, 2)
    // "next" and the provider in any case, as step names are.
    const next = await runJson(suite.db, ["execute", "NEXT", "--provider", "CLAUDE", "--detach", "--json"], { cwd })
    assert.deepEqual([next.step, next.provider, next.status], ["00_PRD", "claude", "queued"])
    assert.equal((await runCli(suite.db, ["jobs", "cancel", next.id])).code, 0)
  })

  test("a project folder deleted while its step runs: the step fails saying so, and the folder is not made again", async () => {
    const { cwd } = await project()
    // Outside the project, which goes away.
    const record = path.join(await dirs.make(), "calls.jsonl")
    const detached = await runJson<{ id: string }>(suite.db, ["execute", "next", "--detach", "--json"], { cwd })
    await withWorker(suite.db, { FAKE_AGENT_MODE: "slow", FAKE_AGENT_DELAY_MS: "1500", FAKE_AGENT_RECORD: record }, async () => {
      await waitFor("the agent to start", async () => (await readCalls(record).catch(() => [])).length > 0)
      await rm(cwd, { recursive: true, force: true })
      await waitForStatus(suite.db, detached.id, "failed")
    })
    const job = await showJob(suite.db, detached.id)
    assert.match(job.error, /The project folder .* no longer exists, so the step's document docs\/PRD\.md was not written/)
    await assert.rejects(stat(cwd), { code: "ENOENT" }, "the project folder stays deleted")
  })
})

