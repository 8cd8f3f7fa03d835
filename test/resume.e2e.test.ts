/**
 * Resume instead of restart, end to end (issue 7 item 4): the built CLI, a worker and the fake
 * CLIs, which report session ids as the real ones do and record how they were called. A retry
 * (by the policy or a person) resumes the last execution's session with a continue prompt;
 * `jobs retry --fresh` never does; a session the CLI no longer has is followed by a fresh
 * start in the same execution.
 */
import assert from "node:assert/strict"
import path from "node:path"
import { describe, test } from "node:test"
import { runCli } from "./support/cli.js"
import { e2eSuite, type FakeCall, readCalls, showJob, waitForStatus, withWorker } from "./support/e2e.js"

const PROMPT = "Write docs/PLAN.md with the release plan"

describe("resume instead of restart", () => {
  const suite = e2eSuite()

  /** Enqueues a job; returns its id, its folder and the fake's call record file (in that folder). */
  const enqueue = async (provider: string, ...flags: string[]) => {
    const cwd = await suite.dirs.make()
    const result = await runCli(suite.db, ["jobs", "enqueue", "--provider", provider, "--prompt", PROMPT, "--cwd", cwd, ...flags])
    assert.equal(result.code, 0, result.stderr)
    return { id: result.stdout.trim(), cwd, record: path.join(cwd, ".calls.jsonl") }
  }

  /** Runs a worker with the fake switches `env` until job `id` is `status`; returns the fake's calls. */
  const runUntil = async (job: { id: string; record: string }, status: string, env: NodeJS.ProcessEnv): Promise<FakeCall[]> => {
    await withWorker(suite.db, { FAKE_AGENT_RECORD: job.record, FAKE_AGENT_RESULT: "Done.", ...env }, () => waitForStatus(suite.db, job.id, status))
    return readCalls(job.record)
  }

  /** The value after `flag` in a recorded argv. */
  const after = (call: FakeCall | undefined, flag: string): string | undefined =>
    call !== undefined && call.argv.includes(flag) ? call.argv[call.argv.indexOf(flag) + 1] : undefined

  /** The system lines of a job's log. */
  const systemLines = async (id: string): Promise<string[]> =>
    (await suite.db.sql<Array<{ message: string }>>`select message from job_logs where job_id = ${id} and stream = 'system' order by seq`).map((row) => row.message)

  test("a rate-limited claude job retried by the policy resumes the first execution's session with a continue prompt", async () => {
    const job = await enqueue("claude")
    // claude asks for 1 ms: the policy's run_at is the failure + its 5 s margin.
    const calls = await runUntil(job, "completed", { FAKE_AGENT_MODE: "rate_limit", FAKE_AGENT_RETRY_DELAY_MS: "1", FAKE_AGENT_RESUME_MODE: "success" })
    assert.equal(calls.length, 2)
    const chosen = after(calls[0], "--session-id")
    assert.match(chosen ?? "", /^[0-9a-f-]{36}$/, "aidp chose the first session up front")
    assert.equal(calls[0]!.stdin, PROMPT)
    assert.equal(after(calls[1], "--resume"), chosen)
    assert.equal(after(calls[1], "--session-id"), undefined)
    assert.match(calls[1]!.stdin, /^This is a continuation\. Your previous run of this task \(aidp attempt 1\) was interrupted/)

    const shown = await showJob(suite.db, job.id)
    assert.equal(shown.status, "completed")
    assert.deepEqual(
      shown.executions.map((e: any) => [e.attempt, e.status, e.errorKind, e.sessionId, e.resumedAttempt, e.sessionGone]),
      [[1, "failed", "rate_limit", chosen, null, false], [2, "succeeded", null, chosen, 1, false]]
    )
    const executions = await suite.db.sql<Array<{ argv: string[] }>>`select argv from job_executions where job_id = ${job.id} order by attempt`
    assert.deepEqual(executions[1]!.argv.slice(-2), ["--resume", chosen], "the recorded argv names the resumed session")
    const text = await runCli(suite.db, ["jobs", "show", job.id])
    assert.match(text.stdout, new RegExp(`session ${chosen} · resumed attempt 1's session`))
    assert.ok((await systemLines(job.id)).includes(`Resuming attempt 1's session ${chosen} with a prompt to continue the task.`))
  })

  test("a person's retry resumes a cursor chat by the id the CLI reported; --fresh never resumes", async () => {
    const job = await enqueue("cursor")
    await runUntil(job, "failed", { FAKE_AGENT_MODE: "crash" })
    const first = (await showJob(suite.db, job.id)).executions[0]
    assert.match(first.sessionId ?? "", /^[0-9a-f-]{36}$/, "the session id cursor reported in init")

    assert.equal((await runCli(suite.db, ["jobs", "retry", job.id])).code, 0)
    let calls = await runUntil(job, "failed", { FAKE_AGENT_MODE: "crash" })
    assert.equal(after(calls[1], "--resume"), first.sessionId)

    const retried = await runCli(suite.db, ["jobs", "retry", job.id, "--fresh"])
    assert.equal(retried.code, 0, retried.stderr)
    assert.match(retried.stdout, /is queued again for a fresh start/)
    calls = await runUntil(job, "completed", {})
    assert.equal(calls.length, 3)
    assert.ok(!calls[2]!.argv.includes("--resume"), calls[2]!.argv.join(" "))
    assert.equal(calls[2]!.stdin, PROMPT)
    const shown = await showJob(suite.db, job.id)
    assert.deepEqual(shown.executions.map((e: any) => e.resumedAttempt), [null, 1, null])
    assert.notEqual(shown.executions[2].sessionId, first.sessionId, "a new chat")
    const lines = await systemLines(job.id)
    assert.ok(lines.includes("Retry requested (fresh start)."))
    assert.ok(lines.includes(`Starting fresh as asked (--fresh): attempt 2's session ${first.sessionId} is not resumed.`), lines.join("\n"))
  })

  test("a session claude no longer has: a fresh start with the original prompt in the same execution, and the job completes", async () => {
    const job = await enqueue("claude")
    await runUntil(job, "failed", { FAKE_AGENT_MODE: "crash" })
    const first = (await showJob(suite.db, job.id)).executions[0]
    assert.equal((await runCli(suite.db, ["jobs", "retry", job.id])).code, 0)
    const calls = await runUntil(job, "completed", { FAKE_AGENT_RESUME_MODE: "session_gone" })
    assert.equal(calls.length, 3, "the crash, the refused resume, the fresh start")
    assert.equal(after(calls[1], "--resume"), first.sessionId)
    const fresh = after(calls[2], "--session-id")
    assert.ok(fresh !== undefined && fresh !== first.sessionId && !calls[2]!.argv.includes("--resume"), calls[2]!.argv.join(" "))
    assert.equal(calls[2]!.stdin, PROMPT)

    const shown = await showJob(suite.db, job.id)
    assert.equal(shown.status, "completed")
    assert.equal(shown.executions.length, 2)
    assert.deepEqual([shown.executions[1].resumedAttempt, shown.executions[1].sessionGone, shown.executions[1].sessionId], [1, true, fresh])
    assert.ok((await systemLines(job.id)).includes(`claude no longer has attempt 1's session ${first.sessionId}: starting fresh with the original prompt.`))
    const text = await runCli(suite.db, ["jobs", "show", job.id])
    assert.match(text.stdout, /fresh start: attempt 1's session was gone/)
  })

  test("gemini resumes by the session's UUID (never `latest`); a session it no longer has is followed by a fresh start", async () => {
    const job = await enqueue("gemini")
    await runUntil(job, "failed", { FAKE_AGENT_MODE: "crash" })
    const first = (await showJob(suite.db, job.id)).executions[0]
    assert.equal((await runCli(suite.db, ["jobs", "retry", job.id])).code, 0)
    let calls = await runUntil(job, "failed", { FAKE_AGENT_MODE: "crash" })
    assert.equal(first.sessionId, after(calls[0], "--session-id"), "gemini reported the session aidp chose")
    assert.equal(after(calls[1], "--resume"), first.sessionId)
    assert.match(calls[1]!.stdin, /^This is a continuation\./)

    assert.equal((await runCli(suite.db, ["jobs", "retry", job.id])).code, 0)
    calls = await runUntil(job, "completed", { FAKE_AGENT_RESUME_MODE: "session_gone" })
    assert.equal(calls.length, 4)
    assert.equal(after(calls[2], "--resume"), first.sessionId)
    assert.ok(!calls[3]!.argv.includes("--resume"))
    assert.equal(calls[3]!.stdin, PROMPT)
    const shown = await showJob(suite.db, job.id)
    assert.deepEqual(shown.executions.map((e: any) => [e.resumedAttempt, e.sessionGone]), [[null, false], [1, false], [2, true]])
    assert.ok((await systemLines(job.id)).includes(`gemini no longer has attempt 2's session ${first.sessionId}: starting fresh with the original prompt.`))
  })
})
