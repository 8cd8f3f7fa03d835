/**
 * `aidp doctor`: checks what aidp needs, one line each — environment, database, LISTEN/NOTIFY
 * (which a transaction-mode pooler breaks), live workers and each provider CLI — and says
 * how to fix what is wrong. It changes nothing (pending migrations are reported, not
 * applied). Exits 1 when aidp cannot work (bad environment, database, no provider at all).
 */
import { execFile } from "node:child_process"
import { PROVIDERS } from "../domain/job.js"
import { channelFor } from "../events/sqlClient.js"
import { appliedMigrations, readMigrations } from "../config/migrate.js"
import { liveWorkers } from "../projections/queries.js"
import { adapterFor, resolveBin } from "../workers/providers/index.js"
import { openApp, type App } from "./app.js"
import { describeError } from "./errors.js"
import { type CommandHelp, noMoreArgs, parseArgs } from "./parse.js"

const HELP: CommandHelp = {
  usage: "aidp doctor",
  about: `Checks what aidp needs, one line each: the environment, the database and its migrations,
LISTEN/NOTIFY, live workers and each provider CLI, and says how to fix what is wrong. It
changes nothing. Exits 1 when aidp cannot work.`
}

type Check = { readonly ok: boolean | "warn"; readonly text: string }

const mark = (check: Check) => `${check.ok === true ? "✓" : check.ok === "warn" ? "!" : "✗"} ${check.text}\n`

/** Runs `bin --version` (10 s limit); resolves to its first line or the reason it failed. */
const versionOf = (bin: string): Promise<{ ok: boolean; text: string }> =>
  new Promise((resolve) => {
    const child = execFile(bin, ["--version"], { timeout: 10_000, env: { ...process.env, CLAUDECODE: "" } }, (error, stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === "ENOENT") resolve({ ok: false, text: "not found" })
      else if (error && !stdout) resolve({ ok: false, text: `--version failed: ${(stderr || error.message).split("\n")[0]}` })
      else resolve({ ok: true, text: stdout.split("\n")[0]!.trim() })
    })
    child.stdin?.end() // a CLI that reads its prompt from stdin must not wait for one here
  })

/** Sends a NOTIFY and waits up to 3 s to hear it back on a LISTEN. */
const notifyRoundTrip = async (app: App): Promise<boolean> => {
  const channel = `${channelFor(app.db.schema)}:doctor:${process.pid}`
  let heard: () => void = () => undefined
  const received = new Promise<void>((resolve) => (heard = resolve))
  const subscription = await app.db.sql.listen(channel, () => heard())
  try {
    await app.db.sql`select pg_notify(${channel}, 'ping')`
    return await Promise.race([received.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 3_000))])
  } finally {
    await subscription.unlisten()
  }
}

const databaseChecks = async (app: App): Promise<Array<Check>> => {
  const applied = new Set((await appliedMigrations(app.db.sql, app.db.schema)).map((m) => m.version))
  const pending = (await readMigrations()).filter((m) => !applied.has(m.version))
  const where = `Database ${app.db.url} (${app.db.source}), schema ${app.db.schema}`
  if (pending.length > 0) {
    return [{
      ok: "warn",
      text: `${where}: ${pending.length} migration(s) pending; any aidp command applies them, or run aidp db migrate`
    }]
  }
  const checks: Array<Check> = [{ ok: true, text: `${where}, migrations applied` }]
  checks.push(await notifyRoundTrip(app)
    ? { ok: true, text: "LISTEN/NOTIFY works: the monitor and workers update instantly" }
    : {
      ok: false,
      text: "LISTEN/NOTIFY did not deliver: behind a pooler, point AIDP_DATABASE_URL at a direct or session-mode connection"
    })
  const live = await liveWorkers(app.db.sql, app.settings.leaseMs)
  checks.push(live > 0
    ? { ok: true, text: `${live} worker process(es) alive` }
    : { ok: "warn", text: "No worker is running: queued jobs wait until you run aidp worker (aidp execute runs its own)" })
  return checks
}

const providerChecks = (env: NodeJS.ProcessEnv): Promise<Array<Check>> =>
  Promise.all(PROVIDERS.map(async (provider) => {
    const adapter = adapterFor(provider)
    const bin = resolveBin(adapter, env)
    const version = await versionOf(bin)
    return version.ok
      ? { ok: true, text: `${provider}: ${bin} ${version.text}` }
      : { ok: "warn", text: `${provider}: ${bin} ${version.text}; install it with ${adapter.installHint} or set ${adapter.binEnv}` } as Check
  }))

/** Runs `aidp doctor`; returns the exit code. */
export const runDoctor = async (argv: ReadonlyArray<string>): Promise<number> => {
  const cli = parseArgs(HELP, argv, {})
  noMoreArgs(cli.input, 0, HELP)
  const checks: Array<Check> = []
  let app: App | null = null
  try {
    app = await openApp({ terminal: "quiet", migrate: false })
    checks.push({ ok: true, text: "Environment variables are valid" })
    checks.push(...await databaseChecks(app))
  } catch (error) {
    checks.push({ ok: false, text: describeError(error).message })
  } finally {
    await app?.close()
  }
  const providers = await providerChecks(process.env)
  checks.push(...providers)
  if (!providers.some((c) => c.ok === true)) checks.push({ ok: false, text: "No provider CLI is installed: aidp has nothing to run" })
  process.stdout.write(checks.map(mark).join(""))
  return checks.some((c) => c.ok === false) ? 1 : 0
}
