/**
 * The two projection drivers are one projection (DESIGN.md, Projections): random valid
 * histories, made by the domain decider from random commands (a seeded PRNG, so a failing
 * seed replays), are projected live append by append through the command handler and the
 * event store; then `rebuildReadModels` folds the log again and must report and leave every
 * row identical. The live driver is also run over the whole log in random multi-stream
 * chunks (as a batch of several jobs' events would be), and must give the same rows.
 */
import assert from "node:assert/strict"
import { randomUUID } from "node:crypto"
import { after, before, describe, it } from "node:test"
import type postgres from "postgres"
import { evolve, initialState, type JobCommand, type JobState } from "../src/domain/decider.js"
import type { OutputLine } from "../src/domain/events.js"
import { ERROR_KINDS } from "../src/domain/job.js"
import { readAllIn } from "../src/events/store.js"
import { project } from "../src/projections/project.js"
import { rebuildReadModels } from "../src/projections/rebuild.js"
import { createTestDb, type TestDb } from "./support/db.js"
import { at } from "./support/events.js"
import { type ServicesRuntime, testServices } from "./support/layers.js"

let db: TestDb
let services: ServicesRuntime

before(async () => {
  db = await createTestDb()
  services = testServices(db)
})

after(async () => {
  await services?.dispose()
  await db?.drop()
})

/** mulberry32: a small seeded PRNG, floats in [0, 1). */
const prng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

/** Text that COPY, JSON and the terminal all treat specially, mixed with plain words. */
const PIECES = ["plain", "", "tab\there", "new\nline", "back\\slash", "\\N", "cr\r", "quote\"'", "ünï 日本 🚀", "e\u0301", "{\"json\":1}", " ", "x".repeat(300)]

/** Every row of the three read models as PostgreSQL's text form, in a stable order. */
const snapshot = async (sql: postgres.Sql | postgres.TransactionSql) => ({
  jobs: (await sql<Array<{ t: string }>>`select t::text from jobs t order by id`).map((r) => r.t),
  job_executions: (await sql<Array<{ t: string }>>`select t::text from job_executions t order by id`).map((r) => r.t),
  job_logs: (await sql<Array<{ t: string }>>`select t::text from job_logs t order by job_id, seq`).map((r) => r.t)
})

/**
 * Plays `steps` random commands on `jobs` jobs at a time (a completed job is replaced by a new
 * one); returns how many the decider accepted (each one append).
 */
const playRandomHistory = async (seed: number, jobs: number, steps: number): Promise<number> => {
  const random = prng(seed)
  const pick = <A>(xs: ReadonlyArray<A>): A => xs[Math.floor(random() * xs.length)]!
  const text = () => Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick(PIECES)).join(pick([" ", "", "\n"]))
  const ids: Array<string> = Array.from({ length: jobs }, () => randomUUID())
  const current = new Map<string, string>()
  const states = new Map<string, JobState>()
  let clock = seed * 1_000_000
  let accepted = 0
  for (let step = 0; step < steps; step++) {
    // A completed job takes no more commands: its slot goes to a new job.
    const slot = Math.floor(random() * ids.length)
    if (states.get(ids[slot]!)?.status === "completed") ids[slot] = randomUUID()
    const jobId = ids[slot]!
    const now = at((clock += 1 + Math.floor(random() * 5_000)))
    const exec = current.get(jobId) ?? randomUUID()
    const lines = (): Array<OutputLine> =>
      Array.from({ length: Math.floor(random() * 4) }, (_, i) => ({ stream: pick(["stdout", "stderr", "system"] as const), text: text(), at: at(clock + i).toISOString() }))
    const commands: Array<() => JobCommand> = [
      () => ({
        _tag: "Enqueue", provider: pick(["claude", "gemini", "cursor"] as const), model: pick([null, "m-1"]), prompt: text(), cwd: `/srv/${pick(PIECES)}`,
        step: pick([null, "00_PRD", "tab\tstep"]), priority: Math.floor(random() * 7) - 3, maxAttempts: 1 + Math.floor(random() * 3),
        timeoutMs: 1 + Math.floor(random() * 600_000), metadata: pick([{}, { a: [1, 2.5, null], b: { c: text() } }]),
        permissions: pick(["plan", "edit", "full"] as const), ...(random() < 0.5 ? { retryTimeouts: random() < 0.5 } : {}),
        ...(random() < 0.5 ? { budget: pick([{ maxCostUsd: 0.75 }, { maxTurns: 9 }, { maxCostUsd: 1e-3, maxTurns: 1 }]) } : {})
      }),
      () => ({ _tag: "Start", executionId: randomUUID(), workerId: `w-${text()}`, host: "host", pid: Math.floor(random() * 99_999), argv: ["claude", text()] }),
      () => ({ _tag: "RecordOutput", executionId: exec, lines: lines() }),
      () => ({ _tag: "RecordProgress", executionId: exec, message: text() }),
      () => ({
        _tag: "Succeed", executionId: exec, exitCode: pick([0, null]), result: text(), usage: pick([null, { input_tokens: 12, cost: 0.1, nested: { s: text() } }]),
        costUsd: pick([null, 0, 0.000123456789, 1.5, 1e-7]), durationMs: Math.floor(random() * 100_000), cliVersion: pick([null, "2.0.1"]),
        denials: pick([[], [{ tool: "Bash", target: text() }], [{ tool: "Write", target: "" }, { tool: "Edit", target: "a.ts" }]])
      }),
      () => ({
        _tag: "Fail", executionId: exec, exitCode: pick([1, null]), signal: pick([null, "SIGTERM"]), errorKind: pick(ERROR_KINDS), error: text(),
        durationMs: Math.floor(random() * 100_000), cliVersion: pick([null, "1.0"]), now, ...(random() < 0.5 ? { costUsd: pick([0, 0.0421]) } : {})
      }),
      () => ({ _tag: "Abandon", executionId: exec, reason: text(), now, ...(random() < 0.3 ? { workerStopping: true } : {}) }),
      () => ({ _tag: "Retry", now }),
      () => ({ _tag: "RequestCancel", requestedBy: pick(["user", "user (Ctrl-C)", text()]) }),
      () => ({ _tag: "ConfirmCancel", executionId: pick([exec, null]) }),
      () => ({
        _tag: "RecordChanges", executionId: exec, changes: {
          repo: "/srv/repo", base: "a".repeat(40), head: "b".repeat(40),
          ...(random() < 0.5 ? { worktree: { repo: "/srv/repo", path: `/srv/repo/.git/aidp-worktrees/${text()}`, branch: "aidp/0a1b2c3d" } } : { approximate: true }),
          files: [{ path: text(), status: "modified", added: 2, removed: 1 }, { path: "logo.png", status: "added", added: null, removed: null }],
          file_count: 2, lines_added: 2, lines_removed: 1
        }
      }),
      () => ({ _tag: "MergeWorktree", requestedBy: pick(["user", "monitor"]), branch: "aidp/0a1b2c3d", into: text(), commit: "c".repeat(40) }),
      () => ({ _tag: "RemoveWorktree", requestedBy: "user", branch: "aidp/0a1b2c3d", reason: pick(["discard", "clean"] as const) })
    ]
    // Mostly a command the job's status allows (so histories go deep); now and then any, which
    // the decider may refuse.
    const status = states.get(jobId)?.status ?? null
    const fitting = status === null ? [0] : status === "queued" ? [1, 8, 9] : status === "running" ? [2, 2, 3, 4, 5, 6, 8, 9, 10] : [7, 7, 7, 11, 12]
    const command = commands[random() < 0.9 ? pick(fitting) : Math.floor(random() * commands.length)]!()
    try {
      const recorded = await services.handle(jobId, command, now)
      states.set(jobId, recorded.reduce((state, r) => evolve(state, r.event), states.get(jobId) ?? initialState))
      accepted += 1
      if (command._tag === "Start") current.set(jobId, command.executionId)
    } catch (error) {
      // The decider refusing a command is part of a random history; anything else is a failure.
      const tag = (error as { _tag?: string })._tag
      if (tag !== "IllegalTransition" && tag !== "JobNotFound") throw error
    }
  }
  return accepted
}

/** Ends the chunked replay's transaction (rolling it back) with the rows it made. */
class RolledBack {
  constructor(readonly rows: Awaited<ReturnType<typeof snapshot>>) {}
}

describe("projections: live and rebuilt rows are identical", () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`random history, seed ${seed}`, async () => {
      const accepted = await playRandomHistory(seed, 6, 180)
      assert.ok(accepted > 100, `only ${accepted} commands were accepted: the history is too thin to prove much`)
      const live = await snapshot(db.sql)

      const report = await rebuildReadModels(db.sql)
      assert.deepEqual(report.tables.map((t) => [t.table, t.identical]), [["workflows", true], ["jobs", true], ["job_executions", true], ["job_logs", true]])
      assert.deepEqual(await snapshot(db.sql), live)

      // The live driver over the whole log in random chunks of several streams, rolled back.
      const random = prng(seed + 100)
      const chunked = await db.sql.begin(async (tx) => {
        await tx`truncate job_logs, job_executions, jobs`
        const events = await readAllIn(tx, { after: 0, limit: 1_000_000 })
        for (let i = 0; i < events.length;) {
          const size = 1 + Math.floor(random() * 40)
          await project(tx, events.slice(i, i + size))
          i += size
        }
        throw new RolledBack(await snapshot(tx))
      }).then(
        () => assert.fail("the chunked replay must roll back"),
        (error: unknown) => {
          if (error instanceof RolledBack) return error.rows
          throw error
        }
      )
      assert.deepEqual(chunked, live)
      assert.deepEqual(await snapshot(db.sql), live)
    })
  }
})
