/**
 * The inline projection: event -> SQL on the read models `jobs`, `job_executions` and
 * `job_logs`. Runs inside the append transaction (live) and over the whole log (rebuild),
 * so every value written comes from the event: no clock, no database defaults.
 */
import type postgres from "postgres"
import type { EventOf, JobEvent, RecordedEvent } from "../domain/events.js"
import { DEFAULT_PERMISSIONS } from "../domain/job.js"
import { denialLabel } from "../domain/tools.js"
import type { Projector } from "../events/store.js"

type Tx = postgres.TransactionSql

/** Longest prompt summary kept in `jobs.prompt_summary`, characters. */
export const PROMPT_SUMMARY_CHARS = 120

/** First non-empty line of a prompt, cut to {@link PROMPT_SUMMARY_CHARS} characters. */
export const promptSummary = (prompt: string): string => {
  const line = prompt.split("\n").map((l) => l.trim()).find((l) => l.length > 0) ?? ""
  return line.length > PROMPT_SUMMARY_CHARS ? `${line.slice(0, PROMPT_SUMMARY_CHARS - 1)}…` : line
}

interface LogEntry {
  readonly at: string | Date
  readonly stream: "stdout" | "stderr" | "system"
  readonly level: "info" | "warn" | "error"
  readonly message: string
}

/** Appends log lines to a job, numbering them after the job's last line. */
const insertLogs = async (tx: Tx, jobId: string, executionId: string | null, entries: ReadonlyArray<LogEntry>) => {
  if (entries.length === 0) return
  await tx`
    insert into job_logs (job_id, seq, execution_id, at, stream, level, message)
    select ${jobId}, base.seq + t.ord, ${executionId}, t.at, t.stream, t.level, t.message
    from (select coalesce(max(seq), 0) as seq from job_logs where job_id = ${jobId}) as base,
         unnest(${tx.array(entries.map((e) => new Date(e.at).toISOString()))}::timestamptz[],
                ${tx.array(entries.map((e) => e.stream))}::text[],
                ${tx.array(entries.map((e) => e.level))}::text[],
                ${tx.array(entries.map((e) => e.message))}::text[])
           with ordinality as t(at, stream, level, message, ord)`
}

const system = (at: Date, message: string, level: LogEntry["level"] = "info"): LogEntry => ({
  at,
  stream: "system",
  level,
  message
})

/** Closes an execution row and returns its attempt and duration (ms, from its start to `at`). */
const closeExecution = async (
  tx: Tx,
  executionId: string,
  at: Date,
  fields: {
    status: "succeeded" | "failed" | "cancelled" | "abandoned"
    durationMs: number | null
    exitCode?: number | null
    signal?: string | null
    error?: string | null
    errorKind?: string | null
    result?: string | null
    usage?: unknown
    costUsd?: number | null
    cliVersion?: string | null
    denials?: ReadonlyArray<unknown> | undefined
    sessionId?: string | undefined
    sessionGone?: boolean | undefined
  }
) => {
  const [row] = await tx<Array<{ attempt: number; duration_ms: string }>>`
    update job_executions set
      status = ${fields.status},
      completed_at = ${at},
      duration_ms = coalesce(${fields.durationMs}::bigint, (extract(epoch from (${at}::timestamptz - started_at)) * 1000)::bigint),
      exit_code = ${fields.exitCode ?? null},
      signal = ${fields.signal ?? null},
      error = ${fields.error ?? null},
      error_kind = ${fields.errorKind ?? null},
      result = ${fields.result ?? null},
      usage = ${fields.usage === undefined || fields.usage === null ? null : tx.json(fields.usage as never)},
      cost_usd = ${fields.costUsd ?? null},
      cli_version = coalesce(${fields.cliVersion ?? null}, cli_version),
      denials = ${fields.denials === undefined ? null : tx.json(fields.denials as never)},
      session_id = coalesce(${fields.sessionId ?? null}, session_id),
      session_gone = ${fields.sessionGone === true}
    where id = ${executionId}
    returning attempt, duration_ms`
  if (!row) throw new Error(`Projection: execution ${executionId} has no row.`)
  return { attempt: row.attempt, durationMs: Number(row.duration_ms) }
}

/**
 * Marks the job finished with `status`, copying the execution's duration, error and number of
 * refused tool calls (`denied`, only a completed execution has any).
 */
const finishJob = async (
  tx: Tx,
  jobId: string,
  at: Date,
  status: "completed" | "failed" | "cancelled",
  durationMs: number | null,
  error: string | null,
  errorKind: string | null,
  denied = 0
) => {
  await tx`
    update jobs set status = ${status}, completed_at = ${at}, duration_ms = ${durationMs},
      error = ${error}, error_kind = ${errorKind}, current_execution_id = null,
      cancel_requested = false, progress = null, denied = ${denied}
    where id = ${jobId}`
}

/**
 * The error of a cancelled job and execution, `Cancelled by <requested_by>.` (`user`,
 * `user (Ctrl-C)`), from the stream's last JobCancelRequested before `version` (read from
 * job_events, which hold every event up to this one both live and in a rebuild; the unique
 * (job_id, version) index serves it); `Cancelled.` without one.
 */
const cancelledError = async (tx: Tx, jobId: string, version: number): Promise<string> => {
  const [row] = await tx<Array<{ by: string | null }>>`
    select data->>'requested_by' as by from job_events
    where job_id = ${jobId} and version < ${version} and type = 'JobCancelRequested'
    order by version desc limit 1`
  return row?.by ? `Cancelled by ${row.by}.` : "Cancelled."
}

/**
 * Inserts the `jobs` row and first log line of every JobQueued in `queued`, in one statement
 * however many there are (a bulk enqueue, a rebuild page), the rows passed as one JSON
 * document. A JobQueued opens its stream (version 1), so its row has no earlier log line
 * (seq 1) and carries its own stamp.
 */
const insertQueued = async (tx: Tx, queued: ReadonlyArray<RecordedEvent & { readonly event: EventOf<"JobQueued"> }>) => {
  if (queued.length === 0) return
  const rows = queued.map(({ jobId, version, position, occurredAt, event: { data: d } }) => ({
    id: jobId,
    provider: d.provider,
    model: d.model,
    step: d.step,
    summary: promptSummary(d.prompt),
    cwd: d.cwd,
    priority: d.priority,
    max_attempts: d.max_attempts,
    timeout_ms: d.timeout_ms,
    retry_timeouts: d.retry_timeouts === true,
    at: occurredAt,
    metadata: d.metadata,
    version,
    position,
    permissions: d.permissions ?? DEFAULT_PERMISSIONS,
    max_cost_usd: d.max_cost_usd ?? null,
    max_turns: d.max_turns ?? null,
    message: `Job queued for ${d.provider}${d.step ? ` (step ${d.step})` : ""}.`
  }))
  // The log lines' foreign key is checked at the end of the statement, when the jobs exist.
  await tx`
    with t as (
      select * from jsonb_to_recordset(${JSON.stringify(rows)}::text::jsonb) as t(
        id uuid, provider text, model text, step text, summary text, cwd text, priority integer, max_attempts integer,
        timeout_ms integer, retry_timeouts boolean, at timestamptz, metadata jsonb, version integer, position bigint,
        permissions text, max_cost_usd numeric, max_turns integer, message text)
    ), queued as (
      insert into jobs (id, provider, model, status, step, prompt_summary, cwd, priority, max_attempts,
                        timeout_ms, retry_timeouts, run_at, created_at, attempts, metadata, version, last_position, permissions, denied,
                        max_cost_usd, max_turns)
      select id, provider, model, 'queued', step, summary, cwd, priority, max_attempts,
             timeout_ms, retry_timeouts, at, at, 0, metadata, version, position, permissions, 0, max_cost_usd, max_turns
      from t
    )
    insert into job_logs (job_id, seq, execution_id, at, stream, level, message)
    select id, 1, null, at, 'system', 'info', message from t`
}

const isQueued = (recorded: RecordedEvent): recorded is RecordedEvent & { readonly event: EventOf<"JobQueued"> } =>
  recorded.event.type === "JobQueued"

const formatSeconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`

const projectOne = async (tx: Tx, recorded: RecordedEvent): Promise<void> => {
  const { jobId, occurredAt: at } = recorded
  const event: JobEvent = recorded.event
  switch (event.type) {
    case "JobQueued":
      // Written beforehand, with the batch's other new jobs, by insertQueued.
      return
    case "ExecutionStarted": {
      const d = event.data
      await tx`
        insert into job_executions (id, job_id, attempt, status, worker_id, host, pid, argv, cli_version, started_at,
                                    session_id, resumed_attempt, session_gone)
        values (${d.execution_id}, ${jobId}, ${d.attempt}, 'running', ${d.worker_id}, ${d.host}, ${d.pid},
                ${tx.json(d.argv as never)}, ${d.cli_version}, ${at}, ${d.session_id ?? null}, ${d.resumed_attempt ?? null}, false)`
      await tx`
        update jobs set status = 'running', started_at = ${at}, completed_at = null, duration_ms = null,
          error = null, error_kind = null, attempts = ${d.attempt}, current_execution_id = ${d.execution_id},
          cancel_requested = false, progress = null, denied = 0, retry_fresh = false
        where id = ${jobId}`
      await insertLogs(tx, jobId, d.execution_id, [
        system(at, `Attempt ${d.attempt} started by worker ${d.worker_id} on ${d.host}: ${d.argv.join(" ")}`),
        ...(d.resumed_attempt === undefined ? [] : [system(at, `Resuming attempt ${d.resumed_attempt}'s session ${d.session_id ?? ""} with a prompt to continue the task.`)])
      ])
      return
    }
    case "ExecutionOutput": {
      const d = event.data
      await insertLogs(
        tx,
        jobId,
        d.execution_id,
        d.lines.map((line) => ({ at: line.at, stream: line.stream, level: line.stream === "stderr" ? "warn" : "info", message: line.text }))
      )
      return
    }
    case "ExecutionProgress":
      await tx`update jobs set progress = ${event.data.message} where id = ${jobId}`
      return
    case "ExecutionSucceeded": {
      const d = event.data
      const { attempt, durationMs } = await closeExecution(tx, d.execution_id, at, {
        status: "succeeded",
        durationMs: d.duration_ms,
        exitCode: d.exit_code,
        result: d.result,
        usage: d.usage,
        costUsd: d.cost_usd,
        cliVersion: d.cli_version,
        denials: d.denials,
        sessionId: d.session_id,
        sessionGone: d.session_gone
      })
      const denied = d.denials?.length ?? 0
      await finishJob(tx, jobId, at, "completed", durationMs, null, null, denied)
      await insertLogs(tx, jobId, d.execution_id, [
        system(at, `Attempt ${attempt} succeeded in ${formatSeconds(durationMs)}.`),
        ...(denied === 0 ? [] : [system(at, `Warning: the agent was refused ${denied} tool call${denied === 1 ? "" : "s"}: ${(d.denials ?? []).map(denialLabel).join("; ")}.`, "warn")])
      ])
      return
    }
    case "ExecutionFailed":
      return projectFailure(tx, jobId, at, event)
    case "ExecutionAbandoned": {
      const d = event.data
      const { attempt, durationMs } = await closeExecution(tx, d.execution_id, at, {
        status: "abandoned",
        durationMs: null,
        error: d.reason,
        errorKind: "worker_lost"
      })
      await finishJob(tx, jobId, at, "failed", durationMs, d.reason, "worker_lost")
      await insertLogs(tx, jobId, d.execution_id, [system(at, `Attempt ${attempt} abandoned: ${d.reason}`, "error")])
      return
    }
    case "JobRetryRequested": {
      const d = event.data
      // Queued again: nothing is running, so no start, end or duration. A policy retry keeps
      // the error that caused it (the monitor shows why the job waits); a person's clears it
      // (the failed execution keeps it).
      await tx`
        update jobs set status = 'queued', run_at = ${d.run_at}, retry_reason = ${d.reason ?? null}, retry_fresh = ${d.fresh === true},
          started_at = null, completed_at = null, duration_ms = null,
          error = case when ${d.requested_by} = 'user' then null else error end,
          error_kind = case when ${d.requested_by} = 'user' then null else error_kind end
        where id = ${jobId}`
      await insertLogs(tx, jobId, null, [
        system(at, d.requested_by === "user" ? (d.fresh === true ? "Retry requested (fresh start)." : "Retry requested.") : `Retry scheduled by policy for ${d.run_at}${d.reason === undefined ? "" : `: ${d.reason}`}.`)
      ])
      return
    }
    case "JobCancelRequested":
      await tx`update jobs set cancel_requested = true where id = ${jobId}`
      await insertLogs(tx, jobId, null, [system(at, `Cancellation requested by ${event.data.requested_by}.`)])
      return
    case "JobCancelled": {
      const d = event.data
      const error = await cancelledError(tx, jobId, recorded.version)
      let durationMs: number | null = null
      if (d.execution_id) {
        durationMs = (await closeExecution(tx, d.execution_id, at, {
          status: "cancelled",
          durationMs: null,
          error,
          errorKind: "cancelled"
        })).durationMs
      }
      await finishJob(tx, jobId, at, "cancelled", durationMs, error, "cancelled")
      await insertLogs(tx, jobId, d.execution_id, [system(at, "Job cancelled.")])
      return
    }
  }
}

const projectFailure = async (tx: Tx, jobId: string, at: Date, event: EventOf<"ExecutionFailed">) => {
  const d = event.data
  const { attempt, durationMs } = await closeExecution(tx, d.execution_id, at, {
    status: "failed",
    durationMs: d.duration_ms,
    exitCode: d.exit_code,
    signal: d.signal,
    error: d.error,
    errorKind: d.error_kind,
    cliVersion: d.cli_version,
    costUsd: d.cost_usd,
    sessionId: d.session_id,
    sessionGone: d.session_gone
  })
  await finishJob(tx, jobId, at, "failed", durationMs, d.error, d.error_kind)
  await insertLogs(tx, jobId, d.execution_id, [system(at, `Attempt ${attempt} failed (${d.error_kind}): ${d.error}`, "error")])
}

/**
 * The projector run by the event store on every append and by rebuild: inserts the batch's
 * new jobs together (a JobQueued opens its stream, so no other event of the batch touches its
 * rows before it), applies every other event in order, then records each stream's version and
 * last position on its job row in one statement.
 */
export const project: Projector = async (tx, events) => {
  await insertQueued(tx, events.filter(isQueued))
  const last = new Map<string, RecordedEvent>()
  for (const recorded of events) {
    await projectOne(tx, recorded)
    last.set(recorded.jobId, recorded)
  }
  // A job whose last event here is its JobQueued already carries its stamp.
  const stamps = [...last.values()].filter((recorded) => !isQueued(recorded))
  if (stamps.length === 0) return
  await tx`
    update jobs set version = s.version, last_position = s.position
    from unnest(${tx.array(stamps.map((r) => r.jobId))}::uuid[], ${tx.array(stamps.map((r) => r.version))}::integer[],
                ${tx.array(stamps.map((r) => r.position))}::bigint[]) as s(id, version, position)
    where jobs.id = s.id`
}
