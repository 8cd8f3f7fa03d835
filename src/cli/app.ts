/**
 * The edge where a command gets its world: validated settings, the logger, the database
 * connection, and the Effect layers (SqlClient, EventStore, CommandHandler) over it.
 */
import { closeSync, openSync, statSync } from "node:fs"
import path from "node:path"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { setTimeout as sleep } from "node:timers/promises"
import { connect, DatabaseUnreachable, type Db } from "../config/database.js"
import { checkProviderBins, InvalidSetting, readSettings, type Settings } from "../config/env.js"
import { createLogger, type Logger, type TerminalLogging } from "../config/logger.js"
import { guardDriverFault } from "../config/supervisedSql.js"
import { channelFor } from "../events/sqlClient.js"
import { type JobServices, jobServicesLayer } from "../projections/services.js"
import { makeOutageReporter, OUTAGE_RETRY_MS } from "../workers/outage.js"

/** Services every command's Effect programs may use. */
export type AppServices = JobServices

/** An open application: run Effect programs with {@link App.run}; close it when done. */
export interface App {
  readonly settings: Settings
  readonly logger: Logger
  readonly db: Db
  readonly env: NodeJS.ProcessEnv
  /**
   * Runs a program with the app's services; rejects with its typed error or defect.
   * Aborting `signal` interrupts it (the promise then rejects with the interruption).
   */
  readonly run: <A, E>(effect: Effect.Effect<A, E, AppServices>, signal?: AbortSignal) => Promise<A>
  /**
   * Runs a long program until it ends or `signal` aborts; an interruption by the signal
   * resolves (a graceful stop), any other failure rejects as {@link App.run} does.
   */
  readonly runUntil: <A, E>(effect: Effect.Effect<A, E, AppServices>, signal: AbortSignal) => Promise<A | undefined>
  /** Interrupts running programs and closes the database connection. */
  readonly close: () => Promise<void>
}

/**
 * Checks AIDP_LOG_FILE can be appended to, in a folder that exists (aidp creates no folder:
 * a typo would otherwise make one anywhere), so a bad path is one sentence naming the
 * variable: pino would throw a bare EISDIR/EEXIST, or spin forever retrying a path it cannot
 * create (e.g. under /proc).
 */
const checkLogFile = (file: string | null): void => {
  if (file === null) return
  const dir = path.dirname(path.resolve(file))
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
    throw new InvalidSetting({
      message: `Invalid AIDP_LOG_FILE=${JSON.stringify(file)}: its folder ${dir} does not exist; create it first or name a file in an existing folder.`
    })
  }
  try {
    closeSync(openSync(file, "a"))
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error)
    throw new InvalidSetting({ message: `Invalid AIDP_LOG_FILE=${JSON.stringify(file)}: cannot append to it (${code}); name a file aidp may write.` })
  }
}

/** Settings only (no database): for commands that fail fast on a bad environment. */
export const loadSettings = (env: NodeJS.ProcessEnv): Settings => {
  const settings = readSettings(env)
  checkProviderBins(env)
  checkLogFile(settings.logFile)
  return settings
}

/** Options of {@link openApp}. */
export interface OpenOptions {
  readonly terminal: TerminalLogging
  readonly env?: NodeJS.ProcessEnv
  /**
   * Apply pending migrations (default true; `aidp doctor` only looks; `"installed"`: refuse a
   * schema named by AIDP_DB_SCHEMA that holds no installation, see database.ts `connect`).
   */
  readonly migrate?: boolean | "installed"
}

/**
 * Opens the app: validates the environment, connects (starting the embedded server or
 * migrating as needed) and builds the layers. Throws the configuration's and the
 * database's user-facing errors.
 */
export const openApp = async (options: OpenOptions): Promise<App> => (await open(options, undefined))!

/**
 * {@link openApp} for a long-running command (`aidp worker`): a database that is not up yet
 * (refused, no answer: {@link DatabaseUnreachable} `transient`) is reported as an outage
 * (outage.ts: one line, and one when it ends) and tried again every {@link OUTAGE_RETRY_MS}
 * until it answers. Resolves null when `signal` aborts first;
 * other errors throw as in openApp.
 */
export const openAppWhenReachable = (options: OpenOptions, signal: AbortSignal): Promise<App | null> => open(options, signal)

const open = async (options: OpenOptions, waitUntil: AbortSignal | undefined): Promise<App | null> => {
  const env = options.env ?? process.env
  const settings = loadSettings(env)
  const logger = createLogger(settings, options.terminal)
  guardDriverFault(() => logger.warn("the PostgreSQL driver failed on a closed connection (a known postgres.js fault); its connections were replaced"))
  // The embedded server can take seconds to start: say so (on stderr, before any screen is drawn).
  const tryConnect = () => connect({ env, migrate: options.migrate, onStarting: (message) => process.stderr.write(`${message}\n`) })
  const outage = makeOutageReporter(logger, OUTAGE_RETRY_MS)
  let db: Db | undefined
  while (db === undefined) {
    try {
      db = await tryConnect()
    } catch (error) {
      if (waitUntil === undefined || !(error instanceof DatabaseUnreachable) || !error.transient) throw error
      outage.failed(error.message)
      const stopped = await sleep(OUTAGE_RETRY_MS, undefined, { signal: waitUntil }).then(() => false, () => true)
      if (stopped) return null
    }
  }
  outage.succeeded()
  const runtime = ManagedRuntime.make(jobServicesLayer({ sql: db.sql, schema: db.schema, channel: channelFor(db.schema) }))
  return {
    settings,
    logger,
    db,
    env,
    run: async (effect, signal) => unwrapExit(await runtime.runPromiseExit(effect, { signal })),
    runUntil: async (effect, signal) => {
      const exit = await runtime.runPromiseExit(effect, { signal })
      if (Exit.isFailure(exit) && signal.aborted && Cause.hasInterruptsOnly(exit.cause)) return undefined
      return unwrapExit(exit)
    },
    close: async () => {
      await runtime.dispose()
      await db.close()
    }
  }
}

/**
 * Opens the app, runs `body`, and always closes it. `migrate` as in {@link OpenOptions}:
 * commands that only read or act on existing jobs pass `"installed"`.
 */
export const withApp = async <A>(terminal: TerminalLogging, body: (app: App) => Promise<A>, migrate: OpenOptions["migrate"] = true): Promise<A> => {
  const app = await openApp({ terminal, migrate })
  try {
    return await body(app)
  } finally {
    await app.close()
  }
}

/** Turns a failed Exit into the error to throw: the typed failure, else the defect. */
const unwrapExit = <A, E>(exit: Exit.Exit<A, E>): A => {
  if (Exit.isSuccess(exit)) return exit.value
  throw Cause.squash(exit.cause)
}
