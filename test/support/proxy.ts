/**
 * Test helper: a TCP proxy in front of the test PostgreSQL that can cut a process off from
 * the database the way a network partition does (every connection, open or new, stops
 * passing bytes; nothing is reset, queries just hang) until `heal()`, or the way a stopped
 * server does (open connections are closed, new ones refused) until `start()`.
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
  readonly close: () => Promise<void>
}

export const startDbProxy = async (): Promise<DbProxy> => {
  const target = new URL(testDatabaseUrl)
  const sockets = new Set<net.Socket>()
  const held: Array<() => void> = []
  let cut = false
  const forward = (from: net.Socket, to: net.Socket) =>
    from.on("data", (chunk) => {
      if (cut) held.push(() => to.write(chunk))
      else to.write(chunk)
    })
  const accept = (client: net.Socket): void => {
    // A connection the kernel took just before stop() must not outlive it.
    if (!server.listening) return void client.destroy()
    const upstream = net.connect(Number(target.port || 5432), target.hostname)
    sockets.add(client)
    sockets.add(upstream)
    forward(client, upstream)
    forward(upstream, client)
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
    close: () => (server.listening ? stop() : Promise.resolve())
  }
}
