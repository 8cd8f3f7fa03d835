/**
 * The monitor's state (Elm/Bubble Tea Model): one immutable value that `update` replaces
 * and `view` renders, plus the pure derivations both share (filtering, rows, scrolling).
 */
import type { JobDetails, JobSummary, Snapshot } from "./types.js"
import { projectName } from "../domain/job.js"

/** What a group's last column shows (see {@link GROUPS}). */
export type LastColumn = "activity" | "error" | "warning"

/**
 * The four groups of the list, in display order. `last` is what the table's last column
 * shows for the group's jobs: a running job's latest activity, the error that made a job
 * fail or wait (a policy retry keeps it), or for completed jobs the warning of a run in which
 * the agent was refused tool calls (`⚠ 2 denied`).
 */
export const GROUPS = [
  { key: "running", title: "Running", last: "activity" },
  { key: "queued", title: "Queued", last: "error" },
  { key: "recent", title: "Recently completed", last: "warning" },
  { key: "failed", title: "Failed & cancelled", last: "error" }
] as const satisfies ReadonlyArray<{ key: Exclude<keyof Snapshot, "spendTodayUsd">; title: string; last: LastColumn }>

/** One of the snapshot's groups. */
export type GroupKey = (typeof GROUPS)[number]["key"]

/** What the action menu offers; built from the job's status when the menu opens. */
export type MenuAction = "details" | "logs" | "retry" | "retryFresh" | "cancel" | "diff" | "merge" | "discard" | "close"

/** What is drawn over the current screen and takes the keys first. */
export type Overlay =
  | { readonly kind: "none" }
  | { readonly kind: "help" }
  | { readonly kind: "menu"; readonly jobId: string; readonly items: readonly MenuAction[]; readonly index: number }
  | { readonly kind: "confirmCancel"; readonly jobId: string }

/**
 * The details screen of one job. `data` is null while loading, when the job is gone, or
 * when it could not be loaded (`error`).
 */
export interface DetailsScreen {
  readonly jobId: string
  readonly data: JobDetails | null
  readonly loading: boolean
  /** Why the last load of this job failed (sanitized); null after a successful load. */
  readonly error: string | null
  /** First content line shown. */
  readonly scroll: number
  /** Pinned to the end (the log tail) as it grows; set by `l` and End. */
  readonly follow: boolean
  /** The log as its stored lines instead of the agent's activity; toggled by `v`. */
  readonly raw: boolean
}

/** A one-line message for the status line; expires after {@link NOTICE_MS}. */
export interface Notice {
  readonly text: string
  readonly tone: "info" | "error"
  readonly at: Date
}

/** How long a notice stays on screen, in milliseconds. */
export const NOTICE_MS = 6000

/** How often loads are retried while they fail and the database answers, in milliseconds. */
export const RETRY_MS = 3000

/** The whole state of the monitor. */
export interface Model {
  readonly now: Date
  readonly width: number
  readonly height: number
  /** Null until the first load completes. */
  readonly snapshot: Snapshot | null
  /** Why the last load failed (sanitized); cleared by the next successful load. */
  readonly loadError: string | null
  /** When the list was last loaded; null until the first load completes. */
  readonly loadedAt: Date | null
  /** When a load last finished or was last retried by the clock (see {@link RETRY_MS}). */
  readonly checkedAt: Date
  /**
   * Why the database did not answer the last liveness probe (sanitized, e.g. `no answer in
   * 500 ms`); null while it answers. A lost database sends no notifications and a load can
   * hang, so the probe is what tells the monitor, and its user, that it is gone.
   */
  readonly unreachable: string | null
  /** The highlighted job; selection follows this id across reloads. */
  readonly selectedId: string | null
  /** Index of the highlighted job among the visible (filtered) jobs. */
  readonly cursor: number
  /** First body line shown in the list. */
  readonly scroll: number
  readonly filter: string
  readonly editingFilter: boolean
  readonly overlay: Overlay
  /** Null on the list screen. */
  readonly details: DetailsScreen | null
  readonly notice: Notice | null
  readonly quitting: boolean
}

/** The model before anything has loaded. */
export function initialModel(now: Date, width: number, height: number): Model {
  return {
    now,
    width,
    height,
    snapshot: null,
    loadError: null,
    loadedAt: null,
    checkedAt: now,
    unreachable: null,
    selectedId: null,
    cursor: 0,
    scroll: 0,
    filter: "",
    editingFilter: false,
    overlay: { kind: "none" },
    details: null,
    notice: null,
    quitting: false
  }
}

/**
 * Whether a job matches the filter text: every whitespace-separated term (case-insensitive)
 * must be a prefix of the id, provider, status or error kind, or occur in the step name, the
 * project (the last folder of the job's cwd) or the error text.
 */
export function matchesFilter(job: JobSummary, filter: string): boolean {
  const terms = filter.toLowerCase().split(/\s+/).filter((t) => t !== "")
  const project = projectName(job.cwd).toLowerCase()
  return terms.every(
    (t) =>
      job.id.toLowerCase().startsWith(t) ||
      job.provider.startsWith(t) ||
      job.status.startsWith(t) ||
      (job.errorKind ?? "").startsWith(t) ||
      (job.step ?? "").toLowerCase().includes(t) ||
      project.includes(t) ||
      (job.error ?? "").toLowerCase().includes(t)
  )
}

/** A line of the list's body: a group header or a selectable job. */
export type ListRow =
  | { readonly kind: "group"; readonly key: GroupKey; readonly title: string; readonly count: number }
  | { readonly kind: "job"; readonly group: GroupKey; readonly job: JobSummary; readonly index: number }

/** The list's body lines: every group's header followed by its matching jobs. */
export function listRows(model: Model): ListRow[] {
  const rows: ListRow[] = []
  let index = 0
  for (const group of GROUPS) {
    const jobs = (model.snapshot?.[group.key] ?? []).filter((j) => matchesFilter(j, model.filter))
    rows.push({ kind: "group", key: group.key, title: group.title, count: jobs.length })
    for (const job of jobs) rows.push({ kind: "job", group: group.key, job, index: index++ })
  }
  return rows
}

/** The selectable jobs in display order (filtered). */
export function visibleJobs(model: Model): JobSummary[] {
  return listRows(model).flatMap((r) => (r.kind === "job" ? [r.job] : []))
}

/** The highlighted job, if any. */
export function selectedJob(model: Model): JobSummary | null {
  return visibleJobs(model)[model.cursor] ?? null
}

/** A job by id from the current snapshot, whether or not the filter shows it. */
export function findJob(model: Model, id: string): JobSummary | null {
  if (model.snapshot === null) return null
  for (const group of GROUPS) {
    const job = model.snapshot[group.key].find((j) => j.id === id)
    if (job) return job
  }
  return null
}

/** Lines above the body (title, column headers), in it, and below it (status, keys). */
export interface Layout {
  readonly top: number
  readonly body: number
  readonly bottom: number
}

/** How a screen of `height` lines is split; tiny screens drop column headers and keys. */
export function layout(height: number): Layout {
  const h = Math.max(0, height)
  const top = h >= 5 ? 2 : Math.min(h, 1)
  const bottom = h >= 5 ? 2 : h >= 3 ? 1 : 0
  return { top, body: Math.max(0, h - top - bottom), bottom }
}

/**
 * The first body line to show so the selected job (and, when it is the first of its
 * group, that group's header) is visible, moving as little as possible from `scroll`.
 */
export function scrollFor(rows: readonly ListRow[], cursor: number, scroll: number, body: number): number {
  const maxScroll = Math.max(0, rows.length - body)
  const line = rows.findIndex((r) => r.kind === "job" && r.index === cursor)
  let top = Math.min(Math.max(0, scroll), maxScroll)
  if (line < 0 || body <= 0) return top
  const first = rows[line - 1]?.kind === "group" ? line - 1 : line
  if (cursor === 0) top = 0
  if (first < top) top = first
  if (line >= top + body) top = line - body + 1
  return Math.min(Math.max(0, top), maxScroll)
}
