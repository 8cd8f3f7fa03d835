/**
 * A workflow as an event stream of its own (DESIGN.md, Workflow): its events (Effect Schema,
 * snake_case data as in the job log), its state folded from them (`evolve`), the commands a
 * person gives it (`decide`), and the deterministic id of each step's job. Pure; no I/O.
 */
import { createHash } from "node:crypto"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import { IllegalTransition } from "./decider.js"
import { PermissionsSchema, ProviderSchema } from "./job.js"

/** One step as a workflow runs it: its prompt rendered and its agent settled at start. */
export const WorkflowStep = Schema.Struct({
  name: Schema.String,
  /** The document it must produce, relative to the project directory. */
  document: Schema.String,
  prompt: Schema.String,
  provider: ProviderSchema,
  model: Schema.NullOr(Schema.String),
  permissions: PermissionsSchema
})
/** Decoded {@link WorkflowStep}. */
export type WorkflowStep = typeof WorkflowStep.Type

/** WorkflowStarted: a workflow began, with the steps it runs in order. Status after: running. */
export const WorkflowStarted = Schema.Struct({
  type: Schema.Literal("WorkflowStarted"),
  data: Schema.Struct({
    cwd: Schema.String,
    steps: Schema.Array(WorkflowStep),
    /** Settings of every step job (JobQueued's fields of the same names). */
    priority: Schema.Int,
    max_attempts: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)),
    timeout_ms: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)),
    retry_timeouts: Schema.Boolean,
    max_cost_usd: Schema.optionalKey(Schema.Number.check(Schema.isGreaterThan(0))),
    max_turns: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))),
    /** `--worktree`: every step runs in one git worktree, named by the workflow's id, so each sees the earlier steps' documents. */
    worktree: Schema.optionalKey(Schema.Boolean)
  })
})

/** WorkflowPaused: no further step is queued; `step` is the index it stands at. Status after: paused. */
export const WorkflowPaused = Schema.Struct({
  type: Schema.Literal("WorkflowPaused"),
  data: Schema.Struct({
    step: Schema.Int,
    /** `failure`: the step's job failed or was cancelled (its retry resumes); `user`: `aidp execute pause`. */
    by: Schema.Literals(["failure", "user"]),
    reason: Schema.String
  })
})

/** WorkflowResumed: the workflow goes on. Status after: running. */
export const WorkflowResumed = Schema.Struct({
  type: Schema.Literal("WorkflowResumed"),
  data: Schema.Struct({
    /** `retry`: the failed step's job was retried; `user`: `aidp execute resume`. */
    requested_by: Schema.Literals(["retry", "user"])
  })
})

/** WorkflowCompleted: every step's job completed. Status after: completed. */
export const WorkflowCompleted = Schema.Struct({
  type: Schema.Literal("WorkflowCompleted"),
  data: Schema.Struct({})
})

/** WorkflowCancelled: a person cancelled the workflow. Status after: cancelled. */
export const WorkflowCancelled = Schema.Struct({
  type: Schema.Literal("WorkflowCancelled"),
  data: Schema.Struct({ requested_by: Schema.String })
})

/** Any workflow event, discriminated by `type`. */
export const WorkflowEvent = Schema.Union([WorkflowStarted, WorkflowPaused, WorkflowResumed, WorkflowCompleted, WorkflowCancelled])
/** Decoded {@link WorkflowEvent}. */
export type WorkflowEvent = typeof WorkflowEvent.Type
/** The `type` of a {@link WorkflowEvent}. */
export type WorkflowEventType = WorkflowEvent["type"]

/** Decodes `{type, data}` read from `workflow_events`; throws a SchemaError on a foreign row. */
export const decodeWorkflowEvent: (input: unknown) => WorkflowEvent = Schema.decodeUnknownSync(WorkflowEvent)

/** Where a workflow stands. */
export type WorkflowStatus = "running" | "paused" | "completed" | "cancelled"

/** A workflow folded from its events; `version` 0 and status `none` before its first event. */
export interface WorkflowState {
  readonly version: number
  readonly status: WorkflowStatus | "none"
  readonly cwd: string
  readonly steps: ReadonlyArray<WorkflowStep>
  /** WorkflowStarted's data: what every step job is queued with besides its step. */
  readonly started: typeof WorkflowStarted.Type["data"] | null
  /** Index of the step it paused at, and why; null unless paused. */
  readonly paused: { readonly step: number; readonly by: "failure" | "user"; readonly reason: string } | null
}

/** The state of a workflow with no events. */
export const initialWorkflowState: WorkflowState = { version: 0, status: "none", cwd: "", steps: [], started: null, paused: null }

/** Applies one event (pure). */
export const evolveWorkflow = (state: WorkflowState, event: WorkflowEvent): WorkflowState => {
  const version = state.version + 1
  switch (event.type) {
    case "WorkflowStarted":
      return { version, status: "running", cwd: event.data.cwd, steps: event.data.steps, started: event.data, paused: null }
    case "WorkflowPaused":
      return { ...state, version, status: "paused", paused: event.data }
    case "WorkflowResumed":
      return { ...state, version, status: "running", paused: null }
    case "WorkflowCompleted":
      return { ...state, version, status: "completed", paused: null }
    case "WorkflowCancelled":
      return { ...state, version, status: "cancelled", paused: null }
  }
}

/** Folds a stream from the start. */
export const foldWorkflow = (events: ReadonlyArray<WorkflowEvent>): WorkflowState => events.reduce(evolveWorkflow, initialWorkflowState)

/** What a person (or `aidp execute all`) asks of a workflow. */
export type WorkflowCommand =
  | { readonly _tag: "Start"; readonly data: typeof WorkflowStarted.Type["data"] }
  /** `step`: the index of the first step whose job has not completed (where it stands). */
  | { readonly _tag: "Pause"; readonly step: number }
  | { readonly _tag: "Resume" }
  | { readonly _tag: "Cancel"; readonly requestedBy: string }

/**
 * Decides a person's command against a workflow's state: the events to append, or an
 * IllegalTransition whose message is the sentence to show (the status and the fix).
 */
export const decideWorkflow = (command: WorkflowCommand, state: WorkflowState): Result.Result<ReadonlyArray<WorkflowEvent>, IllegalTransition> => {
  const refuse = (message: string) => Result.fail(new IllegalTransition({ message }))
  if (command._tag === "Start") {
    if (state.status !== "none") return refuse("This workflow already exists.")
    if (command.data.steps.length === 0) return refuse("A workflow needs at least one step.")
    return Result.succeed([{ type: "WorkflowStarted", data: command.data }])
  }
  if (state.status === "none") return refuse("There is no such workflow.")
  if (state.status === "completed" || state.status === "cancelled") {
    return refuse(`The workflow is ${state.status}; start another with aidp execute all.`)
  }
  switch (command._tag) {
    case "Pause":
      if (state.status === "paused") return refuse("The workflow is already paused; aidp execute resume goes on.")
      return Result.succeed([{ type: "WorkflowPaused", data: { step: command.step, by: "user", reason: "paused by user" } }])
    case "Resume":
      if (state.status === "running") return refuse("The workflow is already running; aidp execute pause pauses it.")
      return Result.succeed([{ type: "WorkflowResumed", data: { requested_by: "user" } }])
    case "Cancel":
      return Result.succeed([{ type: "WorkflowCancelled", data: { requested_by: command.requestedBy } }])
  }
}

/**
 * The id of step `index`'s job in workflow `workflowId`: a name-based UUID (version 5 layout,
 * SHA-1 of the workflow id and the index), so every process manager derives the same id and
 * the job stream's version-1 uniqueness lets only one JobQueued land.
 */
export const stepJobId = (workflowId: string, index: number): string => {
  const bytes = createHash("sha1").update(`aidp-workflow:${workflowId}:${index}`).digest().subarray(0, 16)
  bytes[6] = (bytes[6]! & 0x0f) | 0x50
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  const hex = bytes.toString("hex")
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** Metadata keys of a workflow's step job: its workflow's id and its step's index in it. */
export const WORKFLOW_ID_KEY = "workflow_id"
/** See {@link WORKFLOW_ID_KEY}. */
export const WORKFLOW_STEP_KEY = "workflow_step"
/** Metadata key of a lone step's job (`aidp execute STEP`), whose value is "aidp". */
export const STEP_RUNNER_KEY = "workflow"
