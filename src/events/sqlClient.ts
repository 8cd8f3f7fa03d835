/**
 * The database handle the event store, projections and workers share: a postgres.js
 * client whose search_path is the aidp schema, and the NOTIFY channel of that schema.
 */
import { createHash } from "node:crypto"
import * as Context from "effect/Context"
import type postgres from "postgres"

/** postgres.js client or transaction: anything that runs a tagged-template query. */
export type Queryable = postgres.Sql | postgres.TransactionSql

/** Shape of {@link SqlClient}. */
export interface SqlClientShape {
  readonly sql: postgres.Sql
  /** The schema holding aidp's tables (AIDP_DB_SCHEMA, default `aidp`). */
  readonly schema: string
  /** NOTIFY channel of this schema (see {@link channelFor}). */
  readonly channel: string
}

/** The shared database handle, provided by the CLI from `src/config/database.ts`. */
export class SqlClient extends Context.Service<SqlClient, SqlClientShape>()("aidp/events/SqlClient") {}

/** Longest channel name PostgreSQL accepts (NAMEDATALEN - 1 bytes); pg_notify refuses longer. */
const MAX_CHANNEL_BYTES = 63

/**
 * NOTIFY channel for a schema: `aidp_events` for the default schema, `aidp_events:<schema>`
 * otherwise, so that several aidp installations sharing one database (or tests in
 * throwaway schemas) do not wake each other. A schema name too long for that (schema
 * names may have 63 characters) gets `aidp_events:#<sha1 of the name>` instead.
 */
export const channelFor = (schema: string): string => {
  if (schema === "aidp") return "aidp_events"
  const channel = `aidp_events:${schema}`
  return Buffer.byteLength(channel) <= MAX_CHANNEL_BYTES
    ? channel
    : `aidp_events:#${createHash("sha1").update(schema).digest("hex")}`
}
