/**
 * The job services over one database handle: SqlClient, the EventStore projecting with
 * `projector` (the real projection unless a test passes another) and the CommandHandler.
 * The CLI, the tests and the bench all build their world from this one layer.
 */
import * as Layer from "effect/Layer"
import { SqlClient, type SqlClientShape } from "../events/sqlClient.js"
import { EventStore, type Projector } from "../events/store.js"
import { CommandHandler } from "./commandHandler.js"
import { project } from "./project.js"

/** Services every aidp program may use. */
export type JobServices = SqlClient | EventStore | CommandHandler

/** The layer of {@link JobServices} over `client`. */
export const jobServicesLayer = (client: SqlClientShape, projector: Projector = project): Layer.Layer<JobServices> => {
  const sqlLayer = Layer.succeed(SqlClient, SqlClient.of(client))
  const storeLayer = EventStore.layer(projector).pipe(Layer.provide(sqlLayer))
  const handlerLayer = CommandHandler.layer.pipe(Layer.provide(Layer.merge(storeLayer, sqlLayer)))
  return Layer.mergeAll(sqlLayer, storeLayer, handlerLayer)
}
