/**
 * Per-provider concurrency (AIDP_CLAUDE_CONCURRENCY): 3 `aidp worker --count 4` processes,
 * 60 claude jobs and 20 gemini jobs, a claude limit of 2. However the twelve workers race,
 * at most 2 claude executions ever run at once (sampled from the database every 50 ms, and
 * exactly, from the executions' recorded intervals), while gemini jobs run beside them; a
 * queued job held back by the limit says so in the monitor and `aidp jobs`.
 */
import assert from "node:assert/strict"
import { join } from "node:path"
import { test } from "node:test"
import { monitorSnapshot } from "../src/projections/queries.js"
import { finished, runCli, startCli, type CliResult } from "./support/cli.js"
import { commandsFor } from "./support/commands.js"
import { createTestDb } from "./support/db.js"
import { workerFleet } from "./support/fleet.js"
import { waitForProgress } from "./support/wait.js"

const CLAUDE_JOBS = 60
const GEMINI_JOBS = 20
const LIMIT = 2
const fleet = workerFleet("aidp-provider-limit-")

/** Most intervals [start, end] that overlap at one instant (an end before a start at the same ms). */
const mostAtOnce = (intervals: ReadonlyArray<readonly [number, number]>): number => {
  const edges = intervals.flatMap(([start, end]) => [[start, 1], [end, -1]] as const)
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1])
  let now = 0
  let most = 0
  for (const [, delta] of edges) most = Math.max(most, (now += delta))
  return most
}

test(`AIDP_CLAUDE_CONCURRENCY=${LIMIT}: 12 workers in 3 processes never run more than ${LIMIT} claude jobs at once; gemini is not held back`, { timeout: 600_000 }, async () => {
  const { db, commands, dir, workers } = fleet
  const record = join(dir, "record.jsonl")
  for (let n = 0; n < CLAUDE_JOBS; n++) await commands.enqueue({ prompt: `claude job ${n}`, cwd: dir })
  for (let n = 0; n < GEMINI_JOBS; n++) await commands.enqueue({ prompt: `gemini job ${n}`, cwd: dir, provider: "gemini" })

  const env = { AIDP_CLAUDE_CONCURRENCY: String(LIMIT), FAKE_AGENT_MODE: "slow", FAKE_AGENT_DELAY_MS: "100", FAKE_AGENT_RECORD: record }
  const outputs: Array<Promise<CliResult>> = []
  for (let i = 0; i < 3; i++) {
    const worker = startCli(db, ["worker", "--count", "4"], { env, cwd: dir })
    workers.push(worker)
    outputs.push(finished(worker, { timeoutMs: 590_000 }))
  }

  let sampledMost = 0
  await waitForProgress("every job to finish", async () => {
    const [row] = await db.sql<Array<{ open: number; claude: number }>>`
      select count(*) filter (where status not in ('completed', 'failed', 'cancelled'))::int as open,
             count(*) filter (where status = 'running' and provider = 'claude')::int as claude
      from jobs`
    sampledMost = Math.max(sampledMost, row!.claude)
    assert.ok(row!.claude <= LIMIT, `${row!.claude} claude jobs running at once`)
    return row!.open
  }, 30_000, 50)

  for (const worker of workers) worker.kill("SIGTERM")
  const results = await Promise.all(outputs)
  for (const result of results) assert.equal(result.code, 0, result.stderr.slice(-2000))

  const executions = await db.sql<Array<{ provider: string; status: string; started: number; ended: number }>>`
    select j.provider, e.status, extract(epoch from e.started_at) * 1000 as started, extract(epoch from e.completed_at) * 1000 as ended
    from job_executions e join jobs j on j.id = e.job_id`
  assert.equal(executions.length, CLAUDE_JOBS + GEMINI_JOBS, "each job ran once")
  assert.ok(executions.every((e) => e.status === "succeeded"), "every execution succeeded")
  const intervals = (provider: string) =>
    executions.filter((e) => e.provider === provider).map((e) => [Number(e.started), Number(e.ended)] as const)
  assert.equal(mostAtOnce(intervals("claude")), LIMIT, "claude ran exactly at its limit, never above it")
  assert.ok(mostAtOnce(intervals("gemini")) > LIMIT, `gemini ran ${mostAtOnce(intervals("gemini"))} at once: not held back by claude's limit`)
  assert.ok(sampledMost <= LIMIT)

  // The workers recorded the limit they enforce (the monitor reads it).
  const limits = await db.sql<Array<{ concurrency: unknown }>>`select concurrency from workers`
  assert.deepEqual(limits.map((w) => w.concurrency), [{ claude: LIMIT }, { claude: LIMIT }, { claude: LIMIT }])
})

test("the monitor and aidp jobs say why a queued job waits: waiting: claude limit 1; a stopped worker's limit no longer counts", async () => {
  const { dir } = fleet
  const own = await createTestDb()
  const jobs = commandsFor(own)
  try {
    const [running, held] = [await jobs.enqueue({ prompt: "runs", cwd: dir }), await jobs.enqueue({ prompt: "waits", cwd: dir })]
    const gemini = await jobs.enqueue({ prompt: "not limited", cwd: dir, provider: "gemini" })
    await own.sql`
      insert into workers (id, host, pid, started_at, heartbeat_at, concurrency)
      values ('w1', 'h', 1, now(), now(), ${own.sql.json({ claude: 1 })}), ('w2', 'h', 2, now(), now(), ${own.sql.json({ claude: 3 })})`
    await jobs.handle(running, { _tag: "Start", executionId: crypto.randomUUID(), workerId: "w1", host: "h", pid: 1, argv: ["claude"] })

    const snapshot = await monitorSnapshot(own.sql, new Date(), 30_000)
    assert.deepEqual(snapshot.queued.map((job) => [job.id, job.waiting]), [[held, "claude limit 1"], [gemini, undefined]])
    const plain = await runCli(own, ["jobs"], { cwd: dir })
    assert.equal(plain.code, 0, plain.stderr)
    assert.match(plain.stdout, new RegExp(`^${held.slice(0, 8)} +claude +queued .*waiting: claude limit 1$`, "m"))
    assert.doesNotMatch(plain.stdout, new RegExp(`^${gemini.slice(0, 8)} .*waiting`, "m"))

    // Only live workers' limits count: with w1 stopped, claude may run 3.
    await own.sql`update workers set stopped_at = now() where id = 'w1'`
    assert.equal((await monitorSnapshot(own.sql, new Date(), 30_000)).queued.find((job) => job.id === held)?.waiting, undefined)
  } finally {
    await jobs.dispose()
    await own.drop()
  }
})

test("a bad AIDP_CLAUDE_CONCURRENCY is refused with a sentence naming it, exit 2", async () => {
  const { db, dir } = fleet
  for (const value of ["0", "-1", "2x", "1e2", ""]) {
    const result = await runCli(db, ["worker"], { env: { AIDP_CLAUDE_CONCURRENCY: value }, cwd: dir })
    assert.equal(result.code, 2, `${value}: ${result.stderr}`)
    assert.ok(result.stderr.startsWith(`aidp: Invalid AIDP_CLAUDE_CONCURRENCY=${JSON.stringify(value)}: expected a whole number from 1 to 10000`), result.stderr)
  }
})
