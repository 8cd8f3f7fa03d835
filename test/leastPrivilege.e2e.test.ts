/**
 * Least privilege (issue 6, item 7): a role that owns its schema and has no other right —
 * not CREATE on the database — runs `aidp execute next` end to end with the fake claude:
 * the migrations skip creating the schema it already has. The role (a unique name) and its
 * schema are created here and dropped after.
 */
import assert from "node:assert/strict"
import { randomBytes } from "node:crypto"
import { readFile } from "node:fs/promises"
import path from "node:path"
import { after, before, test } from "node:test"
import type { Sql } from "postgres"
import { openSql } from "../src/config/database.js"
import { runCli } from "./support/cli.js"
import { testDatabaseUrl } from "./support/db.js"
import { projectDirs } from "./support/e2e.js"

const suffix = randomBytes(6).toString("hex")
const role = `aidp_lp_${suffix}`
const schema = `t_lp_${suffix}`
const dirs = projectDirs()
let admin: Sql

before(async () => {
  admin = openSql(testDatabaseUrl, "public", { max: 1 })
  await admin.unsafe(`create role ${role} login`)
  await admin.unsafe(`create schema ${schema} authorization ${role}`)
})

after(async () => {
  await admin.unsafe(`drop schema if exists ${schema} cascade`)
  await admin.unsafe(`drop role if exists ${role}`)
  await admin.end({ timeout: 5 })
  await dirs.cleanup()
})

test("a role owning its schema, without CREATE on the database, runs aidp execute next end to end", { timeout: 60_000 }, async () => {
  const database = new URL(testDatabaseUrl).pathname.slice(1)
  const [rights] = await admin<Array<{ create: boolean; superuser: boolean }>>`
    select has_database_privilege(${role}, ${database}, 'CREATE') as create,
           (select rolsuper from pg_roles where rolname = ${role}) as superuser`
  assert.deepEqual(rights, { create: false, superuser: false }, "the role may not create schemas")

  const url = new URL(testDatabaseUrl)
  url.username = role
  url.password = ""
  const cwd = await dirs.make()
  const result = await runCli({ url: url.toString(), schema }, ["execute", "next"], {
    cwd,
    env: { FAKE_AGENT_RESULT: "# PRD\nLeast privilege." },
    timeoutMs: 45_000
  })
  assert.equal(result.code, 0, result.stderr)
  assert.equal(await readFile(path.join(cwd, "docs/PRD.md"), "utf8"), "# PRD\nLeast privilege.\n")
  const [job] = await admin.unsafe<Array<{ status: string; owner: string }>>(
    `select j.status, (select tableowner from pg_tables where schemaname = '${schema}' and tablename = 'jobs') as owner
     from ${schema}.jobs j`
  )
  assert.deepEqual(job, { status: "completed", owner: role })
})
