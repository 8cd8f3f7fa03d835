/**
 * The workflow's pure parts: its stream's decisions and fold (src/domain/workflow.ts) and the
 * process manager's reaction to its step jobs (src/domain/processManager.ts), given / when / then.
 */
import assert from "node:assert/strict"
import { describe, test } from "node:test"
import { Result } from "effect"
import { currentStep, react, type StepJob } from "../src/domain/processManager.js"
import { decideWorkflow, foldWorkflow, stepJobId, type WorkflowEvent, type WorkflowState } from "../src/domain/workflow.js"

const step = (name: string) => ({ name, document: `docs/${name}.md`, prompt: `Write ${name}`, provider: "claude" as const, model: null, permissions: "edit" as const })
const started: WorkflowEvent = {
  type: "WorkflowStarted",
  data: { cwd: "/p", steps: [step("A"), step("B"), step("C")], priority: 0, max_attempts: 3, timeout_ms: 60_000, retry_timeouts: false }
}
const given = (...events: ReadonlyArray<WorkflowEvent>): WorkflowState => foldWorkflow([started, ...events])
const job = (status: NonNullable<StepJob>["status"], error: string | null = null): StepJob => ({ status, error })
const pausedOn = (index: number, reason: string): WorkflowEvent => ({ type: "WorkflowPaused", data: { step: index, by: "failure", reason } })

describe("process manager: react(workflow, step jobs)", () => {
  const cases: ReadonlyArray<[string, WorkflowState, ReadonlyArray<StepJob>, ReturnType<typeof react>]> = [
    ["a new workflow queues its first step", given(), [null, null, null], { _tag: "Enqueue", step: 0 }],
    ["a step queued or running: it waits", given(), [job("running"), null, null], null],
    ["a queued step waits too", given(), [job("completed"), job("queued"), null], null],
    ["the step before completed: the next is queued", given(), [job("completed"), null, null], { _tag: "Enqueue", step: 1 }],
    [
      "a failed step pauses it, naming the step and the error",
      given(),
      [job("completed"), job("failed", "Invalid API key"), null],
      { _tag: "Append", event: pausedOn(1, "step B failed: Invalid API key") }
    ],
    ["a cancelled step pauses it", given(), [job("cancelled"), null, null], { _tag: "Append", event: pausedOn(0, "step A cancelled") }],
    ["every step completed: it completes", given(), [job("completed"), job("completed"), job("completed")], { _tag: "Append", event: { type: "WorkflowCompleted", data: {} } }],
    ["paused on a failure, the step still failed: it waits", given(pausedOn(1, "x")), [job("completed"), job("failed"), null], null],
    ...(["queued", "running", "completed"] as const).map((status): [string, WorkflowState, ReadonlyArray<StepJob>, ReturnType<typeof react>] => [
      `paused on a failure, the step's job ${status} again (a retry): it resumes`,
      given(pausedOn(1, "x")),
      [job("completed"), job(status), null],
      { _tag: "Append", event: { type: "WorkflowResumed", data: { requested_by: "retry" } } }
    ]),
    [
      "paused by a person: nothing moves, even when the step completes",
      given({ type: "WorkflowPaused", data: { step: 1, by: "user", reason: "paused by user" } }),
      [job("completed"), job("completed"), null],
      null
    ],
    ["resumed after a retry: the next step is queued", given(pausedOn(1, "x"), { type: "WorkflowResumed", data: { requested_by: "retry" } }), [job("completed"), job("completed"), null], { _tag: "Enqueue", step: 2 }],
    ["completed: nothing", given({ type: "WorkflowCompleted", data: {} }), [job("completed"), job("completed"), job("completed")], null],
    ["cancelled: nothing, not even a missing step", given({ type: "WorkflowCancelled", data: { requested_by: "user" } }), [job("completed"), null, null], null]
  ]
  for (const [name, state, jobs, expected] of cases) test(name, () => assert.deepEqual(react(state, jobs), expected))

  test("currentStep: the first step not completed, or the count when all are", () => {
    assert.equal(currentStep([job("completed"), job("failed"), null], 3), 1)
    assert.equal(currentStep([null, null], 2), 0)
    assert.equal(currentStep([job("completed"), job("completed")], 2), 2)
  })
})

describe("workflow stream: decideWorkflow and the fold", () => {
  const refusal = (result: ReturnType<typeof decideWorkflow>) => Result.isFailure(result) ? result.failure.message : "accepted"

  test("Start on an empty stream gives WorkflowStarted; twice, or with no step, is refused", () => {
    assert.deepEqual(decideWorkflow({ _tag: "Start", data: started.data as any }, foldWorkflow([])), Result.succeed([started]))
    assert.equal(refusal(decideWorkflow({ _tag: "Start", data: started.data as any }, given())), "This workflow already exists.")
    assert.equal(refusal(decideWorkflow({ _tag: "Start", data: { ...(started.data as any), steps: [] } }, foldWorkflow([]))), "A workflow needs at least one step.")
  })

  test("pause, resume and cancel: accepted where they make sense, a sentence with the fix otherwise", () => {
    assert.deepEqual(decideWorkflow({ _tag: "Pause", step: 1 }, given()), Result.succeed([{ type: "WorkflowPaused", data: { step: 1, by: "user", reason: "paused by user" } }]))
    const paused = given(pausedOn(1, "x"))
    assert.match(refusal(decideWorkflow({ _tag: "Pause", step: 1 }, paused)), /already paused; aidp execute resume/)
    assert.deepEqual(decideWorkflow({ _tag: "Resume" }, paused), Result.succeed([{ type: "WorkflowResumed", data: { requested_by: "user" } }]))
    assert.match(refusal(decideWorkflow({ _tag: "Resume" }, given())), /already running; aidp execute pause/)
    assert.deepEqual(decideWorkflow({ _tag: "Cancel", requestedBy: "user" }, paused), Result.succeed([{ type: "WorkflowCancelled", data: { requested_by: "user" } }]))
    const done = given({ type: "WorkflowCompleted", data: {} })
    for (const command of [{ _tag: "Pause", step: 0 }, { _tag: "Resume" }, { _tag: "Cancel", requestedBy: "user" }] as const) {
      assert.equal(refusal(decideWorkflow(command, done)), "The workflow is completed; start another with aidp execute all.")
    }
    assert.equal(refusal(decideWorkflow({ _tag: "Resume" }, foldWorkflow([]))), "There is no such workflow.")
  })

  test("the fold: status, pause and version follow the events", () => {
    const state = given(pausedOn(2, "step C failed"))
    assert.deepEqual([state.status, state.version, state.paused, state.steps.length, state.cwd], ["paused", 2, { step: 2, by: "failure", reason: "step C failed" }, 3, "/p"])
    assert.deepEqual([given(pausedOn(2, "x"), { type: "WorkflowResumed", data: { requested_by: "user" } }).status, given().paused], ["running", null])
  })

  test("stepJobId: the same UUID (version 5 layout) for the same workflow and step, another for another", () => {
    const workflow = "0b4f6a52-8f2c-4c3a-9a57-2b7b1f0c1e11"
    assert.equal(stepJobId(workflow, 0), stepJobId(workflow, 0))
    assert.match(stepJobId(workflow, 0), /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    assert.notEqual(stepJobId(workflow, 0), stepJobId(workflow, 1))
    assert.notEqual(stepJobId(workflow, 0), stepJobId("6c1f2f0e-1d0b-4d1e-8d3c-3b2b1a0f9e22", 0))
  })
})
