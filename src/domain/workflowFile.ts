/**
 * A project's own workflow, `aidp.workflow.json` at its root: parsed and checked field by field
 * with Effect Schema into the steps `aidp execute` runs, or refused with one sentence naming the
 * step and the field. Also the file `aidp execute init` writes (the built-in steps). Pure; no I/O.
 *
 *   {"steps": [{"id": "00_PRD", "document": "docs/PRD.md", "prompt": "Write ...",
 *               "builds_on": [], "provider": "claude", "model": "...", "permissions": "edit"}]}
 */
import * as Schema from "effect/Schema"
import { PERMISSIONS, PermissionsSchema, permissionsRefusal, PROVIDERS, ProviderSchema } from "./job.js"
import { type Step, STEPS, stepPrompt } from "./steps.js"
import type { WorkflowStep } from "./workflow.js"

/** The file's name, at the project's root. */
export const WORKFLOW_FILE = "aidp.workflow.json"

const NonEmpty = Schema.String.check(Schema.isMinLength(1))
/**
 * A step id: a letter or digit, then letters, digits, `_` and `-`, at most 64 characters. It
 * names the step in commands, job rows and messages, so it is never `.`, `..` or
 * `__proto__` and never holds a space, a dot or a control character.
 */
const StepId = Schema.String.check(Schema.isPattern(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/))

/**
 * The normal form of a document path: `/` between its parts, without empty and `.` parts, a
 * `..` taking away the part before it (`./a.md` and `docs/../a.md` are `a.md`, `docs//a.md` is `docs/a.md`).
 * Undefined when it is no file's path inside the project: absolute, climbing out of it, with a
 * backslash, a control character or a bidi or line separator (it is printed), a folder (`.`, a trailing `/`), in `.git`
 * (any case), or this file.
 */
export const normalDocument = (path: string): string | undefined => {
  if (path.startsWith("/") || /[\\\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/.test(path)) return undefined
  const raw = path.split("/")
  const last = raw.at(-1)
  if (last === "" || last === "." || last === "..") return undefined
  const parts: Array<string> = []
  for (const part of raw) {
    if (part === "" || part === ".") continue
    if (part !== "..") parts.push(part)
    else if (parts.pop() === undefined) return undefined
  }
  const normal = parts.join("/")
  return parts.some((part) => part.toLowerCase() === ".git") || normal.toLowerCase() === WORKFLOW_FILE.toLowerCase() || normal === "" ? undefined : normal
}

const Document = NonEmpty.check(Schema.makeFilter((path: string) => normalDocument(path) !== undefined))

/** Each field: its schema and what it must be, as the end of "field X must be ...". */
const FIELDS = {
  id: [StepId, "a letter or digit, then letters, digits, _ and - (e.g. \"00_PRD\"), at most 64 characters"],
  document: [Document, "a file's path inside the project with / between folders (not in .git, without control characters), e.g. \"docs/PRD.md\""],
  prompt: [NonEmpty, "the task as text"],
  builds_on: [Schema.Array(Schema.String), "a list of earlier step ids"],
  provider: [ProviderSchema, `one of ${PROVIDERS.join(", ")}`],
  model: [NonEmpty, "a model name"],
  permissions: [PermissionsSchema, `one of ${PERMISSIONS.join(", ")}`]
} as const
const REQUIRED = ["id", "document", "prompt"] as const

/** A refusal of the file: one sentence naming the step and the field, and what it must be. */
export class WorkflowFileError extends Error {}

const refuse = (where: string, problem: string): never => {
  throw new WorkflowFileError(`${WORKFLOW_FILE}: ${where}${problem}`)
}

/** An id as a refusal names its step: quoted with its control characters escaped, at most 40 characters. */
const shownId = (id: string): string => JSON.stringify(id.length > 40 ? `${id.slice(0, 39)}…` : id)

/** ` (X in another case)` when `earlier` and `later` differ only in case, else nothing. */
const inCase = (earlier: string, later: string): string => earlier === later ? "" : ` (${JSON.stringify(earlier)} in another case)`

/**
 * Parses the text of aidp.workflow.json into steps in order. Throws WorkflowFileError naming
 * the step (number and id) and the field: JSON that does not parse, no steps, a missing or bad
 * field, an unknown field, a repeated id, a `builds_on` that names no earlier step, a repeated
 * document, or permissions the provider cannot run at. Ids and documents that differ only in
 * case repeat each other; each step's document is in its normal form (see normalDocument).
 */
export const parseWorkflowFile = (text: string): Array<Step> => {
  let root: unknown
  try {
    root = JSON.parse(text)
  } catch (error) {
    return refuse("", `is not valid JSON (${error instanceof Error ? error.message : String(error)}); fix it or delete it to use the built-in steps.`)
  }
  const steps = (root as { steps?: unknown } | null)?.steps
  if (typeof root !== "object" || root === null || Array.isArray(root) || !Array.isArray(steps) || steps.length === 0) {
    return refuse("", "must be an object whose \"steps\" is a non-empty list of steps.")
  }
  const extra = Object.keys(root).filter((key) => key !== "steps")
  if (extra.length > 0) refuse("", `has an unknown field ${JSON.stringify(extra[0])}; the file has only "steps".`)
  const parsed: Array<Step> = []
  for (const [index, raw] of steps.entries()) {
    const id = typeof (raw as { id?: unknown } | null)?.id === "string" ? ` (${shownId((raw as { id: string }).id)})` : ""
    const where = `step ${index + 1}${id}`
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) refuse(where, " must be an object with id, document and prompt.")
    const step = raw as Record<string, unknown>
    for (const key of Object.keys(step)) {
      if (!Object.hasOwn(FIELDS, key)) refuse(where, `: unknown field ${JSON.stringify(key)}; the fields are ${Object.keys(FIELDS).join(", ")}.`)
    }
    for (const key of REQUIRED) if (step[key] === undefined) refuse(where, `: field "${key}" is missing; it must be ${FIELDS[key][1]}.`)
    for (const [key, [schema, expected]] of Object.entries(FIELDS)) {
      if (step[key] !== undefined && !Schema.is(schema as Schema.Top)(step[key])) refuse(where, `: field "${key}" must be ${expected}.`)
    }
    const name = step.id as string
    const document = normalDocument(step.document as string)!
    const buildsOn = (step.builds_on as ReadonlyArray<string> | undefined) ?? []
    // Steps are named in any case (`aidp execute 00_prd`), and a document in any case may be
    // the same file (macOS, Windows): ids and documents differing only in case are the same.
    const same = parsed.findIndex((earlier) => earlier.name.toLowerCase() === name.toLowerCase())
    if (same >= 0) refuse(where, `: field "id" repeats step ${same + 1}'s${inCase(parsed[same]!.name, name)}; give each step its own id.`)
    const sameDocument = parsed.findIndex((earlier) => earlier.document.toLowerCase() === document.toLowerCase())
    if (sameDocument >= 0) {
      refuse(where, `: field "document" is ${JSON.stringify(document)}, as step ${sameDocument + 1}'s${inCase(parsed[sameDocument]!.document, document)}; each step produces its own document.`)
    }
    const unknown = buildsOn.find((other) => !parsed.some((earlier) => earlier.name === other))
    if (unknown !== undefined) refuse(where, `: field "builds_on" names ${JSON.stringify(unknown)}, which is not an earlier step.`)
    const provider = step.provider as Step["provider"]
    const permissions = step.permissions as Step["permissions"]
    if (provider !== undefined && permissions !== undefined) {
      const refusal = permissionsRefusal(provider, permissions)
      if (refusal !== undefined) refuse(where, `: field "permissions": ${refusal}`)
    }
    parsed.push({ name, document, task: step.prompt as string, buildsOn, provider, model: step.model as string | undefined, permissions })
  }
  return parsed
}

/** The built-in steps as aidp.workflow.json text (what `aidp execute init` writes), two-space indented. */
export const builtInWorkflowFile = (): string =>
  `${JSON.stringify({ steps: STEPS.map((step) => ({ id: step.name, document: step.document, prompt: step.task, builds_on: step.buildsOn })) }, null, 2)}\n`

/**
 * Whether `steps` (the project's file now) would no longer run the steps a workflow recorded
 * when it started (`recorded`, its WorkflowStarted's): one of them is gone or renamed, in
 * another order, has another document or prompt, or an agent setting the file now fixes
 * otherwise. Steps of the file the workflow did not take (`--from`, completed before) do not count.
 */
export const stepsChangedSince = (recorded: ReadonlyArray<WorkflowStep>, steps: ReadonlyArray<Step>): boolean => {
  const indexes = recorded.map((was) => steps.findIndex((step) => step.name === was.name))
  if (indexes.some((index, at) => index < 0 || (at > 0 && index < indexes[at - 1]!))) return true
  return recorded.some((was, at) => {
    const now = steps[indexes[at]!]!
    return now.document !== was.document || stepPrompt(now, steps) !== was.prompt || (now.provider ?? was.provider) !== was.provider ||
      (now.model ?? was.model) !== was.model || (now.permissions ?? was.permissions) !== was.permissions
  })
}
