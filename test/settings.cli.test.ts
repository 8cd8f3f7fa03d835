/**
 * Strict settings through the built CLI (issue 6, item 5): each bad environment variable,
 * number flag and prompt file gives one sentence naming it and the fix, exit 2, and changes
 * nothing (no event, no worker registered, no folder created).
 */
import assert from "node:assert/strict"
import { spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { writeFile } from "node:fs/promises"
import path from "node:path"
import { describe, test } from "node:test"
import { CLI, cliEnv, finished, runCli, runJson } from "./support/cli.js"
import { assertCliError, e2eSuite, eventCount } from "./support/e2e.js"

describe("strict settings", () => {
  const suite = e2eSuite()

  const workers = async (): Promise<number> =>
    (await suite.db.sql<Array<{ n: number }>>`select count(*)::int as n from workers`)[0]!.n

  test("each bad setting: its sentence, exit 2, nothing changed", async (t) => {
    const cwd = await suite.dirs.make({ git: false })
    const missingDir = path.join(cwd, "no", "such", "folder")
    await writeFile(path.join(cwd, "nul.md"), Buffer.from("Write the PRD\u0000 please"))
    await writeFile(path.join(cwd, "latin1.md"), Buffer.from([0x52, 0xe9, 0x73, 0x75, 0x6d, 0xe9, 0x0a]))
    const enqueue = ["jobs", "enqueue", "--provider", "claude", "--prompt", "x"]
    const cases: ReadonlyArray<{ name: string; args: ReadonlyArray<string>; env?: NodeJS.ProcessEnv; says: ReadonlyArray<string | RegExp> }> = [
      { name: "QUE_WORKER_COUNT=0x10", args: ["worker"], env: { QUE_WORKER_COUNT: "0x10" }, says: ['QUE_WORKER_COUNT="0x10"', "decimal digits", "QUE_WORKER_COUNT=4"] },
      { name: "QUE_WORKER_COUNT=1e2", args: ["worker"], env: { QUE_WORKER_COUNT: "1e2" }, says: ['QUE_WORKER_COUNT="1e2"', "decimal digits"] },
      { name: "AIDP_WORKER_LEASE_MS=1", args: ["worker"], env: { AIDP_WORKER_LEASE_MS: "1" }, says: ['AIDP_WORKER_LEASE_MS="1"', "from 2000", "AIDP_WORKER_LEASE_MS=30000"] },
      { name: "AIDP_WORKER_LEASE_MS=3e4", args: ["worker"], env: { AIDP_WORKER_LEASE_MS: "3e4" }, says: ["AIDP_WORKER_LEASE_MS", "decimal digits"] },
      { name: "AIDP_LOG_FILE in a folder that does not exist", args: ["jobs", "list"], env: { AIDP_LOG_FILE: path.join(missingDir, "aidp.log") }, says: ["AIDP_LOG_FILE", `${missingDir} does not exist`, "create it"] },
      { name: "--count 0x10", args: ["worker", "--count", "0x10"], says: ["--count", "decimal digits", '"0x10"'] },
      { name: "--max-attempts=1e2", args: [...enqueue, "--max-attempts=1e2"], says: ["--max-attempts", "decimal digits", '"1e2"'] },
      { name: "--timeout 0x3c", args: [...enqueue, "--timeout", "0x3c"], says: ["--timeout", "decimal digits"] },
      { name: "--priority 1.5", args: [...enqueue, "--priority", "1.5"], says: ["--priority", "decimal digits"] },
      { name: "--limit 1e1", args: ["jobs", "list", "--limit", "1e1"], says: ["--limit", "decimal digits"] },
      { name: "AIDP_DB_SCHEMA set but empty", args: enqueue, env: { AIDP_DB_SCHEMA: "" }, says: ["AIDP_DB_SCHEMA", 'got ""', "unset it for the default aidp"] },
      { name: "AIDP_DB_SCHEMA=pg_catalog", args: enqueue, env: { AIDP_DB_SCHEMA: "pg_catalog" }, says: ["AIDP_DB_SCHEMA", "PostgreSQL reserves", '"pg_catalog"'] },
      { name: "AIDP_DATABASE_URL set but empty", args: enqueue, env: { AIDP_DATABASE_URL: "" }, says: ["AIDP_DATABASE_URL is empty", "unset it"] },
      { name: "AIDP_DATABASE_URL not PostgreSQL's", args: enqueue, env: { AIDP_DATABASE_URL: "mysql://root@127.0.0.1/test" }, says: ["AIDP_DATABASE_URL is not a PostgreSQL URL"] },
      { name: "AIDP_DEBUG=true", args: enqueue, env: { AIDP_DEBUG: "true" }, says: ['AIDP_DEBUG="true"', "1 (debug logging) or 0"] },
      { name: "a blank AIDP_CLAUDE_BIN", args: enqueue, env: { AIDP_CLAUDE_BIN: "   " }, says: ['AIDP_CLAUDE_BIN="   "', "name or path of an executable"] },
      { name: "a prompt file with a NUL byte", args: ["jobs", "enqueue", "--provider", "claude", "--prompt-file", "nul.md"], says: ["nul.md is not UTF-8 text", "NUL", "--prompt-file is for text"] },
      { name: "a prompt file that is not UTF-8", args: ["jobs", "enqueue", "--provider", "claude", "--prompt-file", "latin1.md"], says: ["latin1.md is not UTF-8 text", "invalid UTF-8", "--prompt-file is for text"] }
    ]
    for (const c of cases) {
      await t.test(c.name, async () => {
        const [eventsBefore, workersBefore] = [await eventCount(suite.db), await workers()]
        const result = await runCli(suite.db, c.args, { cwd, env: c.env, timeoutMs: 15_000 })
        assertCliError(result, 2, ...c.says)
        assert.equal(result.stdout, "", "nothing on stdout")
        assert.equal(await eventCount(suite.db), eventsBefore, "no event appended")
        assert.equal(await workers(), workersBefore, "no worker registered")
      })
    }
    assert.equal(existsSync(path.join(cwd, "no")), false, "no folder was created for AIDP_LOG_FILE")
  })

  test("a current directory that was deleted: one sentence, exit 2, nothing changed", async (t) => {
    for (const args of [["execute", "next"], ["jobs", "enqueue", "--provider", "claude", "--prompt", "x"], ["jobs", "list"]]) {
      await t.test(args.join(" "), async () => {
        const gone = await suite.dirs.make({ git: false })
        const eventsBefore = await eventCount(suite.db)
        // The shell enters the folder and removes it, then becomes aidp there: no race.
        const child = spawn("sh", ["-c", 'cd "$1" && rmdir "$1" && shift && exec "$@"', "sh", gone, process.execPath, CLI, ...args], {
          env: cliEnv(suite.db),
          stdio: ["pipe", "pipe", "pipe"]
        })
        const result = await finished(child, { timeoutMs: 15_000 })
        assertCliError(result, 2, "The current directory no longer exists; cd to an existing directory.")
        assert.equal(result.stdout, "")
        assert.equal(await eventCount(suite.db), eventsBefore, "no event appended")
      })
    }
  })

  test("a UTF-8 prompt file with any text is still accepted, unchanged", async () => {
    const cwd = await suite.dirs.make({ git: false })
    const prompt = "Résumé ✍️ 日本語\n\tand a tab\n"
    await writeFile(path.join(cwd, "prompt.md"), prompt)
    const job = await runJson<{ id: string }>(suite.db, ["jobs", "enqueue", "--provider", "claude", "--prompt-file", "prompt.md", "--json"], { cwd })
    const [queued] = await suite.db.sql<Array<{ data: { prompt: string } }>>`
      select data from job_events where job_id = ${job.id} and type = 'JobQueued'`
    assert.equal(queued!.data.prompt, prompt)
  })
})
