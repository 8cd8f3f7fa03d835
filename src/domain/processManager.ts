/**
 * The workflow's process manager, its pure half: given a workflow's state and the state of
 * its step jobs, the one thing to do next (queue a step's job, or record a pause, a resume or
 * the completion), or nothing. The I/O half (src/workers/processManager.ts) runs it after
 * every step job's change and on every (re)start, until it answers nothing. Pure; no I/O.
 */
import type { JobStatus } from "./job.js"
import type { WorkflowEvent, WorkflowState } from "./workflow.js"

/** A step's job as the manager sees it; null when the step has no job yet. */
export type StepJob = { readonly status: JobStatus; readonly error: string | null } | null

/** What to do next: queue step `step`'s job, or append `event` to the workflow's stream. */
export type Reaction =
  | { readonly _tag: "Enqueue"; readonly step: number }
  | { readonly _tag: "Append"; readonly event: WorkflowEvent }

/**
 * The next reaction, or null when the workflow waits (a step job queued or running, a
 * person's pause) or is over. `jobs[i]` is step i's job. Running: the first step without a job
 * is queued once every step before it completed; a failed or cancelled step job pauses the
 * workflow; all completed completes it. Paused by a failure: that step's job queued, running
 * or completed again (a retry) resumes it.
 */
export const react = (state: WorkflowState, jobs: ReadonlyArray<StepJob>): Reaction | null => {
  if (state.status === "paused") {
    const paused = state.paused!
    const job = jobs[paused.step] ?? null
    return paused.by === "failure" && job !== null && (job.status === "queued" || job.status === "running" || job.status === "completed")
      ? { _tag: "Append", event: { type: "WorkflowResumed", data: { requested_by: "retry" } } }
      : null
  }
  if (state.status !== "running") return null
  for (const [index, step] of state.steps.entries()) {
    const job = jobs[index] ?? null
    if (job === null) return { _tag: "Enqueue", step: index }
    if (job.status === "queued" || job.status === "running") return null
    if (job.status === "failed" || job.status === "cancelled") {
      const reason = `step ${step.name} ${job.status}${job.error ? `: ${job.error}` : ""}`
      return { _tag: "Append", event: { type: "WorkflowPaused", data: { step: index, by: "failure", reason } } }
    }
  }
  return { _tag: "Append", event: { type: "WorkflowCompleted", data: {} } }
}

/** Index of the first step whose job has not completed (the step a workflow stands at); the step count when all did. */
export const currentStep = (jobs: ReadonlyArray<StepJob>, steps: number): number => {
  for (let index = 0; index < steps; index++) if (jobs[index]?.status !== "completed") return index
  return steps
}
