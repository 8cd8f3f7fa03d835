/**
 * Test helper: the real CommandHandler in-process over a test schema, for setting up jobs
 * fast and for playing "another host" (e.g. a rescuer elsewhere). `channel` picks the
 * NOTIFY channel; pass one nobody listens on to append without waking any worker.
 *
 *   const commands = commandsFor(db); await commands.enqueue({ prompt: "job 1", cwd })
 */
import { Effect, ManagedRuntime } from "effect"
import type { JobCommand } from "../../src/domain/decider.js"
import type { RecordedEvent } from "../../src/domain/events.js"
import { channelFor } from "../../src/events/sqlClient.js"
import { CommandHandler } from "../../src/projections/commandHandler.js"
import { jobServicesLayer } from "../../src/projections/services.js"
import type { TestDb } from "./db.js"

/** Options of a job enqueued by {@link commandsFor}. */
export interface EnqueueOptions {
  readonly prompt: string
  readonly cwd: string
  readonly provider?: "claude" | "gemini" | "cursor"
  readonly maxAttempts?: number
  readonly timeoutMs?: number
}

export interface Commands {
  /** Runs one command on job `jobId` now; rejects with the handler's error. */
  readonly handle: (jobId: string, command: JobCommand) => Promise<ReadonlyArray<RecordedEvent>>
  /** Enqueues a job; returns its id. */
  readonly enqueue: (options: EnqueueOptions) => Promise<string>
  readonly dispose: () => Promise<void>
}

export const commandsFor = (db: Pick<TestDb, "sql" | "schema">, options: { readonly channel?: string } = {}): Commands => {
  const runtime = ManagedRuntime.make(
    jobServicesLayer({ sql: db.sql, schema: db.schema, channel: options.channel ?? channelFor(db.schema) })
  )
  const handle = (jobId: string, command: JobCommand) =>
    runtime.runPromise(Effect.gen(function*() {
      const handler = yield* CommandHandler
      return yield* handler.handle(jobId, command, new Date())
    }))
  return {
    handle,
    enqueue: async (job) => {
      const id = crypto.randomUUID()
      await handle(id, {
        _tag: "Enqueue",
        provider: job.provider ?? "claude",
        model: null,
        prompt: job.prompt,
        cwd: job.cwd,
        step: null,
        priority: 0,
        maxAttempts: job.maxAttempts ?? 3,
        timeoutMs: job.timeoutMs ?? 60_000,
        metadata: {},
        permissions: "edit"
      })
      return id
    },
    dispose: () => runtime.dispose()
  }
}
