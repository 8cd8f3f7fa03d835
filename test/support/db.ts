/**
 * Test helper: a throwaway schema `t_<random>` in the test database (AIDP_TEST_DATABASE_URL,
 * default postgres://root@127.0.0.1:5432/test) with the project's migrations applied.
 *
 *   const db = await createTestDb()
 *   after(() => db.drop())
 *
 * To run aidp against it in a child process, pass AIDP_DATABASE_URL=db.url, AIDP_DB_SCHEMA=db.schema.
 */
import { randomBytes } from "node:crypto"
import type { Sql, TransactionSql } from "postgres"
import { openSql } from "../../src/config/database.js"
import { migrate } from "../../src/config/migrate.js"
import { waitFor } from "./wait.js"

/** The test database URL. */
export const testDatabaseUrl = process.env.AIDP_TEST_DATABASE_URL ?? "postgres://root@127.0.0.1:5432/test"

/** A throwaway schema; `sql` has search_path = `schema`; `drop()` drops it (cascade) and ends `sql`. */
export interface TestDb {
  readonly url: string
  readonly schema: string
  readonly sql: Sql
  drop(): Promise<void>
}

/** Creates the schema and applies migrations from `migrationsDir` (default: the project's `sql/`). */
export async function createTestDb(options: { migrationsDir?: string; migrate?: boolean } = {}): Promise<TestDb> {
  const schema = `t_${randomBytes(6).toString("hex")}`
  const sql = openSql(testDatabaseUrl, schema)
  if (options.migrate === false) await sql.unsafe(`create schema ${schema}`)
  else await migrate(sql, schema, options.migrationsDir)
  return {
    url: testDatabaseUrl,
    schema,
    sql,
    drop: async () => {
      await sql.unsafe(`drop schema if exists ${schema} cascade`)
      await sql.end({ timeout: 5 })
    },
  }
}

/**
 * Resolves once another session waits for a lock that transaction `tx` holds (PostgreSQL's
 * pg_blocking_pids), e.g. a command that reached the row `tx` locked; only sessions that
 * `tx` itself blocks count, so other tests and other runs never do. `sql` must be a client
 * other than `tx`'s. Throws after `timeoutMs`.
 */
export const waitUntilBlocking = async (sql: Sql, tx: TransactionSql, timeoutMs = 15_000): Promise<void> => {
  const [own] = await tx<Array<{ pid: number }>>`select pg_backend_pid() as pid`
  await waitFor("a session waiting for a lock of this transaction", async () => {
    const [row] = await sql<Array<{ n: number }>>`
      select count(*)::int as n from pg_stat_activity where ${own!.pid}::int = any(pg_blocking_pids(pid))`
    return row!.n > 0
  }, timeoutMs, 20)
}
