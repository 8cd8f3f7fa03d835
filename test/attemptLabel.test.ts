/** How `aidp execute` names an attempt when executions ended on aidp's side spent none. */
import assert from "node:assert/strict"
import { test } from "node:test"
import { attemptLabel } from "../src/cli/stepProgress.js"

test("every execution the agent ran is an attempt", () => {
  assert.equal(attemptLabel([{ status: "failed" }, { status: "running" }], 3), "Attempt 2 of 3")
})

test("an abandoned execution spends no attempt and is named besides", () => {
  assert.equal(
    attemptLabel([{ status: "abandoned" }, { status: "running" }], 1),
    "Attempt 1 of 1 (execution 2; 1 ended on aidp's side and spent no attempt)"
  )
})
