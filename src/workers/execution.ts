/**
 * One execution of a claimed job: run the provider CLI (runner.ts), stream its output and
 * progress into events, stop it when told (canceller.ts), and append the outcome. Appends
 * that fail because the database is briefly away are retried.
 *
 * Stopping: a cancel is graceful (SIGTERM, grace, SIGKILL; the output so far is kept, then
 * JobCancelled). When the job moved on without us (abandoned by a rescuer) or this worker
 * lost its lease, the job may already run elsewhere: the process group is killed at once
 * (SIGKILL, no grace), the runner is interrupted, and nothing more of this execution is
 * recorded but, for a lost lease, its abandonment (invariant 1).
 */
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type { JobCommand } from "../domain/decider.js"
import type { OutputLine } from "../domain/events.js"
import { continuePrompt, freshPlan, sessionGoneLine, type SessionPlan } from "../domain/session.js"
import { SqlClient } from "../events/sqlClient.js"
import { CommandHandler } from "../projections/commandHandler.js"
import type { Logger } from "../config/logger.js"
import type { Canceller, StopReason } from "./canceller.js"
import type { ClaimedJob } from "./claimer.js"
import { DOCUMENT_KEY, projectFolderGone, writeStepDocument } from "./document.js"
import { adapterFor, argvOptions, resolveBin } from "./providers/index.js"
import { killGroup, trackGroup, untrackGroup } from "./processGroups.js"
import { OUTAGE_RETRY_MS } from "./outage.js"
import { EMPTY_TAIL, type OutputTail, runProvider, type RunOutcome } from "./runner.js"
import { changesOrNull, prepareWorkspace } from "./workspace.js"

/** What an execution needs besides the claimed job. */
export interface ExecutionContext {
  readonly env: NodeJS.ProcessEnv
  readonly canceller: Canceller
  readonly logger: Logger
}

/** Longest wait for the "worker shut down" record at shutdown; the process must exit, ms. */
const SHUTDOWN_RECORD_TIMEOUT_MS = 10_000

/**
 * Appends worker commands in one transaction, retrying every 2 s while the database is
 * unreachable: at most `times` retries (30: about 1 min), or until it answers when `times` is
 * undefined.
 */
const submitWith = (handler: CommandHandler["Service"]) => (jobId: string, commands: ReadonlyArray<JobCommand>, times: number | undefined = 30) =>
  handler.handleAll(jobId, commands, new Date()).pipe(
    Effect.retry({ while: (error) => error._tag === "DatabaseError", schedule: Schedule.spaced(OUTAGE_RETRY_MS), times })
  )

/**
 * Records the claimed execution abandoned because its worker is shutting down, so its job is
 * queued again at once; best effort, given up after {@link SHUTDOWN_RECORD_TIMEOUT_MS} (the
 * process must exit) or when the job moved on.
 */
export const abandonOnShutdown = (claimed: ClaimedJob) =>
  Effect.gen(function*() {
    const handler = yield* CommandHandler
    yield* submitWith(handler)(claimed.jobId, [{
      _tag: "Abandon",
      executionId: claimed.executionId,
      reason: "The worker shut down during the execution.",
      now: new Date(),
      workerStopping: true
    }])
  }).pipe(Effect.timeoutOption(SHUTDOWN_RECORD_TIMEOUT_MS), Effect.ignore)

/**
 * The commands recording output of execution `executionId`: one RecordOutput per non-empty
 * batch of lines, then one RecordProgress per message (none when all are empty).
 */
const outputCommands = (executionId: string, batches: ReadonlyArray<ReadonlyArray<OutputLine>>, progress: ReadonlyArray<string>): Array<JobCommand> => [
  ...batches.filter((lines) => lines.length > 0).map((lines) => ({ _tag: "RecordOutput" as const, executionId, lines })),
  ...progress.map((message) => ({ _tag: "RecordProgress" as const, executionId, message }))
]

/** The commands recording a run's output {@link OutputTail} (see {@link outputCommands}). */
const tailCommands = (executionId: string, tail: OutputTail): Array<JobCommand> => outputCommands(executionId, [tail.lines], tail.progress)

/**
 * A run's outcome, and whether it is the fresh start that followed a resume whose session
 * was gone (then `session` is that fresh start's plan).
 */
type SessionRunOutcome = { readonly outcome: RunOutcome; readonly sessionGone: boolean; readonly session: SessionPlan }

/** How the provider's run ended, seen from the execution. */
type RunEnd =
  | ({ readonly _tag: "Ran" } & SessionRunOutcome)
  | { readonly _tag: "Stopped"; readonly reason: StopReason }
  | { readonly _tag: "Crashed"; readonly cause: Cause.Cause<unknown> }

/**
 * Runs a claimed job to its end and records the outcome. Interruption (worker shutdown), at
 * any point from the claim on (even before the agent started), stops the provider's process
 * group and records the execution as abandoned so the retry policy can hand it to another
 * worker. An execution whose outcome cannot be recorded is
 * recorded abandoned, retried until the database answers (or the worker is stopped), so a
 * job never stays `running` under a live worker that no longer runs it.
 */
export const runExecution = (claimed: ClaimedJob, context: ExecutionContext) => {
  // Recorded once, by whichever comes first: the run's own handler (before its process group
  // is untracked, which a forced stop waits for) or the whole execution's (a stop before the
  // run began).
  let shutdownRecorded = false
  const recordShutdown = Effect.suspend(() => {
    if (shutdownRecorded) return Effect.void
    shutdownRecorded = true
    return abandonOnShutdown(claimed)
  })
  return Effect.gen(function*() {
    const { canceller, env, logger } = context
    const { executionId, job, jobId } = claimed
    const log = logger.child({ jobId, executionId, attempt: claimed.attempt })
    const submit = submitWith(yield* CommandHandler)
    const { schema } = yield* SqlClient
    log.info({ provider: job.provider, step: job.step }, "execution started")

    const adapter = adapterFor(job.provider)
    // Expected I/O failures (git, the file system): their message, one line, no stack.
    const warn = (err: unknown, what: string) => log.warn({ error: err instanceof Error ? err.message : String(err) }, what)
    // Its worktree, or its folder's snapshot (workspace.ts): a worktree it cannot have fails the job before the agent starts.
    const prepared = yield* Effect.promise(() => prepareWorkspace(jobId, job, warn))
    if (prepared._tag === "Refused") {
      log.warn({ error: prepared.error }, "execution refused: no worktree")
      return yield* submit(jobId, [{
        _tag: "Fail", executionId, exitCode: null, signal: null, errorKind: "worktree", error: prepared.error, durationMs: 0, cliVersion: null, now: new Date()
      }], undefined).pipe(Effect.ignore)
    }
    const workspace = prepared.workspace
    const cwd = workspace?.cwd ?? job.cwd
    const stopSignal = yield* canceller.register(jobId, executionId)
    // A cancel requested between the claim and the registration sent its notification to nobody.
    yield* canceller.sweep.pipe(Effect.ignore)
    const abort = new AbortController()
    const hardStop = yield* Deferred.make<StopReason>()
    let stopReason: StopReason | undefined
    let childPid: number | undefined
    const stop = (reason: StopReason) =>
      Effect.suspend(() => {
        stopReason ??= reason
        if (reason._tag === "Cancel") {
          abort.abort() // the runner then reports a `cancelled` outcome
          return Effect.void
        }
        // The job may soon run (or already runs) elsewhere: no grace for the provider.
        if (childPid !== undefined) killGroup(childPid)
        return Deferred.succeed(hardStop, reason).pipe(Effect.asVoid)
      })
    yield* Deferred.await(stopSignal).pipe(Effect.flatMap(stop), Effect.forkScoped)

    /** Appends commands about this execution in one transaction (none: nothing); a refusal means the job moved on without us. */
    const record = (commands: ReadonlyArray<JobCommand>) =>
      commands.length === 0 ? Effect.void : submit(jobId, commands).pipe(
        Effect.catchTag(["IllegalTransition", "JobNotFound"], (error) => stop({ _tag: "MovedOn", reason: error.message })),
        Effect.asVoid,
        Effect.orDie
      )
    /**
     * Records how the execution ended, after the output `tail` not recorded yet, in one
     * transaction; retried until the database answers, unless the job moved on.
     */
    const recordUntilDone = (command: JobCommand, tail: OutputTail = EMPTY_TAIL, before: ReadonlyArray<JobCommand> = []) =>
      submit(jobId, [...tailCommands(executionId, tail), ...before, command], undefined).pipe(
        Effect.catchTag(["IllegalTransition", "JobNotFound"], (error) =>
          Effect.sync(() => log.warn({ reason: error.message }, "outcome not recorded: the job moved on"))),
        Effect.asVoid
      )

    const { budget } = argvOptions(job)
    /**
     * One run of the provider in session `session` (the job's prompt, or the continue prompt
     * when resuming) with `timeoutMs` of the job's time limit left.
     */
    const run = (session: SessionPlan, timeoutMs: number) => runProvider(adapter, {
      provider: job.provider,
      bin: resolveBin(adapter, env),
      args: adapter.argv(argvOptions(job, session)),
      budget,
      prompt: session._tag === "Resume" ? continuePrompt(session.attempt) : job.prompt,
      cwd,
      env,
      timeoutMs,
      cancel: abort.signal
    }, {
      onStart: (pid) => Effect.sync(() => {
        childPid = pid
        trackGroup(schema, pid)
      }),
      onOutput: (batches, progress) => record(outputCommands(executionId, batches, progress))
    })
    /** A line of aidp's own in the execution's log. */
    const systemLine = (text: string) =>
      record([{ _tag: "RecordOutput", executionId, lines: [{ stream: "system", text, at: new Date().toISOString() }] }])

    // The planned run; a resume the CLI answers with "no such session" is followed, in the
    // same execution, by a fresh start with the job's own prompt.
    const runner = Effect.gen(function*() {
      const planned = claimed.session
      if (planned._tag === "Fresh" && planned.notResumed !== undefined) yield* systemLine(planned.notResumed)
      const first = yield* run(planned, job.timeout_ms)
      if (planned._tag !== "Resume" || first.kind !== "failed" || !adapter.sessionGone(first.error)) {
        return { outcome: first, sessionGone: false, session: planned }
      }
      log.warn({ sessionId: planned.sessionId }, "the resumed session is gone; starting fresh")
      yield* record(tailCommands(executionId, first.tail))
      yield* Effect.sync(() => {
        if (childPid !== undefined) untrackGroup(schema, childPid)
        childPid = undefined
      })
      yield* systemLine(sessionGoneLine(job.provider, planned))
      const fresh = freshPlan(adapter.sessions, crypto.randomUUID())
      // One execution, one time limit: the fresh start gets what the refused resume left.
      const second = yield* run(fresh, Math.max(1, job.timeout_ms - first.durationMs))
      return { outcome: { ...second, durationMs: first.durationMs + second.durationMs }, sessionGone: true, session: fresh }
    })

    // Whichever ends first: the run, or a hard stop (which interrupts the run: its process group is killed).
    const end: RunEnd = yield* Effect.raceFirst(
      runner.pipe(Effect.map((ran): RunEnd => ({ _tag: "Ran", ...ran }))),
      Deferred.await(hardStop).pipe(Effect.map((reason): RunEnd => ({ _tag: "Stopped", reason })))
    ).pipe(
      Effect.catchCause((cause) =>
        Cause.hasInterruptsOnly(cause) ? Effect.failCause(cause) : Effect.succeed<RunEnd>({ _tag: "Crashed", cause })),
      Effect.onInterrupt(() => recordShutdown),
      Effect.ensuring(Effect.sync(() => {
        if (childPid !== undefined) untrackGroup(schema, childPid)
      })),
      Effect.ensuring(canceller.unregister(jobId))
    )

    if (end._tag === "Crashed") {
      log.error({ err: Cause.pretty(end.cause) }, "execution could not be recorded; recording it abandoned")
      return yield* recordUntilDone({
        _tag: "Abandon",
        executionId,
        reason: "The worker could not record the execution (database unreachable or an internal error).",
        now: new Date()
      })
    }
    // A hard stop, or a refused append while the run was ending: the job is not ours any more.
    const reason: StopReason | undefined = end._tag === "Stopped" ? end.reason : stopReason?._tag === "Cancel" ? undefined : stopReason
    if (reason?._tag === "MovedOn") {
      log.warn({ reason: reason.reason }, "execution stopped: the job moved on")
      return
    }
    if (reason?._tag === "LeaseLost") {
      log.warn({ reason: reason.reason }, "execution stopped: this worker lost its lease")
      return yield* recordUntilDone({ _tag: "Abandon", executionId, reason: reason.reason, now: new Date() }, end._tag === "Ran" ? end.outcome.tail : EMPTY_TAIL)
    }
    if (end._tag !== "Ran") return
    const outcome = end.outcome
    /** Records what the run changed in its workspace (workspace.ts), then how it ended. */
    const recordOutcome = (command: JobCommand, tail: OutputTail) =>
      Effect.promise(() => changesOrNull(workspace, `aidp: job ${jobId.slice(0, 8)}, attempt ${claimed.attempt}`, warn)).pipe(
        Effect.flatMap((changes) => recordUntilDone(command, tail, changes === null ? [] : [{ _tag: "RecordChanges", executionId, changes }]))
      )
    // The session the CLI reported, else the one aidp chose for the run that ended.
    const sessionId = outcome.sessionId ?? (end.session._tag === "Fresh" && end.sessionGone ? end.session.sessionId : undefined)
    const session = { sessionId, sessionGone: end.sessionGone }
    // A cancel that arrived while the process was already ending another way (a timeout's
    // grace, a crash) still ends the job cancelled: that is what the user asked for.
    if (outcome.kind === "failed" && (outcome.errorKind === "cancelled" || stopReason?._tag === "Cancel")) {
      log.info("execution cancelled")
      return yield* recordOutcome({ _tag: "ConfirmCancel", executionId }, outcome.tail)
    }
    if (outcome.kind === "succeeded") {
      const document = job.metadata[DOCUMENT_KEY]
      if (typeof document === "string") {
        const gone = yield* Effect.promise(() => projectFolderGone(cwd, document))
        if (gone !== null) {
          log.warn({ document, error: gone }, "execution failed")
          return yield* recordOutcome({
            _tag: "Fail",
            executionId,
            exitCode: outcome.exitCode,
            signal: null,
            errorKind: "unknown",
            error: gone,
            durationMs: outcome.durationMs,
            cliVersion: outcome.cliVersion ?? null,
            now: new Date(),
            costUsd: outcome.costUsd ?? undefined,
            usage: outcome.usage ?? undefined,
            ...session
          }, outcome.tail)
        }
        yield* Effect.tryPromise(() => writeStepDocument(cwd, document, outcome.result)).pipe(
          Effect.tap((wrote) =>
            Effect.sync(() =>
              wrote
                ? log.info({ document }, "wrote the step's document")
                : log.info({ document }, "left the step's document as it was: the file exists")
            )
          ),
          Effect.catch((error) => Effect.sync(() => log.error({ err: error, document }, "could not write the step's document")))
        )
      }
      log.info({ durationMs: outcome.durationMs, denied: outcome.denials.length }, "execution succeeded")
      return yield* recordOutcome({
        _tag: "Succeed",
        executionId,
        exitCode: outcome.exitCode,
        result: outcome.result,
        usage: outcome.usage ?? null,
        costUsd: outcome.costUsd ?? null,
        durationMs: outcome.durationMs,
        cliVersion: outcome.cliVersion ?? null,
        denials: outcome.denials,
        ...session
      }, outcome.tail)
    }
    log.warn({ errorKind: outcome.errorKind, error: outcome.error }, "execution failed")
    return yield* recordOutcome({
      _tag: "Fail",
      executionId,
      exitCode: outcome.exitCode,
      signal: outcome.signal,
      errorKind: outcome.errorKind,
      error: outcome.error,
      durationMs: outcome.durationMs,
      cliVersion: outcome.cliVersion ?? null,
      now: new Date(),
      retryHint: outcome.retryHint,
      costUsd: outcome.costUsd,
      usage: outcome.usage,
      ...session
    }, outcome.tail)
  }).pipe(Effect.scoped, Effect.onInterrupt(() => recordShutdown), Effect.asVoid)
}
