/**
 * LISTEN subscription to the event log's NOTIFY channel. Notifications can be lost (a
 * reconnect drops whatever was sent meanwhile), so every subscriber gets `onResync` after
 * each (re)connect and must then re-read what it shows from the tables.
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type postgres from "postgres"
import type { DatabaseError } from "./errors.js"
import { databaseError, type Notification } from "./store.js"
import { SqlClient } from "./sqlClient.js"

/** Longest wait for UNLISTEN when a subscription closes, ms. */
export const UNLISTEN_TIMEOUT_MS = 2_000

/** What a subscriber is told: a job changed, or it must re-read everything. */
export interface ListenHandlers {
  /** One appended transaction (last event's position, job id and type). */
  readonly onNotification: (notification: Notification) => void
  /** Called after the first LISTEN and after every reconnect. */
  readonly onResync: () => void
}

/** Parses a NOTIFY payload; null for a payload that is not ours. */
export const parseNotification = (payload: string): Notification | null => {
  try {
    const value = JSON.parse(payload) as Partial<Notification>
    return typeof value.p === "number" && typeof value.j === "string" && typeof value.t === "string"
      ? { p: value.p, j: value.j, t: value.t }
      : null
  } catch {
    return null
  }
}

/**
 * LISTENs on `channel` of `sql` until the returned function is called. aidp's clients
 * (src/config/supervisedSql.ts) keep one dedicated listening connection and re-establish it
 * with backoff after every close, calling `onResync` each time.
 * UNLISTEN over a dead connection never answers, so stopping gives up after
 * {@link UNLISTEN_TIMEOUT_MS}: quitting cannot hang on it. Rejects when the first LISTEN fails.
 */
export const subscribe = async (
  sql: postgres.Sql,
  channel: string,
  handlers: ListenHandlers
): Promise<() => Promise<void>> => {
  const subscription = await sql.listen(channel, (payload) => {
    const notification = parseNotification(payload)
    if (notification) handlers.onNotification(notification)
  }, handlers.onResync)
  return () =>
    Promise.race([
      subscription.unlisten().catch(() => undefined),
      new Promise<void>((resolve) => setTimeout(resolve, UNLISTEN_TIMEOUT_MS).unref())
    ])
}

/**
 * LISTENs on the schema's channel for the lifetime of the enclosing Scope (see
 * {@link subscribe}). Fails with DatabaseError when the first LISTEN cannot be made.
 */
export const listen = (handlers: ListenHandlers): Effect.Effect<void, DatabaseError, SqlClient | Scope.Scope> =>
  Effect.gen(function*() {
    const { channel, sql } = yield* SqlClient
    yield* Effect.acquireRelease(
      Effect.tryPromise({ try: () => subscribe(sql, channel, handlers), catch: databaseError("LISTEN") }),
      (stop) => Effect.promise(stop)
    )
  })
