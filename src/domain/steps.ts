/**
 * The built-in workflow that `aidp execute` walks: seven steps, each producing one document
 * under `docs/` and building on the documents before it. Pure; no I/O.
 */

/** One workflow step: its name, the document it must produce, and what it is about. */
export interface Step {
  /** e.g. `00_PRD`. */
  readonly name: string
  /** Path relative to the project directory, e.g. `docs/PRD.md`. */
  readonly document: string
  readonly title: string
  /** What the document must contain; the heart of the prompt. */
  readonly brief: string
}

/** The workflow, in order. */
export const STEPS: ReadonlyArray<Step> = [
  {
    name: "00_PRD",
    document: "docs/PRD.md",
    title: "Product Requirements Document",
    brief:
      "Describe the product: the problem, the users and their goals, the scope and what is out of scope, " +
      "user stories with acceptance criteria, and how success will be measured."
  },
  {
    name: "01_NFRS",
    document: "docs/NFRS.md",
    title: "Non-Functional Requirements",
    brief:
      "State measurable non-functional requirements: performance, scalability, reliability, security, " +
      "privacy, accessibility, observability and operability, each with a target and how it is verified."
  },
  {
    name: "02_ARCHITECTURE",
    document: "docs/ARCHITECTURE.md",
    title: "Architecture",
    brief:
      "Design the system: components and their responsibilities, data model, interfaces between components, " +
      "deployment, and how the design meets each non-functional requirement."
  },
  {
    name: "03_ADR",
    document: "docs/ADR.md",
    title: "Architecture Decision Records",
    brief:
      "Record each significant decision of the architecture as an ADR: context, the decision, the options " +
      "considered and the consequences."
  },
  {
    name: "04_TEST_PLAN",
    document: "docs/TEST_PLAN.md",
    title: "Test Plan",
    brief:
      "Plan the testing: levels (unit, integration, end-to-end), what each covers, test data, environments, " +
      "and which test proves each requirement and acceptance criterion."
  },
  {
    name: "05_TASKS",
    document: "docs/TASKS.md",
    title: "Task Breakdown",
    brief:
      "Break the work into small, ordered implementation tasks, each with its goal, the files it touches, " +
      "its dependencies and how it is verified."
  },
  {
    name: "06_IMPLEMENTATION",
    document: "docs/IMPLEMENTATION.md",
    title: "Implementation Report",
    brief:
      "Implement the tasks in this repository, task by task, with tests. Then write a report listing " +
      "what was implemented, the files changed, how to run the tests, and anything left undone."
  }
]

/** Finds a step by name, case-insensitively (`00_prd` works). Undefined when unknown. */
export const findStep = (name: string): Step | undefined =>
  STEPS.find((step) => step.name.toLowerCase() === name.toLowerCase())

/**
 * The prompt of a step: what to produce, where to write it, and which earlier documents
 * to read first (all documents of the steps before it).
 */
export const stepPrompt = (step: Step): string => {
  const index = STEPS.indexOf(step)
  const earlier = STEPS.slice(0, Math.max(0, index))
  const inputs = earlier.length === 0
    ? "There are no earlier documents: start from the repository itself (README, code, notes) and what it is for."
    : `Read these earlier documents first and build on them; do not contradict them:\n${
      earlier.map((s) => `- ${s.document} (${s.title})`).join("\n")
    }`
  return [
    `You are working in this repository on step ${step.name} of a software delivery workflow: the ${step.title}.`,
    "",
    inputs,
    "",
    `Task: ${step.brief}`,
    "",
    `Write the result as Markdown to ${step.document} (create the docs/ folder if needed).`,
    `When you are done, reply with the full content of ${step.document} as your final answer.`
  ].join("\n")
}
