/**
 * Test helper: a TCP proxy in front of the test PostgreSQL that can cut a process off from
 * the database the way a network partition does (every connection, open or new, stops
 * passing bytes; nothing is reset, queries just hang) until `heal()`, or the way a stopped
 * server does (open connections are closed, new ones refused) until `start()`. It can also lose
 * the reply to one COMMIT: the server commits, the client sees its connection drop.
 */
import net from "node:net"
import { testDatabaseUrl } from "./db.js"

export interface DbProxy {
  /** The test database URL, through the proxy. */
  readonly url: string
  /** Stops forwarding in both directions; bytes are held. */
  readonly partition: () => void
  /** Forwards the held bytes and everything after them. */
  readonly heal: () => void
  /** Closes every connection and stops listening: connections are refused (ECONNREFUSED). */
  readonly stop: () => Promise<void>
  /** Listens again on the same port. */
  readonly start: () => Promise<void>
  /**
   * Arms a lost commit reply: on the next connection whose client sends `marker` (e.g. an
   * event type appended in a transaction), the server's reply to the following COMMIT is
   * dropped and the connection closed, after the server committed. Resolves once done.
   */
  readonly loseCommitReply: (marker: string) => Promise<void>
  readonly close: () => Promise<void>
}

/** A matcher fed a byte stream chunk by chunk: true once `text` has passed, even split across chunks. */
const seen = (text: string) => {
  const needle = Buffer.from(text)
  let tail = Buffer.alloc(0)
  return (chunk: Buffer): boolean => {
    const window = Buffer.concat([tail, chunk])
    if (window.includes(needle)) return true
    tail = window.subarray(Math.max(0, window.length - needle.length + 1))
    return false
  }
}

export const startDbProxy = async (): Promise<DbProxy> => {
  const target = new URL(testDatabaseUrl)
  const sockets = new Set<net.Socket>()
  const held: Array<() => void> = []
  let cut = false
  /** The armed lost commit reply: its marker's matcher per connection, and its resolver. */
  let armed: { marker: string; done: () => void } | null = null
  const forward = (from: net.Socket, to: net.Socket, onChunk: (chunk: Buffer) => boolean = () => true) =>
    from.on("data", (chunk: Buffer) => {
      if (!onChunk(chunk)) return
      if (cut) held.push(() => to.write(chunk))
      else to.write(chunk)
    })
  const accept = (client: net.Socket): void => {
    // A connection the kernel took just before stop() must not outlive it.
    if (!server.listening) return void client.destroy()
    const upstream = net.connect(Number(target.port || 5432), target.hostname)
    sockets.add(client)
    sockets.add(upstream)
    // The lost commit reply: once this connection's client sent the armed marker, the server's
    // CommandComplete "COMMIT" reply is swallowed and the connection closed.
    let marked: ((chunk: Buffer) => boolean) | null = null
    let committed: ((chunk: Buffer) => boolean) | null = null
    forward(client, upstream, (chunk) => {
      if (armed && committed === null) {
        marked ??= seen(armed.marker)
        if (marked(chunk)) committed = seen("COMMIT\0")
      }
      return true
    })
    forward(upstream, client, (chunk) => {
      if (committed === null || !armed || !committed(chunk)) return true
      const { done } = armed
      armed = null
      close()
      done()
      return false
    })
    const close = () => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    for (const socket of [client, upstream]) {
      socket.on("error", close)
      socket.on("close", close)
    }
  }
  const server = net.createServer(accept)
  let port = 0
  const start = (): Promise<void> =>
    new Promise<void>((resolve) => {
      server.listen(port, "127.0.0.1", () => {
        port = (server.address() as net.AddressInfo).port
        resolve()
      })
    })
  const stop = (): Promise<void> =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy()
      server.close(() => resolve())
    })
  await start()
  const url = new URL(testDatabaseUrl)
  url.hostname = "127.0.0.1"
  url.port = String(port)
  return {
    url: url.toString(),
    partition: () => void (cut = true),
    heal: () => {
      cut = false
      for (const write of held.splice(0)) write()
    },
    stop,
    start,
    loseCommitReply: (marker) => new Promise<void>((resolve) => void (armed = { marker, done: resolve })),
    close: () => (server.listening ? stop() : Promise.resolve())
  }
}
