/**
 * The write side of `aidp jobs`: enqueue, retry, cancel. Each turns into one domain
 * command through the command handler; refusals come back as one sentence.
 */
import { Effect } from "effect"
import type { JobCommand } from "../domain/decider.js"
import type { RecordedEvent } from "../domain/events.js"
import { CommandHandler } from "../projections/commandHandler.js"
import type { App } from "./app.js"

/** Runs `command` on job `jobId` now; rejects with JobNotFound / IllegalTransition / DatabaseError. */
export const submitCommand = (app: App, jobId: string, command: JobCommand): Promise<ReadonlyArray<RecordedEvent>> =>
  app.run(Effect.gen(function*() {
    const handler = yield* CommandHandler
    return yield* handler.handle(jobId, command, new Date())
  }))

/** Defaults of a new job. */
export const JOB_DEFAULTS = {
  priority: 0,
  maxAttempts: 3,
  /** One execution's wall-clock limit, ms (30 min). */
  timeoutMs: 30 * 60_000
} as const
