/**
 * The worker pool: `count` fibers that claim and run jobs, woken by NOTIFY (JobQueued,
 * JobRetryRequested) with a poll as fallback, plus this process's heartbeat, rescuer,
 * canceller, orphan reaper (processGroups.ts), and a fence that stops this process's
 * providers when its lease lapses.
 * Runs until interrupted (SIGINT/SIGTERM in `aidp worker`, the job's end in `aidp execute`);
 * interruption stops running provider processes and records their executions as abandoned.
 */
import os from "node:os"
import { performance } from "node:perf_hooks"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import type { ProviderLimits } from "../config/env.js"
import type { Logger } from "../config/logger.js"
import type { EventOf } from "../domain/events.js"
import type { SessionPlan } from "../domain/session.js"
import { listen } from "../events/listener.js"
import type { DatabaseError } from "../events/errors.js"
import { SqlClient } from "../events/sqlClient.js"
import { makeCanceller } from "./canceller.js"
import { type ClaimedJob, claimNext, confirmClaim, type WorkerIdentity } from "./claimer.js"
import { abandonOnShutdown, runExecution } from "./execution.js"
import { heartbeat } from "./heartbeat.js"
import { adapterFor, argvOptions, resolveBin } from "./providers/index.js"
import { makeOutageReporter, OUTAGE_RETRY_MS } from "./outage.js"
import { reapOrphans } from "./processGroups.js"
import { rescueOnce } from "./rescuer.js"
import { retentionLoop } from "./retention.js"

/** Options of {@link runPool}. */
export interface PoolOptions {
  /** Worker fibers (QUE_WORKER_COUNT). */
  readonly count: number
  /** A worker silent this long is presumed lost, ms (AIDP_WORKER_LEASE_MS). */
  readonly leaseMs: number
  /** Longest wait between claim attempts when no notification arrives, ms. */
  readonly pollMs?: number
  /** Most running jobs per provider across every worker sharing the database (AIDP_<PROVIDER>_CONCURRENCY). */
  readonly concurrency: ProviderLimits
  /** Only claim these jobs (`aidp execute` runs its own step's job, or its workflow's). */
  readonly onlyJobIds?: ReadonlyArray<string> | undefined
  /** Environment handed to provider CLIs and used to find their executables. */
  readonly env: NodeJS.ProcessEnv
  readonly logger: Logger
  /** Prune finished jobs older than this once a day, ms (AIDP_RETENTION); absent or null: never. */
  readonly retentionMs?: number | null
}

/** The command line recorded for a job: executable and arguments, never the prompt. */
const argvFor = (env: NodeJS.ProcessEnv) => (job: EventOf<"JobQueued">["data"], session: SessionPlan): ReadonlyArray<string> => {
  const adapter = adapterFor(job.provider)
  return [resolveBin(adapter, env), ...adapter.argv(argvOptions(job, session))]
}

/**
 * How much sooner than its lease a silent worker stops its providers (see the fence in
 * runPool), ms. The fence looks every {@link FENCE_CHECK_MS} at most and kills at once
 * (SIGKILL), so the agents are gone before the lease runs out; a rescued job also waits its
 * retry backoff (5 s) before it can run elsewhere.
 */
export const FENCE_MARGIN_MS = 2_000
/** Longest time between two looks of the fence, ms. */
const FENCE_CHECK_MS = 1_000

/**
 * After how long without a renewal a worker stops its providers, ms: {@link FENCE_MARGIN_MS}
 * before its lease runs out, but at least half a lease (short leases) and two beats.
 */
export const fenceAfter = (leaseMs: number, beatMs: number): number =>
  Math.max(leaseMs - FENCE_MARGIN_MS, Math.floor(leaseMs / 2), 2 * beatMs)

/** Identity of this process's workers: one id per process, with host and pid. */
export const makeIdentity = (): WorkerIdentity => ({
  workerId: `${os.hostname()}:${process.pid}:${crypto.randomUUID().slice(0, 8)}`,
  host: os.hostname(),
  pid: process.pid
})

/**
 * Runs the pool until interrupted. Database trouble, from the first heartbeat and LISTEN
 * on (the database restarting as the workers start), is logged once per outage and retried
 * every {@link OUTAGE_RETRY_MS}; it never ends the pool.
 */
export const runPool = (options: PoolOptions) =>
  Effect.scoped(Effect.gen(function*() {
    const { count, env, leaseMs, logger } = options
    const pollMs = options.pollMs ?? 5_000
    const identity = makeIdentity()
    const canceller = yield* makeCanceller
    const wakeups = yield* Queue.sliding<void>(count)
    const services = yield* Effect.context<SqlClient>()
    const { schema } = yield* SqlClient
    const wakeAll = () => {
      for (let i = 0; i < count; i++) Queue.offerUnsafe(wakeups, undefined)
    }

    const outage = makeOutageReporter(logger, OUTAGE_RETRY_MS)
    // Executions this process claimed, or may have (a claim whose commit went unanswered: the
    // connection was lost during it; each worker fiber confirms its own once the database
    // answers), from the claim until their run ends. This process's rescuer leaves them alone,
    // also between the claim and the canceller's registration (the workspace is prepared
    // meanwhile, which can take seconds on a loaded machine).
    const ours = new Set<string>()
    // Ten beats a lease: an outage of two thirds of a lease stays short of the fence.
    const beatMs = Math.max(50, Math.floor(leaseMs / 10))
    const untilReachable = <A, R>(effect: Effect.Effect<A, DatabaseError, R>) =>
      effect.pipe(
        Effect.tapError((error) => Effect.sync(() => outage.failed(error.message))),
        Effect.retry({ schedule: Schedule.spaced(OUTAGE_RETRY_MS) })
      )
    const beat = yield* untilReachable(heartbeat(identity, beatMs, options.concurrency, (error) => outage.failed(error.message)))
    yield* untilReachable(listen({
      onNotification: (n) => {
        if (n.t === "JobQueued" || n.t === "JobRetryRequested") wakeAll()
        if (n.t === "JobCancelRequested") Effect.runFork(canceller.request(n.j))
      },
      onResync: () => {
        wakeAll()
        Effect.runForkWith(services)(canceller.sweep.pipe(Effect.ignore))
      }
    }))

    const maintenance = Effect.gen(function*() {
      const reaped = reapOrphans(schema)
      if (reaped.length > 0) logger.warn({ processGroups: reaped }, "stopped provider processes left by dead workers on this host")
      yield* canceller.sweep
      const pass = yield* rescueOnce(leaseMs, { workerId: identity.workerId, runs: (id) => canceller.runs(id) || ours.has(id) })
      if (pass.endedSessions > 0) logger.warn({ sessions: pass.endedSessions }, "ended the database sessions of lost workers (they could hold their jobs' locks)")
      for (const failure of pass.fenceFailures) logger.warn(failure)
      if (pass.rescued > 0) logger.warn({ rescued: pass.rescued }, "abandoned executions of lost workers")
    }).pipe(
      Effect.catch((error) => Effect.sync(() => outage.failed(error.message))),
      Effect.repeat(Schedule.spaced(Math.max(250, Math.floor(leaseMs / 2))))
    )
    yield* Effect.forkScoped(maintenance)
    if (options.retentionMs) yield* Effect.forkScoped(retentionLoop(options.retentionMs, logger))

    // Fencing (invariant 1): a worker whose lease is about to run out (no renewal for
    // `fenceAfterMs`) stops its providers itself, since the rescuers of other workers may
    // soon abandon its executions and re-queue the jobs. Not before: during a shorter outage
    // nobody can take its jobs, and its agents go on. The margin covers the provider's grace
    // (SIGTERM, then SIGKILL) together with the retry backoff a rescued job waits.
    const fenceAfterMs = fenceAfter(leaseMs, beatMs)
    const fence = Effect.suspend(() => {
      const silentMs = performance.now() - beat.lastRenewedAt()
      if (silentMs <= fenceAfterMs || canceller.size() === 0) return Effect.void
      const reason = `Worker ${identity.workerId} could not renew its lease for ${Math.round(silentMs / 1000)} s and stopped the execution.`
      return canceller.fence(reason).pipe(
        Effect.tap((stopped) => Effect.sync(() => stopped > 0 && logger.error({ stopped, silentMs: Math.round(silentMs) }, "lease lost: stopping running executions")))
      )
    }).pipe(Effect.repeat(Schedule.spaced(Math.max(25, Math.min(FENCE_CHECK_MS, Math.floor(leaseMs / 8))))))
    yield* Effect.forkScoped(fence)

    const renewIfLate = Effect.suspend(() => performance.now() - beat.lastRenewedAt() > 1.5 * beatMs ? beat.renew : Effect.void)
    const worker = (index: number) => {
      const run = (claimed: ClaimedJob) =>
        Effect.gen(function*() {
          // The claim is ours whatever happens now: run it even if the database is gone again.
          yield* renewIfLate.pipe(Effect.ignore, Effect.onInterrupt(() => abandonOnShutdown(claimed)))
          yield* runExecution(claimed, { env, canceller, logger: logger.child({ worker: index }) })
        }).pipe(Effect.ensuring(Effect.sync(() => ours.delete(claimed.executionId))))
      /** This fiber's claim in doubt, if any. */
      let pending: string | null = null
      return Effect.gen(function*() {
        if (pending !== null) {
          const confirmed = yield* confirmClaim(identity.workerId, pending)
          if (!confirmed) ours.delete(pending)
          pending = null
          if (confirmed) {
            logger.info({ worker: index, jobId: confirmed.jobId, executionId: confirmed.executionId }, "a claim whose commit went unanswered did commit: running it")
            return yield* run(confirmed)
          }
        }
        // Lease before work: after a missed beat (an outage), renew before claiming; and
        // since a claim held up by an outage may commit long after it was sent, again before
        // its agent starts, so this worker's fence never stops an execution it just began.
        // The claim renews the lease in the database itself (claimer.ts), after it was sent.
        yield* renewIfLate
        const claimSentAt = performance.now()
        const executionId = crypto.randomUUID()
        pending = executionId
        ours.add(executionId)
        const claimed = yield* claimNext(identity, { onlyJobIds: options.onlyJobIds, concurrency: options.concurrency, argvFor: argvFor(env) }, executionId)
        if (!claimed) ours.delete(executionId)
        pending = null
        beat.renewedAfter(claimSentAt)
        outage.succeeded()
        if (claimed) return yield* run(claimed)
        yield* Queue.take(wakeups).pipe(Effect.timeoutOption(pollMs))
      }).pipe(
        // Keep the worker alive through database outages (one log line per outage) and bugs
        // alike (logged in full); interruption still stops it.
        Effect.catchTag("DatabaseError", (error) =>
          Effect.sync(() => outage.failed(error.message)).pipe(Effect.andThen(Effect.sleep(OUTAGE_RETRY_MS)))),
        Effect.catchCause((cause) =>
          Cause.hasInterruptsOnly(cause)
            ? Effect.failCause(cause)
            : Effect.sync(() => logger.error({ err: Cause.pretty(cause) }, "worker loop error")).pipe(
              Effect.andThen(Effect.sleep(1_000))
            )),
        Effect.forever
      )
    }
    logger.info({ workerId: identity.workerId, count }, "workers started")
    yield* Effect.forEach(Array.from({ length: count }, (_, i) => i), worker, { concurrency: "unbounded", discard: true })
  }))
