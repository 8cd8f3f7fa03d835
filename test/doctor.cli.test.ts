/**
 * `aidp doctor`: one line per check, exit 1 only when aidp cannot work, and it changes
 * nothing (an unmigrated schema is reported, not created).
 */
import assert from "node:assert/strict"
import { after, before, test } from "node:test"
import { readMigrations } from "../src/config/migrate.js"
import { runCli } from "./support/cli.js"
import { createTestDb, type TestDb } from "./support/db.js"

let db: TestDb
before(async () => {
  db = await createTestDb()
})
after(async () => {
  await db.drop()
})

test("a healthy setup: database, LISTEN/NOTIFY and the provider CLIs with their versions", async () => {
  const result = await runCli(db, ["doctor"])
  assert.equal(result.code, 0, result.stdout + result.stderr)
  assert.match(result.stdout, new RegExp(`✓ Database .*schema ${db.schema}, migrations applied`))
  assert.match(result.stdout, /✓ LISTEN\/NOTIFY works/)
  assert.match(result.stdout, /! No worker is running/)
  assert.match(result.stdout, /✓ claude: .*2\.1\.332 \(Claude Code\)/)
  assert.match(result.stdout, /✓ gemini: .*0\.61\.0/)
  assert.match(result.stdout, /✓ cursor: .*cursor-agent/)
})

test("an unmigrated schema is reported and left alone", async () => {
  const schema = `${db.schema}_empty`
  const result = await runCli({ url: db.url, schema }, ["doctor"])
  assert.equal(result.code, 0, result.stdout + result.stderr)
  const pending = (await readMigrations()).length
  assert.match(result.stdout, new RegExp(`! Database .* ${pending} migration\\(s\\) pending; any aidp command applies them, or run aidp db migrate`))
  const [row] = await db.sql<Array<{ n: number }>>`select count(*)::int as n from information_schema.schemata where schema_name = ${schema}`
  assert.equal(row!.n, 0, "doctor created nothing")
})

test("no provider CLI and no database: each problem on its line with the fix, exit 1", async () => {
  const result = await runCli(db, ["doctor"], {
    env: {
      AIDP_DATABASE_URL: "postgres://root@127.0.0.1:1/test",
      AIDP_CLAUDE_BIN: "/nonexistent/claude",
      AIDP_GEMINI_BIN: "/nonexistent/gemini",
      AIDP_CURSOR_BIN: "/nonexistent/cursor-agent"
    }
  })
  assert.equal(result.code, 1)
  assert.match(result.stdout, /✗ Cannot reach PostgreSQL at 127\.0\.0\.1:1/)
  assert.match(result.stdout, /! claude: \/nonexistent\/claude not found; install it with npm install -g @anthropic-ai\/claude-code or set AIDP_CLAUDE_BIN/)
  assert.match(result.stdout, /✗ No provider CLI is installed/)
})
