/**
 * The monitor's Update: `update(model, msg) -> [model, cmds]`. Keys, ticks, resizes,
 * loaded data and database notifications come in as messages; what should happen in the
 * world goes out as plain-data commands that the adapter runs. Pure; no I/O, no clock.
 */
import {
  type DetailsScreen,
  findJob,
  initialModel,
  layout,
  listRows,
  type MenuAction,
  type Model,
  NOTICE_MS,
  RETRY_MS,
  scrollFor,
  selectedJob,
  visibleJobs
} from "./model.js"
import { sanitize } from "./sanitize.js"
import type { JobDetails, JobSummary, Snapshot } from "./types.js"
import { detailsContent, detailsTop } from "./view/details.js"
import { shortId } from "./view/format.js"
import { displayWidth, graphemes } from "./view/text.js"

/** Keys with names; any other key is the typed character itself (e.g. `r`, `/`, `é`). */
export const NAMED_KEYS = ["up", "down", "pgup", "pgdn", "home", "end", "enter", "escape", "backspace", "ctrl-c"] as const

/** Everything the monitor reacts to. */
export type Msg =
  | { readonly type: "key"; readonly key: string }
  | { readonly type: "tick"; readonly now: Date }
  | { readonly type: "resize"; readonly width: number; readonly height: number }
  | { readonly type: "snapshotLoaded"; readonly snapshot: Snapshot }
  | { readonly type: "detailsLoaded"; readonly id: string; readonly details: JobDetails | null }
  /** A load failed; for details, `id` is the job whose load it was. */
  | { readonly type: "loadFailed"; readonly what: "snapshot" | "details"; readonly error: string; readonly id?: string }
  /** An action ended: `error` null when it was done; `text` says what was done when the action said (merge, discard). */
  | { readonly type: "actionDone"; readonly action: "retry" | "cancel" | "merge" | "discard" | "diff"; readonly id: string; readonly error: string | null; readonly text?: string }
  /** A NOTIFY arrived for this job; null means "anything may have changed" (reconnect). */
  | { readonly type: "jobChanged"; readonly jobId: string | null }
  /** LISTEN could not start; the adapter falls back to polling. */
  | { readonly type: "liveUpdatesFailed"; readonly error: string }
  /** The liveness probe (`select 1`) answered (`error` null) or why it did not. */
  | { readonly type: "probed"; readonly error: string | null }

/** What the adapter should do (Elm's Cmd); results come back as messages. */
export type Cmd =
  | { readonly type: "loadSnapshot"; readonly filter: string }
  | { readonly type: "loadDetails"; readonly id: string }
  /** `fresh`: start over instead of resuming the last attempt's agent session. */
  | { readonly type: "retry"; readonly id: string; readonly fresh: boolean }
  | { readonly type: "cancel"; readonly id: string }
  /** Merge the job's branch, remove its worktree, or show its diff in the pager. */
  | { readonly type: "merge" | "discard" | "diff"; readonly id: string }
  | { readonly type: "quit" }

type Result = [Model, Cmd[]]

/** The starting model and its first command (load the list). */
export function init(now: Date, width: number, height: number): Result {
  return [initialModel(now, width, height), [{ type: "loadSnapshot", filter: "" }]]
}

/** The next model and the commands to run, for one message. */
export function update(model: Model, msg: Msg): Result {
  switch (msg.type) {
    case "key":
      return onKey(model, msg.key)
    case "tick": {
      const expired = model.notice !== null && msg.now.getTime() - model.notice.at.getTime() >= NOTICE_MS
      const next: Model = { ...model, now: msg.now, notice: expired ? null : model.notice }
      // Retry failed loads; while the database is unreachable, its return reloads instead.
      const due = model.loadError !== null && model.unreachable === null && msg.now.getTime() - model.checkedAt.getTime() >= RETRY_MS
      return due ? [{ ...next, checkedAt: msg.now }, reloadFor(next, null)] : [next, []]
    }
    case "resize":
      return [reselect({ ...model, width: msg.width, height: msg.height }), []]
    case "snapshotLoaded":
      return [reselect({ ...model, snapshot: msg.snapshot, loadError: null, loadedAt: model.now, checkedAt: model.now }), []]
    case "detailsLoaded": {
      const loaded: Model = { ...model, loadError: null, checkedAt: model.now }
      if (model.details?.jobId !== msg.id) return [loaded, []]
      return [{ ...loaded, details: { ...model.details, data: msg.details, loading: false, error: null } }, []]
    }
    case "loadFailed": {
      const error = sanitize(msg.error)
      const failed: Model = { ...model, loadError: error, checkedAt: model.now }
      const screen = model.details
      if (msg.what === "snapshot" || screen === null || (msg.id !== undefined && msg.id !== screen.jobId)) return [failed, []]
      // Data already shown stays; the status line says it may be old.
      return [{ ...failed, details: { ...screen, loading: false, error } }, []]
    }
    case "actionDone": {
      if (msg.action === "diff" && msg.error === null) return [model, []]
      const done = msg.text ?? `${msg.action === "retry" ? "Retry" : "Cancel"} requested for ${shortId(msg.id)}.`
      const next = msg.error === null ? notify(model, sanitize(done), "info") : notify(model, msg.error, "error")
      return [next, reloadFor(next, msg.id)]
    }
    case "jobChanged":
      return [model, reloadFor(model, msg.jobId)]
    case "liveUpdatesFailed":
      return [notify(model, `Live updates unavailable (${msg.error}); refreshing periodically.`, "error"), []]
    case "probed": {
      const reason = msg.error === null ? null : sanitize(msg.error)
      if (reason === model.unreachable) return [model, []]
      if (reason !== null) return [{ ...model, unreachable: reason }, []]
      // Back: whatever failed or was missed meanwhile is read again.
      const back: Model = { ...model, unreachable: null, loadError: null, checkedAt: model.now }
      return [back, reloadFor(back, null)]
    }
  }
}

function reloadFor(model: Model, jobId: string | null): Cmd[] {
  const cmds: Cmd[] = [{ type: "loadSnapshot", filter: model.filter }]
  if (model.details && (jobId === null || jobId === model.details.jobId)) cmds.push({ type: "loadDetails", id: model.details.jobId })
  return cmds
}

function notify(model: Model, text: string, tone: "info" | "error"): Model {
  return { ...model, notice: { text: sanitize(text), tone, at: model.now } }
}

/** Keeps the selection on the same job id (or the same position if it left), and visible. */
function reselect(model: Model): Model {
  const jobs = visibleJobs(model)
  const found = model.selectedId === null ? -1 : jobs.findIndex((j) => j.id === model.selectedId)
  return moveTo(model, found >= 0 ? found : model.cursor)
}

function moveTo(model: Model, cursor: number): Model {
  const jobs = visibleJobs(model)
  const c = Math.max(0, Math.min(cursor, jobs.length - 1))
  const scroll = scrollFor(listRows(model), c, model.scroll, layout(model.height).body)
  return { ...model, cursor: c, selectedId: jobs[c]?.id ?? null, scroll }
}

const page = (model: Model): number => Math.max(1, layout(model.height).body - 1)

function quit(model: Model): Result {
  return [{ ...model, quitting: true }, [{ type: "quit" }]]
}

function onKey(model: Model, key: string): Result {
  if (key === "ctrl-c") return quit(model)
  const { overlay } = model
  if (overlay.kind === "help") return [{ ...model, overlay: { kind: "none" } }, []]
  if (overlay.kind === "confirmCancel") {
    const closed: Model = { ...model, overlay: { kind: "none" } }
    if (key === "y" || key === "Y") return [notify(closed, `Cancelling ${shortId(overlay.jobId)}…`, "info"), [{ type: "cancel", id: overlay.jobId }]]
    return [notify(closed, "Not cancelled.", "info"), []]
  }
  if (overlay.kind === "menu") return menuKey(model, overlay, key)
  if (model.editingFilter) return filterKey(model, key)
  if (model.details) return detailsKey(model, model.details, key)
  return listKey(model, key)
}

function listKey(model: Model, key: string): Result {
  const job = selectedJob(model)
  switch (key) {
    case "up":
    case "k":
      return [moveTo(model, model.cursor - 1), []]
    case "down":
    case "j":
      return [moveTo(model, model.cursor + 1), []]
    case "pgup":
      return [moveTo(model, model.cursor - page(model)), []]
    case "pgdn":
      return [moveTo(model, model.cursor + page(model)), []]
    case "home":
      return [moveTo(model, 0), []]
    case "end":
      return [moveTo(model, Number.MAX_SAFE_INTEGER), []]
    case "enter":
      return job ? [{ ...model, overlay: { kind: "menu", jobId: job.id, items: menuItems(job), index: 0 } }, []] : [model, []]
    case "d":
    case "l":
      return openDetails(model, job, key === "l")
    case "r":
      return retry(model, job)
    case "f":
      return retry(model, job, true)
    case "c":
      return askCancel(model, job)
    case "D":
      return showDiff(model, job)
    case "/":
      return [{ ...model, editingFilter: true }, []]
    case "?":
      return [{ ...model, overlay: { kind: "help" } }, []]
    case "q":
      return quit(model)
    case "escape":
      return model.filter === "" ? [{ ...model, notice: null }, []] : setFilter(model, "")
    default:
      return [model, []]
  }
}

function menuItems(job: JobSummary): MenuAction[] {
  return [
    "details",
    "logs",
    ...(retryable(job) ? (["retry", "retryFresh"] as const) : []),
    ...(job.status === "queued" || job.status === "running" ? (["cancel"] as const) : []),
    ...(hasDiff(job) ? (["diff"] as const) : []),
    ...(finished(job) && job.worktreeState === "open" ? (["merge"] as const) : []),
    ...(finished(job) && (job.worktreeState === "open" || job.worktreeState === "merged") ? (["discard"] as const) : []),
    "close"
  ]
}

/** Whether the job has ended (its worktree may be merged or removed). */
const finished = (job: JobSummary): boolean => job.status === "completed" || job.status === "failed" || job.status === "cancelled"

/** Whether `D` applies: an execution recorded changes to files. */
const hasDiff = (job: JobSummary): boolean => job.changes !== null && job.changes.file_count > 0

/** `D`: the job's diff in the pager, when it changed files. */
function showDiff(model: Model, job: JobSummary | null): Result {
  if (job === null) return [notify(model, "No job selected.", "info"), []]
  if (!hasDiff(job)) return [notify(model, `Job ${shortId(job.id)} recorded no changed files.`, "info"), []]
  return [model, [{ type: "diff", id: job.id }]]
}

const MENU_SHORTCUTS: Readonly<Record<string, MenuAction>> = { d: "details", l: "logs", r: "retry", f: "retryFresh", c: "cancel", D: "diff", m: "merge", x: "discard" }

function menuKey(model: Model, menu: Extract<Model["overlay"], { kind: "menu" }>, key: string): Result {
  const last = menu.items.length - 1
  if (key === "up" || key === "k") return [{ ...model, overlay: { ...menu, index: menu.index <= 0 ? last : menu.index - 1 } }, []]
  if (key === "down" || key === "j") return [{ ...model, overlay: { ...menu, index: menu.index >= last ? 0 : menu.index + 1 } }, []]
  const shortcut = MENU_SHORTCUTS[key]
  const action = key === "enter" ? menu.items[menu.index] : shortcut && menu.items.includes(shortcut) ? shortcut : undefined
  const closed: Model = { ...model, overlay: { kind: "none" } }
  if (key === "escape" || key === "q" || action === "close") return [closed, []]
  if (action === undefined) return [model, []]
  const job = findJob(model, menu.jobId)
  if (job === null) return [notify(closed, `Job ${shortId(menu.jobId)} is no longer listed.`, "error"), []]
  if (action === "details" || action === "logs") return openDetails(closed, job, action === "logs")
  if (action === "retry" || action === "retryFresh") return retry(closed, job, action === "retryFresh")
  if (action === "diff") return showDiff(closed, job)
  if (action === "merge") return [notify(closed, `Merging ${shortId(job.id)}…`, "info"), [{ type: "merge", id: job.id }]]
  if (action === "discard") return [notify(closed, `Removing the worktree of ${shortId(job.id)}…`, "info"), [{ type: "discard", id: job.id }]]
  return [notify(closed, `Cancelling ${shortId(job.id)}…`, "info"), [{ type: "cancel", id: job.id }]]
}

function setFilter(model: Model, filter: string): Result {
  return [reselect({ ...model, filter, cursor: 0, scroll: 0 }), [{ type: "loadSnapshot", filter }]]
}

function filterKey(model: Model, key: string): Result {
  switch (key) {
    case "enter":
      return [{ ...model, editingFilter: false }, []]
    case "escape":
      return setFilter({ ...model, editingFilter: false }, "")
    case "backspace":
      return setFilter(model, graphemes(model.filter).slice(0, -1).join(""))
    case "up":
    case "down":
    case "pgup":
    case "pgdn":
    case "home":
    case "end":
      return listKey(model, key)
    default: {
      const typed = !(NAMED_KEYS as readonly string[]).includes(key) && graphemes(key).length === 1 && displayWidth(key) > 0
      return typed ? setFilter(model, model.filter + key) : [model, []]
    }
  }
}

function openDetails(model: Model, job: JobSummary | null, follow: boolean): Result {
  if (job === null) return [notify(model, "No job selected.", "info"), []]
  const details: DetailsScreen = { jobId: job.id, data: null, loading: true, error: null, scroll: 0, follow, raw: false }
  return [{ ...model, overlay: { kind: "none" }, details }, [{ type: "loadDetails", id: job.id }]]
}

/** Whether `r` applies: the domain re-queues failed and cancelled jobs (as `aidp jobs retry` does). */
const retryable = (job: JobSummary): boolean => job.status === "failed" || job.status === "cancelled"

/** Retries `job` (`r`), or starts it over without resuming its agent session (`fresh`, `f`). */
function retry(model: Model, job: JobSummary | null, fresh = false): Result {
  if (job === null) return [notify(model, "No job selected.", "info"), []]
  if (!retryable(job)) {
    return [notify(model, `Only failed or cancelled jobs can be retried; ${shortId(job.id)} is ${job.status}.`, "info"), []]
  }
  return [notify(model, `Retrying ${shortId(job.id)}${fresh ? " fresh" : ""}…`, "info"), [{ type: "retry", id: job.id, fresh }]]
}

function askCancel(model: Model, job: JobSummary | null): Result {
  if (job === null) return [notify(model, "No job selected.", "info"), []]
  if (job.status !== "queued" && job.status !== "running") {
    return [notify(model, `Only queued or running jobs can be cancelled; ${shortId(job.id)} is ${job.status}.`, "info"), []]
  }
  return [{ ...model, overlay: { kind: "confirmCancel", jobId: job.id } }, []]
}

function detailsKey(model: Model, screen: DetailsScreen, key: string): Result {
  const body = layout(model.height).body
  const lines = detailsContent(screen, model.now, model.width).length
  const top = detailsTop(screen, lines, body)
  const max = Math.max(0, lines - body)
  const scrollTo = (n: number): Result => [
    { ...model, details: { ...screen, scroll: Math.max(0, Math.min(n, max)), follow: false } },
    []
  ]
  const job = screen.data ?? findJob(model, screen.jobId)
  switch (key) {
    case "escape":
    case "q":
      return [reselect({ ...model, details: null }), []]
    case "up":
    case "k":
      return scrollTo(top - 1)
    case "down":
    case "j":
      return scrollTo(top + 1)
    case "pgup":
      return scrollTo(top - Math.max(1, body - 1))
    case "pgdn":
      return scrollTo(top + Math.max(1, body - 1))
    case "home":
      return scrollTo(0)
    case "end":
      return [{ ...model, details: { ...screen, follow: true } }, []]
    case "l":
      return screen.follow ? scrollTo(top) : [{ ...model, details: { ...screen, follow: true } }, []]
    case "v":
      return [{ ...model, details: { ...screen, raw: !screen.raw } }, []]
    case "r":
      return retry(model, job)
    case "f":
      return retry(model, job, true)
    case "c":
      return askCancel(model, job)
    case "D":
      return showDiff(model, job)
    case "?":
      return [{ ...model, overlay: { kind: "help" } }, []]
    default:
      return [model, []]
  }
}
