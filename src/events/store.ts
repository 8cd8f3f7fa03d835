/**
 * The event store (STYLE.md: small and boring): append with expected version, read a
 * stream, read all by position. Append runs the projector and sends one NOTIFY in the
 * same transaction, so readers never see an event without its projection, and a failed
 * projection appends nothing.
 */
import { Context, Effect, Layer } from "effect"
import type postgres from "postgres"
import { decodeEvent, type JobEvent, type RecordedEvent } from "../domain/events.js"
import { ConcurrencyConflict, DatabaseError } from "./errors.js"
import { type Queryable, SqlClient } from "./sqlClient.js"

/**
 * Writes the read models for freshly appended events, inside the append transaction.
 * Throwing rolls the append back.
 */
export type Projector = (tx: postgres.TransactionSql, events: ReadonlyArray<RecordedEvent>) => Promise<void>

/** What {@link EventStore.append} writes: events for one stream after `expectedVersion`. */
export interface AppendInput {
  readonly jobId: string
  /** Version the caller's decision was based on (0 for a new stream). */
  readonly expectedVersion: number
  readonly events: ReadonlyArray<JobEvent>
  /** Stamped on every event; comes from the command, not the database clock. */
  readonly occurredAt: Date
}

/** Payload of the NOTIFY sent per append: position, job id, event type of the last event. */
export interface Notification {
  readonly p: number
  readonly j: string
  readonly t: string
}

interface EventRow {
  position: string
  job_id: string
  version: number
  type: string
  data: unknown
  occurred_at: Date
}

const toRecorded = (row: EventRow): RecordedEvent => ({
  position: Number(row.position),
  jobId: row.job_id,
  version: row.version,
  occurredAt: row.occurred_at,
  event: decodeEvent({ type: row.type, data: row.data })
})

/** The stream's last committed version is not the expected one (see {@link appendIn}). */
class StreamVersionMismatch extends Error {
  constructor(readonly jobId: string, readonly expectedVersion: number, readonly actualVersion: number) {
    super(`Job ${jobId} is at version ${actualVersion}, not ${expectedVersion}.`)
  }
}

const isVersionConflict = (error: unknown): boolean =>
  error instanceof StreamVersionMismatch ||
  (typeof error === "object" && error !== null && (error as { code?: string }).code === "23505" &&
    (error as { constraint_name?: string }).constraint_name === "job_events_job_id_version_key")

/**
 * The ConcurrencyConflict of a version conflict (see {@link isVersionConflict}) among
 * `inputs`: the stream a StreamVersionMismatch names, or the one the unique violation's
 * detail names (`Key (job_id, version)=(<id>, <n>) already exists.`), else the first.
 */
const conflictOf = (cause: unknown, inputs: ReadonlyArray<AppendInput>): ConcurrencyConflict => {
  const detail = (cause as { detail?: string }).detail ?? ""
  const input = (cause instanceof StreamVersionMismatch
    ? inputs.find((i) => i.jobId === cause.jobId)
    : inputs.find((i) => detail.includes(i.jobId))) ?? inputs[0]!
  return new ConcurrencyConflict({ jobId: input.jobId, expectedVersion: input.expectedVersion })
}

/** PostgreSQL's text and jsonb reject U+0000: every string of `value` with it replaced by U+FFFD. */
const withoutNul = (value: unknown): unknown => {
  if (typeof value === "string") return value.includes("\u0000") ? value.replaceAll("\u0000", "\uFFFD") : value
  if (Array.isArray(value)) return value.map(withoutNul)
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, withoutNul(field)]))
  }
  return value
}

/**
 * The event as it can be stored: NUL characters (a prompt file, an agent's output) become
 * U+FFFD, for the log and the read models alike; the rest of the text is kept.
 */
const storableEvent = (event: JobEvent): JobEvent => ({ ...event, data: withoutNul(event.data) } as JobEvent)

/**
 * Appends inside an open transaction `tx` (used by the claimer, whose row lock must cover
 * the append): {@link appendAllIn} with one stream.
 */
export const appendIn = (
  tx: postgres.TransactionSql,
  channel: string,
  project: Projector,
  input: AppendInput
): Promise<ReadonlyArray<RecordedEvent>> => appendAllIn(tx, channel, project, [input])

/**
 * Appends to several streams inside an open transaction `tx`, all or nothing: one statement
 * per table whatever the number of streams (a bulk enqueue of thousands of jobs is a handful
 * of round trips), the projector once over every event, and one NOTIFY (DESIGN.md: at most
 * one per transaction) naming the last event. Lock order, for every writer: the jobs' `jobs`
 * rows (in id order, so two multi-stream appends cannot deadlock), then `job_events`, then
 * the read models. Throws on a version conflict: a StreamVersionMismatch when a stream's
 * committed version differs from its `expectedVersion` (behind it too, which the unique
 * constraint alone would let through as a gap), or the driver's unique violation when a
 * concurrent append commits first. Each stream appears at most once in `inputs`.
 */
export const appendAllIn = async (
  tx: postgres.TransactionSql,
  channel: string,
  project: Projector,
  inputs: ReadonlyArray<AppendInput>
): Promise<ReadonlyArray<RecordedEvent>> => {
  // Only what readers can decode goes into the log: one bad event would make the whole
  // stream (and every rebuild) unreadable. Throws a SchemaError naming the field.
  for (const input of inputs) for (const event of input.events) decodeEvent(event)
  const ids = inputs.map((input) => input.jobId)
  // Lock the streams' `jobs` rows (their snapshots) before anything else, as the claimer does
  // (FOR UPDATE): writers of one job then queue on that row. Inserting the event first
  // would deadlock against a claim holding the row and inserting the same version.
  await tx`select 1 from jobs where id = any(${tx.array(ids)}::uuid[]) order by id for update`
  const heads = await tx<Array<{ job_id: string; version: number }>>`
    select job_id, max(version)::integer as version from job_events where job_id = any(${tx.array(ids)}::uuid[]) group by job_id`
  const headOf = new Map(heads.map((head) => [head.job_id, head.version]))
  for (const input of inputs) {
    const head = headOf.get(input.jobId) ?? 0
    if (head !== input.expectedVersion) throw new StreamVersionMismatch(input.jobId, input.expectedVersion, head)
  }
  const pending = inputs.flatMap((input) =>
    input.events.map((event, index) => ({ jobId: input.jobId, version: input.expectedVersion + index + 1, occurredAt: input.occurredAt, event: storableEvent(event) })))
  if (pending.length === 0) return []
  // One JSON document for all the rows (no per-row parameters); positions are drawn in `ord`
  // order, so they follow the order of `inputs` and their events.
  const rows = await tx<Array<{ position: string }>>`
    insert into job_events (job_id, version, type, data, occurred_at)
    select t.job_id, t.version, t.type, t.data, t.occurred_at
    from jsonb_to_recordset(${JSON.stringify(pending.map((p, ord) => ({ ord, job_id: p.jobId, version: p.version, type: p.event.type, data: p.event.data, occurred_at: p.occurredAt })))}::text::jsonb)
         as t(ord integer, job_id uuid, version integer, type text, data jsonb, occurred_at timestamptz)
    order by t.ord
    returning position`
  const positions = rows.map((row) => Number(row.position)).sort((a, b) => a - b)
  const recorded: Array<RecordedEvent> = pending.map((p, index) => ({ ...p, position: positions[index]! }))
  const last = recorded[recorded.length - 1]!
  const payload: Notification = { p: last.position, j: last.jobId, t: last.event.type }
  // NOTIFY is delivered on commit, after the projection's rows: it is sent in the same
  // pipeline as the projection's statements instead of a round trip of its own.
  await Promise.all([tx`select pg_notify(${channel}, ${JSON.stringify(payload)})`.execute(), project(tx, recorded)])
  return recorded
}

/** Reads one stream, oldest first: the versions after `afterVersion`, at most `limit` of them. */
export const readStreamIn = async (
  sql: Queryable,
  jobId: string,
  afterVersion = 0,
  limit: number | null = null
): Promise<Array<RecordedEvent>> => {
  const rows = await sql<Array<EventRow>>`
    select position, job_id, version, type, data, occurred_at from job_events
    where job_id = ${jobId} and version > ${afterVersion} order by version
    ${limit === null ? sql`` : sql`limit ${limit}`}`
  return rows.map(toRecorded)
}

/** Options of {@link EventStore.readAll}: positions after `after`, at most `limit`, optional time window. */
export interface ReadAllOptions {
  readonly after: number
  readonly limit: number
  readonly since?: Date | undefined
  readonly until?: Date | undefined
  readonly jobId?: string | undefined
  /**
   * Read ExecutionOutput events without their lines (`lines: []`), for readers that do not
   * look at the agents' output (`replay --stats`, `--at`): most of the log's bytes stay in the
   * database.
   */
  readonly withoutOutput?: boolean | undefined
  /**
   * Also the events at or before `after` whose positions fall in these inclusive ranges (a
   * rebuild's catch-up: positions its snapshot skipped because their appends had not yet
   * committed). Each range is read through the primary key.
   */
  readonly alsoWithin?: ReadonlyArray<readonly [number, number]> | undefined
}

/** The log's rows by position (see {@link ReadAllOptions}), oldest first, undecoded. */
const selectLog = (sql: Queryable, options: ReadAllOptions): Promise<Array<EventRow>> =>
  sql<Array<EventRow>>`
    select position, job_id, version, type,
      ${options.withoutOutput ? sql`case when type = 'ExecutionOutput' then jsonb_set(data, '{lines}', '[]'::jsonb) else data end as data` : sql`data`},
      occurred_at from job_events
    where (position > ${options.after}
      ${options.alsoWithin?.length ? sql`or position = any(array(
        select e.position from unnest(${options.alsoWithin.map((r) => r[0])}::bigint[], ${options.alsoWithin.map((r) => r[1])}::bigint[]) as g(lo, hi)
        cross join lateral (select position from job_events where position between g.lo and g.hi) e))` : sql``})
      ${options.jobId ? sql`and job_id = ${options.jobId}` : sql``}
      ${options.since ? sql`and occurred_at >= ${options.since}` : sql``}
      ${options.until ? sql`and occurred_at < ${options.until}` : sql``}
    order by position limit ${options.limit}`

/** Reads the whole log by position (see {@link ReadAllOptions}), oldest first. Throws a SchemaError on a row that does not decode. */
export const readAllIn = async (sql: Queryable, options: ReadAllOptions): Promise<Array<RecordedEvent>> =>
  (await selectLog(sql, options)).map(toRecorded)

/** A row of the log that does not decode as any event of the catalogue (corrupted, or written by a newer aidp). */
export interface UndecodableEvent {
  readonly position: number
  readonly jobId: string
  readonly version: number
  readonly occurredAt: Date
  readonly type: string
  /** What the decoder said, first line. */
  readonly problem: string
}

/** One row of the log as a reader that goes on past bad rows sees it. */
export type LogRow = { readonly position: number } & (
  | { readonly ok: true; readonly event: RecordedEvent }
  | { readonly ok: false; readonly undecodable: UndecodableEvent }
)

/**
 * As {@link readAllIn}, but a row that does not decode is returned as an {@link UndecodableEvent}
 * instead of failing the read: `aidp jobs replay` names it and goes on.
 */
export const readLogIn = async (sql: Queryable, options: ReadAllOptions): Promise<Array<LogRow>> => {
  const rows = await selectLog(sql, options)
  return rows.map((row): LogRow => {
    try {
      return { position: Number(row.position), ok: true, event: toRecorded(row) }
    } catch (error) {
      const problem = (error instanceof Error ? error.message : String(error)).split("\n")[0]!
      return {
        position: Number(row.position),
        ok: false,
        undecodable: { position: Number(row.position), jobId: row.job_id, version: row.version, occurredAt: row.occurred_at, type: row.type, problem }
      }
    }
  })
}

/** Shape of {@link EventStore}. */
export interface EventStoreShape {
  /** Appends; fails with ConcurrencyConflict when the stream moved past `expectedVersion`. */
  readonly append: (input: AppendInput) => Effect.Effect<ReadonlyArray<RecordedEvent>, ConcurrencyConflict | DatabaseError>
  /**
   * Appends to several streams in one transaction, all or nothing ({@link appendAllIn});
   * fails with ConcurrencyConflict naming a stream that moved past its `expectedVersion`.
   */
  readonly appendAll: (inputs: ReadonlyArray<AppendInput>) => Effect.Effect<ReadonlyArray<RecordedEvent>, ConcurrencyConflict | DatabaseError>
  /** One job's events, oldest first. */
  readonly readStream: (jobId: string) => Effect.Effect<Array<RecordedEvent>, DatabaseError>
  /** The whole log by position (replay, rebuild). */
  readonly readAll: (options: ReadAllOptions) => Effect.Effect<Array<RecordedEvent>, DatabaseError>
  /** The projector the store runs on append (rebuild runs the same one). */
  readonly project: Projector
}

/** Wraps a rejected query as a DatabaseError with a one-line message. */
export const databaseError = (what: string) => (cause: unknown): DatabaseError =>
  new DatabaseError({ message: `${what} failed: ${cause instanceof Error ? cause.message : String(cause)}`, cause })

/** The event store service. Build it with {@link EventStore.layer}. */
export class EventStore extends Context.Service<EventStore, EventStoreShape>()("aidp/events/EventStore") {
  /** The store over {@link SqlClient}, projecting with `project`. */
  static readonly layer = (project: Projector) =>
    Layer.effect(
      EventStore,
      Effect.gen(function*() {
        const { channel, sql } = yield* SqlClient
        const appendAll = (inputs: ReadonlyArray<AppendInput>) =>
          Effect.tryPromise({
            try: () => sql.begin((tx) => appendAllIn(tx, channel, project, inputs)),
            catch: (cause) =>
              isVersionConflict(cause)
                ? conflictOf(cause, inputs)
                : databaseError("Appending events")(cause)
          })
        return EventStore.of({
          project,
          append: (input) => appendAll([input]),
          appendAll,
          readStream: (jobId) =>
            Effect.tryPromise({ try: () => readStreamIn(sql, jobId), catch: databaseError("Reading a job's events") }),
          readAll: (options) =>
            Effect.tryPromise({ try: () => readAllIn(sql, options), catch: databaseError("Reading the event log") })
        })
      })
    )
}
