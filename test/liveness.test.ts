/**
 * The liveness probe (src/config/liveness.ts) against the test PostgreSQL through a proxy:
 * answers, a partition (no answer by the deadline), refused connections, and the return.
 */
import assert from "node:assert/strict"
import { after, before, describe, it } from "node:test"
import { openSql } from "../src/config/database.js"
import { watchLiveness } from "../src/config/liveness.js"
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
})
