/**
 * Test helpers: TCP proxies in front of the test PostgreSQL. `startDbProxy` cuts a process off
 * from the database the way a network partition does: every connection, open or new, stops
 * passing bytes (nothing is reset; queries just hang) until `heal()`. `stoppableProxy` acts
 * as a server that is stopped (connections closed and refused) and started again.
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
  const server = net.createServer((client) => {
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
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const url = new URL(testDatabaseUrl)
  url.hostname = "127.0.0.1"
  url.port = String((server.address() as net.AddressInfo).port)
  return {
    url: url.toString(),
    partition: () => void (cut = true),
    heal: () => {
      cut = false
      for (const write of held.splice(0)) write()
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      })
  }
}

/** A database that can be stopped and started again, as seen by its clients. */
export interface StoppableProxy {
  /** The target's URL, through the proxy. */
  readonly url: string
  /** Closes every connection and refuses new ones (ECONNREFUSED), as a stopped server does. */
  readonly stop: () => Promise<void>
  /** Listens again on the same port. */
  readonly start: () => Promise<void>
}

/** A TCP forwarder to the test database that can be stopped (connections refused) and started again on its port. */
export async function stoppableProxy(target: URL): Promise<StoppableProxy> {
  const sockets = new Set<net.Socket>()
  let server: net.Server | null = null
  let port = 0
  const start = (): Promise<void> =>
    new Promise((resolve) => {
      server = net.createServer((client) => {
        const upstream = net.connect(Number(target.port || 5432), target.hostname)
        const close = (): void => {
          client.destroy()
          upstream.destroy()
          sockets.delete(client)
          sockets.delete(upstream)
        }
        for (const socket of [client, upstream]) {
          sockets.add(socket)
          socket.on("error", close).on("close", close)
        }
        client.pipe(upstream)
        upstream.pipe(client)
      })
      server.listen(port, "127.0.0.1", () => {
        port = (server!.address() as net.AddressInfo).port
        resolve()
      })
    })
  await start()
  const url = new URL(target)
  url.hostname = "127.0.0.1"
  url.port = String(port)
  return {
    url: url.toString(),
    start,
    stop: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy()
        server?.close(() => resolve())
      })
  }
}
