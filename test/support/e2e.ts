/**
 * Shared pieces of the end-to-end tests (built CLI + fake providers + real PostgreSQL):
 * project folders, the fakes' call records, waiting for a job, starting/stopping a worker,
 * and the shape every error of the command line must have (Invariant 6).
 *
 *   const db = await createTestDb(); const dirs = projectDirs(); after(() => dirs.cleanup())
 *   const cwd = await dirs.make()
 */
import assert from "node:assert/strict"
import { execFileSync } from "node:child_process"
import { mkdtemp, readFile, realpath, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { type CliResult, finished, runJson, startCli } from "./cli.js"
import { after, before } from "node:test"
import { createTestDb, type TestDb } from "./db.js"
import { waitFor } from "./wait.js"

/** Throwaway project folders (git repositories unless `git: false`), removed by `cleanup()`. */
export const projectDirs = () => {
  const made: Array<string> = []
  return {
    make: async (options: { readonly git?: boolean } = {}): Promise<string> => {
      const dir = await realpath(await mkdtemp(path.join(tmpdir(), "aidp-e2e-")))
      made.push(dir)
      if (options.git !== false) execFileSync("git", ["init", "-q", dir])
      return dir
    },
    cleanup: async () => {
      await Promise.all(made.map((dir) => rm(dir, { recursive: true, force: true })))
    }
  }
}

/**
 * The world of one end-to-end suite: a throwaway schema (`db`, created before the suite's
 * tests) and project folders (`dirs`), both removed after them. Call inside `describe`.
 */
export const e2eSuite = () => {
  const dirs = projectDirs()
  let db: TestDb | undefined
  before(async () => {
    db = await createTestDb()
  })
  after(async () => {
    await dirs.cleanup()
    await db?.drop()
  })
  return {
    dirs,
    get db(): TestDb {
      if (!db) throw new Error("e2eSuite: the schema exists only inside the suite's tests")
      return db
    }
  }
}

/** One call of a fake provider, as written to FAKE_AGENT_RECORD. */
export interface FakeCall {
  readonly flavor: string
  readonly argv: ReadonlyArray<string>
  readonly cwd: string
  readonly envKeys: ReadonlyArray<string>
  readonly stdin: string
  readonly prompt: string
}

/** The calls recorded in `file` (none when it does not exist). */
export const readCalls = async (file: string): Promise<Array<FakeCall>> => {
  const text = await readFile(file, "utf8").catch(() => "")
  return text.split("\n").filter(Boolean).map((line) => JSON.parse(line) as FakeCall)
}

/** The status of job `id` in the read model (undefined when there is no such job). */
export const jobStatus = async (db: TestDb, id: string): Promise<string | undefined> => {
  const rows = await db.sql<Array<{ status: string }>>`select status from jobs where id = ${id}`
  return rows[0]?.status
}

/** Waits until job `id` has status `status` (at most `timeoutMs`, default START_MS of wait.ts). */
export const waitForStatus = async (db: TestDb, id: string, status: string, timeoutMs?: number): Promise<void> => {
  await waitFor(`job ${id} to be ${status}`, async () => (await jobStatus(db, id)) === status, timeoutMs)
}

/** Number of events in the log, or of one type (to prove a refused command changed nothing). */
export const eventCount = async (db: TestDb, type?: string): Promise<number> =>
  (await db.sql<Array<{ n: number }>>`select count(*)::int as n from job_events where ${type ?? null}::text is null or type = ${type ?? null}`)[0]!.n

/** `aidp jobs show ID --json`. */
export const showJob = (db: TestDb, id: string): Promise<any> => runJson(db, ["jobs", "show", id, "--json"])

/**
 * Runs `aidp worker` while `body` runs, then stops it with SIGTERM and checks it exited 0
 * with no stack trace. Returns what `body` returned.
 */
export const withWorker = async <T>(db: TestDb, env: NodeJS.ProcessEnv, body: () => Promise<T>): Promise<T> => {
  const child = startCli(db, ["worker"], { env })
  const done = finished(child, { timeoutMs: 30_000 })
  let value: T
  try {
    value = await body()
  } finally {
    // Even when `body` failed: wait for the worker to be gone, so it appends nothing later.
    child.kill("SIGTERM")
    await done
  }
  const result = await done
  assert.equal(result.code, 0, `aidp worker exited ${result.code} (${result.signal}): ${result.stderr}`)
  assert.doesNotMatch(result.stderr, /\n\s+at .+:\d+:\d+/, "the worker printed a stack trace")
  return value
}

/**
 * Asserts the shape of every command-line error: exit `code`, exactly one line on stderr
 * starting `aidp: `, no stack trace; and that the line matches each of `patterns`.
 */
export const assertCliError = (result: CliResult, code: number, ...patterns: ReadonlyArray<string | RegExp>): string => {
  const context = `exit ${result.code}, stderr ${JSON.stringify(result.stderr)}`
  assert.equal(result.code, code, context)
  const lines = result.stderr.split("\n").filter((line) => line !== "")
  assert.equal(lines.length, 1, `expected one line on stderr: ${context}`)
  const line = lines[0]!
  assert.match(line, /^aidp: \S/, context)
  assert.doesNotMatch(line, /\bat .+:\d+:\d+|Unexpected error/, context)
  for (const pattern of patterns) {
    if (typeof pattern === "string") assert.ok(line.includes(pattern), `stderr should include ${JSON.stringify(pattern)}: ${context}`)
    else assert.match(line, pattern, context)
  }
  return line
}

/** The keys of a job in `--json` output (DESIGN.md, Command line). */
export const JOB_KEYS = ["id", "provider", "status", "step", "createdAt", "startedAt", "completedAt", "durationMs", "error", "errorKind", "attempts", "maxAttempts", "priority", "timeoutMs", "retryTimeouts", "maxCostUsd", "maxTurns", "metadata"] as const
/** The keys of an execution in `jobs show --json`. */
export const EXECUTION_KEYS = ["id", "attempt", "status", "workerId", "startedAt", "completedAt", "durationMs", "exitCode", "error", "errorKind", "usage", "costUsd", "sessionId", "resumedAttempt", "sessionGone"] as const

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/

/** Asserts `value` has every key of `keys`, and that the ones ending in `At` are ISO 8601 or null. */
export const assertJsonShape = (value: Record<string, unknown>, keys: ReadonlyArray<string>): void => {
  for (const key of keys) {
    assert.ok(key in value, `missing key ${key} in ${JSON.stringify(value)}`)
    if (key.endsWith("At") && value[key] !== null) assert.match(String(value[key]), ISO, `${key} is not ISO 8601`)
  }
}
