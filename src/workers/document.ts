/**
 * Step documents: when a workflow step's job succeeds, its document (`docs/PRD.md`, ...)
 * must exist. Agents usually write it themselves; when one only answered with the text,
 * aidp writes the result there. A file that is already there (the agent's, or the user's from
 * before the run) is never replaced.
 */
import { mkdir, writeFile } from "node:fs/promises"
import path from "node:path"

/** Metadata key of a step job naming its document, relative to the job's cwd. */
export const DOCUMENT_KEY = "document"

/**
 * Creates `cwd/document` with `result` when no such file exists; an existing file is left as it
 * is. Returns whether aidp wrote it. Fails with the file system's error (permission, disk
 * full) for the caller to log.
 */
export const writeStepDocument = async (cwd: string, document: string, result: string): Promise<boolean> => {
  const file = path.resolve(cwd, document)
  await mkdir(path.dirname(file), { recursive: true })
  // "wx" creates the file or fails with EEXIST in one step: no window in which a file the agent
  // or the user just wrote could be replaced.
  return writeFile(file, result.endsWith("\n") ? result : `${result}\n`, { flag: "wx" }).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === "EEXIST") return false
      throw error
    }
  )
}
