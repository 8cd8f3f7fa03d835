/**
 * One execution of a claimed job: run the provider CLI (runner.ts), stream its output and
 * progress into events, stop it on cancel, and append the outcome. Appends that fail
 * because the database is briefly away are retried; an execution whose job moved on (it
 * was abandoned by the rescuer, say) is stopped.
 */
import { Deferred, Effect, Schedule } from "effect"
import type { JobCommand } from "../domain/decider.js"
import { CommandHandler } from "../projections/commandHandler.js"
import type { Logger } from "../config/logger.js"
import type { Canceller } from "./canceller.js"
import type { ClaimedJob } from "./claimer.js"
import { DOCUMENT_KEY, writeStepDocument } from "./document.js"
import { adapterFor, resolveBin } from "./providers/index.js"
import { runProvider } from "./runner.js"

/** What an execution needs besides the claimed job. */
export interface ExecutionContext {
  readonly env: NodeJS.ProcessEnv
  readonly canceller: Canceller
  readonly logger: Logger
}

/** PostgreSQL rejects U+0000 in text and jsonb: keep the line, replace the character. */
const storable = (text: string): string => text.includes("\u0000") ? text.replaceAll("\u0000", "\uFFFD") : text

/** Appends a worker command, retrying every 2 s while the database is unreachable (up to 1 min). */
const submitWith = (handler: CommandHandler["Service"]) => (jobId: string, command: JobCommand) =>
  handler.handle(jobId, command, new Date()).pipe(
    Effect.retry({
      while: (error) => error._tag === "DatabaseError",
      schedule: Schedule.spaced(2_000),
      times: 30
    })
  )

/**
 * Runs a claimed job to its end and records the outcome. Interruption (worker shutdown)
 * stops the provider's process group and records the execution as abandoned so the retry
 * policy can hand it to another worker. Fails only with database errors that outlasted
 * the retries (the rescuer then abandons the execution).
 */
export const runExecution = (claimed: ClaimedJob, context: ExecutionContext) =>
  Effect.gen(function*() {
    const { canceller, env, logger } = context
    const { executionId, job, jobId } = claimed
    const log = logger.child({ jobId, executionId, attempt: claimed.attempt })
    const startedAt = new Date()
    const submit = submitWith(yield* CommandHandler)
    log.info({ provider: job.provider, step: job.step }, "execution started")

    const adapter = adapterFor(job.provider)
    const cancelled = yield* canceller.register(jobId)
    const abort = new AbortController()
    let movedOn: string | null = null
    // A cancel request stops the process; the runner then reports a `cancelled` outcome.
    yield* Deferred.await(cancelled).pipe(Effect.andThen(Effect.sync(() => abort.abort())), Effect.forkScoped)
    // The job moved on without us (abandoned by the rescuer, say): stop the process.
    const record = (command: JobCommand) =>
      submit(jobId, command).pipe(
        Effect.catchTag(["IllegalTransition", "JobNotFound"], (error) =>
          Effect.sync(() => {
            movedOn = error.message
            abort.abort()
          })),
        Effect.asVoid,
        Effect.orDie
      )

    const outcome = yield* runProvider(adapter, {
      provider: job.provider,
      bin: resolveBin(adapter, env),
      args: adapter.argv({ model: job.model ?? undefined, cwd: job.cwd }),
      prompt: job.prompt,
      cwd: job.cwd,
      env,
      timeoutMs: job.timeout_ms,
      cancel: abort.signal
    }, {
      onOutput: (lines) =>
        record({ _tag: "RecordOutput", executionId, lines: lines.map((l) => ({ ...l, text: storable(l.text) })) }),
      onProgress: (messages) =>
        Effect.forEach(messages, (message) => record({ _tag: "RecordProgress", executionId, message: storable(message) }), {
          discard: true
        })
    }).pipe(
      Effect.onInterrupt(() =>
        submit(jobId, {
          _tag: "Abandon",
          executionId,
          reason: "The worker shut down during the execution.",
          now: new Date()
        }).pipe(Effect.ignore)
      ),
      Effect.ensuring(canceller.unregister(jobId))
    )

    if (movedOn !== null) {
      log.warn({ reason: movedOn }, "execution stopped: the job moved on")
      return
    }
    if (outcome.kind === "failed" && outcome.errorKind === "cancelled") {
      log.info("execution cancelled")
      return yield* finish(submit(jobId, { _tag: "ConfirmCancel", executionId }))
    }
    if (outcome.kind === "succeeded") {
      const document = job.metadata[DOCUMENT_KEY]
      if (typeof document === "string") {
        yield* Effect.tryPromise(() => writeStepDocument(job.cwd, document, outcome.result, startedAt)).pipe(
          Effect.tap((wrote) => Effect.sync(() => wrote && log.info({ document }, "wrote the step's document"))),
          Effect.catch((error) => Effect.sync(() => log.error({ err: error, document }, "could not write the step's document")))
        )
      }
      log.info({ durationMs: outcome.durationMs }, "execution succeeded")
      return yield* finish(submit(jobId, {
        _tag: "Succeed",
        executionId,
        exitCode: outcome.exitCode,
        result: storable(outcome.result),
        usage: outcome.usage ?? null,
        costUsd: outcome.costUsd ?? null,
        durationMs: outcome.durationMs,
        cliVersion: outcome.cliVersion ?? null
      }))
    }
    log.warn({ errorKind: outcome.errorKind, error: outcome.error }, "execution failed")
    return yield* finish(submit(jobId, {
      _tag: "Fail",
      executionId,
      exitCode: outcome.exitCode,
      signal: outcome.signal,
      errorKind: outcome.errorKind,
      error: storable(outcome.error),
      durationMs: outcome.durationMs,
      cliVersion: outcome.cliVersion ?? null,
      now: new Date()
    }))

    /** The outcome could not be recorded because the job moved on meanwhile: log it and carry on. */
    function finish<A, E extends { readonly _tag: string; readonly message: string }>(effect: Effect.Effect<A, E>) {
      return effect.pipe(
        Effect.asVoid,
        Effect.catchIf(
          (error): error is E => error._tag === "IllegalTransition" || error._tag === "JobNotFound",
          (error) => Effect.sync(() => log.warn({ reason: error.message }, "outcome not recorded: the job moved on"))
        )
      )
    }
  }).pipe(Effect.scoped, Effect.asVoid)
