/**
 * The steps of a project: its own aidp.workflow.json when it has one, else the built-in ones;
 * and `aidp execute init`, which writes the built-in steps there for editing.
 */
import { readFile, writeFile } from "node:fs/promises"
import path from "node:path"
import { type Budget, budgetRefusal, type Permissions, type Provider } from "../domain/job.js"
import { type Step, STEPS, stepPrompt } from "../domain/steps.js"
import type { WorkflowStep } from "../domain/workflow.js"
import { builtInWorkflowFile, parseWorkflowFile, WORKFLOW_FILE, WorkflowFileError } from "../domain/workflowFile.js"
import { UsageError, UserError } from "./errors.js"
import { jobPermissions } from "./jobCommands.js"

/**
 * The steps of the project at `cwd`, in order. Throws UsageError (exit 2) with the file's one
 * sentence when aidp.workflow.json is there but wrong, UserError when it cannot be read.
 */
export const projectSteps = async (cwd: string): Promise<ReadonlyArray<Step>> => {
  const file = path.join(cwd, WORKFLOW_FILE)
  const text = await readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return null
    throw new UserError(`Cannot read ${file} (${error.code ?? error.message}); make it readable, or delete it to use the built-in steps.`)
  })
  if (text === null) return STEPS
  try {
    return parseWorkflowFile(text)
  } catch (error) {
    if (error instanceof WorkflowFileError) throw new UsageError(error.message)
    throw error
  }
}

/** `aidp execute init`: writes the built-in steps to `cwd`/aidp.workflow.json; returns its path. UserError when it exists. */
export const writeWorkflowFile = async (cwd: string): Promise<string> => {
  const file = path.join(cwd, WORKFLOW_FILE)
  await writeFile(file, builtInWorkflowFile(), { flag: "wx" }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "EEXIST") throw new UserError(`${file} already exists; edit it, or delete it first to write the built-in steps again.`)
    throw new UserError(`Cannot write ${file} (${error.code ?? error.message}).`)
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
