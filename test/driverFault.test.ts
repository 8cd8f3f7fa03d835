/**
 * Issue 6, item 1: no worker dies of the driver. Which uncaught errors are the driver's own
 * (table-driven), and postgres.js's write on a closed socket (porsager/postgres#1208)
 * reproduced for real in a child process: under
 * guardDriverFault the process lives, its pool is replaced and answers the next query;
 * the same exception thrown by our own code still ends the process. LISTEN comes back by
 * itself (and re-syncs) after its connection is terminated.
 */
import assert from "node:assert/strict"
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { after, before, describe, it } from "node:test"
import type { Sql } from "postgres"
import { openSql } from "../src/config/database.js"
import { isDriverConnectionRejection, isDriverWriteFault } from "../src/config/supervisedSql.js"
import { subscribe } from "../src/events/listener.js"
import { createTestDb, testDatabaseUrl, type TestDb } from "./support/db.js"
import { connectionError, driverWriteFault, withStack } from "./support/stacks.js"
import { waitFor } from "./support/wait.js"

const FIXTURE = fileURLToPath(new URL("./fixtures/driver-fault.ts", import.meta.url))

const runFixture = (db: TestDb, mode: string) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, ["--import", "tsx", FIXTURE, db.url, db.schema, mode], { timeout: 30_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === "number" ? error.code : null) : 0, stdout, stderr }))
  })

const MESSAGE = "Cannot read properties of null (reading 'write')"

describe("isDriverWriteFault", () => {
  const cases: ReadonlyArray<readonly [string, unknown, boolean]> = [
    ["the driver's fault from its setImmediate (ESM)", driverWriteFault(), true],
    ["the driver's fault from a synchronous write (CommonJS build)", withStack(new TypeError(MESSAGE), "nextWrite (/app/node_modules/postgres/cjs/src/connection.js:255:22)", "write (/app/node_modules/postgres/cjs/src/connection.js:249:14)"), true],
    ["the same message from our own code", withStack(new TypeError(MESSAGE), "Immediate.nextWrite (file:///app/dist/workers/pool.js:10:3)"), false],
    ["another frame of the driver first", withStack(new TypeError(MESSAGE), "closed (file:///app/node_modules/postgres/src/connection.js:440:5)"), false],
    ["another message from nextWrite", withStack(new TypeError("Cannot read properties of undefined (reading 'write')"), "Immediate.nextWrite (file:///app/node_modules/postgres/src/connection.js:255:22)"), false],
    ["not a TypeError", withStack(new Error(MESSAGE), "Immediate.nextWrite (file:///app/node_modules/postgres/src/connection.js:255:22)"), false],
    ["not an error", MESSAGE, false]
  ]
  for (const [name, error, expected] of cases) it(name, () => assert.equal(isDriverWriteFault(error), expected))
})

describe("isDriverConnectionRejection", () => {
  const closedFrames = ["DriverSocket.closed (file:///app/node_modules/postgres/src/connection.js:453:57)", "DriverSocket.emit (node:events:524:28)", "TCP.<anonymous> (node:net:343:12)"]
  const cases: ReadonlyArray<readonly [string, unknown, boolean]> = [
    ["CONNECTION_CLOSED on the driver's own promise (seen in the soak)", connectionError("CONNECTION_CLOSED", ...closedFrames), true],
    ["CONNECTION_DESTROYED from the driver's terminate", connectionError("CONNECTION_DESTROYED", "terminate (/app/node_modules/postgres/cjs/src/connection.js:424:7)", "Timeout.destroy [as _onTimeout] (/app/node_modules/postgres/cjs/src/index.js:385:5)", "listOnTimeout (node:internal/timers:581:17)", "process.processTimers (node:internal/timers:519:7)"), true],
    ["the same error on a query of ours (its origin appended)", connectionError("CONNECTION_CLOSED", ...closedFrames, "claimNext (file:///app/dist/workers/claimer.js:40:20)"), false],
    ["CONNECTION_DESTROYED from end({ timeout }) (seen when the monitor drops its probe's client)", connectionError("CONNECTION_DESTROYED", "Object.terminate (file:///app/node_modules/postgres/src/connection.js:425:20)", "file:///app/node_modules/postgres/src/index.js:385:46", "Array.map (<anonymous>)", "Timeout.destroy [as _onTimeout] (file:///app/node_modules/postgres/src/index.js:385:35)", "listOnTimeout (node:internal/timers:583:11)", "process.processTimers (node:internal/timers:519:7)"), true],
    ["ECONNREFUSED of a reconnect, on the driver's type fetch (seen in the soak)", connectionError("ECONNREFUSED", "TCPConnectWrap.afterConnect [as oncomplete] (node:net:1611:16)"), true],
    ["another code", connectionError("ENOENT", ...closedFrames), false],
    ["ECONNREFUSED with a frame of ours", connectionError("ECONNREFUSED", "TCPConnectWrap.afterConnect [as oncomplete] (node:net:1611:16)", "heartbeat (file:///app/dist/workers/heartbeat.js:20:5)"), false],
    ["raised outside the driver", connectionError("CONNECTION_CLOSED", "closed (file:///app/dist/events/listener.js:10:3)"), false],
    ["not an error", "CONNECTION_CLOSED", false]
  ]
  for (const [name, error, expected] of cases) it(name, () => assert.equal(isDriverConnectionRejection(error), expected))
})

describe("the driver's write on a closed socket, for real", () => {
  let db: TestDb
  before(async () => {
    db = await createTestDb({ migrate: false })
  })
  after(async () => {
    await db?.drop()
  })

  it("does not end the process: the pool is replaced and the next query is answered", { timeout: 40_000 }, async () => {
    const result = await runFixture(db, "driver")
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual(JSON.parse(result.stdout), { faults: 1, after: 1 })
  })

  it("the same exception from our own code still ends the process, with its stack", { timeout: 40_000 }, async () => {
    const result = await runFixture(db, "ours")
    assert.equal(result.code, 1, result.stderr)
    assert.match(result.stderr, /TypeError: Cannot read properties of null \(reading 'write'\)\n\s+at Immediate\.<anonymous> \(.*driver-fault\.ts/)
  })
})

describe("LISTEN after its connection is terminated", () => {
  let db: TestDb
  let sql: Sql
  before(async () => {
    db = await createTestDb({ migrate: false })
    sql = openSql(testDatabaseUrl, db.schema, { max: 2 })
  })
  after(async () => {
    await sql?.end({ timeout: 1 })
    await db?.drop()
  })

  it("comes back by itself, re-syncs, and delivers the next notification", { timeout: 40_000 }, async () => {
    const channel = `aidp_test_listen_${db.schema}`
    const payloads: Array<string> = []
    let resyncs = 0
    const stop = await subscribe(sql, channel, {
      onNotification: (n) => payloads.push(n.j),
      onResync: () => void (resyncs += 1)
    })
    try {
      assert.equal(resyncs, 1)
      const [terminated] = await db.sql<Array<{ n: number }>>`
        select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
        where query = ${`listen "${channel}"`}`
      assert.equal(terminated!.n, 1, "the listening connection was found and terminated")
      await waitFor("LISTEN again (a re-sync)", () => resyncs >= 2, 20_000, 20)
      await db.sql`select pg_notify(${channel}, ${JSON.stringify({ p: 1, j: "after", t: "JobQueued" })})`
      await waitFor("the notification sent after the reconnect", () => payloads.includes("after"), 10_000, 20)
    } finally {
      await stop()
    }
  })
})
