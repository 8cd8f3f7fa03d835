/**
 * Step documents: when a workflow step's job succeeds, its document (`docs/PRD.md`, ...)
 * must exist. Agents usually write it themselves; when one only answered with the text,
 * aidp writes the result there. A file that is already there (the agent's, or the user's from
 * before the run) is never replaced.
 */
import { mkdir, stat, writeFile } from "node:fs/promises"
import path from "node:path"

/** Metadata key of a step job naming its document, relative to the job's cwd. */
export const DOCUMENT_KEY = "document"

/**
 * Null when the project folder `cwd` is still there, else the sentence a step fails with: a
 * folder deleted while its agent ran must not be created again by the step's document (the
 * later steps would run in an empty folder that is not the project).
 */
export const projectFolderGone = async (cwd: string, document: string): Promise<string | null> => {
  const found = await stat(cwd).catch(() => null)
  return found?.isDirectory() ? null : `The project folder ${cwd} no longer exists, so the step's document ${document} was not written; restore the folder and retry the job.`
}

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
