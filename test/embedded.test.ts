/**
 * The embedded PostgreSQL in a throwaway data home: shared by concurrent starters, detached from
 * them, recovering from a killed server and stale files, and stopping. One data dir for the file.
 */
import assert from "node:assert/strict"
import { execFile, spawnSync } from "node:child_process"
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { after, before, test } from "node:test"
import { promisify } from "node:util"
import postgres from "postgres"
import { connect, databaseStatus } from "../src/config/database.js"
import { embeddedStatus, startEmbedded, stopEmbedded } from "../src/config/embedded.js"

const run = promisify(execFile)
let dataHome: string

before(async () => {
  dataHome = await mkdtemp("/tmp/aidp-embedded-")
  await chmod(dataHome, 0o755) // as root the server runs as `postgres`, which must traverse it
})

after(async () => {
  await stopEmbedded({ dataHome })
  await rm(dataHome, { recursive: true, force: true })
})

/** Starts the embedded server in a separate node process; resolves to what that process saw. */
async function startInChild(): Promise<{ pid: number; port: number; queriedPort: number }> {
  const module = new URL("../src/config/embedded.ts", import.meta.url).href
  const script = `import postgres from "postgres"
import { startEmbedded } from ${JSON.stringify(module)}
const server = await startEmbedded({ dataHome: ${JSON.stringify(dataHome)} })
const sql = postgres(server.url, { max: 1, onnotice: () => {} })
const [row] = await sql\`select current_setting('port')::int as port\`
await sql.end()
console.log(JSON.stringify({ pid: server.pid, port: server.port, queriedPort: row.port }))`
  const { stdout } = await run(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: new URL("..", import.meta.url).pathname,
  })
  return JSON.parse(stdout)
}

async function query(url: string): Promise<number> {
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  try {
    const [row] = await sql<{ one: number }[]>`select 1 as one`
    return row!.one
  } finally {
    await sql.end()
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function waitDead(pid: number): Promise<void> {
  while (isAlive(pid)) await new Promise((resolve) => setTimeout(resolve, 50))
}

/** A pid that belonged to a process which has exited. */
function deadPid(): number {
  return spawnSync("true").pid!
}

test("two processes starting at once share one server that outlives them", async () => {
  const [a, b] = await Promise.all([startInChild(), startInChild()])
  assert.equal(a.pid, b.pid)
  assert.equal(a.port, b.port)
  assert.equal(a.queriedPort, a.port)
  assert.equal(b.queriedPort, b.port)
  const status = await embeddedStatus({ dataHome })
  assert.equal(status.running, true)
  assert.equal(status.pid, a.pid)
  // Own session (so a terminal's Ctrl-C does not reach it), not a child of either starter.
  const fields = (await readFile(`/proc/${a.pid}/stat`, "utf8")).split(") ")[1]!.split(" ")
  assert.equal(Number(fields[3]), a.pid, "session id is the server's own pid")
})

test("a server killed with -9 leaves a stale postmaster.pid that the next start recovers from", async () => {
  const before = await startEmbedded({ dataHome })
  process.kill(before.pid, "SIGKILL")
  await waitDead(before.pid)
  await stat(join(before.dataDir, "postmaster.pid")) // still there, stale
  const after = await startEmbedded({ dataHome })
  assert.notEqual(after.pid, before.pid)
  assert.equal(after.port, before.port)
  assert.equal(await query(after.url), 1)
})

test("a postmaster.pid naming a live non-postgres process and a stale lock do not block a start", async () => {
  const first = await startEmbedded({ dataHome })
  assert.equal(await stopEmbedded({ dataHome }), true)
  const pidFile = join(first.dataDir, "postmaster.pid")
  await writeFile(pidFile, `${process.pid}\n${first.dataDir}\n0\n${first.port}\n\n127.0.0.1\n0 0\nready   \n`)
  await writeFile(join(dataHome, "aidp", "postgres.lock"), String(deadPid()))
  const server = await startEmbedded({ dataHome })
  assert.equal(await query(server.url), 1)
})

test("connect uses the embedded server when no URL is set", async (t) => {
  const migrations = await mkdtemp("/tmp/aidp-embedded-sql-")
  await writeFile(join(migrations, "001_t.sql"), "create table t (id int);")
  t.after(() => rm(migrations, { recursive: true, force: true }))
  const env = { AIDP_DB_SCHEMA: "aidp" }
  const db = await connect({ env, dataHome, migrationsDir: migrations })
  try {
    assert.equal(db.source, "embedded")
    assert.match(db.url, /^postgres:\/\/aidp:\*\*\*@127\.0\.0\.1:\d+\/aidp$/)
    const [row] = await db.sql<{ n: number }[]>`select count(*)::int as n from t`
    assert.equal(row?.n, 0)
  } finally {
    await db.close()
  }
  const status = await databaseStatus({ env, dataHome, migrationsDir: migrations })
  assert.equal(status.reachable, true)
  assert.equal(status.embedded?.running, true)
  assert.match(status.embedded?.url ?? "", /:\*\*\*@/)
  assert.deepEqual(status.migrations.map((m) => m.name), ["001_t.sql"])
})

test("stop stops the server; stopping again reports it was not running", async () => {
  const server = await startEmbedded({ dataHome })
  assert.equal(await stopEmbedded({ dataHome }), true)
  assert.equal(isAlive(server.pid), false)
  assert.equal((await embeddedStatus({ dataHome })).running, false)
  assert.equal(await stopEmbedded({ dataHome }), false)
  const status = await databaseStatus({ env: {}, dataHome })
  assert.equal(status.reachable, false)
})
