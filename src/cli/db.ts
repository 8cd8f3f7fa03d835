/** `aidp db migrate | status | stop`: the database behind aidp. */
import { databaseSettings, databaseStatus, migrateDatabase, openSql } from "../config/database.js"
import { embeddedStatus, stopEmbedded } from "../config/embedded.js"
import { printJson } from "../terminal/json.js"
import { UsageError, UserError } from "./errors.js"
import { noMoreArgs, parseArgs } from "./parse.js"

const HELP = `
  Usage
    $ aidp db migrate [--json]   apply pending migrations (also done automatically on first use)
    $ aidp db status [--json]    which server, reachable or not, schema, migrations
    $ aidp db stop               stop aidp's embedded PostgreSQL (when no database URL is set)
`

const migrateCommand = async (json: boolean) => {
  const applied = await migrateDatabase()
  if (json) printJson({ applied: applied.map((m) => m.name) })
  else process.stdout.write(applied.length === 0 ? "The database is up to date.\n" : applied.map((m) => `Applied ${m.name}\n`).join(""))
  return 0
}

const statusCommand = async (json: boolean) => {
  const status = await databaseStatus()
  if (json) printJson(status)
  else {
    const lines = [
      `Server      ${status.source === "embedded" ? "aidp's embedded PostgreSQL" : `${status.url} (from ${status.source})`}`,
      `Reachable   ${status.reachable ? "yes" : `no${status.error ? `: ${status.error}` : ""}`}`,
      `Schema      ${status.schema}`,
      `Migrations  ${status.migrations.length} applied${status.pending.length ? `, ${status.pending.length} pending (${status.pending.join(", ")})` : ""}`
    ]
    if (status.embedded) {
      lines.push(
        `Data        ${status.embedded.dataDir}`,
        `Log         ${status.embedded.logFile}`,
        `Running     ${status.embedded.running ? `yes, pid ${status.embedded.pid} on 127.0.0.1:${status.embedded.port}` : "no"}`
      )
    }
    process.stdout.write(`${lines.join("\n")}\n`)
  }
  return status.reachable || status.source === "embedded" ? 0 : 1
}

const stopCommand = async () => {
  if (databaseSettings().source !== "embedded") {
    throw new UserError("aidp db stop only stops aidp's embedded PostgreSQL; this environment sets a database URL, so stop that server yourself.")
  }
  const others = await otherConnections()
  const stopped = await stopEmbedded()
  process.stdout.write(stopped ? "Stopped aidp's embedded PostgreSQL.\n" : "aidp's embedded PostgreSQL was not running.\n")
  if (stopped && others > 0) {
    process.stdout.write(`${others} other aidp connection(s) (workers, monitors) lost it; they reconnect when an aidp command starts it again.\n`)
  }
  return 0
}

/** Client connections to the running embedded server besides this one (0 when it is not running). */
const otherConnections = async (): Promise<number> => {
  const status = await embeddedStatus()
  if (!status.running || !status.url) return 0
  const sql = openSql(status.url, "aidp", { max: 1 })
  try {
    const [row] = await sql<Array<{ n: number }>>`
      select count(*)::int as n from pg_stat_activity
      where backend_type = 'client backend' and pid <> pg_backend_pid()`
    return row?.n ?? 0
  } catch {
    return 0
  } finally {
    await sql.end({ timeout: 1 })
  }
}

/** Runs `aidp db ...`; returns the exit code. */
export const runDb = (argv: ReadonlyArray<string>): Promise<number> => {
  const cli = parseArgs(HELP, argv, { json: { type: "boolean", default: false } })
  noMoreArgs(cli.input, 1, "aidp db migrate|status|stop")
  switch (cli.input[0]) {
    case "migrate":
      return migrateCommand(cli.flags.json)
    case "status":
      return statusCommand(cli.flags.json)
    case "stop":
      return stopCommand()
    case undefined:
      throw new UsageError("Say what to do: aidp db migrate, aidp db status or aidp db stop.")
    default:
      throw new UsageError(`Unknown command "aidp db ${cli.input[0]}"; use migrate, status or stop.`)
  }
}
