/**
 * A supervised postgres.js client: one `Sql` whose connection pool can be replaced under its
 * users, and a LISTEN that comes back by itself.
 *
 * - postgres.js 3.4.9 (the latest) can write to a connection whose socket is already gone,
 *   from a `setImmediate` (`TypeError: Cannot read properties of null (reading 'write')` at
 *   `Immediate.nextWrite (postgres/src/connection.js)`; upstream porsager/postgres#1154, #1208,
 *   unfixed). The exception escapes every caller, and the connection it leaves behind never
 *   sends again. {@link guardDriverFault} recognizes exactly that exception and replaces the
 *   pools of every supervised client; any other uncaught exception still ends the process.
 * - postgres.js drops every listener of a socket it is done with (`removeAllListeners`), and
 *   can do so for a socket that is still open (a stale 'close' of an earlier socket of the same
 *   connection): a later ECONNRESET on it has no 'error' listener and ends the process
 *   (`Error: read ECONNRESET at TCP.onStreamRead`, seen in the restart soak). Supervised clients
 *   open their sockets themselves ({@link DriverSocket}): a socket the driver let go of is
 *   destroyed on its late error instead.
 * - postgres.js re-LISTENs once after its listening connection closes and gives up for good if
 *   the server is not back at that instant (a restart). Here LISTEN has a connection of its own
 *   that is re-established with backoff after every close, each success calling the
 *   listeners' `onlisten` again (they re-sync from the tables).
 */
import net from "node:net"
import type postgres from "postgres"

type Sql = postgres.Sql
/** Options a supervised client adds to its pool's (LISTEN connection, notification hooks). */
export type ClientOverrides = Partial<postgres.Options<Record<string, postgres.PostgresType>>> & {
  /** Every NOTIFY arriving on the client's connections (postgres.js option, untyped there). */
  readonly onnotify?: (channel: string, payload: string) => void
  /** Opens a connection's socket (postgres.js option, untyped there); see {@link DriverSocket}. */
  readonly socket?: (options: DriverSocketOptions) => net.Socket
}

/** What postgres.js passes to its `socket` option: its parsed hosts, ports and Unix socket path. */
interface DriverSocketOptions {
  readonly host: ReadonlyArray<string>
  readonly port: ReadonlyArray<number>
  readonly path: string | false
}

/**
 * A driver connection's socket. When postgres.js removes all its listeners (it is done with
 * the socket, rightly or not), an error listener of ours stays that destroys the socket, so a
 * late error cannot become an uncaught exception. While the driver listens, it handles errors.
 */
class DriverSocket extends net.Socket {
  override removeAllListeners(event?: string | symbol): this {
    super.removeAllListeners(event)
    if (event === undefined || event === "error") super.on("error", () => this.destroy())
    return this
  }
}

/**
 * Connects a {@link DriverSocket} to the first host (aidp names one server); writes made
 * before it is connected are queued by Node. `host` and `port` are set for the driver's
 * error messages.
 */
const driverSocket = (options: DriverSocketOptions): net.Socket => {
  const socket = Object.assign(new DriverSocket(), { host: options.host[0], port: options.port[0] })
  if (options.path) socket.connect(options.path)
  else socket.connect(options.port[0] ?? 5432, options.host[0] ?? "localhost")
  return socket
}

/**
 * First and largest wait between attempts to LISTEN again, ms: short, so that the monitor and
 * idle workers hear of changes again within a second of the database being back.
 */
const RELISTEN_BACKOFF_MS = { first: 100, max: 500 } as const
/** How long a replaced pool may finish its queries before it is destroyed, s. */
const REPLACED_POOL_END_S = 5

/** The driver's write on a closed socket, by message and by its first stack frame. */
const DRIVER_WRITE_FAULT_MESSAGE = "Cannot read properties of null (reading 'write')"
const DRIVER_WRITE_FAULT_FRAME = /^\s*at (?:Immediate\.)?nextWrite \([^)]*[\\/]postgres[\\/](?:cjs[\\/])?src[\\/]connection\.c?js:\d+:\d+\)$/

/**
 * Whether `error` is postgres.js's write on a closed socket (see the module comment): a
 * TypeError with exactly that message whose first stack frame is `nextWrite` in the driver's
 * `connection.js`. Anything else, including the same message from our own code, is not.
 */
export const isDriverWriteFault = (error: unknown): boolean => {
  if (!(error instanceof TypeError) || error.message !== DRIVER_WRITE_FAULT_MESSAGE) return false
  const firstFrame = (error.stack ?? "").split("\n").find((line) => /^\s*at /.test(line))
  return firstFrame !== undefined && DRIVER_WRITE_FAULT_FRAME.test(firstFrame)
}

/**
 * Errors of a lost connection: postgres.js's own (`Errors.connection`), the socket's, and the
 * server's refusals while it shuts down or starts (SQLSTATE 57P01, 57P02, 57P03).
 */
const CONNECTION_LOST_CODES = new Set([
  "CONNECTION_CLOSED", "CONNECTION_DESTROYED", "CONNECTION_ENDED", "CONNECT_TIMEOUT",
  "ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH",
  "57P01", "57P02", "57P03"
])
/**
 * Whether `error` is a lost or refused database connection (a stopped, restarting or
 * unreachable server), something to wait out rather than report as a bug.
 */
export const isConnectionLost = (error: unknown): error is Error =>
  error instanceof Error && CONNECTION_LOST_CODES.has(String((error as NodeJS.ErrnoException).code))

const DRIVER_FRAME = /[\\/]postgres[\\/](?:cjs[\\/])?src[\\/][a-z]+\.c?js:\d+:\d+\)?$/
const NODE_FRAME = /\(node:[a-z_/]+:\d+:\d+\)$|at node:[a-z_/]+:\d+:\d+$/
/** A built-in's frame (`at Array.map (<anonymous>)`): no file, so never one of ours. */
const BUILTIN_FRAME = /\(<anonymous>\)$/

/**
 * Whether `error`, rejected with no handler, is a lost connection on a promise of the
 * driver's own: postgres.js 3.4.9 fetches the array types after each (re)connect from its
 * socket's data handler and drops the promise (`return fetchArrayTypes()` in
 * `ReadyForQuery`), so a connection lost during that query is an unhandled rejection (seen
 * in the restart soak: CONNECTION_CLOSED, ECONNREFUSED). Recognized by a lost-connection
 * code and a stack with no frame but the driver's, Node's and built-ins' (`Array.map`, seen
 * when a client's `end({ timeout })` destroys its connections): a query of ours carries its
 * caller's frames (the driver appends a tagged query's origin), so our own unhandled query
 * is never taken for it.
 */
export const isDriverConnectionRejection = (error: unknown): boolean => {
  if (!isConnectionLost(error)) return false
  const frames = (error.stack ?? "").split("\n").filter((line) => /^\s*at /.test(line))
  return frames.length > 0 && frames.every((frame) => DRIVER_FRAME.test(frame) || NODE_FRAME.test(frame) || BUILTIN_FRAME.test(frame))
}

interface Supervised {
  /** Opens fresh pools; the old ones end after `endOldAfterS` s (their queries may finish meanwhile). */
  readonly replacePools: (endOldAfterS?: number) => void
}

/** Supervised clients not yet ended, whose pools a driver fault replaces. */
const supervised = new Set<Supervised>()
/** Each supervised client's handle, by the `Sql` its users hold. */
const handles = new WeakMap<Sql, Supervised>()

/**
 * Gives supervised client `sql` fresh connections and ends its old ones at once, failing the
 * queries still on them (CONNECTION_ENDED). For a database that answers again after an
 * outage: a connection opened during a partition can still be waiting for the server (up to
 * the connect timeout, 5 s), and queries queued on it with it. No-op for a client that is not
 * supervised or has ended.
 */
export const renewConnections = (sql: Sql): void => handles.get(sql)?.replacePools(0)
let faultListeners: Array<() => void> = []
let guarded = false

/**
 * Whether {@link guardDriverFault} takes care of `error`, which reached the process's
 * 'uncaughtException' listeners with `origin` ('uncaughtException' or 'unhandledRejection'):
 * the driver's write on a closed socket, or a lost connection rejected on its own promise.
 * Other listeners (the monitor's) let such an error pass instead of failing on it.
 */
export const isHandledDriverFault = (error: unknown, origin: string): boolean =>
  isDriverWriteFault(error) || (origin === "unhandledRejection" && isDriverConnectionRejection(error))

const onUncaught = (error: unknown, origin: string): void => {
  if (!isHandledDriverFault(error, origin)) {
    // Not ours to hide: leave the process to Node's default (message, stack, exit 1).
    process.off("uncaughtException", onUncaught)
    guarded = false
    process.nextTick(() => {
      throw error
    })
    return
  }
  for (const client of supervised) client.replacePools()
  for (const listener of faultListeners) listener()
}

/**
 * Installs (once) the process's handler for the driver's write on a closed socket and for its
 * connection errors rejected on its own promises ({@link isDriverConnectionRejection}): either
 * replaces the pools of every supervised client and calls `onFault` (to log it); every other
 * uncaught exception or unhandled rejection is rethrown, ending the process as before.
 */
export const guardDriverFault = (onFault?: () => void): void => {
  if (onFault) faultListeners = [...faultListeners, onFault]
  if (guarded) return
  guarded = true
  process.on("uncaughtException", onUncaught)
}

const quoted = (channel: string): string => `"${channel.replaceAll('"', '""')}"`

interface Listener {
  readonly fn: (payload: string) => void
  readonly onlisten: (() => void) | undefined
}

/**
 * Wraps `open(overrides)` (which makes a postgres.js client with the caller's settings plus
 * `overrides`) into one client whose pools can be replaced (see {@link guardDriverFault})
 * and whose `listen` re-establishes itself; its connections use {@link DriverSocket}s. `end`
 * ends whatever pools it holds.
 */
export const supervisedSql = (openClient: (overrides: ClientOverrides) => Sql): Sql => {
  const open = (overrides: ClientOverrides) => openClient({ socket: driverSocket, ...overrides })
  let current = open({})
  let listenClient: Sql | null = null
  let ended = false
  const channels = new Map<string, Set<Listener>>()
  let relistenWanted = false
  let relistening = false

  const notify = (channel: string, payload: string) => {
    for (const listener of channels.get(channel) ?? []) listener.fn(payload)
  }
  /** The LISTEN connection (one, reconnected on demand by its pool of one). */
  const listener = (): Sql =>
    listenClient ??= open({
      max: 1,
      max_lifetime: null,
      fetch_types: false,
      onnotify: notify,
      onclose: () => {
        if (!ended && channels.size > 0) void relisten()
      }
    })
  /** LISTENs every channel again until one pass succeeds, then tells the listeners. */
  const relisten = async (): Promise<void> => {
    relistenWanted = true
    if (relistening) return
    relistening = true
    let delay: number = RELISTEN_BACKOFF_MS.first
    try {
      while (relistenWanted && !ended && channels.size > 0) {
        relistenWanted = false
        try {
          const sql = listener()
          for (const channel of [...channels.keys()]) await sql.unsafe(`listen ${quoted(channel)}`)
          delay = RELISTEN_BACKOFF_MS.first
          for (const set of channels.values()) for (const each of set) each.onlisten?.()
        } catch {
          relistenWanted = true
          await new Promise((resolve) => setTimeout(resolve, delay).unref())
          delay = Math.min(delay * 2, RELISTEN_BACKOFF_MS.max)
        }
      }
    } finally {
      relistening = false
    }
  }

  const listen = async (channel: string, fn: (payload: string) => void, onlisten?: () => void) => {
    const entry: Listener = { fn, onlisten }
    const set = channels.get(channel)
    if (set) set.add(entry)
    else {
      channels.set(channel, new Set([entry]))
      try {
        await listener().unsafe(`listen ${quoted(channel)}`)
      } catch (error) {
        channels.delete(channel)
        throw error
      }
    }
    onlisten?.()
    const unlisten = async (): Promise<void> => {
      const listeners = channels.get(channel)
      if (!listeners?.delete(entry) || listeners.size > 0) return
      channels.delete(channel)
      await listenClient?.unsafe(`unlisten ${quoted(channel)}`)
    }
    return { state: { pid: 0, secret: 0 }, unlisten }
  }

  const self: Supervised = {
    replacePools: (endOldAfterS = REPLACED_POOL_END_S) => {
      if (ended) return
      const old = [current, listenClient]
      current = open({})
      listenClient = null
      for (const sql of old) void sql?.end({ timeout: endOldAfterS }).catch(() => undefined)
      if (channels.size > 0) void relisten()
    }
  }
  supervised.add(self)

  const end = async (options?: { timeout?: number }) => {
    ended = true
    supervised.delete(self)
    await Promise.all([current.end(options), listenClient?.end({ timeout: 0 })])
  }

  const proxy = new Proxy((() => undefined) as unknown as Sql, {
    apply: (_target, thisArg, args) => Reflect.apply(current as unknown as (...a: Array<unknown>) => unknown, thisArg, args),
    get: (_target, property) => {
      if (property === "listen") return listen
      if (property === "end") return end
      return Reflect.get(current, property)
    }
  })
  handles.set(proxy, self)
  return proxy
}
