/**
 * aidp.workflow.json (src/domain/workflowFile.ts): a good file becomes the steps in order; every
 * bad one is refused with one sentence naming the step and the field. And the built-in steps
 * written by `aidp execute init` parse back to themselves.
 */
import assert from "node:assert/strict"
import { describe, test } from "node:test"
import { STEPS, stepPrompt } from "../src/domain/steps.js"
import { builtInWorkflowFile, parseWorkflowFile, stepsChangedSince, WorkflowFileError } from "../src/domain/workflowFile.js"

const file = (...steps: ReadonlyArray<unknown>) => JSON.stringify({ steps })
const good = { id: "A", document: "docs/A.md", prompt: "Write A." }

describe("aidp.workflow.json", () => {
  test("three steps with builds_on and an agent of their own", () => {
    const steps = parseWorkflowFile(file(good, { id: "B", document: "B.md", prompt: "Write B.", builds_on: ["A"], provider: "gemini", model: "gemini-2.5-pro", permissions: "plan" }, { id: "C", document: "out/C.md", prompt: "Write C.", builds_on: ["A", "B"] }))
    assert.deepEqual(steps.map((s) => [s.name, s.document, s.task, s.buildsOn, s.provider, s.model, s.permissions]), [
      ["A", "docs/A.md", "Write A.", [], undefined, undefined, undefined],
      ["B", "B.md", "Write B.", ["A"], "gemini", "gemini-2.5-pro", "plan"],
      ["C", "out/C.md", "Write C.", ["A", "B"], undefined, undefined, undefined]
    ])
    const prompt = stepPrompt(steps[2]!, steps)
    assert.match(prompt, /step C of a software delivery workflow/)
    assert.match(prompt, /- docs\/A\.md \(A\)\n- B\.md \(B\)/)
    assert.match(prompt, /Task: Write C\./)
    assert.match(prompt, /Write the result as Markdown to out\/C\.md/)
  })

  const refusals: ReadonlyArray<[string, string, string]> = [
    ["not JSON", "{steps: [", "aidp.workflow.json: is not valid JSON ("],
    ["no steps", JSON.stringify({ steps: [] }), 'aidp.workflow.json: must be an object whose "steps" is a non-empty list of steps.'],
    ["an unknown top-level field", JSON.stringify({ steps: [good], stepz: [] }), 'aidp.workflow.json: has an unknown field "stepz"; the file has only "steps".'],
    ["a step that is not an object", file(good, "B"), "aidp.workflow.json: step 2 must be an object with id, document and prompt."],
    ["a missing prompt", file(good, { id: "B", document: "B.md" }), 'aidp.workflow.json: step 2 ("B"): field "prompt" is missing; it must be the task as text.'],
    ["a missing id", file({ document: "B.md", prompt: "x" }), 'aidp.workflow.json: step 1: field "id" is missing; it must be a letter or digit, then letters'],
    ...["a b", ".", "..", "__proto__", "constructor.x", "-a", "a/b", "\u001b[31mred", "x".repeat(65)].map((id) =>
      [`id ${JSON.stringify(id)}`, file({ ...good, id }), `aidp.workflow.json: step 1 (${JSON.stringify(id.length > 40 ? `${id.slice(0, 39)}…` : id)}): field "id" must be a letter or digit, then letters, digits, _ and - (e.g. "00_PRD"), at most 64 characters.`] as [string, string, string]),
    ["a document outside the project", file({ ...good, document: "../x.md" }), 'aidp.workflow.json: step 1 ("A"): field "document" must be a file\'s path inside the project with / between folders (not in .git, without control characters), e.g. "docs/PRD.md".'],
    ...["e\u001b[41mRED.md", "a\u0000b.md", ".", "docs/", ".git/config", "aidp.workflow.json", "./aidp.workflow.json", "docs/../../x.md", "docs/..", "/etc/x.md", "docs\\a.md", "a/.GIT/x", "AIDP.workflow.json", "a\u202eb.md", "a\u2028b.md"].map((document) =>
      [`document ${JSON.stringify(document)}`, file({ ...good, document }), 'aidp.workflow.json: step 1 ("A"): field "document" must be a file\'s path inside the project'] as [string, string, string]),
    ["an empty prompt", file({ ...good, prompt: "" }), 'aidp.workflow.json: step 1 ("A"): field "prompt" must be the task as text.'],
    ["an unknown provider", file({ ...good, provider: "gpt" }), 'aidp.workflow.json: step 1 ("A"): field "provider" must be one of claude, gemini, cursor.'],
    ["bad permissions", file({ ...good, permissions: "root" }), 'aidp.workflow.json: step 1 ("A"): field "permissions" must be one of plan, edit, full.'],
    ["plan for cursor", file({ ...good, provider: "cursor", permissions: "plan" }), 'aidp.workflow.json: step 1 ("A"): field "permissions": cursor-agent has no read-only mode'],
    ["an unknown field (a typo)", file({ ...good, buildson: ["X"] }), 'aidp.workflow.json: step 1 ("A"): unknown field "buildson"; the fields are id, document, prompt, builds_on, provider, model, permissions.'],
    ["a repeated id", file(good, { ...good, document: "other.md" }), `aidp.workflow.json: step 2 ("A"): field "id" repeats step 1's; give each step its own id.`],
    ["a repeated id in another case", file(good, { ...good, id: "a", document: "other.md" }), `aidp.workflow.json: step 2 ("a"): field "id" repeats step 1's ("A" in another case); give each step its own id.`],
    ["a repeated document", file(good, { ...good, id: "B" }), `aidp.workflow.json: step 2 ("B"): field "document" is "docs/A.md", as step 1's; each step produces its own document.`],
    ...["./docs/A.md", "docs//A.md", "docs/x/../A.md", "docs/./A.md"].map((document) =>
      [`document ${JSON.stringify(document)}, the same as docs/A.md`, file(good, { ...good, id: "B", document }), `aidp.workflow.json: step 2 ("B"): field "document" is "docs/A.md", as step 1's; each step produces its own document.`] as [string, string, string]),
    ["a repeated document in another case", file(good, { ...good, id: "B", document: "DOCS/a.md" }), `aidp.workflow.json: step 2 ("B"): field "document" is "DOCS/a.md", as step 1's ("docs/A.md" in another case); each step produces its own document.`],
    ["builds_on a later step", file({ ...good, builds_on: ["B"] }, { ...good, id: "B", document: "B.md" }), 'aidp.workflow.json: step 1 ("A"): field "builds_on" names "B", which is not an earlier step.'],
    ["an unknown field with an escape sequence", file({ ...good, "\u001b[2Jx": 1 }), 'aidp.workflow.json: step 1 ("A"): unknown field "\\u001b[2Jx"; the fields are'],
    ["builds_on naming an escape sequence", file({ ...good, builds_on: ["\u001b]0;t\u0007"] }), 'aidp.workflow.json: step 1 ("A"): field "builds_on" names "\\u001b]0;t\\u0007", which is not an earlier step.'],
    ["builds_on not a list", file({ ...good, builds_on: "A" }), 'aidp.workflow.json: step 1 ("A"): field "builds_on" must be a list of earlier step ids.']
  ]
  for (const [name, text, sentence] of refusals) {
    test(`refused: ${name}`, () => {
      assert.throws(() => parseWorkflowFile(text), (error: unknown) => {
        assert.ok(error instanceof WorkflowFileError)
        assert.ok(error.message.startsWith(sentence), `${error.message}\ndoes not start with\n${sentence}`)
        assert.doesNotMatch(error.message, /\n/)
        return true
      })
    })
  }

  test("a document is kept in its normal form: ./a.md, docs//a.md and docs/x/../a.md", () => {
    const steps = parseWorkflowFile(file({ ...good, document: "./a.md" }, { ...good, id: "B", document: "docs//b.md" }, { ...good, id: "C", document: "docs/x/../c.md" }))
    assert.deepEqual(steps.map((s) => s.document), ["a.md", "docs/b.md", "docs/c.md"])
    assert.match(stepPrompt(steps[2]!, steps), /Write the result as Markdown to docs\/c\.md/)
  })

  test("ids of letters, digits, _ and - in any order after the first, up to 64 characters", () => {
    const ids = ["a", "0", "00_PRD", "Z-9_x", "x".repeat(64)]
    assert.deepEqual(parseWorkflowFile(file(...ids.map((id, index) => ({ ...good, id, document: `d${index}.md` })))).map((s) => s.name), ids)
  })

  test("the file execute init writes is the built-in workflow, prompts and all", () => {
    const steps = parseWorkflowFile(builtInWorkflowFile())
    assert.deepEqual(steps.map((s) => [s.name, s.document]), STEPS.map((s) => [s.name, s.document]))
    for (const [index, step] of steps.entries()) assert.equal(stepPrompt(step, steps), stepPrompt(STEPS[index]!))
  })

  test("stepsChangedSince: the file no longer runs the steps a workflow started with", () => {
    const three = [good, { id: "B", document: "B.md", prompt: "Write B.", builds_on: ["A"] }, { id: "C", document: "C.md", prompt: "Write C.", provider: "gemini" }]
    const steps = parseWorkflowFile(file(...three))
    // As a workflow records them: prompts rendered, agents settled by the command's defaults.
    const recorded = steps.map((step) => ({ name: step.name, document: step.document, prompt: stepPrompt(step, steps), provider: step.provider ?? "claude", model: null, permissions: "edit" as const }))
    const changed = (...now: ReadonlyArray<unknown>) => stepsChangedSince(recorded.slice(1), parseWorkflowFile(file(...now)))
    assert.equal(stepsChangedSince(recorded, steps), false)
    assert.equal(changed(...three), false, "a step the workflow did not take (A: --from B) does not count")
    assert.equal(changed(three[0], { ...three[1], document: "./B.md" }, three[2]), false, "the same document, written otherwise")
    assert.equal(changed(three[0], three[2], three[1]), true, "another order")
    assert.equal(changed(three[0], three[1]), true, "C is gone")
    assert.equal(changed(three[0], { ...three[1], id: "b" }, three[2]), true, "B renamed")
    assert.equal(changed(three[0], { ...three[1], prompt: "Write B well." }, three[2]), true, "another prompt")
    assert.equal(changed(three[0], { ...three[1], document: "docs/B.md" }, three[2]), true, "another document")
    assert.equal(changed(three[0], { ...three[1], model: "opus" }, three[2]), true, "an agent setting the file now fixes")
    assert.equal(changed({ ...three[0], prompt: "Other A." }, three[1], three[2]), false, "A's prompt is not part of B's")
  })
})
