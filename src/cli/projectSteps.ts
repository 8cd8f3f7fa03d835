/**
 * The steps of a project: its own aidp.workflow.json when it has one, else the built-in ones;
 * the project's root, where that file is looked for from a subfolder; and `aidp execute init`,
 * which writes the built-in steps there for editing.
 */
import { lstat, readFile, readlink, writeFile } from "node:fs/promises"
import path from "node:path"
import { type Budget, budgetRefusal, type Permissions, type Provider } from "../domain/job.js"
import { type Step, STEPS, stepPrompt } from "../domain/steps.js"
import type { WorkflowStep } from "../domain/workflow.js"
import { builtInWorkflowFile, parseWorkflowFile, WORKFLOW_FILE, WorkflowFileError } from "../domain/workflowFile.js"
import { visible } from "../terminal/sanitize.js"
import { UsageError, UserError } from "./errors.js"
import { jobPermissions, projectDir } from "./jobCommands.js"

/** Whether `file` has an entry in its folder: a file, a folder, or a link (even a broken one). */
const hasEntry = (file: string): Promise<boolean> => lstat(file).then(() => true, () => false)

/**
 * The root of the project that folder `dir` is in (DESIGN.md, Workflows): from `dir` (links
 * resolved, see projectDir) upward, the first folder holding an aidp.workflow.json or a `.git`
 * (the top of a git repository or worktree); `dir` itself when no folder up to `/` holds
 * either. The workflow runs there, its documents are relative to it, its jobs carry it as cwd.
 */
export const projectRoot = async (dir: string): Promise<string> => {
  const start = await projectDir(dir)
  for (let folder = start; ; folder = path.dirname(folder)) {
    if (await hasEntry(path.join(folder, WORKFLOW_FILE)) || await hasEntry(path.join(folder, ".git"))) return folder
    if (path.dirname(folder) === folder) return start
  }
}

/**
 * The sentence for `file` when it is a link to nothing (or a loop of links), else null: execute
 * and init see such a file the same way, and neither reads through it nor replaces it.
 */
const brokenLink = async (file: string): Promise<UserError | null> => {
  const target = await readlink(file).catch(() => null)
  if (target === null || await readFile(file).then(() => true, (error: NodeJS.ErrnoException) => error.code === "EISDIR")) return null
  return new UserError(`${visible(file)} is a broken link (to ${visible(target)}); point it at a workflow file, or delete it to use the built-in steps.`)
}

/**
 * The steps of the project whose root is `root` (see projectRoot), in order. Throws UsageError
 * (exit 2) with the file's one sentence when aidp.workflow.json is there but wrong, UserError
 * when it cannot be read or is a broken link.
 */
export const projectSteps = async (root: string): Promise<ReadonlyArray<Step>> => {
  const file = path.join(root, WORKFLOW_FILE)
  const text = await readFile(file, "utf8").catch(async (error: NodeJS.ErrnoException) => {
    const broken = error.code === "ENOENT" || error.code === "ELOOP" ? await brokenLink(file) : null
    if (broken) throw broken
    if (error.code === "ENOENT") return null
    throw new UserError(`Cannot read ${visible(file)} (${error.code ?? error.message}); make it readable, or delete it to use the built-in steps.`)
  })
  if (text === null) return STEPS
  try {
    return parseWorkflowFile(text)
  } catch (error) {
    if (error instanceof WorkflowFileError) throw new UsageError(error.message)
    throw error
  }
}

/**
 * `aidp execute init`: writes the built-in steps to `root`/aidp.workflow.json; returns its path.
 * UserError when it exists (or is a broken link) or cannot be written.
 */
export const writeWorkflowFile = async (root: string): Promise<string> => {
  const file = path.join(root, WORKFLOW_FILE)
  await writeFile(file, builtInWorkflowFile(), { flag: "wx" }).catch(async (error: NodeJS.ErrnoException) => {
    if (error.code === "EEXIST") throw await brokenLink(file) ?? new UserError(`${visible(file)} already exists; edit it, or delete it first to write the built-in steps again.`)
    throw new UserError(`Cannot write ${visible(file)} (${error.code ?? error.message}).`)
  })
  return file
}

/** The command's agent settings, which a step of the project's workflow may override. */
export interface StepDefaults {
  readonly provider: Provider
  readonly model: string | null
  /** `--permissions`, if given (else the step's, else `fallbackPermissions`). */
  readonly permissions: Permissions | undefined
  /** AIDP_PERMISSIONS. */
  readonly fallbackPermissions: Permissions
  readonly budget: Budget
}

/**
 * Step `step` of `steps` as a workflow runs it: its prompt rendered, its agent settled (the
 * step's own provider, model and permissions before the command's). Throws UsageError naming
 * the step when its agent cannot run at those permissions or be held to the budget.
 */
export const resolveStep = (step: Step, steps: ReadonlyArray<Step>, defaults: StepDefaults): WorkflowStep => {
  const provider = step.provider ?? defaults.provider
  const named = (run: () => Permissions): Permissions => {
    try {
      return run()
    } catch (error) {
      throw step.provider === undefined || !(error instanceof UsageError) ? error : new UsageError(`Step ${step.name}: ${error.message}`)
    }
  }
  const permissions = named(() => jobPermissions(provider, step.permissions ?? defaults.permissions, defaults.fallbackPermissions))
  const refusal = step.provider === undefined ? undefined : budgetRefusal(provider, defaults.budget)
  if (refusal !== undefined) throw new UsageError(`Step ${step.name}: ${refusal}`)
  return { name: step.name, document: step.document, prompt: stepPrompt(step, steps), provider, model: step.model ?? defaults.model, permissions }
}
