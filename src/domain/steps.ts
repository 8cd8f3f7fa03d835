/**
 * The built-in workflow that `aidp execute` walks: seven steps, each producing one document
 * under `docs/` and building on the documents before it (a project may define its own in
 * aidp.workflow.json, see workflowFile.ts), and the prompt of a step. Pure; no I/O.
 */
import type { Permissions, Provider } from "./job.js"

/**
 * One workflow step: its name, the document it must produce, what it is about, the earlier
 * steps whose documents it builds on, and optionally its own agent (else the command's).
 */
export interface Step {
  /** e.g. `00_PRD`. */
  readonly name: string
  /** Path relative to the project directory, e.g. `docs/PRD.md`. */
  readonly document: string
  /** What the agent must do; the heart of the prompt (`prompt` in aidp.workflow.json). */
  readonly task: string
  /** Names of earlier steps whose documents it reads first (`builds_on`). */
  readonly buildsOn: ReadonlyArray<string>
  readonly provider?: Provider | undefined
  readonly model?: string | undefined
  readonly permissions?: Permissions | undefined
}

/** A built-in step: its title and brief make its task; it builds on every step before it. */
const builtIn = (name: string, document: string, title: string, brief: string, index: number): Step => ({
  name,
  document,
  task: `Write the ${title}. ${brief}`,
  buildsOn: BUILT_IN.slice(0, index).map(([earlier]) => earlier)
})

/** The built-in steps' names, documents, titles and briefs, in order. */
const BUILT_IN: ReadonlyArray<readonly [string, string, string, string]> = [
  [
    "00_PRD",
    "docs/PRD.md",
    "Product Requirements Document",
    "Describe the product: the problem, the users and their goals, the scope and what is out of scope, " +
      "user stories with acceptance criteria, and how success will be measured."
  ],
  [
    "01_NFRS",
    "docs/NFRS.md",
    "Non-Functional Requirements",
    "State measurable non-functional requirements: performance, scalability, reliability, security, " +
      "privacy, accessibility, observability and operability, each with a target and how it is verified."
  ],
  [
    "02_ARCHITECTURE",
    "docs/ARCHITECTURE.md",
    "Architecture",
    "Design the system: components and their responsibilities, data model, interfaces between components, " +
      "deployment, and how the design meets each non-functional requirement."
  ],
  [
    "03_ADR",
    "docs/ADR.md",
    "Architecture Decision Records",
    "Record each significant decision of the architecture as an ADR: context, the decision, the options " +
      "considered and the consequences."
  ],
  [
    "04_TEST_PLAN",
    "docs/TEST_PLAN.md",
    "Test Plan",
    "Plan the testing: levels (unit, integration, end-to-end), what each covers, test data, environments, " +
      "and which test proves each requirement and acceptance criterion."
  ],
  [
    "05_TASKS",
    "docs/TASKS.md",
    "Task Breakdown",
    "Break the work into small, ordered implementation tasks, each with its goal, the files it touches, " +
      "its dependencies and how it is verified."
  ],
  [
    "06_IMPLEMENTATION",
    "docs/IMPLEMENTATION.md",
    "Implementation Report",
    "Implement the tasks in this repository, task by task, with tests. Then write a report listing " +
      "what was implemented, the files changed, how to run the tests, and anything left undone."
  ]
]

/** The built-in workflow, in order. */
export const STEPS: ReadonlyArray<Step> = BUILT_IN.map(([name, document, title, brief], index) => builtIn(name, document, title, brief, index))

/** Finds a step of `steps` (default: the built-in ones) by name, case-insensitively (`00_prd` works). Undefined when unknown. */
export const findStep = (name: string, steps: ReadonlyArray<Step> = STEPS): Step | undefined =>
  steps.find((step) => step.name.toLowerCase() === name.toLowerCase())

/**
 * The prompt of a step of `steps` (default: the built-in ones): what to do, where to write the
 * document, and which earlier documents to read first (those of the steps it builds on).
 */
export const stepPrompt = (step: Step, steps: ReadonlyArray<Step> = STEPS): string => {
  const earlier = step.buildsOn.map((name) => findStep(name, steps)!)
  const inputs = earlier.length === 0
    ? "There are no earlier documents: start from the repository itself (README, code, notes) and what it is for."
    : `Read these earlier documents first and build on them; do not contradict them:\n${
      earlier.map((s) => `- ${s.document} (${s.name})`).join("\n")
    }`
  return [
    `You are working in this repository on step ${step.name} of a software delivery workflow.`,
    "",
    inputs,
    "",
    `Task: ${step.task}`,
    "",
    `Write the result as Markdown to ${step.document} (create its folder if needed).`,
    `When you are done, reply with the full content of ${step.document} as your final answer.`
  ].join("\n")
}
