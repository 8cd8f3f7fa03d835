/**
 * Test helper: runs the built `aidp` (dist/cli/main.js, built by `npm test`) as a user
 * would, against a throwaway schema, with the fake provider CLIs as its providers.
 *
 *   const db = await createTestDb(); const aidp = cliFor(db)
 *   const r = await aidp.run(["jobs", "list", "--json"])
 */
import { spawn, type ChildProcess } from "node:child_process"
import { fileURLToPath } from "node:url"
import type { TestDb } from "./db.js"

/** Absolute path of the built CLI. */
export const CLI = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url))
/** Folder of the fake provider executables (claude, gemini, cursor-agent). */
export const FAKES_BIN = fileURLToPath(new URL("../fakes/bin/", import.meta.url))

/** What a finished command printed and returned. */
export interface CliResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

/** Options of one run: extra environment, working directory, stdin text, time limit (ms). */
export interface RunOptions {
  readonly env?: NodeJS.ProcessEnv
  readonly cwd?: string
  readonly input?: string
  readonly timeoutMs?: number
}

/** The environment aidp runs with in tests: the schema, the fakes, no inherited agent variables. */
export const cliEnv = (db: Pick<TestDb, "url" | "schema">, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AIDP_DATABASE_URL: db.url,
    AIDP_DB_SCHEMA: db.schema,
    AIDP_CLAUDE_BIN: `${FAKES_BIN}claude`,
    AIDP_GEMINI_BIN: `${FAKES_BIN}gemini`,
    AIDP_CURSOR_BIN: `${FAKES_BIN}cursor-agent`,
    ...extra
  }
  delete env.DATABASE_URL
  delete env.NODE_OPTIONS
  delete env.NODE_TEST_CONTEXT
  for (const [key, value] of Object.entries(extra)) if (value === undefined) delete env[key]
  return env
}

/** Starts `aidp args...` without waiting (for workers and long commands). */
export const startCli = (db: Pick<TestDb, "url" | "schema">, args: ReadonlyArray<string>, options: RunOptions = {}): ChildProcess =>
  spawn(process.execPath, [CLI, ...args], {
    cwd: options.cwd,
    env: cliEnv(db, options.env),
    stdio: ["pipe", "pipe", "pipe"]
  })

/** Collects a started command's output until it exits (killing it after `timeoutMs`, default 60 s). */
export const finished = (child: ChildProcess, options: Pick<RunOptions, "input" | "timeoutMs"> = {}): Promise<CliResult> =>
  new Promise((resolve, reject) => {
    let stdout = ""
    let stderr = ""
    child.stdout?.setEncoding("utf8").on("data", (d: string) => (stdout += d))
    child.stderr?.setEncoding("utf8").on("data", (d: string) => (stderr += d))
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000)
    child.on("error", reject)
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
    child.stdin?.end(options.input ?? "")
  })

/** Runs `aidp args...` to completion. */
export const runCli = (db: Pick<TestDb, "url" | "schema">, args: ReadonlyArray<string>, options: RunOptions = {}): Promise<CliResult> =>
  finished(startCli(db, args, options), options)

/** Runs `aidp args... --json`-style commands and parses stdout; throws with stderr when it exits non-zero. */
export const runJson = async <T = any>(db: Pick<TestDb, "url" | "schema">, args: ReadonlyArray<string>, options: RunOptions = {}): Promise<T> => {
  const result = await runCli(db, args, options)
  if (result.code !== 0) throw new Error(`aidp ${args.join(" ")} exited ${result.code}: ${result.stderr}`)
  return JSON.parse(result.stdout) as T
}
