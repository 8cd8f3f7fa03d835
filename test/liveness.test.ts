/**
 * The liveness probe (src/config/liveness.ts) against the test PostgreSQL through a proxy:
 * answers, a partition (no answer by the deadline), refused connections, and the return.
 */
import assert from "node:assert/strict"
import { after, before, describe, it } from "node:test"
import { openSql } from "../src/config/database.js"
import { watchLiveness } from "../src/config/liveness.js"
import { renewConnections } from "../src/config/supervisedSql.js"
import { createTestDb, type TestDb } from "./support/db.js"
import { type DbProxy, startDbProxy } from "./support/proxy.js"
import { waitFor } from "./support/wait.js"

describe("watchLiveness", () => {
  let db: TestDb
  let proxy: DbProxy
  before(async () => {
    db = await createTestDb()
    proxy = await startDbProxy()
  })
  after(async () => {
    await proxy?.close()
    await db?.drop()
  })

  it("reports answers, misses by the deadline or refusal, and the return, and opens a fresh client after a miss", { timeout: 30_000 }, async () => {
    const outcomes: Array<string | null> = []
    let opened = 0
    const open = () => {
      opened += 1
      return openSql(proxy.url, db.schema, { max: 1, fetchTypes: false })
    }
    const stop = watchLiveness(open, (error) => outcomes.push(error), { intervalMs: 50, deadlineMs: 300 })
    const next = (what: string, holds: (error: string | null) => boolean): Promise<boolean> => {
      const from = outcomes.length
      return waitFor(what, () => outcomes.slice(from).some(holds), 10_000, 10)
    }
    try {
      await next("an answer", (e) => e === null)
      assert.equal(opened, 1, "one client while the database answers")
      proxy.partition()
      await next("a miss by the deadline", (e) => e === "no answer in 300 ms")
      proxy.heal()
      await next("an answer after the partition", (e) => e === null)
      assert.ok(opened >= 2, "a fresh client after a miss")
      await proxy.stop()
      await next("a refusal", (e) => e !== null && /ECONNREFUSED/.test(e))
      await proxy.start()
      await next("an answer after the refusal", (e) => e === null)
    } finally {
      await stop()
    }
  })

  it("renewConnections fails the queries waiting on a connection opened during a partition at once, and the client answers on fresh ones", { timeout: 30_000 }, async () => {
    const sql = openSql(proxy.url, db.schema, { max: 1, fetchTypes: false })
    try {
      proxy.partition()
      // Its connection is opened now: the server's greeting is held by the partition.
      const waiting = sql`select 1 as one`.execute()
      waiting.catch(() => undefined)
      renewConnections(sql)
      await assert.rejects(waiting, (error: { code?: string }) => {
        assert.match(String(error.code), /^CONNECTION_(ENDED|DESTROYED|CLOSED)$/, "ended by the renewal, not by the 5 s connect timeout")
        return true
      })
      proxy.heal()
      const [row] = await sql<Array<{ one: number }>>`select 1 as one`
      assert.equal(row!.one, 1)
    } finally {
      proxy.heal()
      await sql.end({ timeout: 0 })
    }
  })
})
