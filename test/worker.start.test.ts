/**
 * `aidp worker` started while its database is down (README, Database outages: "even when it
 * happens as they start"): it says so once, tries again every 2 s, runs the queued job once
 * the database answers, and a Ctrl-C/SIGTERM while it waits stops it cleanly (exit 0).
 */
import assert from "node:assert/strict"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { after, before, test, type TestContext } from "node:test"
import { finished, startCli } from "./support/cli.js"
import { commandsFor, type Commands } from "./support/commands.js"
import { createTestDb, type TestDb } from "./support/db.js"
import { type DbProxy, startDbProxy } from "./support/proxy.js"
import { killChild, waitFor } from "./support/wait.js"

let db: TestDb
let commands: Commands
let proxy: DbProxy
let dir: string

before(async () => {
  db = await createTestDb()
  commands = commandsFor(db)
  proxy = await startDbProxy()
  dir = await mkdtemp(join(tmpdir(), "aidp-worker-start-"))
})

after(async () => {
  await proxy?.close()
  await commands?.dispose()
  await db?.drop()
  await rm(dir, { recursive: true, force: true })
})

/** Starts `aidp worker` through the proxy; its stderr so far is in `stderr()`. */
const worker = () => {
  const child = startCli(db, ["worker"], { env: { AIDP_DATABASE_URL: proxy.url, FAKE_AGENT_MODE: "success" }, cwd: dir })
  let stderr = ""
  child.stderr!.on("data", (chunk: Buffer | string) => (stderr += chunk.toString()))
  return { child, result: finished(child, { timeoutMs: 60_000 }), stderr: () => stderr }
}

/** A queued job and a worker started with the database down, once it has said so. */
const waitingWorker = async (t: TestContext, prompt: string) => {
  const id = await commands.enqueue({ prompt, cwd: dir })
  await proxy.stop()
  const w = worker()
  t.after(() => killChild(w.child))
  await waitFor("the worker to say the database is unreachable", () => w.stderr().includes("database unreachable"), 15_000, 20)
  return { id, w }
}

test("a worker started while the database is down waits for it, then runs the queued job", { timeout: 60_000 }, async (t) => {
  const { id, w } = await waitingWorker(t, "run me once the database is up")
  assert.equal(w.child.exitCode, null, "still running")
  await proxy.start()
  await waitFor("the job to complete", async () =>
    (await db.sql<Array<{ status: string }>>`select status from jobs where id = ${id}`)[0]!.status === "completed", 20_000)
  w.child.kill("SIGTERM")
  const result = await w.result
  assert.equal(result.code, 0, result.stderr)
  assert.equal(result.stderr.match(/database unreachable/g)?.length, 1, "one line per outage")
  assert.match(result.stderr, /database reachable/)
})

test("SIGTERM while a worker waits for its database stops it at once, exit 0, nothing run", { timeout: 60_000 }, async (t) => {
  const { id, w } = await waitingWorker(t, "never run")
  w.child.kill("SIGTERM")
  const result = await w.result
  assert.equal(result.code, 0, result.stderr)
  assert.equal((await db.sql<Array<{ status: string }>>`select status from jobs where id = ${id}`)[0]!.status, "queued")
  await proxy.start()
})
