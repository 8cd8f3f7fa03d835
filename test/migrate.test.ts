/**
 * Database resolution and migrations against the real test PostgreSQL, each case in its own
 * throwaway schema, with migration files written to a temp dir.
 */
import assert from "node:assert/strict"
import { execFile } from "node:child_process"
import { randomBytes } from "node:crypto"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { after, before, test } from "node:test"
import { promisify } from "node:util"
import {
  connect,
  databaseStatus,
  DatabaseSettingInvalid,
  DatabaseUnreachable,
  IDLE_IN_TRANSACTION_TIMEOUT_MS,
  migrateDatabase,
  redactUrl,
} from "../src/config/database.js"
import { MigrationError } from "../src/config/migrate.js"
import { createTestDb, testDatabaseUrl, type TestDb } from "./support/db.js"
import { waitFor } from "./support/wait.js"

const run = promisify(execFile)
let dir: string
let badDir: string
let admin: TestDb
const schemas: string[] = []

/** A fresh schema name, dropped after the file. */
function schemaName(): string {
  const name = `t_m${Math.random().toString(36).slice(2, 10)}`
  schemas.push(name)
  return name
}

function env(schema: string): NodeJS.ProcessEnv {
  return { AIDP_DATABASE_URL: testDatabaseUrl, AIDP_DB_SCHEMA: schema }
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "aidp-migrate-"))
  // Not idempotent on purpose: applying a file twice fails. The sleep widens the race window.
  await writeFile(join(dir, "001_widgets.sql"), "create table widgets (id int primary key);\nselect pg_sleep(0.3);\n")
  await writeFile(join(dir, "002_gadgets.sql"), "create table gadgets (id int);\ninsert into widgets values (1);\n")
  await writeFile(join(dir, "notes.txt"), "not a migration")
  badDir = await mkdtemp(join(tmpdir(), "aidp-migrate-bad-"))
  await writeFile(join(badDir, "001_ok.sql"), "create table ok (id int);")
  await writeFile(join(badDir, "002_broken.sql"), "create tabel broken (id int);")
  admin = await createTestDb({ migrate: false })
})

after(async () => {
  for (const schema of schemas) await admin.sql.unsafe(`drop schema if exists ${schema} cascade`)
  await admin.drop()
  await rm(dir, { recursive: true, force: true })
  await rm(badDir, { recursive: true, force: true })
})

test("connect applies migrations into a new schema; migrating again applies nothing", async () => {
  const schema = schemaName()
  const db = await connect({ env: env(schema), migrationsDir: dir })
  try {
    assert.equal(db.schema, schema)
    const rows = await db.sql<{ version: number; name: string }[]>`select version, name from schema_migrations order by version`
    assert.deepEqual(rows.map((r) => [r.version, r.name]), [[1, "001_widgets.sql"], [2, "002_gadgets.sql"]])
    const [widgets] = await db.sql<{ n: number }[]>`select count(*)::int as n from widgets`
    assert.equal(widgets?.n, 1)
  } finally {
    await db.close()
  }
  assert.deepEqual(await migrateDatabase({ env: env(schema), migrationsDir: dir }), [])
  const status = await databaseStatus({ env: env(schema), migrationsDir: dir })
  assert.equal(status.reachable, true)
  assert.equal(status.source, "AIDP_DATABASE_URL")
  assert.deepEqual(status.migrations.map((m) => m.name), ["001_widgets.sql", "002_gadgets.sql"])
  assert.deepEqual(status.pending, [])
})

test("two processes migrating at once both succeed and apply each file once", async () => {
  const schema = schemaName()
  const module = new URL("../src/config/database.ts", import.meta.url).href
  const script = `import { migrateDatabase } from ${JSON.stringify(module)}
const applied = await migrateDatabase({ migrationsDir: ${JSON.stringify(dir)} })
console.log(JSON.stringify(applied.map((m) => m.name)))`
  const child = () =>
    run(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      env: { ...process.env, ...env(schema) },
    })
  const results = await Promise.all([child(), child()])
  const applied = results.flatMap((r) => JSON.parse(r.stdout) as string[]).sort()
  assert.deepEqual(applied, ["001_widgets.sql", "002_gadgets.sql"])
  const rows = await admin.sql.unsafe(`select version from ${schema}.schema_migrations order by version`)
  assert.deepEqual(rows.map((r) => r.version), [1, 2])
})

test("a failing migration names its file and applies nothing", async () => {
  const schema = schemaName()
  await assert.rejects(connect({ env: env(schema), migrationsDir: badDir }), (error: unknown) => {
    assert.ok(error instanceof MigrationError)
    assert.match(error.message, /^Migration 002_broken\.sql failed: syntax error/)
    return true
  })
  const [row] = await admin.sql`select count(*)::int as n from pg_namespace where nspname = ${schema}`
  assert.equal(row?.n, 0)
})

test("a bad AIDP_DB_SCHEMA is rejected with the variable's name", async () => {
  for (const bad of ["Bad", "has-dash", "1abc", "a".repeat(64), "x; drop table y", "", "pg_catalog", "pg_mine", "information_schema"]) {
    await assert.rejects(connect({ env: env(bad), migrationsDir: dir }), (error: unknown) => {
      assert.ok(error instanceof DatabaseSettingInvalid)
      assert.match(error.message, /^AIDP_DB_SCHEMA /)
      return true
    })
  }
})

test("an unreachable database gives one sentence with the address and no password", async () => {
  const cases: [NodeJS.ProcessEnv, string][] = [
    [
      { AIDP_DATABASE_URL: "postgres://root:secret@127.0.0.1:1/test" },
      "Cannot reach PostgreSQL at 127.0.0.1:1 (connection refused). Start PostgreSQL or fix AIDP_DATABASE_URL.",
    ],
    [
      { DATABASE_URL: "postgres://root:secret@127.0.0.1:1/test" },
      "Cannot reach PostgreSQL at 127.0.0.1:1 (connection refused). Start PostgreSQL or fix DATABASE_URL.",
    ],
    [
      { AIDP_DATABASE_URL: "postgres://root:secret@/test?host=/nonexistent" },
      "Cannot reach PostgreSQL at /nonexistent/.s.PGSQL.5432 (no such socket). Start PostgreSQL or fix AIDP_DATABASE_URL.",
    ],
    [
      { AIDP_DATABASE_URL: "postgres://root:secret@127.0.0.1:5432/no_such_db_aidp" },
      'Cannot connect to PostgreSQL at 127.0.0.1:5432 (database "no_such_db_aidp" does not exist). Fix AIDP_DATABASE_URL.',
    ],
  ]
  for (const [vars, message] of cases) {
    await assert.rejects(connect({ env: vars }), (error: unknown) => {
      assert.ok(error instanceof DatabaseUnreachable)
      assert.equal(error.message, message)
      return true
    })
  }
  const status = await databaseStatus({ env: cases[0]![0] })
  assert.equal(status.reachable, false)
  assert.equal(status.url, "postgres://root:***@127.0.0.1:1/test")
})

test("a URL that is not a PostgreSQL URL is rejected with the variable's name", async () => {
  await assert.rejects(connect({ env: { DATABASE_URL: "mysql://x@y/z" } }), /^DatabaseSettingInvalid: DATABASE_URL is not a PostgreSQL URL/)
})

test("redactUrl hides only the password", () => {
  assert.equal(redactUrl("postgres://u:p%40ss@h:5/db?x=1"), "postgres://u:***@h:5/db?x=1")
  assert.equal(redactUrl("postgres://u@h/db"), "postgres://u@h/db")
})

test("a transaction its client left idle (stopped or cut off) is ended by the server, which frees its locks", async () => {
  // An advisory lock is database-wide: a random key keeps other runs out of it.
  const key = BigInt(`0x${randomBytes(7).toString("hex")}`).toString()
  const tryLock = async () =>
    (await admin.sql<Array<{ ok: boolean }>>`select pg_try_advisory_xact_lock(${key}::bigint) as ok`)[0]!.ok
  let locked!: () => void
  const holding = new Promise<void>((resolve) => (locked = resolve))
  // The client goes quiet in the middle of its transaction, as a stopped worker would, and
  // never comes back (postgres.js trips over a query sent on a connection the server closed).
  const transaction = admin.sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${key}::bigint)`
    locked()
    await new Promise(() => {})
  })
  // Settled as soon as the server ends it (handled at once: node would call it unhandled meanwhile).
  const ended = transaction.then(() => null, (error: unknown) => error as { code?: string })
  await holding
  const heldAt = Date.now()
  assert.equal(await tryLock(), false, "held while the transaction is open")
  await waitFor("the idle transaction's lock to be freed", tryLock, IDLE_IN_TRANSACTION_TIMEOUT_MS + 30_000, 200)
  assert.ok(Date.now() - heldAt >= IDLE_IN_TRANSACTION_TIMEOUT_MS - 1_000, "not before the timeout")
  assert.equal((await ended)?.code, "CONNECTION_CLOSED", "the server ended the transaction")
})
