/**
 * The job event catalogue (DESIGN.md, Events). Every job transition is one of these,
 * appended to `job_events` with `type` and `data` (jsonb, snake_case keys: the log's wire
 * format). Each event has an Effect Schema so anything read back from the log is decoded,
 * never trusted. Pure; no I/O.
 */
import * as Schema from "effect/Schema"
import { ChangeSummarySchema } from "./changes.js"
import { ErrorKindSchema, LOG_STREAMS, PermissionsSchema, ProviderSchema } from "./job.js"

const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const PositiveInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))
/** ISO 8601 timestamp string (e.g. `2026-11-29T19:13:39.123Z`). */
const IsoTime = Schema.String

/** JobQueued: a new job entered the queue. Status after: queued. */
export const JobQueued = Schema.Struct({
  type: Schema.Literal("JobQueued"),
  data: Schema.Struct({
    provider: ProviderSchema,
    model: Schema.NullOr(Schema.String),
    /** Full prompt text, delivered to the provider on stdin. */
    prompt: Schema.String,
    cwd: Schema.String,
    step: Schema.NullOr(Schema.String),
    priority: Schema.Int,
    max_attempts: PositiveInt,
    /** Wall-clock limit of one execution, ms. */
    timeout_ms: PositiveInt,
    metadata: Schema.Record(Schema.String, Schema.Unknown),
    /** What the agent may do; absent in events written before levels existed (read as `edit`). */
    permissions: Schema.optionalKey(PermissionsSchema),
    /** Retry an execution that ran past `timeout_ms` automatically (`--retry-timeouts`); absent = false (events before it existed). */
    retry_timeouts: Schema.optionalKey(Schema.Boolean),
    /** Most US dollars one execution may spend (`--max-cost`); absent = no limit. */
    max_cost_usd: Schema.optionalKey(Schema.Number.check(Schema.isGreaterThan(0))),
    /** Most agent turns one execution may take (`--max-turns`); absent = no limit. */
    max_turns: Schema.optionalKey(PositiveInt),
    /**
     * Run in a git worktree of its own (`--worktree`): `key` names the worktree (branch
     * `aidp/<first 8 of key>`), absent = the job's id; jobs giving one key share one worktree.
     * Absent = run in `cwd` itself.
     */
    worktree: Schema.optionalKey(Schema.Struct({ key: Schema.optionalKey(Schema.String) }))
  })
})

/** ExecutionStarted: a worker claimed the job and opened execution `attempt`. Status after: running. */
export const ExecutionStarted = Schema.Struct({
  type: Schema.Literal("ExecutionStarted"),
  data: Schema.Struct({
    execution_id: Schema.String,
    attempt: PositiveInt,
    worker_id: Schema.String,
    host: Schema.String,
    /** The worker's process id (the provider child's pid is in the logs). */
    pid: Schema.Int,
    /** Provider command line without the prompt (the prompt goes on stdin). */
    argv: Schema.Array(Schema.String),
    cli_version: Schema.NullOr(Schema.String),
    /** The agent's session when aidp knows it at start: chosen up front (`--session-id`) or resumed; absent otherwise and in older events. */
    session_id: Schema.optionalKey(Schema.String),
    /** The attempt whose session this execution resumes (`--resume`); absent for a fresh start. */
    resumed_attempt: Schema.optionalKey(PositiveInt)
  })
})

/** One line of provider output; `at` is when aidp read it. */
export const OutputLine = Schema.Struct({
  stream: Schema.Literals(LOG_STREAMS),
  text: Schema.String,
  at: IsoTime
})
/** Decoded {@link OutputLine}. */
export type OutputLine = typeof OutputLine.Type

/** ExecutionOutput: a batch of output lines (batched by ≤100 ms or ≤64 KiB). */
export const ExecutionOutput = Schema.Struct({
  type: Schema.Literal("ExecutionOutput"),
  data: Schema.Struct({
    execution_id: Schema.String,
    lines: Schema.Array(OutputLine),
    /** Lines removed by `aidp jobs prune --output-only` (the event keeps its place, `lines` is empty); absent when none. */
    pruned_lines: Schema.optionalKey(PositiveInt)
  })
})

/** ExecutionProgress: a short human-readable progress message (tool call, text summary). */
export const ExecutionProgress = Schema.Struct({
  type: Schema.Literal("ExecutionProgress"),
  data: Schema.Struct({
    execution_id: Schema.String,
    message: Schema.String
  })
})

/**
 * A tool call the agent was refused (claude `permission_denials`, gemini calls to tools its
 * approval mode did not give it): the tool's name and its main argument (path, command; ""
 * when the call named none), one line.
 */
export const Denial = Schema.Struct({
  tool: Schema.String,
  target: Schema.String
})
/** Decoded {@link Denial}. */
export type Denial = typeof Denial.Type

/** ExecutionSucceeded: the provider finished with a success event, exit 0 and a result. Status after: completed. */
export const ExecutionSucceeded = Schema.Struct({
  type: Schema.Literal("ExecutionSucceeded"),
  data: Schema.Struct({
    execution_id: Schema.String,
    /** 0, or null when aidp ended a CLI that printed its result but never exited (cursor). */
    exit_code: Schema.NullOr(Schema.Int),
    result: Schema.String,
    usage: Schema.NullOr(Schema.Unknown),
    cost_usd: Schema.NullOr(Schema.Finite),
    duration_ms: NonNegativeInt,
    cli_version: Schema.NullOr(Schema.String),
    /** Tool calls refused during the run (the run completed with a warning); absent when none. */
    denials: Schema.optionalKey(Schema.Array(Denial)),
    /** The agent's session id as the CLI reported it (`init`/`result`); absent when it reported none. */
    session_id: Schema.optionalKey(Schema.String),
    /** The resumed session was gone, so the execution started fresh with the original prompt; absent otherwise. */
    session_gone: Schema.optionalKey(Schema.Boolean)
  })
})

/** ExecutionFailed: the execution failed. Status after: failed (a JobRetryRequested by policy may follow). */
export const ExecutionFailed = Schema.Struct({
  type: Schema.Literal("ExecutionFailed"),
  data: Schema.Struct({
    execution_id: Schema.String,
    exit_code: Schema.NullOr(Schema.Int),
    signal: Schema.NullOr(Schema.String),
    error_kind: ErrorKindSchema,
    /** The CLI's own message, one line. */
    error: Schema.String,
    duration_ms: NonNegativeInt,
    cli_version: Schema.NullOr(Schema.String),
    /** What the run had cost when it ended, USD, as the CLI reported it (claude's `total_cost_usd`); absent when it reported none. */
    cost_usd: Schema.optionalKey(Schema.Number),
    /** Token counts its final event reported (shape differs per provider); absent when it reported none. */
    usage: Schema.optionalKey(Schema.Record(Schema.String, Schema.Unknown)),
    /** The agent's session id as the CLI reported it (`init`/`result`); absent when it reported none. */
    session_id: Schema.optionalKey(Schema.String),
    /** The resumed session was gone, so the execution started fresh with the original prompt; absent otherwise. */
    session_gone: Schema.optionalKey(Schema.Boolean)
  })
})

/** JobRetryRequested: a person (`user`) or the retry policy (`policy`) re-queued the job. Status after: queued. */
export const JobRetryRequested = Schema.Struct({
  type: Schema.Literal("JobRetryRequested"),
  data: Schema.Struct({
    requested_by: Schema.Literals(["user", "policy"]),
    /** Earliest time the next execution may start. */
    run_at: IsoTime,
    /** Why the policy re-queued it, e.g. `rate limit, claude asked for 38 s`; absent for a person's retry and older events. */
    reason: Schema.optionalKey(Schema.String),
    /** A person asked for a fresh start (`aidp jobs retry --fresh`): the next execution resumes no session. Absent = false. */
    fresh: Schema.optionalKey(Schema.Boolean)
  })
})

/** JobCancelRequested: a person asked to cancel. Status unchanged until the worker stops the process. */
export const JobCancelRequested = Schema.Struct({
  type: Schema.Literal("JobCancelRequested"),
  data: Schema.Struct({
    requested_by: Schema.String
  })
})

/** JobCancelled: the job is cancelled (its process, if any, is gone). Status after: cancelled. */
export const JobCancelled = Schema.Struct({
  type: Schema.Literal("JobCancelled"),
  data: Schema.Struct({
    execution_id: Schema.NullOr(Schema.String)
  })
})

/** ExecutionAbandoned: the execution's worker was lost. Status after: failed (a policy retry may follow). */
export const ExecutionAbandoned = Schema.Struct({
  type: Schema.Literal("ExecutionAbandoned"),
  data: Schema.Struct({
    execution_id: Schema.String,
    reason: Schema.String
  })
})

/** ExecutionChanges: what an ending execution changed in its folder (src/domain/changes.ts). Status unchanged. */
export const ExecutionChanges = Schema.Struct({
  type: Schema.Literal("ExecutionChanges"),
  data: Schema.Struct({
    execution_id: Schema.String,
    changes: ChangeSummarySchema
  })
})

/** WorktreeMerged: a person merged the job's branch (`aidp jobs merge`). Status unchanged. */
export const WorktreeMerged = Schema.Struct({
  type: Schema.Literal("WorktreeMerged"),
  data: Schema.Struct({
    /** Who asked: `user` (the command line) or `monitor`. */
    requested_by: Schema.String,
    branch: Schema.String,
    /** The branch it was merged into (checked out in the repository). */
    into: Schema.String,
    /** The commit the merge made (or fast-forwarded to). */
    commit: Schema.String
  })
})

/** WorktreeRemoved: the job's worktree and branch were deleted (`aidp jobs discard`, `aidp jobs clean`). Status unchanged. */
export const WorktreeRemoved = Schema.Struct({
  type: Schema.Literal("WorktreeRemoved"),
  data: Schema.Struct({
    requested_by: Schema.String,
    branch: Schema.String,
    /** `discard` (one job) or `clean` (in bulk). */
    reason: Schema.Literals(["discard", "clean"])
  })
})

/** Any job event, discriminated by `type`. */
export const JobEvent = Schema.Union([
  JobQueued,
  ExecutionStarted,
  ExecutionOutput,
  ExecutionProgress,
  ExecutionSucceeded,
  ExecutionFailed,
  JobRetryRequested,
  JobCancelRequested,
  JobCancelled,
  ExecutionAbandoned,
  ExecutionChanges,
  WorktreeMerged,
  WorktreeRemoved
])
/** Decoded {@link JobEvent}: `{ type, data }`. */
export type JobEvent = typeof JobEvent.Type
/** The `type` of a {@link JobEvent}. */
export type JobEventType = JobEvent["type"]
/** The event of the given type. */
export type EventOf<T extends JobEventType> = Extract<JobEvent, { type: T }>

/**
 * An event as stored: its position in the whole log, its stream (job) and version
 * within the stream, and when it occurred (from the command, not the database clock).
 */
export interface RecordedEvent {
  readonly position: number
  readonly jobId: string
  readonly version: number
  readonly occurredAt: Date
  readonly event: JobEvent
}

/**
 * Decodes `{type, data}` read from the log. Throws a SchemaError when the row does not
 * match the catalogue (a corrupted or foreign row).
 */
export const decodeEvent: (input: unknown) => JobEvent = Schema.decodeUnknownSync(JobEvent)
