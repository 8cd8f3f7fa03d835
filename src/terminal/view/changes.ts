/**
 * The Changes section of a job's details (`aidp jobs show`, the monitor's `d`): what its latest
 * execution that recorded changes changed — totals and the command that shows the diff, the
 * worktree's branch and where it stands, then one line per file with its +/− counts. Kept short
 * (no blank lines): it sits between the executions and the log. Pure; paths are sanitized.
 */
import { compactChanges, fileLine } from "../../domain/changes.js"
import { sanitize } from "../sanitize.js"
import type { JobDetails } from "../types.js"
import { shortId } from "./format.js"
import { type Line, seg, wrap } from "./text.js"

/** Files listed before "… and N more". */
const MAX_LISTED = 50

const WORKTREE_STATE = { open: "not merged yet", merged: "merged", removed: "removed" } as const

/** The section's lines at `width` columns; none when no execution recorded changes. */
export function changesLines(job: JobDetails, width: number): Line[] {
  const latest = [...job.executions].reverse().find((e) => e.changes !== null)
  const changes = latest?.changes
  if (latest === undefined || changes == null) return []
  const indent = (text: string, style: "dim" | null = null): Line[] => wrap(text, Math.max(1, width - 2)).map((part): Line => [seg("  "), seg(part, style)])
  const approximate = changes.approximate === true ? " (approximate: the folder had uncommitted changes before the run)" : ""
  const shown = changes.files.slice(0, MAX_LISTED)
  const more = changes.file_count - shown.length
  const diff = changes.file_count > 0 ? ` · aidp jobs diff ${shortId(job.id)}` : ""
  return [
    [seg(`Changes (attempt ${latest.attempt}): ${compactChanges(changes)}${approximate}`, "group"), seg(diff, "dim")],
    ...(changes.worktree === undefined
      ? []
      : indent(`branch ${sanitize(changes.worktree.branch)}, ${WORKTREE_STATE[job.worktreeState ?? "open"]}; worktree ${sanitize(changes.worktree.path)}`, "dim")),
    ...shown.flatMap((file) => indent(sanitize(fileLine(file)))),
    ...(more > 0 ? indent(`… and ${more} more`, "dim") : [])
  ]
}
