/**
 * The database connection: which server (AIDP_DATABASE_URL, DATABASE_URL or the embedded one),
 * which schema (AIDP_DB_SCHEMA), a postgres.js client on that schema, and migrations on first use.
 */
import os from "node:os"
import postgres, { type Sql } from "postgres"
import type { EmbeddedStatus } from "./embedded.js"
import { withDeadline } from "./liveness.js"
import { supervisedSql } from "./supervisedSql.js"
import {
  appliedMigrations,
  defaultMigrationsDir,
  isSchemaName,
  migrate,
  readMigrations,
  type AppliedMigration,
  type Migration,
} from "./migrate.js"

const CONNECT_TIMEOUT_S = 5
/**
 * How long a pool connection waits before it connects again after a failed attempt, s
 * (postgres.js `backoff`). The driver's default grows with every failure up to 20 s, so a
 * database back after an outage went unused for that long; aidp's servers are near and few
 * processes talk to them, so a steady tenth of a second costs little.
 */
const RECONNECT_DELAY_S = 0.1
/**
 * How long the server lets one of aidp's transactions sit idle before it ends it, ms
 * (PostgreSQL's idle_in_transaction_session_timeout). aidp sends a transaction's statements
 * back to back; one left idle belongs to a process that was stopped (SIGSTOP, a suspended
 * laptop) or cut off in its middle, and would hold the job's row lock until that process
 * resumed or its connection died, so that no rescuer could abandon the execution (DESIGN.md,
 * invariant 2). Well under the default worker lease (30 s).
 */
export const IDLE_IN_TRANSACTION_TIMEOUT_MS = 10_000
const PROBE_TIMEOUT_MS = (CONNECT_TIMEOUT_S + 1) * 1000

/** Where the connection came from: an environment variable or aidp's embedded server. */
export type DatabaseSource = "AIDP_DATABASE_URL" | "DATABASE_URL" | "embedded"

/** The database settings read from the environment; `url` is absent for the embedded server. */
export interface DatabaseSettings {
  readonly source: DatabaseSource
  readonly url?: string
  readonly schema: string
}

/** An environment variable has an unusable value; the message names it. */
export class DatabaseSettingInvalid extends Error {
  readonly _tag = "DatabaseSettingInvalid" as const
  override readonly name = "DatabaseSettingInvalid"
}

/**
 * PostgreSQL could not be reached or refused us. `message` is one sentence naming the address
 * (never the password) and the fix, e.g. `Cannot reach PostgreSQL at 127.0.0.1:5999 (connection
 * refused). Start PostgreSQL or fix AIDP_DATABASE_URL.`
 */
export class DatabaseUnreachable extends Error {
  readonly _tag = "DatabaseUnreachable" as const
  override readonly name = "DatabaseUnreachable"
  /**
   * `transient`: the server may simply not be up yet (refused, no answer, no route, no socket),
   * so a long-running command may wait for it; false for what waiting cannot fix (an unknown
   * host, a refused login, a missing database).
   */
  constructor(message: string, readonly address: string, readonly transient: boolean = false) {
    super(message)
  }
}

/**
 * Options of {@link openSql}: the pool size (default 10), and whether to fetch the server's
 * array types after connecting (default true; a client that only asks `select 1` needs none).
 */
export interface ClientOptions {
  readonly max?: number
  readonly fetchTypes?: boolean
}

/** Options of {@link connect}; `dataHome` is the embedded server's base dir (tests). */
export interface ConnectOptions {
  readonly env?: NodeJS.ProcessEnv
  readonly migrationsDir?: string
  readonly dataHome?: string
  /**
   * Apply pending migrations (default true). `"installed"`, for commands that only read: a
   * schema named by AIDP_DB_SCHEMA that does not exist is refused ({@link DatabaseSettingInvalid}:
   * most likely a mistyped name) instead of created; an existing schema is migrated, and the
   * default schema `aidp` is created on first use.
   */
  readonly migrate?: boolean | "installed"
  /** Pool size (default 10). */
  readonly max?: number
  /** Told when the embedded server has to be started (see `startEmbedded`). */
  readonly onStarting?: (message: string) => void
}

/** An open database: `sql` has search_path = `schema`; `url` is for display (password redacted). */
export interface Db {
  readonly sql: Sql
  readonly schema: string
  readonly url: string
  readonly source: DatabaseSource
  /** Opens another client on the same database and schema (e.g. a dedicated LISTEN session); end it yourself. */
  openClient(options?: ClientOptions): Sql
  close(): Promise<void>
}

/**
 * What `aidp db status` reports. `pending` are migration file names not yet applied; both
 * `migrations` and `pending` are null when the server could not be asked (not running,
 * unreachable): unknown, not "none applied".
 */
export type DatabaseStatus = {
  readonly source: DatabaseSource
  readonly url?: string
  readonly schema: string
  readonly embedded?: EmbeddedStatus
} & (
  | { readonly reachable: true; readonly migrations: readonly AppliedMigration[]; readonly pending: readonly string[] }
  | { readonly reachable: false; readonly error: string; readonly migrations: null; readonly pending: null }
)

/** Whether `schema` is one of PostgreSQL's own: `pg_*` names are reserved, information_schema is the catalog's. */
const isSystemSchema = (schema: string): boolean => schema.startsWith("pg_") || schema === "information_schema"

/**
 * Reads AIDP_DATABASE_URL / DATABASE_URL / AIDP_DB_SCHEMA (default `aidp`); throws
 * {@link DatabaseSettingInvalid} for a set but empty AIDP_DB_SCHEMA or AIDP_DATABASE_URL, a
 * schema name that is not a plain identifier or is PostgreSQL's own, or a URL that is not
 * PostgreSQL's (an empty DATABASE_URL, a variable other tools share, counts as unset).
 */
export function databaseSettings(env: NodeJS.ProcessEnv = process.env): DatabaseSettings {
  // Set but empty is a mistake (a variable meant to be filled in), not "use the default".
  const schema = env.AIDP_DB_SCHEMA ?? "aidp"
  if (!isSchemaName(schema)) {
    throw new DatabaseSettingInvalid(
      `AIDP_DB_SCHEMA must be a lower-case identifier (a-z, 0-9, _; at most 63 characters, not starting with a digit), got ${JSON.stringify(schema)}; unset it for the default aidp.`,
    )
  }
  if (isSystemSchema(schema)) {
    throw new DatabaseSettingInvalid(
      `AIDP_DB_SCHEMA must not name a schema PostgreSQL reserves for itself (pg_*, information_schema), got ${JSON.stringify(schema)}; choose another name, e.g. aidp.`,
    )
  }
  if (env.AIDP_DATABASE_URL === "") {
    throw new DatabaseSettingInvalid("AIDP_DATABASE_URL is empty; set it to a PostgreSQL URL (postgres://user@host:port/database), or unset it for aidp's own server.")
  }
  for (const source of ["AIDP_DATABASE_URL", "DATABASE_URL"] as const) {
    const url = env[source]
    if (url) {
      target(url, source)
      return { source, url, schema }
    }
  }
  return { source: "embedded", schema }
}

/**
 * Opens the configured database (starting the embedded server if no URL is set), checks it
 * answers (5 s connect timeout) and applies pending migrations. Throws
 * {@link DatabaseSettingInvalid}, {@link DatabaseUnreachable}, EmbeddedPostgresError or MigrationError.
 */
export async function connect(options: ConnectOptions = {}): Promise<Db> {
  const settings = databaseSettings(options.env)
  const url = settings.url ?? (await (await import("./embedded.js")).startEmbedded({ dataHome: options.dataHome, env: options.env, onStarting: options.onStarting })).url
  const sql = openSql(url, settings.schema, { max: options.max })
  try {
    await probe(sql, url, settings.source)
    if (options.migrate === "installed" && (options.env ?? process.env).AIDP_DB_SCHEMA !== undefined && !(await schemaExists(sql, settings.schema))) {
      throw new DatabaseSettingInvalid(
        `Schema ${settings.schema} (AIDP_DB_SCHEMA) does not exist, so it holds no aidp installation; check the name, or create it with aidp db migrate.`
      )
    }
    if (options.migrate !== false) await migrate(sql, settings.schema, options.migrationsDir ?? defaultMigrationsDir)
  } catch (error) {
    await sql.end({ timeout: 1 })
    throw error
  }
  return {
    sql,
    schema: settings.schema,
    url: redactUrl(url),
    source: settings.source,
    openClient: (client) => openSql(url, settings.schema, client),
    close: () => sql.end({ timeout: 5 }),
  }
}

/** `aidp db migrate`: opens the database, applies pending migrations, resolves to those applied now. */
export async function migrateDatabase(options: Omit<ConnectOptions, "migrate"> = {}): Promise<Migration[]> {
  const db = await connect({ ...options, migrate: false, max: 1 })
  try {
    return await migrate(db.sql, db.schema, options.migrationsDir ?? defaultMigrationsDir)
  } finally {
    await db.close()
  }
}

/** `aidp db status`: never starts the embedded server nor migrates; unreachable is reported, not thrown. */
export async function databaseStatus(options: Omit<ConnectOptions, "migrate" | "max"> = {}): Promise<DatabaseStatus> {
  const settings = databaseSettings(options.env)
  const files = await readMigrations(options.migrationsDir ?? defaultMigrationsDir)
  const embedded = settings.source === "embedded" ? await (await import("./embedded.js")).embeddedStatus(options) : undefined
  const url = settings.url ?? embedded?.url
  const shown = embedded ? { embedded: { ...embedded, ...(embedded.url ? { url: redactUrl(embedded.url) } : {}) } } : {}
  const base = { source: settings.source, schema: settings.schema, ...shown }
  const notReachable = (error: string): DatabaseStatus => ({ ...base, reachable: false, error, migrations: null, pending: null })
  if (!url) return notReachable("The embedded PostgreSQL is not running; it starts on first use.")
  const sql = openSql(url, settings.schema, { max: 1 })
  try {
    await probe(sql, url, settings.source)
    const migrations = await appliedMigrations(sql, settings.schema)
    const done = new Set(migrations.map((m) => m.version))
    const pending = files.filter((f) => !done.has(f.version)).map((f) => f.name)
    return { ...base, url: redactUrl(url), reachable: true, migrations, pending }
  } catch (error) {
    return { ...notReachable((error as Error).message), url: redactUrl(url) }
  } finally {
    await sql.end({ timeout: 1 })
  }
}

/**
 * A process's tag in application_name: `<pid>@<host>` (the host printable ASCII without
 * spaces, at most 32 bytes), which tells processes apart across hosts.
 */
export const processTag = (pid: number, host: string): string => `${pid}@${host.replace(/[^\x21-\x7e]/g, "?").slice(0, 32)}`

/**
 * The application_name of this process's connections: `aidp <pid>@<host> <command>` (e.g.
 * `aidp 4242@box jobs list`), printable ASCII, at most 63 bytes (PostgreSQL cuts longer names).
 * `aidp db stop` counts distinct processes among them, not pool connections; a rescuer ends
 * the sessions of a worker it found lost by the `aidp <pid>@<host> ` prefix (rescuer.ts).
 */
export function applicationName(pid: number = process.pid, argv: ReadonlyArray<string> = process.argv.slice(2), host: string = os.hostname()): string {
  // The command's words (`jobs list`), not its arguments or flag values.
  const words = argv.slice(0, 2)
  const end = words.findIndex((word) => !/^[a-z]+$/.test(word))
  const command = (end === -1 ? words : words.slice(0, end)).join(" ")
  return `aidp ${processTag(pid, host)} ${command}`.replace(/[^\x20-\x7e]/g, "?").slice(0, 63).trim()
}

/**
 * A postgres.js client for `url` with search_path = `schema`, notices silenced, a 5 s connect
 * timeout, reconnects {@link RECONNECT_DELAY_S} apart and application_name {@link applicationName}, supervised (`supervisedSql.ts`: its pool
 * can be replaced after the driver's known fault, its LISTEN re-establishes itself). Unix-socket
 * URLs (`?host=/dir` or a percent-encoded path as host) are supported.
 */
export function openSql(url: string, schema: string, options: ClientOptions = {}): Sql {
  const t = target(url, "url")
  return supervisedSql((overrides) =>
    postgres(t.url, {
      ...(t.socket ? { host: t.socket } : {}),
      max: options.max ?? 10,
      fetch_types: options.fetchTypes ?? true,
      connect_timeout: CONNECT_TIMEOUT_S,
      backoff: () => RECONNECT_DELAY_S,
      onnotice: () => {},
      connection: { application_name: applicationName(), search_path: schema, idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_TIMEOUT_MS },
      ...overrides,
    }),
  )
}

/** `url` with its password replaced by `***`, for display. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/?#]*):[^@/?#]*@/i, "$1:***@")
}

interface Target {
  /** The URL postgres.js can parse (socket host removed). */
  readonly url: string
  readonly socket?: string
  /** host:port or the socket file, for messages. */
  readonly address: string
}

function target(raw: string, variable: string): Target {
  // postgres.js (and WHATWG URL) reject an empty host, as in postgres://user@/db?host=/run/postgresql.
  const withHost = raw.replace(/^([a-z][a-z0-9+.-]*:\/\/)((?:[^@/?#]*@)?)(?=[:/?#]|$)/i, "$1$2localhost")
  let u: URL
  try {
    u = new URL(withHost)
  } catch {
    u = new URL("invalid:")
  }
  if (u.protocol !== "postgres:" && u.protocol !== "postgresql:") {
    throw new DatabaseSettingInvalid(`${variable} is not a PostgreSQL URL (expected postgres://user@host:port/database).`)
  }
  const port = u.port || "5432"
  const hostname = decodeURIComponent(u.hostname)
  const socket = u.searchParams.get("host") ?? (hostname.startsWith("/") ? hostname : undefined)
  if (!socket) return { url: withHost, address: `${u.hostname}:${port}` }
  u.searchParams.delete("host")
  u.hostname = "localhost"
  return { url: u.toString(), socket, address: `${socket}/.s.PGSQL.${port}` }
}

/** Whether `schema` exists in the database (empty or not). */
const schemaExists = async (sql: Sql, schema: string): Promise<boolean> =>
  (await sql`select 1 from pg_namespace where nspname = ${schema}`).length > 0

/**
 * Runs `select 1`, turning any failure into {@link DatabaseUnreachable}. Bounded by its own timer:
 * postgres.js keeps reconnecting forever when something other than PostgreSQL answers.
 */
async function probe(sql: Sql, url: string, source: DatabaseSource): Promise<void> {
  try {
    await withDeadline(sql`select 1`.execute(), PROBE_TIMEOUT_MS, () => Object.assign(new Error("timeout"), { code: "CONNECT_TIMEOUT" }))
  } catch (error) {
    throw unreachable(error as NodeJS.ErrnoException, target(url, source).address, source)
  }
}

/** Connection failures a server that is down or restarting gives; waiting may cure them. */
const TRANSIENT_CODES = new Set(["ECONNREFUSED", "CONNECT_TIMEOUT", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOENT", "EAI_AGAIN"])

function unreachable(error: NodeJS.ErrnoException, address: string, source: DatabaseSource): DatabaseUnreachable {
  const fix = source === "embedded" ? "Run `aidp db stop` and try again." : `Start PostgreSQL or fix ${source}.`
  const reasons: Record<string, string> = {
    ECONNREFUSED: "connection refused",
    CONNECT_TIMEOUT: `no PostgreSQL answer within ${CONNECT_TIMEOUT_S} s`,
    ETIMEDOUT: `no answer within ${CONNECT_TIMEOUT_S} s`,
    ENOTFOUND: "unknown host",
    EAI_AGAIN: "unknown host",
    EHOSTUNREACH: "host unreachable",
    ENETUNREACH: "network unreachable",
    ENOENT: "no such socket",
    EACCES: "permission denied",
  }
  const reason = reasons[error.code ?? ""]
  if (reason) return new DatabaseUnreachable(`Cannot reach PostgreSQL at ${address} (${reason}). ${fix}`, address, TRANSIENT_CODES.has(error.code!))
  // The server is up but not ready: starting up, shutting down, in recovery (SQLSTATE 57P03, 57P01).
  if (error.code === "57P03" || error.code === "57P01") {
    return new DatabaseUnreachable(`PostgreSQL at ${address} is not accepting connections yet (${error.message.replace(/\.$/, "")}). ${fix}`, address, true)
  }
  const detail = error.message.replace(/\.$/, "")
  const hint = source === "embedded" ? fix : `Fix ${source}.`
  return new DatabaseUnreachable(`Cannot connect to PostgreSQL at ${address} (${detail}). ${hint}`, address)
}
