/**
 * Test helper: the Effect services of `src/cli/app.ts` (SqlClient, EventStore,
 * CommandHandler) over a test database, in a ManagedRuntime.
 *
 *   const services = testServices(db)            // or testServices(db, failingProjector)
 *   after(() => services.dispose())
 *   await services.run(EventStore.use((store) => store.readStream(id)))
 *   await services.handle(jobId, { _tag: "Retry", now }, now)
 *
 * `run` resolves with the value, or rejects with the typed failure (e.g. an
 * IllegalTransition, assertable by `_tag`) or the defect.
 */
import { Cause, Effect, Exit, ManagedRuntime } from "effect"
import type postgres from "postgres"
import type { JobCommand } from "../../src/domain/decider.js"
import type { RecordedEvent } from "../../src/domain/events.js"
import { channelFor, SqlClient } from "../../src/events/sqlClient.js"
import { EventStore, type Projector } from "../../src/events/store.js"
import { CommandHandler } from "../../src/projections/commandHandler.js"
import { project } from "../../src/projections/project.js"
import { jobServicesLayer } from "../../src/projections/services.js"

/** Services the test runtime provides. */
export type TestServices = SqlClient | EventStore | CommandHandler

/** A runtime over a test database. */
export interface ServicesRuntime {
  readonly run: <A, E>(effect: Effect.Effect<A, E, TestServices>) => Promise<A>
  /** CommandHandler.handle, run. */
  readonly handle: (jobId: string, command: JobCommand, now: Date) => Promise<ReadonlyArray<RecordedEvent>>
  readonly dispose: () => Promise<void>
}

/** The layers of `src/cli/app.ts` over `db`, projecting with `projector` (default: the real one). */
export const testLayer = (db: { readonly sql: postgres.Sql; readonly schema: string }, projector: Projector = project) =>
  jobServicesLayer({ sql: db.sql, schema: db.schema, channel: channelFor(db.schema) }, projector)

/** A ManagedRuntime over {@link testLayer}. */
export const testServices = (
  db: { readonly sql: postgres.Sql; readonly schema: string },
  projector: Projector = project
): ServicesRuntime => {
  const runtime = ManagedRuntime.make(testLayer(db, projector))
  const run = async <A, E>(effect: Effect.Effect<A, E, TestServices>): Promise<A> => {
    const exit = await runtime.runPromiseExit(effect)
    if (Exit.isSuccess(exit)) return exit.value
    throw Cause.squash(exit.cause)
  }
  return {
    run,
    handle: (jobId, command, now) => run(CommandHandler.use((h) => h.handle(jobId, command, now))),
    dispose: () => runtime.dispose()
  }
}
