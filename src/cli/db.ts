/** `aidp db migrate | status | stop`: the database behind aidp. */
import os from "node:os"
import { databaseSettings, databaseStatus, migrateDatabase, openSql, processTag } from "../config/database.js"
import { embeddedStatus, stopEmbedded } from "../config/embedded.js"
import { printJson } from "../terminal/json.js"
import { UsageError, UserError } from "./errors.js"
import { answerHelp, type CommandHelp, noMoreArgs, parseArgs } from "./parse.js"

const HELP: CommandHelp = {
  usage: ["aidp db migrate [--json]", "aidp db status [--json]", "aidp db stop"],
  about: "The database behind aidp: AIDP_DATABASE_URL (or DATABASE_URL), else aidp's own embedded PostgreSQL.",
  notes: `Commands
  migrate   apply pending migrations (also done automatically on first use)
  status    which server, reachable or not, schema, migrations
  stop      stop aidp's embedded PostgreSQL (when no database URL is set)

Run "aidp db COMMAND --help" for a command's options.`
}

const MIGRATE_HELP: CommandHelp = {
  usage: "aidp db migrate [--json]",
  about: "Applies the pending migrations to the schema (AIDP_DB_SCHEMA, default aidp); every aidp command also does this on first use.",
  options: [["--json", "print {applied: [file names]} instead of one line per migration"]]
}

const migrateCommand = async (argv: ReadonlyArray<string>) => {
  const cli = parseArgs(MIGRATE_HELP, argv, { json: { type: "boolean", default: false } })
  noMoreArgs(cli.input, 0, MIGRATE_HELP)
  const json = cli.flags.json
  const applied = await migrateDatabase()
  if (json) printJson({ applied: applied.map((m) => m.name) })
  else process.stdout.write(applied.length === 0 ? "The database is up to date.\n" : applied.map((m) => `Applied ${m.name}\n`).join(""))
  return 0
}

const STATUS_HELP: CommandHelp = {
  usage: "aidp db status [--json]",
  about: "Shows which server aidp uses, whether it answers, the schema and its migrations. It never starts the embedded server. Exits 1 when a configured server cannot be reached.",
  options: [["--json", "one JSON document; migrations and pending are null when the server cannot be asked"]]
}

const statusCommand = async (argv: ReadonlyArray<string>) => {
  const cli = parseArgs(STATUS_HELP, argv, { json: { type: "boolean", default: false } })
  noMoreArgs(cli.input, 0, STATUS_HELP)
  const json = cli.flags.json
  const status = await databaseStatus()
  if (json) printJson(status)
  else {
    const lines = [
      `Server      ${status.source === "embedded" ? "aidp's embedded PostgreSQL" : `${status.url} (from ${status.source})`}`,
      `Reachable   ${status.reachable ? "yes" : `no${status.error ? `: ${status.error}` : ""}`}`,
      `Schema      ${status.schema}`,
      `Migrations  ${status.reachable
        ? `${status.migrations.length} applied${status.pending.length ? `, ${status.pending.length} pending (${status.pending.join(", ")})` : ""}`
        : `unknown (${status.source === "embedded" && !status.embedded?.running ? "the server is not running" : "the server cannot be reached"})`}`
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

const STOP_HELP: CommandHelp = {
  usage: "aidp db stop",
  about: "Stops aidp's embedded PostgreSQL (only when no database URL is set) and says how many aidp processes (workers, monitors) lost it; the next aidp command starts it again."
}

const stopCommand = async (argv: ReadonlyArray<string>) => {
  const cli = parseArgs(STOP_HELP, argv, {})
  noMoreArgs(cli.input, 0, STOP_HELP)
  if (databaseSettings().source !== "embedded") {
    throw new UserError("aidp db stop only stops aidp's embedded PostgreSQL; this environment sets a database URL, so stop that server yourself.")
  }
  const others = await otherProcesses()
  const stopped = await stopEmbedded()
  process.stdout.write(stopped ? "Stopped aidp's embedded PostgreSQL.\n" : "aidp's embedded PostgreSQL was not running.\n")
  if (stopped && others.length > 0) {
    process.stdout.write(
      `${others.length} other aidp process${others.length === 1 ? "" : "es"} (${others.join(", ")}) lost it; they reconnect when an aidp command starts it again.\n`
    )
  }
  return 0
}

/**
 * The other aidp processes connected to the running embedded server, one entry per process
 * (`worker`, `jobs`, ...), from the `aidp <pid>@<host> <command>` application_name of their
 * connections (see applicationName); empty when it is not running or cannot be asked.
 */
const otherProcesses = async (): Promise<ReadonlyArray<string>> => {
  const status = await embeddedStatus()
  if (!status.running || !status.url) return []
  const sql = openSql(status.url, "aidp", { max: 1 })
  try {
    const rows = await sql<Array<{ command: string | null }>>`
      select min(substring(application_name from '^aidp [0-9]+@[^ ]* ?(.*)$')) as command
      from pg_stat_activity
      where backend_type = 'client backend' and application_name ~ '^aidp [0-9]+@'
        and split_part(application_name, ' ', 2) <> ${processTag(process.pid, os.hostname())}
      group by split_part(application_name, ' ', 2)
      order by 1`
    return rows.map((row) => row.command || "aidp")
  } catch {
    return []
  } finally {
    await sql.end({ timeout: 1 })
  }
}

const SUBCOMMANDS: Record<string, (argv: ReadonlyArray<string>) => Promise<number>> = {
  migrate: migrateCommand,
  status: statusCommand,
  stop: stopCommand
}

/**
 * Runs `aidp db ...`; returns the exit code. The subcommand is the first word that is not a
 * flag, so `aidp db --json status` works; the words around it are its arguments.
 */
export const runDb = async (argv: ReadonlyArray<string>): Promise<number> => {
  const end = argv.indexOf("--")
  const at = argv.findIndex((word, index) => !word.startsWith("-") && (end === -1 || index < end))
  const name = at === -1 ? undefined : argv[at]!
  const command = name !== undefined && Object.hasOwn(SUBCOMMANDS, name) ? SUBCOMMANDS[name] : undefined
  if (!command) {
    answerHelp(HELP, argv)
    if (name === undefined) throw new UsageError("Say what to do: aidp db migrate, aidp db status or aidp db stop.")
    throw new UsageError(`Unknown command "aidp db ${name}"; use migrate, status or stop.`)
  }
  return command([...argv.slice(0, at), ...argv.slice(at + 1)])
}
