/** Errors of the event store. */
import * as Schema from "effect/Schema"

/** A query failed for a reason other than a refused command (lost connection, bad SQL). */
export class DatabaseError extends Schema.TaggedError<DatabaseError>()("DatabaseError", {
  message: Schema.String,
  cause: Schema.Defect()
}) {}

/**
 * Append found the stream already past the expected version: another writer appended
 * first. The caller reloads the state and decides again.
 */
export class ConcurrencyConflict extends Schema.TaggedError<ConcurrencyConflict>()("ConcurrencyConflict", {
  jobId: Schema.String,
  expectedVersion: Schema.Number
}) {}
