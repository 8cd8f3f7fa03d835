/**
 * The retry policy end to end (issue 7): a worker runs a fake CLI that fails, and the job is
 * queued again at the time the provider named (claude's `retry_delay_ms`, gemini's `retry
 * after 1s`, claude's `resets 4pm (Europe/Berlin)`) plus the margin, else no sooner than 60 s;
 * a timed-out job waits for a person unless enqueued with `--retry-timeouts`. The tests read
 * run_at from the job; nothing waits for the retry itself.
 */
import assert from "node:assert/strict"
import { describe, test } from "node:test"
import { AGENT_RETRY_FLOOR_MS, hintTime, RETRY_MARGIN_MS } from "../src/domain/retryPolicy.js"
import { formatClock } from "../src/terminal/view/format.js"
import { finished, runCli, startCli } from "./support/cli.js"
import { e2eSuite, showJob, withWorker } from "./support/e2e.js"
import { waitFor } from "./support/wait.js"

/** How far run_at may be from failure time + wait: the decider's clock and the projection's are read apart. */
const SLACK_MS = 2_000

describe("retry policy end to end", () => {
  const suite = e2eSuite()

  /** Enqueues a job (3 attempts), runs a worker until its first execution ended, returns `jobs show --json`. */
  const firstFailure = async (provider: string, env: NodeJS.ProcessEnv, ...flags: string[]) => {
    const cwd = await suite.dirs.make()
    const enqueued = await runCli(suite.db, ["jobs", "enqueue", "--provider", provider, "--prompt", "x", "--cwd", cwd, ...flags])
    assert.equal(enqueued.code, 0, enqueued.stderr)
    const id = enqueued.stdout.trim()
    await withWorker(suite.db, env, () =>
      waitFor("the first attempt to fail", async () =>
        (await suite.db.sql`select 1 from job_executions where job_id = ${id} and status = 'failed'`).length === 1))
    const job = await showJob(suite.db, id)
    assert.equal(job.executions.length, 1, "no second attempt yet")
    return { job, failedAt: new Date(job.executions[0].completedAt).getTime(), runAt: new Date(job.runAt).getTime() }
  }

  const assertNear = (actual: number, expected: number, what: string) =>
    assert.ok(Math.abs(actual - expected) <= SLACK_MS, `${what}: ${new Date(actual).toISOString()} is not ${new Date(expected).toISOString()}`)

  test("claude asked for 38 s in system/api_retry: run_at is 38 s + the margin after the failure", async () => {
    const { job, failedAt, runAt } = await firstFailure("claude", { FAKE_AGENT_MODE: "rate_limit", FAKE_AGENT_RETRY_DELAY_MS: "38000" })
    assert.equal(job.status, "queued")
    assert.equal(job.errorKind, "rate_limit")
    assert.equal(job.retryReason, "rate limit, claude asked for 38 s")
    assertNear(runAt, failedAt + 38_000 + RETRY_MARGIN_MS, "run_at")
    const shown = await runCli(suite.db, ["jobs", "show", job.id])
    assert.match(shown.stdout, new RegExp(`^Next run +retry at ${formatClock(new Date(runAt))}: rate limit, claude asked for 38 s$`, "m"))
    assert.equal((await runCli(suite.db, ["jobs", "cancel", job.id])).code, 0)
  })

  test("gemini's 'Suggested retry after 1s.': run_at is 1 s + the margin after the failure", async () => {
    const { job, failedAt, runAt } = await firstFailure("gemini", { FAKE_AGENT_MODE: "rate_limit" })
    assert.equal(job.status, "queued")
    assert.equal(job.retryReason, "rate limit, gemini asked for 1 s")
    assertNear(runAt, failedAt + 1_000 + RETRY_MARGIN_MS, "run_at")
    assert.equal((await runCli(suite.db, ["jobs", "cancel", job.id])).code, 0)
  })

  test("claude's quota 'resets 4pm (Europe/Berlin)': retried at the next 4 pm in Berlin + the margin", async () => {
    const { job, failedAt, runAt } = await firstFailure("claude", { FAKE_AGENT_MODE: "quota" })
    assert.equal(job.status, "queued")
    assert.equal(job.errorKind, "quota")
    assert.equal(job.retryReason, "quota, claude: resets 4pm (Europe/Berlin)")
    const reset = hintTime({ _tag: "Reset", hour: 16, minute: 0, timeZone: "Europe/Berlin", said: "" }, new Date(failedAt))
    assert.equal(runAt, reset.getTime() + RETRY_MARGIN_MS)
    assert.equal((await runCli(suite.db, ["jobs", "cancel", job.id])).code, 0)
  })

  test("a failure naming no time: no retry sooner than 60 s", async () => {
    const { job, failedAt, runAt } = await firstFailure("cursor", { FAKE_AGENT_MODE: "rate_limit" })
    assert.equal(job.status, "queued")
    assert.match(job.retryReason, /^rate limit, backoff \d+ s$/)
    assert.ok(runAt - failedAt >= AGENT_RETRY_FLOOR_MS - SLACK_MS, `${runAt - failedAt} ms`)
    assert.ok(runAt - failedAt <= AGENT_RETRY_FLOOR_MS * 1.25 + SLACK_MS, `${runAt - failedAt} ms`)
    assert.equal((await runCli(suite.db, ["jobs", "cancel", job.id])).code, 0)
  })

  test("aidp execute says when and why the failed attempt runs again", async () => {
    const cwd = await suite.dirs.make()
    const child = startCli(suite.db, ["execute", "next", "--provider", "gemini"], { cwd, env: { FAKE_AGENT_MODE: "rate_limit" } })
    let stdout = ""
    child.stdout?.setEncoding("utf8").on("data", (data: string) => (stdout += data))
    const done = finished(child, { timeoutMs: 30_000 })
    const line = await waitFor("the retry line", async () => /^Attempt 1 of 3 failed .*$/m.exec(stdout)?.[0])
    child.kill("SIGINT")
    await done
    assert.match(
      line,
      /^Attempt 1 of 3 failed \(rate_limit\): Resource has been exhausted \(e\.g\. check quota\)\. Suggested retry after 1s\. Retrying at \d\d:\d\d:\d\d \(rate limit, gemini asked for 1 s\)\.$/
    )
  })

  test("a timed-out job is not retried automatically by default", async () => {
    const { job } = await firstFailure("claude", { FAKE_AGENT_MODE: "slow", FAKE_AGENT_DELAY_MS: "60000" }, "--timeout", "1")
    assert.equal(job.errorKind, "timeout")
    assert.equal(job.status, "failed")
    assert.equal(job.retryReason, null)
    assert.equal(job.retryTimeouts, false)
  })

  test("a job enqueued with --retry-timeouts is retried after its timeout, no sooner than 60 s", async () => {
    const { job, failedAt, runAt } = await firstFailure("claude", { FAKE_AGENT_MODE: "slow", FAKE_AGENT_DELAY_MS: "60000" }, "--timeout", "1", "--retry-timeouts")
    assert.equal(job.retryTimeouts, true)
    assert.equal(job.status, "queued")
    assert.match(job.retryReason, /^timeout, backoff \d+ s$/)
    assert.ok(runAt - failedAt >= AGENT_RETRY_FLOOR_MS - SLACK_MS, `${runAt - failedAt} ms`)
    assert.equal((await runCli(suite.db, ["jobs", "cancel", job.id])).code, 0)
  })
})
