/**
 * Step documents: when a workflow step's job succeeds, its document (`docs/PRD.md`, ...)
 * must exist. Agents usually write it themselves; when one only answered with the text,
 * aidp writes the result there.
 */
import { mkdir, stat, writeFile } from "node:fs/promises"
import path from "node:path"

/** Metadata key of a step job naming its document, relative to the job's cwd. */
export const DOCUMENT_KEY = "document"

/**
 * Writes `result` to `cwd/document` unless the agent wrote that file during the execution
 * (modified at or after `startedAt`). Returns whether aidp wrote it. Fails with the file
 * system's error (permission, disk full) for the caller to log.
 */
export const writeStepDocument = async (
  cwd: string,
  document: string,
  result: string,
  startedAt: Date
): Promise<boolean> => {
  const file = path.resolve(cwd, document)
  const existing = await stat(file).catch(() => null)
  if (existing && existing.mtimeMs >= startedAt.getTime() - 1000) return false
  await mkdir(path.dirname(file), { recursive: true })
  await writeFile(file, result.endsWith("\n") ? result : `${result}\n`)
  return true
}
