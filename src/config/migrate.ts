/**
 * Schema migrations: the files `NNN_name.sql` of a directory, applied in version order into one
 * schema, each recorded in `<schema>.schema_migrations`. Safe when many processes migrate at once.
 */
import { readdir, readFile } from "node:fs/promises"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import type { Sql } from "postgres"

/** The package's `sql/` directory (from `src/config/` or `dist/config/` it is `../../sql`). */
export const defaultMigrationsDir: string = fileURLToPath(new URL("../../sql/", import.meta.url))

/** A schema name aidp accepts: a plain lower-case identifier, so it never needs quoting. */
export function isSchemaName(name: string): boolean {
  return /^[a-z_][a-z0-9_]{0,62}$/.test(name)
}

/** One migration file: `version` is its NNN prefix, `name` its file name. */
export interface Migration {
  readonly version: number
  readonly name: string
  readonly path: string
}

/** A row of `schema_migrations`. */
export interface AppliedMigration {
  readonly version: number
  readonly name: string
  readonly appliedAt: Date
}

/** A migration file that is misnamed, duplicated or failed to apply; one sentence. */
export class MigrationError extends Error {
  readonly _tag = "MigrationError" as const
  override readonly name = "MigrationError"
}

/** Lists `NNN_name.sql` files of `dir` by version; other files are ignored; a missing dir is empty. */
export async function readMigrations(dir: string = defaultMigrationsDir): Promise<Migration[]> {
  const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return []
    throw error
  })
  const migrations = names
    .flatMap((name) => {
      const match = /^(\d+)_[A-Za-z0-9_-]+\.sql$/.exec(name)
      return match ? [{ version: Number(match[1]), name, path: join(dir, name) }] : []
    })
    .sort((a, b) => a.version - b.version)
  migrations.forEach((m, i) => {
    const previous = migrations[i - 1]
    if (previous && previous.version === m.version) {
      throw new MigrationError(`Migrations ${previous.name} and ${m.name} share version ${m.version}.`)
    }
  })
  return migrations
}

/**
 * Creates `schema` if missing (only then is CREATE on the database needed) and applies the
 * pending migrations of `dir` in one transaction,
 * under a per-schema advisory lock (fast path without the lock when all are applied).
 * Resolves to the migrations applied now (empty when up to date). Migration files must not
 * contain their own BEGIN/COMMIT. Throws {@link MigrationError} for a bad schema name or when a
 * file fails (then nothing is applied).
 */
export async function migrate(sql: Sql, schema: string, dir: string = defaultMigrationsDir): Promise<Migration[]> {
  if (!isSchemaName(schema)) throw new MigrationError(`Schema name ${JSON.stringify(schema)} is not a plain identifier.`)
  const migrations = await readMigrations(dir)
  const latest = migrations.at(-1)?.version ?? 0
  const applied = await latestApplied(sql, schema)
  if (applied !== undefined && applied >= latest) return []
  return sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtext(${"aidp:migrate:" + schema}))`
    // `create schema if not exists` needs CREATE on the database even when the schema exists:
    // a role that only owns its schema (least privilege) must not be asked for it.
    const [existing] = await tx`select 1 from pg_namespace where nspname = ${schema}`
    if (!existing) await tx.unsafe(`create schema ${schema}`)
    await tx.unsafe(`create table if not exists ${schema}.schema_migrations (
      version int primary key,
      name text not null,
      applied_at timestamptz not null default now()
    )`)
    const rows = await tx.unsafe<{ version: number }[]>(`select version from ${schema}.schema_migrations`)
    const done = new Set(rows.map((r) => r.version))
    const pending = migrations.filter((m) => !done.has(m.version))
    for (const m of pending) {
      const text = await readFile(m.path, "utf8")
      await tx.unsafe(text).catch((error: Error) => {
        throw new MigrationError(`Migration ${m.name} failed: ${error.message}.`)
      })
      await tx.unsafe(`insert into ${schema}.schema_migrations (version, name) values ($1, $2)`, [m.version, m.name])
    }
    return pending
  })
}

/** The applied migrations of `schema` in version order; empty if it was never migrated. */
export async function appliedMigrations(sql: Sql, schema: string): Promise<AppliedMigration[]> {
  if (!(await hasTable(sql, schema))) return []
  return sql.unsafe<AppliedMigration[]>(
    `select version, name, applied_at as "appliedAt" from ${schema}.schema_migrations order by version`,
  )
}

/** The highest applied version; undefined if `schema_migrations` does not exist yet. */
async function latestApplied(sql: Sql, schema: string): Promise<number | undefined> {
  if (!(await hasTable(sql, schema))) return undefined
  const [row] = await sql.unsafe<{ latest: number }[]>(
    `select coalesce(max(version), 0) as latest from ${schema}.schema_migrations`,
  )
  return row?.latest ?? 0
}

async function hasTable(sql: Sql, schema: string): Promise<boolean> {
  const [row] = await sql`select to_regclass(${schema + ".schema_migrations"}) is not null as present`
  return row?.present === true
}
