/**
 * Claimer: takes the next runnable queued job and opens its execution, in one
 * transaction. The row lock (FOR UPDATE SKIP LOCKED) on the job's read-model row plus the
 * append's expected version make a job run on at most one worker at a time, across any
 * number of processes and hosts (DESIGN.md, invariant 1).
 */
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import type postgres from "postgres"
import type { ProviderLimits } from "../config/env.js"
import type { Provider } from "../domain/job.js"
import { decide } from "../domain/decider.js"
import type { EventOf } from "../domain/events.js"
import { planSession, type SessionPlan, startedPlan } from "../domain/session.js"
import { DatabaseError } from "../events/errors.js"
import { type Queryable, SqlClient } from "../events/sqlClient.js"
import { appendIn, EventStore, readStreamIn } from "../events/store.js"
import { loadState } from "../projections/commandHandler.js"
import { adapterFor } from "./providers/index.js"

/** Who is claiming: written into ExecutionStarted. */
export interface WorkerIdentity {
  readonly workerId: string
  readonly host: string
  /** The worker process's pid. */
  readonly pid: number
}

/** A claimed job: its new execution and the job's definition from its JobQueued event. */
export interface ClaimedJob {
  readonly jobId: string
  readonly executionId: string
  readonly attempt: number
  readonly job: EventOf<"JobQueued">["data"]
  /** How the execution uses the agent's session (resume the last one, or start fresh). */
  readonly session: SessionPlan
}

/** What to claim: any runnable job, or only the given ones (`aidp execute`: its step's job, or its workflow's). */
export interface ClaimOptions {
  readonly onlyJobIds?: ReadonlyArray<string> | undefined
  /** Providers with a limit: no job of theirs is claimed while that many of them run. */
  readonly concurrency?: ProviderLimits
  /** The provider command line recorded in ExecutionStarted (no prompt), for the execution's session plan. */
  readonly argvFor: (job: EventOf<"JobQueued">["data"], session: SessionPlan) => ReadonlyArray<string>
}

/** A job's definition: the data of its stream's first event, JobQueued. Throws when the stream has none. */
const jobDefinition = async (sql: Queryable, jobId: string): Promise<ClaimedJob["job"]> => {
  const [queued] = await readStreamIn(sql, jobId, 0, 1)
  if (!queued || queued.event.type !== "JobQueued") throw new Error(`Job ${jobId} has no JobQueued event.`)
  return queued.event.data
}

/**
 * Claims one job or returns null when none is runnable now (or this worker is not
 * registered as running). Renews the worker's lease (`workers.heartbeat_at`) in the same
 * transaction. `executionId` is the id the new execution gets: chosen by the caller so that a
 * claim whose commit went unanswered (the connection lost during COMMIT) can be looked up
 * with {@link confirmClaim}. Fails with DatabaseError.
 */
export const claimNext = (identity: WorkerIdentity, options: ClaimOptions, executionId: string) =>
  Effect.gen(function*() {
    const { channel, schema, sql } = yield* SqlClient
    const store = yield* EventStore
    return yield* Effect.tryPromise({
      try: () =>
        sql.begin(async (tx): Promise<ClaimedJob | null> => {
          // Lease before work: the claim renews this worker's lease in its own transaction,
          // so no rescuer can see a just-claimed execution under a lapsed lease (after an
          // outage). A worker marked stopped claims nothing. Limited providers are counted
          // after the lease and before the pick (their advisory locks serialize those claims).
          const limits = options.concurrency ?? {}
          const limited = Object.keys(limits).length > 0
          if (limited && !(await lease(tx, identity.workerId))) return null
          const full = limited ? await providersAtLimit(tx, schema, limits) : []
          const now = new Date()
          // Lease and pick in one statement (a data-modifying WITH always runs to completion):
          // a stopped worker picks nothing; the pick locks the job's row.
          const [picked] = await tx<Array<{ id: string }>>`
            with leased as (
              update workers set heartbeat_at = clock_timestamp()
              where id = ${identity.workerId} and stopped_at is null
              returning id)
            select id from jobs
            where exists (select from leased) and status = 'queued' and run_at <= ${now}
              ${options.onlyJobIds ? tx`and id = any(${tx.array([...options.onlyJobIds])}::uuid[])` : tx``}
              ${full.length > 0 ? tx`and provider not in ${tx(full)}` : tx``}
            order by priority desc, run_at, created_at, id
            for update skip locked
            limit 1`
          if (!picked) return null
          const jobId = picked.id
          // Sent together: one round trip for the definition and the state.
          const [job, state] = await Promise.all([jobDefinition(tx, jobId), loadState(tx, jobId)])
          const session = planSession({
            support: adapterFor(job.provider).sessions,
            last: state.lastSession,
            fresh: state.retryFresh,
            newSessionId: crypto.randomUUID()
          })
          const decision = decide({
            _tag: "Start",
            executionId,
            workerId: identity.workerId,
            host: identity.host,
            pid: identity.pid,
            argv: options.argvFor(job, session),
            session
          }, state)
          if (Result.isFailure(decision)) throw new Error(decision.failure.message)
          await appendIn(tx, channel, store.project, {
            jobId,
            expectedVersion: state.version,
            events: decision.success,
            occurredAt: now
          })
          return { jobId, executionId, attempt: state.attempts + 1, job, session }
        }),
      catch: (cause) =>
        new DatabaseError({ message: `Claiming a job failed: ${cause instanceof Error ? cause.message : String(cause)}`, cause })
    })
  })

/**
 * A claim whose outcome is unknown (its transaction failed with a connection error, perhaps
 * after the server committed it): the claimed job when execution `executionId` was opened for
 * worker `workerId` and still runs, else null (the claim rolled back, or the execution ended
 * meanwhile). Fails with DatabaseError while the database is unreachable.
 */
export const confirmClaim = (workerId: string, executionId: string) =>
  Effect.gen(function*() {
    const { sql } = yield* SqlClient
    return yield* Effect.tryPromise({
      try: async (): Promise<ClaimedJob | null> => {
        const [execution] = await sql<Array<{ job_id: string; attempt: number; session_id: string | null; resumed_attempt: number | null }>>`
          select job_id, attempt, session_id, resumed_attempt from job_executions
          where id = ${executionId} and worker_id = ${workerId} and status = 'running'`
        if (!execution) return null
        return {
          jobId: execution.job_id,
          executionId,
          attempt: execution.attempt,
          job: await jobDefinition(sql, execution.job_id),
          session: startedPlan(execution.session_id, execution.resumed_attempt)
        }
      },
      catch: (cause) =>
        new DatabaseError({ message: `Confirming a claim failed: ${cause instanceof Error ? cause.message : String(cause)}`, cause })
    })
  })

/** Renews the lease of worker `workerId` unless it is marked stopped; whether it did. */
const lease = async (tx: postgres.TransactionSql, workerId: string): Promise<boolean> => {
  const rows = await tx`update workers set heartbeat_at = clock_timestamp() where id = ${workerId} and stopped_at is null returning id`
  return rows.length > 0
}

/**
 * The limited providers that already run as many jobs as their limit allows. Takes one
 * transaction-scoped advisory lock per limited provider (in a fixed order, so claimers never
 * deadlock) before counting: the claims of a limited provider are serialized, and each count
 * sees every claim committed before it, across processes and hosts. `installation` keeps
 * the locks of two aidp schemas in one database apart.
 */
const providersAtLimit = async (tx: postgres.TransactionSql, installation: string, limits: ProviderLimits): Promise<Array<Provider>> => {
  const limited = (Object.keys(limits) as Array<Provider>).sort()
  if (limited.length === 0) return []
  for (const provider of limited) {
    await tx`select pg_advisory_xact_lock(hashtext(${`aidp:${installation}:concurrency:${provider}`}))`
  }
  const counts = await tx<Array<{ provider: Provider; running: number }>>`
    select provider, count(*)::int as running from jobs
    where status = 'running' and provider in ${tx(limited)}
    group by provider`
  return limited.filter((provider) => (counts.find((c) => c.provider === provider)?.running ?? 0) >= limits[provider]!)
}
