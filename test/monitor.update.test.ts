/** Pure tests of the monitor's Update: messages in, model and commands out. */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { type Model, NOTICE_MS, RETRY_MS, selectedJob, visibleJobs } from "../src/terminal/model.js"
import { type Cmd, init, type Msg, update } from "../src/terminal/update.js"
import { view } from "../src/terminal/view.js"
import { lineText } from "../src/terminal/view/text.js"
import { details, job, NOW, sampleSnapshot, snapshot } from "./support/monitor-fixtures.js"

/** Runs messages from the initial model; returns the model and the commands of the last message. */
function run(msgs: readonly Msg[], width = 80, height = 24): [Model, Cmd[]] {
  let [model, cmds] = init(NOW, width, height)
  for (const msg of msgs) [model, cmds] = update(model, msg)
  return [model, cmds]
}
const key = (k: string): Msg => ({ type: "key", key: k })
const loaded: Msg = { type: "snapshotLoaded", snapshot: sampleSnapshot() }
const ids = sampleSnapshot()
const RUNNING = ids.running[0]!.id
const QUEUED = ids.queued[0]!.id
const COMPLETED = ids.recent[0]!.id
const FAILED = ids.failed[1]!.id

describe("start and data", () => {
  it("starts by loading the snapshot", () => {
    const [model, cmds] = init(NOW, 80, 24)
    assert.deepEqual(cmds, [{ type: "loadSnapshot", filter: "" }])
    assert.equal(model.snapshot, null)
  })

  it("selects the first job once loaded", () => {
    const [model] = run([loaded])
    assert.equal(model.selectedId, RUNNING)
    assert.equal(selectedJob(model)?.id, RUNNING)
  })

  it("keeps the selection on the same job id across reloads", () => {
    const [before] = run([loaded, key("down"), key("down"), key("down")])
    assert.equal(before.selectedId, COMPLETED)
    const moved = snapshot({ ...sampleSnapshot(), running: [job("new00000-0000-4000-8000-000000000000", { status: "running" }), ...ids.running] })
    const [after] = update(before, { type: "snapshotLoaded", snapshot: moved })
    assert.equal(after.selectedId, COMPLETED)
    assert.equal(after.cursor, 4)
  })

  it("keeps the position when the selected job disappears", () => {
    const [before] = run([loaded, key("down"), key("down")])
    assert.equal(before.selectedId, QUEUED)
    const [after] = update(before, { type: "snapshotLoaded", snapshot: { ...sampleSnapshot(), queued: [] } })
    assert.equal(after.cursor, 2)
    assert.equal(after.selectedId, COMPLETED)
  })

  it("reloads on notifications, and the open job's details when it changed", () => {
    const [, listCmds] = run([loaded, { type: "jobChanged", jobId: RUNNING }])
    assert.deepEqual(listCmds, [{ type: "loadSnapshot", filter: "" }])
    const [open] = run([loaded, key("d")])
    assert.deepEqual(update(open, { type: "jobChanged", jobId: RUNNING })[1], [
      { type: "loadSnapshot", filter: "" },
      { type: "loadDetails", id: RUNNING }
    ])
    assert.deepEqual(update(open, { type: "jobChanged", jobId: QUEUED })[1], [{ type: "loadSnapshot", filter: "" }])
    assert.equal(update(open, { type: "jobChanged", jobId: null })[1].length, 2)
  })

  it("ignores details of a job that is no longer open", () => {
    const [open] = run([loaded, key("d")])
    const [same] = update(open, { type: "detailsLoaded", id: QUEUED, details: details(ids.queued[0]!) })
    assert.equal(same.details?.data, null)
    assert.equal(same.details?.loading, true)
  })

  it("keeps a load error until the next successful load", () => {
    const [failed] = run([loaded, { type: "loadFailed", what: "snapshot", error: "connection refused\x1b[2J" }])
    assert.equal(failed.loadError, "connection refused")
    assert.equal(failed.loadedAt, NOW)
    assert.equal(update(failed, loaded)[0].loadError, null)
    const [open] = update(failed, key("d"))
    assert.equal(update(open, { type: "detailsLoaded", id: RUNNING, details: details(ids.running[0]!) })[0].loadError, null)
  })

  it("retries failed loads on the clock while the database answers, and never reloads a quiet list", () => {
    const tick = (ms: number): Msg => ({ type: "tick", now: new Date(NOW.getTime() + ms) })
    const down: Msg = { type: "loadFailed", what: "snapshot", error: "canceling statement due to statement timeout" }
    const [failed] = run([loaded, key("d"), down])
    assert.deepEqual(update(failed, tick(RETRY_MS - 1))[1], [])
    const [retried, cmds] = update(failed, tick(RETRY_MS))
    assert.deepEqual(cmds, [{ type: "loadSnapshot", filter: "" }, { type: "loadDetails", id: RUNNING }])
    assert.deepEqual(update(retried, tick(RETRY_MS + 1000))[1], [], "one retry per interval")
    const [unreachable] = update(failed, { type: "probed", error: "no answer in 500 ms" })
    assert.deepEqual(update(unreachable, tick(RETRY_MS * 10))[1], [], "no retries while the probe fails: its return reloads")
    // The liveness probe, not a periodic reload, notices a database that goes away silently.
    assert.deepEqual(run([loaded, tick(3_600_000)])[1], [])
  })

  it("marks the database unreachable while the probe fails, and re-reads everything once it answers again", () => {
    const probed = (error: string | null): Msg => ({ type: "probed", error })
    const [answering, none] = run([loaded, key("d"), probed(null)])
    assert.equal(answering.unreachable, null)
    assert.deepEqual(none, [])
    assert.equal(update(answering, probed(null))[0], answering, "an answer while all is well changes nothing")
    const [lost, lostCmds] = update(answering, probed("connect ECONNREFUSED 127.0.0.1:5432\x1b[2J"))
    assert.equal(lost.unreachable, "connect ECONNREFUSED 127.0.0.1:5432")
    assert.deepEqual(lostCmds, [], "no loads while nothing answers")
    assert.equal(update(lost, probed("connect ECONNREFUSED 127.0.0.1:5432"))[0], lost, "the same miss again changes nothing")
    const [stillLost] = update(lost, { type: "loadFailed", what: "snapshot", error: "write CONNECTION_CLOSED" })
    assert.equal(update(stillLost, probed("no answer in 500 ms"))[0].unreachable, "no answer in 500 ms")
    const [back, backCmds] = update(stillLost, probed(null))
    assert.deepEqual([back.unreachable, back.loadError], [null, null])
    assert.deepEqual(backCmds, [{ type: "loadSnapshot", filter: "" }, { type: "loadDetails", id: RUNNING }])
    assert.ok(back.snapshot, "the data shown meanwhile stays")
  })

  it("keeps the open job's details when a reload fails, and says why when there are none", () => {
    const down = (id: string): Msg => ({ type: "loadFailed", what: "details", error: "connect ECONNREFUSED 127.0.0.1:5432", id })
    const [failedOpen] = run([loaded, key("d"), down(RUNNING)])
    assert.deepEqual([failedOpen.details?.loading, failedOpen.details?.error], [false, "connect ECONNREFUSED 127.0.0.1:5432"])
    assert.equal(failedOpen.notice, null)
    const [recovered] = update(failedOpen, { type: "detailsLoaded", id: RUNNING, details: details(ids.running[0]!) })
    assert.deepEqual([recovered.details?.error, recovered.loadError], [null, null])
    const [stale] = update(recovered, down(RUNNING))
    assert.ok(stale.details?.data, "the data already shown stays")
    assert.equal(update(recovered, down(QUEUED))[0].details?.error, null, "a failure of another job's load")
  })

  it("advances the clock on tick and expires notices", () => {
    const [noticed] = run([loaded, key("r")])
    assert.ok(noticed.notice)
    const later = new Date(NOW.getTime() + NOTICE_MS)
    const [ticked, cmds] = update(noticed, { type: "tick", now: later })
    assert.deepEqual(cmds, [])
    assert.equal(ticked.now, later)
    assert.equal(ticked.notice, null)
  })
})

describe("moving", () => {
  it("moves with up/down (and j/k) within bounds", () => {
    assert.equal(run([loaded, key("up")])[0].cursor, 0)
    assert.equal(run([loaded, key("down"), key("j")])[0].cursor, 2)
    assert.equal(run([loaded, key("down"), key("down"), key("k")])[0].selectedId, ids.running[1]!.id)
    assert.equal(run([loaded, ...Array.from({ length: 20 }, () => key("down"))])[0].selectedId, FAILED)
  })

  it("pages and jumps with PgUp/PgDn/Home/End, keeping the selection visible", () => {
    const many = snapshot({ queued: Array.from({ length: 50 }, (_, i) => job(`q${String(i).padStart(7, "0")}-0000-4000-8000-000000000000`)) })
    const [paged] = run([{ type: "snapshotLoaded", snapshot: many }, key("pgdn")], 60, 15)
    assert.equal(paged.cursor, 10)
    assert.ok(paged.scroll > 0)
    const [end] = update(paged, key("end"))
    assert.equal(end.cursor, 49)
    assert.equal(end.scroll, 51 - 11 + 1) // last job on the last body line
    const [home] = update(end, key("home"))
    assert.deepEqual([home.cursor, home.scroll], [0, 0])
    const [up] = update(end, key("pgup"))
    assert.equal(up.cursor, 39)
  })

  it("keeps the selection visible after a resize", () => {
    const many = snapshot({ queued: Array.from({ length: 50 }, (_, i) => job(`q${String(i).padStart(7, "0")}-0000-4000-8000-000000000000`)) })
    const [end] = run([{ type: "snapshotLoaded", snapshot: many }, key("end")], 80, 24)
    const [small] = update(end, { type: "resize", width: 40, height: 10 })
    assert.equal(small.scroll, 51 - 6 + 1)
    assert.deepEqual([small.width, small.height], [40, 10])
  })
})

describe("actions", () => {
  it("retries a failed job", () => {
    const [model, cmds] = run([loaded, key("end"), key("r")])
    assert.deepEqual(cmds, [{ type: "retry", id: FAILED, fresh: false }])
    assert.match(model.notice?.text ?? "", /Retrying dddd1111/)
  })

  it("retries a failed job fresh with f: no session is resumed", () => {
    const [model, cmds] = run([loaded, key("end"), key("f")])
    assert.deepEqual(cmds, [{ type: "retry", id: FAILED, fresh: true }])
    assert.match(model.notice?.text ?? "", /Retrying dddd1111 fresh/)
    assert.deepEqual(run([loaded, key("f")])[1], [], "a running job is not retried")
  })

  it("retries a cancelled job, as aidp jobs retry does", () => {
    const CANCELLED = ids.failed[0]!.id
    const [model, cmds] = run([loaded, key("down"), key("down"), key("down"), key("down"), key("r")])
    assert.equal(model.selectedId, CANCELLED)
    assert.deepEqual(cmds, [{ type: "retry", id: CANCELLED, fresh: false }])
    assert.match(model.notice?.text ?? "", /Retrying cccc2222/)
  })

  it("refuses to retry a job that is not failed or cancelled, with a message and no command", () => {
    const [model, cmds] = run([loaded, key("r")])
    assert.deepEqual(cmds, [])
    assert.equal(model.notice?.text, "Only failed or cancelled jobs can be retried; aaaa1111 is running.")
    const [completed] = run([loaded, key("down"), key("down"), key("down"), key("r")])
    assert.equal(completed.notice?.text, "Only failed or cancelled jobs can be retried; cccc1111 is completed.")
  })

  it("asks before cancelling; y cancels, anything else does not", () => {
    const [asking, none] = run([loaded, key("c")])
    assert.deepEqual(none, [])
    assert.deepEqual(asking.overlay, { kind: "confirmCancel", jobId: RUNNING })
    assert.deepEqual(update(asking, key("y"))[1], [{ type: "cancel", id: RUNNING }])
    const [kept, cmds] = update(asking, key("n"))
    assert.deepEqual(cmds, [])
    assert.equal(kept.overlay.kind, "none")
    assert.match(run([loaded, key("down"), key("down"), key("down"), key("c")])[0].notice?.text ?? "", /Only queued or running jobs can be cancelled; cccc1111 is completed\./)
  })

  it("reports action results and reloads", () => {
    const [ok, cmds] = run([loaded, { type: "actionDone", action: "retry", id: FAILED, error: null }])
    assert.equal(ok.notice?.text, "Retry requested for dddd1111.")
    assert.deepEqual(cmds, [{ type: "loadSnapshot", filter: "" }])
    const [bad] = run([loaded, { type: "actionDone", action: "cancel", id: RUNNING, error: "Job aaaa1111 already finished.\x1b[2J" }])
    assert.deepEqual([bad.notice?.text, bad.notice?.tone], ["Job aaaa1111 already finished.", "error"])
  })

  it("quits on q and Ctrl-C, but q in details goes back", () => {
    assert.deepEqual(run([loaded, key("q")])[1], [{ type: "quit" }])
    assert.equal(run([loaded, key("q")])[0].quitting, true)
    assert.deepEqual(run([loaded, key("d"), key("ctrl-c")])[1], [{ type: "quit" }])
    const [back, cmds] = run([loaded, key("d"), key("q")])
    assert.deepEqual([back.details, back.quitting, cmds], [null, false, []])
    assert.equal(run([loaded, key("d"), key("escape")])[0].details, null)
  })
})

describe("menu", () => {
  it("offers details, log, retry only for failed or cancelled, cancel only for queued/running, close", () => {
    const items = (msgs: Msg[]): unknown => {
      const overlay = run([loaded, ...msgs, key("enter")])[0].overlay
      return overlay.kind === "menu" ? overlay.items : null
    }
    assert.deepEqual(items([]), ["details", "logs", "cancel", "close"])
    assert.deepEqual(items([key("down"), key("down")]), ["details", "logs", "cancel", "close"])
    assert.deepEqual(items([key("down"), key("down"), key("down")]), ["details", "logs", "close"])
    assert.deepEqual(items([key("down"), key("down"), key("down"), key("down")]), ["details", "logs", "retry", "retryFresh", "close"])
    assert.deepEqual(items([key("end")]), ["details", "logs", "retry", "retryFresh", "close"])
  })

  it("moves (wrapping), runs the chosen action and closes", () => {
    const [onRetry] = run([loaded, key("end"), key("enter"), key("down"), key("down")])
    assert.ok(onRetry.overlay.kind === "menu" && onRetry.overlay.index === 2)
    const [after, cmds] = update(onRetry, key("enter"))
    assert.deepEqual(cmds, [{ type: "retry", id: FAILED, fresh: false }])
    assert.equal(after.overlay.kind, "none")
    const [fresh, freshCmds] = update(update(onRetry, key("down"))[0], key("enter"))
    assert.deepEqual(freshCmds, [{ type: "retry", id: FAILED, fresh: true }], "Retry fresh is the item after Retry")
    assert.equal(fresh.overlay.kind, "none")
    assert.deepEqual(update(run([loaded, key("end"), key("enter")])[0], key("f"))[1], [{ type: "retry", id: FAILED, fresh: true }])
    const [details, dcmds] = run([loaded, key("enter"), key("enter")])
    assert.equal(details.details?.jobId, RUNNING)
    assert.deepEqual(dcmds, [{ type: "loadDetails", id: RUNNING }])
    assert.deepEqual(run([loaded, key("enter"), key("c")])[1], [{ type: "cancel", id: RUNNING }])
    const [wrapped] = run([loaded, key("enter"), key("up")])
    assert.ok(wrapped.overlay.kind === "menu" && wrapped.overlay.index === 3)
    assert.equal(run([loaded, key("enter"), key("escape")])[0].overlay.kind, "none")
    assert.deepEqual(run([loaded, key("enter"), key("up"), key("enter")])[0].overlay, { kind: "none" })
  })
})

describe("worktrees and changes", () => {
  const CHANGES = { repo: "/r", base: "a", head: "b", worktree: { repo: "/r", path: "/r/.git/aidp-worktrees/eeee1111", branch: "aidp/eeee1111" }, file_count: 3, lines_added: 120, lines_removed: 4 }
  const done = job("eeee1111-0000-4000-8000-000000000000", { status: "completed", completedAt: NOW, changes: CHANGES, worktreeState: "open" })
  const withDone = (worktreeState: "open" | "merged" | "removed" | null): Msg =>
    ({ type: "snapshotLoaded", snapshot: snapshot({ recent: [{ ...done, worktreeState }] }) })

  it("offers Diff, Merge and Discard for a finished job with an open worktree; Discard only once merged; neither once removed", () => {
    const items = (state: "open" | "merged" | "removed" | null): unknown => {
      const overlay = run([withDone(state), key("enter")])[0].overlay
      return overlay.kind === "menu" ? overlay.items : null
    }
    assert.deepEqual(items("open"), ["details", "logs", "diff", "merge", "discard", "close"])
    assert.deepEqual(items("merged"), ["details", "logs", "diff", "discard", "close"])
    assert.deepEqual(items("removed"), ["details", "logs", "diff", "close"])
    assert.deepEqual(items(null), ["details", "logs", "diff", "close"])
  })

  it("the list shows a finished job's changes compactly, and (merged) once merged", () => {
    const [model] = run([withDone("merged")], 100, 24)
    assert.match(view(model, 100, 24).map(lineText).join("\n"), /eeee1111 .*completed .*3 files \+120 −4 \(merged\)/)
  })

  it("D shows the diff; the menu's m merges and x discards; the outcome is the notice", () => {
    assert.deepEqual(run([withDone("open"), key("D")])[1], [{ type: "diff", id: done.id }])
    assert.deepEqual(run([withDone("open"), key("enter"), key("m")])[1], [{ type: "merge", id: done.id }])
    assert.deepEqual(run([withDone("open"), key("enter"), key("x")])[1], [{ type: "discard", id: done.id }])
    const [merged] = run([withDone("open"), { type: "actionDone", action: "merge", id: done.id, error: null, text: "Merged aidp/eeee1111 into main (0123456789ab)." }])
    assert.equal(merged.notice?.text, "Merged aidp/eeee1111 into main (0123456789ab).")
    const [refused] = run([withDone("open"), { type: "actionDone", action: "merge", id: done.id, error: "The repository /r has uncommitted changes (1 file(s)); commit or stash them, then merge again." }])
    assert.equal(refused.notice?.tone, "error")
    const [nothing, cmds] = run([loaded, key("D")])
    assert.deepEqual(cmds, [])
    assert.match(nothing.notice?.text ?? "", /recorded no changed files/)
  })
})

describe("filter", () => {
  it("filters by id prefix, provider, status and error text as it is typed", () => {
    const shown = (filter: string): string[] => {
      let [model] = run([loaded, key("/")])
      for (const ch of filter) [model] = update(model, key(ch))
      const out: string[] = []
      for (let i = 0; i < 10; i++) {
        if (model.selectedId && !out.includes(model.selectedId)) out.push(model.selectedId)
        ;[model] = update(model, key("down"))
      }
      return out
    }
    assert.deepEqual(shown("bbbb"), [QUEUED])
    assert.deepEqual(shown("gem"), [ids.running[1]!.id])
    assert.deepEqual(shown("fail"), [FAILED])
    assert.deepEqual(shown("too many"), [FAILED])
    assert.deepEqual(shown("claude run"), [RUNNING])
    assert.deepEqual(shown("rate_limit"), [FAILED])
  })

  it("filters by project (the cwd's last folder) and step name, also together", () => {
    const shown = (filter: string): string[] => {
      const [model] = run([loaded, key("/"), ...[...filter].map(key)])
      return visibleJobs(model).map((j) => j.id.slice(0, 8))
    }
    assert.deepEqual(shown("shop"), ["aaaa1111", "bbbb1111", "cccc2222"])
    assert.deepEqual(shown("BLOG"), ["aaaa2222", "cccc1111", "dddd1111"])
    assert.deepEqual(shown("architecture"), ["aaaa2222"])
    assert.deepEqual(shown("06_impl"), ["dddd1111"])
    assert.deepEqual(shown("shop 03_"), ["cccc2222"])
    assert.deepEqual(shown("blog 03_"), [])
    // The folders above the project do not count: "srv" and "home" are not projects.
    assert.deepEqual(shown("srv"), [])
    assert.deepEqual(shown("home"), [])
  })

  it("asks the source to narrow the query, and clears with escape", () => {
    const [typing, cmds] = run([loaded, key("/"), key("g")])
    assert.deepEqual(cmds, [{ type: "loadSnapshot", filter: "g" }])
    assert.equal(typing.editingFilter, true)
    const [back] = update(typing, key("backspace"))
    assert.equal(back.filter, "")
    const [applied] = update(typing, key("enter"))
    assert.deepEqual([applied.filter, applied.editingFilter], ["g", false])
    assert.deepEqual(update(applied, key("escape"))[1], [{ type: "loadSnapshot", filter: "" }])
    assert.deepEqual(update(typing, key("escape"))[0].filter, "")
    assert.deepEqual(update(typing, key("ctrl-c"))[1], [{ type: "quit" }])
    assert.equal(update(typing, key("q"))[0].filter, "gq")
  })

  it("keeps the selected job when it still matches", () => {
    const [model] = run([loaded, key("end"), key("/"), key("f"), key("a")])
    assert.equal(model.selectedId, FAILED)
    assert.equal(model.cursor, 0)
  })
})

describe("details", () => {
  it("opens with d (and l following the log) and loads", () => {
    const [model, cmds] = run([loaded, key("d")])
    assert.deepEqual(model.details, { jobId: RUNNING, data: null, loading: true, error: null, scroll: 0, follow: false, raw: false })
    assert.deepEqual(cmds, [{ type: "loadDetails", id: RUNNING }])
    assert.equal(run([loaded, key("l")])[0].details?.follow, true)
  })

  it("v switches the log between the activity and the stored lines, and back, loading nothing", () => {
    const [open] = run([loaded, key("l")])
    const [raw, cmds] = update(open, key("v"))
    assert.deepEqual(raw.details, { ...open.details, raw: true })
    assert.deepEqual(cmds, [])
    assert.equal(update(raw, key("v"))[0].details?.raw, false)
    assert.equal(run([loaded, key("v")])[0].details, null, "v does nothing on the list")
  })

  it("scrolls within bounds; End follows, scrolling up stops following", () => {
    const data = details(ids.failed[0]!, { logTail: Array.from({ length: 40 }, (_, i) => ({ at: NOW, stream: "stdout" as const, message: `line ${i}` })) })
    const [open] = run([loaded, key("end"), key("d"), { type: "detailsLoaded", id: FAILED, details: data }], 80, 24)
    assert.equal(update(open, key("up"))[0].details?.scroll, 0)
    assert.equal(update(open, key("down"))[0].details?.scroll, 1)
    const [end] = update(open, key("end"))
    assert.equal(end.details?.follow, true)
    const [up] = update(end, key("up"))
    assert.equal(up.details?.follow, false)
    assert.ok((up.details?.scroll ?? 0) > 10)
    const [far] = update(up, key("pgdn"))
    const [further] = update(far, key("pgdn"))
    assert.equal(further.details?.scroll, far.details?.scroll)
  })

  it("retries and cancels the open job", () => {
    assert.deepEqual(run([loaded, key("end"), key("d"), key("r")])[1], [{ type: "retry", id: FAILED, fresh: false }])
    assert.deepEqual(run([loaded, key("end"), key("d"), key("f")])[1], [{ type: "retry", id: FAILED, fresh: true }])
    assert.equal(run([loaded, key("d"), key("c")])[0].overlay.kind, "confirmCancel")
  })
})

describe("help", () => {
  it("opens with ? and closes on any key", () => {
    const [help] = run([loaded, key("?")])
    assert.equal(help.overlay.kind, "help")
    const [closed, cmds] = update(help, key("q"))
    assert.deepEqual([closed.overlay.kind, closed.quitting, cmds], ["none", false, []])
  })
})
