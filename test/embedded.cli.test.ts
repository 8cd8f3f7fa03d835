/**
 * The embedded default through the built CLI (issue 2): with no database URL set, aidp
 * processes of one user share one embedded server that outlives them; two commands started
 * at once share it; after the server is killed with SIGKILL the next command still works,
 * with the data intact, as it does after a command is killed while starting the server;
 * `aidp db stop` stops it and the next command starts it again.
 */
import assert from "node:assert/strict"
import { chmod, mkdtemp, readFile, rm } from "node:fs/promises"
import { join } from "node:path"
import { after, before, test } from "node:test"
import { finished, runCli, runJson, startCli } from "./support/cli.js"
import { isAlive, waitFor } from "./support/wait.js"

let dataHome: string
let cwd: string
/** No database URL: aidp must use its embedded server under `dataHome`. */
const noUrl = { url: "", schema: "aidp" }
const env = () => ({ AIDP_DATABASE_URL: undefined, DATABASE_URL: undefined, XDG_DATA_HOME: dataHome })

const status = () => runJson<{ source: string; reachable: boolean; embedded: { running: boolean; pid?: number; dataDir: string } }>(
  noUrl, ["db", "status", "--json"], { env: env() })

const enqueue = (prompt: string) =>
  runJson<{ id: string }>(noUrl, ["jobs", "enqueue", "--provider", "claude", "--prompt", prompt, "--cwd", cwd, "--json"], { env: env() })

before(async () => {
  dataHome = await mkdtemp("/tmp/aidp-embedded-cli-")
  await chmod(dataHome, 0o755) // as root the server runs as `postgres`, which must traverse it
  cwd = await mkdtemp("/tmp/aidp-embedded-cwd-")
})

after(async () => {
  await runCli(noUrl, ["db", "stop"], { env: env() })
  await rm(dataHome, { recursive: true, force: true })
  await rm(cwd, { recursive: true, force: true })
})

test("two aidp commands started at once share one embedded server that outlives them", { timeout: 120_000 }, async () => {
  const [a, b] = await Promise.all([enqueue("first"), enqueue("second")])
  const server = await status()
  assert.equal(server.source, "embedded")
  assert.equal(server.reachable, true)
  assert.equal(server.embedded.running, true, "the server outlived the commands that started it")
  assert.ok(server.embedded.dataDir.startsWith(dataHome), `data under XDG_DATA_HOME, got ${server.embedded.dataDir}`)
  const jobs = await runJson<Array<{ id: string }>>(noUrl, ["jobs", "list", "--json"], { env: env() })
  assert.deepEqual(new Set(jobs.map((j) => j.id)), new Set([a.id, b.id]), "both commands wrote to the same database")
})

test("after the server is killed with SIGKILL the next command still works, data intact", { timeout: 120_000 }, async () => {
  const before = await status()
  const pid = before.embedded.pid!
  process.kill(pid, "SIGKILL")
  await waitFor("the killed server to be gone", async () => !isAlive(pid), 10_000)

  const jobs = await runJson<Array<{ id: string }>>(noUrl, ["jobs", "list", "--json"], { env: env() })
  assert.equal(jobs.length, 2)
  const after = await status()
  assert.equal(after.embedded.running, true)
  assert.notEqual(after.embedded.pid, pid)
})

test("aidp db stop stops the server; the next command starts it again", { timeout: 120_000 }, async () => {
  const stop = await runCli(noUrl, ["db", "stop"], { env: env() })
  assert.equal(stop.code, 0, stop.stderr)
  assert.match(stop.stdout, /Stopped/)
  assert.equal((await status()).embedded.running, false)
  const jobs = await runJson<Array<{ id: string }>>(noUrl, ["jobs", "list", "--json"], { env: env() })
  assert.equal(jobs.length, 2)
  assert.equal((await status()).embedded.running, true)
})

test("a command killed with SIGKILL while it starts the server does not block the next one", { timeout: 120_000 }, async () => {
  await runCli(noUrl, ["db", "stop"], { env: env() })
  const starting = startCli(noUrl, ["jobs", "list", "--json"], { env: env() })
  const result = finished(starting)
  // Inside the start: the command holds the start lock (src/config/embedded.ts) while the server comes up.
  const lock = join(dataHome, "aidp", "postgres.lock")
  await waitFor("the command to take the start lock", async () =>
    (await readFile(lock, "utf8").catch(() => "")) === String(starting.pid), 30_000, 10)
  starting.kill("SIGKILL")
  await result
  const jobs = await runJson<Array<{ id: string }>>(noUrl, ["jobs", "list", "--json"], { env: env() })
  assert.equal(jobs.length, 2)
  assert.equal((await status()).embedded.running, true)
})
