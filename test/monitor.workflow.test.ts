/**
 * The monitor and `jobs show` on a workflow's step jobs (pure view calls): the step cell carries
 * the workflow mark, and the details say where the workflow stands, step by step.
 */
import assert from "node:assert/strict"
import { describe, test } from "node:test"
import { detailsContent } from "../src/terminal/view/details.js"
import { jobCells, WORKFLOW_MARK } from "../src/terminal/view/table.js"
import { lineText } from "../src/terminal/view/text.js"
import { details, job, NOW } from "./support/monitor-fixtures.js"

const WORKFLOW = "0b4f6a52-8f2c-4c3a-9a57-2b7b1f0c1e11"
const cols = { provider: true, step: true, project: false, duration: true, activity: 0, error: 0 } as const
const text = (summary: Parameters<typeof details>[0], fields: Parameters<typeof details>[1]) =>
  detailsContent({ jobId: summary.id, data: details(summary, fields), loading: false, error: null, scroll: 0, follow: false, raw: false }, NOW, 100)
    .map((line) => lineText(line).trimEnd())

describe("monitor: workflow jobs", () => {
  test("a workflow's step job shows the mark before its step; a lone step job and a job without a step do not", () => {
    const cells = (fields: Parameters<typeof job>[1]) => jobCells(job("aaaaaaaa-0000-4000-8000-000000000001", fields), NOW, cols as any).map((s) => s.text).join("")
    assert.match(cells({ step: "00_PRD", metadata: { workflow_id: WORKFLOW } }), new RegExp(`${WORKFLOW_MARK}00_PRD`))
    assert.doesNotMatch(cells({ step: "00_PRD", metadata: {} }), new RegExp(WORKFLOW_MARK))
    assert.doesNotMatch(cells({ step: null }), new RegExp(WORKFLOW_MARK))
  })

  test("details: where the workflow stands, its steps with their jobs' status, this job's step marked", () => {
    const summary = job("aaaaaaaa-0000-4000-8000-000000000002", { step: "01_NFRS", status: "failed", metadata: { workflow_id: WORKFLOW } })
    const lines = text(summary, {
      workflow: {
        id: WORKFLOW,
        status: "paused",
        pausedReason: "step 01_NFRS failed: Invalid API key",
        steps: [{ name: "00_PRD", status: "completed" }, { name: "01_NFRS", status: "failed" }, { name: "02_ARCHITECTURE", status: "pending" }]
      }
    })
    const at = lines.findIndex((line) => line.startsWith("Workflow"))
    assert.ok(at > 0, lines.join("\n"))
    assert.match(lines[at]!, new RegExp(`^Workflow +${WORKFLOW_MARK} ${WORKFLOW} · paused · 1 of 3 steps completed$`))
    assert.deepEqual(lines.slice(at + 1, at + 5).map((line) => line.trim()), ["paused: step 01_NFRS failed: Invalid API key", "✓ 00_PRD completed", "✗ 01_NFRS failed  (this job)", "· 02_ARCHITECTURE pending"])
  })

  test("details of a job of no workflow have no workflow lines", () => {
    assert.ok(!text(job("aaaaaaaa-0000-4000-8000-000000000003", { step: "00_PRD" }), {}).some((line) => line.startsWith("Workflow")))
  })
})
