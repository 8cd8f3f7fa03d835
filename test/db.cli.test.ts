/**
 * `aidp db status` and `aidp db stop` tell the truth (issue 5) against aidp's embedded
 * server under a temporary data home: with the server stopped the migrations are unknown
 * (not "0 applied, 3 pending"); `db stop --help` leaves the server running; `db stop`
 * counts the aidp processes that lost it, not their pool connections.
 */
import assert from "node:assert/strict"
import { chmod, mkdtemp, rm } from "node:fs/promises"
import type { ChildProcess } from "node:child_process"
import { tmpdir } from "node:os"
import path from "node:path"
import { after, before, test } from "node:test"
import postgres from "postgres"
import { embeddedStatus } from "../src/config/embedded.js"
import { runCli, runJson, startCli } from "./support/cli.js"
import { killChild, waitFor } from "./support/wait.js"

let dataHome: string
const noUrl = { url: "", schema: "aidp" }
const env = () => ({ AIDP_DATABASE_URL: undefined, DATABASE_URL: undefined, XDG_DATA_HOME: dataHome })
const workers: Array<ChildProcess> = []

before(async () => {
  dataHome = await mkdtemp(path.join(tmpdir(), "aidp-db-cli-"))
  await chmod(dataHome, 0o755) // as root the server runs as `postgres`, which must traverse it
})
after(async () => {
  for (const worker of workers) killChild(worker)
  await runCli(noUrl, ["db", "stop"], { env: env() })
  await rm(dataHome, { recursive: true, force: true })
})

test("db status with the embedded server stopped: migrations unknown, in text and JSON", async () => {
  const text = await runCli(noUrl, ["db", "status"], { env: env() })
  assert.equal(text.code, 0, text.stderr)
  assert.match(text.stdout, /^Migrations {2}unknown \(the server is not running\)$/m)
  assert.doesNotMatch(text.stdout, /pending|0 applied/)
  const json = await runJson<{ reachable: boolean; migrations: unknown; pending: unknown; embedded: { running: boolean } }>(noUrl, ["db", "status", "--json"], { env: env() })
  assert.deepEqual([json.reachable, json.migrations, json.pending, json.embedded.running], [false, null, null, false])
})

test("db stop --help leaves the server running; db stop counts the aidp processes that lost it", { timeout: 180_000 }, async () => {
  const migrated = await runCli(noUrl, ["db", "migrate"], { env: env(), timeoutMs: 120_000 })
  assert.equal(migrated.code, 0, migrated.stderr)
  const running = await embeddedStatus({ dataHome })
  assert.ok(running.running && running.url)

  // Two worker processes, each with several connections (pool, LISTEN session).
  workers.push(startCli(noUrl, ["worker", "--count", "2"], { env: env() }), startCli(noUrl, ["worker"], { env: env() }))
  const sql = postgres(running.url, { max: 1, connection: { application_name: "aidp-test" }, onnotice: () => {} })
  try {
    const pids = workers.map((worker) => String(worker.pid))
    const connections = await waitFor("both workers to be connected", async () => {
      const rows = await sql<Array<{ name: string }>>`
        select application_name as name from pg_stat_activity where application_name ~ '^aidp [0-9]+@'`
      const mine = rows.filter((row) => pids.includes(row.name.split(" ")[1]!.split("@")[0]!))
      return new Set(mine.map((row) => row.name)).size === 2 && mine.length > 2 ? mine : undefined
    }, 60_000)
    assert.ok(connections.every((c) => /^aidp \d+@\S+ worker$/.test(c.name)), connections.map((c) => c.name).join(", "))
  } finally {
    await sql.end({ timeout: 1 })
  }

  const help = await runCli(noUrl, ["db", "stop", "--help"], { env: env() })
  assert.equal(help.code, 0, help.stderr)
  assert.equal((await embeddedStatus({ dataHome })).running, true, "db stop --help did not stop the server")

  const stop = await runCli(noUrl, ["db", "stop"], { env: env(), timeoutMs: 60_000 })
  assert.equal(stop.code, 0, stop.stderr)
  assert.match(stop.stdout, /^Stopped aidp's embedded PostgreSQL\.$/m)
  assert.match(stop.stdout, /^2 other aidp processes \(worker, worker\) lost it;/m)
  assert.equal((await embeddedStatus({ dataHome })).running, false)
})
