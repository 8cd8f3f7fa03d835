/** Pure tests of the monitor's View (and its text helpers): feed messages, read the screen. */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import type { Model } from "../src/terminal/model.js"
import { COLOR_PALETTE, MONO_PALETTE, paintFrame, renderLine, SYNC_BEGIN, SYNC_END } from "../src/terminal/paint.js"
import { renderPlain } from "../src/terminal/plain.js"
import { sanitize, sanitizeLines, visible } from "../src/terminal/sanitize.js"
import { init, type Msg, update } from "../src/terminal/update.js"
import { lineText, view } from "../src/terminal/view.js"
import { formatClock, formatDuration } from "../src/terminal/view/format.js"
import { detailsContent } from "../src/terminal/view/details.js"
import { displayWidth, graphemes, seg, sliceLine, truncate, wrap } from "../src/terminal/view/text.js"
import { ago, details, execution, job, NOW, sampleSnapshot, snapshot } from "./support/monitor-fixtures.js"

function run(msgs: readonly Msg[], width = 80, height = 24): Model {
  let [model] = init(NOW, width, height)
  for (const msg of msgs) [model] = update(model, msg)
  return model
}
const key = (k: string): Msg => ({ type: "key", key: k })
const loaded: Msg = { type: "snapshotLoaded", snapshot: sampleSnapshot() }
const screen = (model: Model, width = 80, height = 24): string[] => view(model, width, height).map(lineText)
const text = (model: Model, width = 80, height = 24): string => screen(model, width, height).join("\n")
const rowOf = (lines: string[], id: string): string => lines.find((l) => l.includes(id.slice(0, 8))) ?? ""

function assertSize(model: Model, width: number, height: number): void {
  const lines = screen(model, width, height)
  assert.equal(lines.length, height)
  for (const l of lines) assert.equal(displayWidth(l), width, JSON.stringify(l))
}

describe("list view", () => {
  it("shows the title, counts, column headers, groups with counts and the key hints", () => {
    const lines = screen(run([loaded]))
    assert.equal(lines[0], `aidp jobs  2 running · 1 queued · 1 done · 1 failed · 1 cancelled${" ".repeat(7)}12:00:00`)
    assert.equal(lines[1]?.trimEnd(), "  ID        Provider  Status     Step        Project     Duration")
    const at = lines[1]!.indexOf("Duration") + "Duration".length + 2
    for (const [h, last] of [["Running (2)", "Activity"], ["Queued (1)", "Error"], ["Recently completed (1)", "Warning"], ["Failed & cancelled (2)", "Error"]] as const) {
      const line = lines.find((l) => l.startsWith(`${h} `)) ?? ""
      assert.equal(line.trimEnd(), `${h.padEnd(at)}${last}`, h)
    }
    const order = ["Running (2)", "aaaa1111", "aaaa2222", "Queued (1)", "bbbb1111", "Recently completed", "cccc1111", "Failed & cancelled (2)", "cccc2222", "dddd1111"]
    const positions = order.map((s) => lines.findIndex((l) => l.includes(s)))
    assert.deepEqual([...positions].sort((a, b) => a - b), positions)
    assert.equal(lines[23]?.trimEnd(), "↑↓ move  ⏎ actions  r retry  c cancel  d details  / filter  ? help  q quit")
  })

  it("renders the columns: short id, provider, status, step, project, duration, activity or error", () => {
    const lines = screen(run([loaded]))
    assert.equal(rowOf(lines, "aaaa1111"), "› aaaa1111  claude    running    00_PRD      shop           3m04s  Editing src/…")
    assert.equal(rowOf(lines, "aaaa2222").trimEnd(), "  aaaa2222  gemini    running    02_ARCHIT…  blog             12s")
    assert.equal(rowOf(lines, "bbbb1111").trimEnd(), "  bbbb1111  cursor    queued     -           shop               -")
    assert.equal(rowOf(lines, "cccc1111").trimEnd(), "  cccc1111  claude    completed  01_NFRS     blog           1h02m")
    assert.equal(rowOf(lines, "cccc2222"), "  cccc2222  claude    cancelled  03_ADR      shop             10s  cancelled by…")
    assert.equal(rowOf(lines, "dddd1111"), "  dddd1111  claude    failed     06_IMPLEM…  blog            5.0s  rate_limit: …")
  })

  it("puts a running job's activity in the Activity column, never in Error", () => {
    const failedRunning = snapshot({
      running: [job("aaaa1111-0000-4000-8000-000000000001", { status: "running", startedAt: ago(1000), progress: "Reading", error: "old error", errorKind: "network" })],
      queued: [job("bbbb1111-0000-4000-8000-000000000003", { progress: "stale", error: "Timed out", errorKind: "timeout" })]
    })
    const lines = screen(run([{ type: "snapshotLoaded", snapshot: failedRunning }]), 100, 24)
    assert.match(rowOf(lines, "aaaa1111"), / {2}Reading *$/)
    assert.doesNotMatch(rowOf(lines, "aaaa1111"), /old error|network/)
    assert.match(rowOf(lines, "bbbb1111"), / {2}timeout: Timed out *$/)
    assert.doesNotMatch(rowOf(lines, "bbbb1111"), /stale/)
  })

  it("shows today's spend in the title when a provider reported a cost", () => {
    const spent = run([{ type: "snapshotLoaded", snapshot: { ...sampleSnapshot(), spendTodayUsd: 1.5 } }])
    assert.match(screen(spent)[0] ?? "", /^aidp jobs {2}\$1\.50 today {2}2 running · 1 queued · 1 done · 1 failed +12:00:00$/)
    assert.match(screen(spent, 60, 15)[0] ?? "", /^aidp jobs {2}\$1\.50 today {2}2 running · 1 queued +12:00:00$/)
    const cents = run([{ type: "snapshotLoaded", snapshot: { ...snapshot(), spendTodayUsd: 0.0421 } }])
    assert.match(screen(cents)[0] ?? "", /^aidp jobs {2}\$0\.0421 today {2}0 running/)
    assert.doesNotMatch(screen(run([loaded]))[0] ?? "", /today|\$/)
    assertSize(spent, 60, 15)
  })

  it("advances running durations on tick only", () => {
    const model = run([loaded, { type: "tick", now: new Date(NOW.getTime() + 61_000) }])
    const lines = screen(model)
    assert.match(rowOf(lines, "aaaa1111"), /4m05s/)
    assert.match(rowOf(lines, "aaaa2222"), /1m13s/)
    assert.match(rowOf(lines, "cccc1111"), /1h02m/)
  })

  it("formats durations", () => {
    assert.equal(formatDuration(null), "-")
    assert.equal(formatDuration(0), "0.0s")
    assert.equal(formatDuration(412), "0.4s")
    assert.equal(formatDuration(999), "0.9s")
    assert.equal(formatDuration(5_000), "5.0s")
    assert.equal(formatDuration(9_999), "9.9s")
    assert.equal(formatDuration(10_000), "10s")
    assert.equal(formatDuration(12_000), "12s")
    assert.equal(formatDuration(184_000), "3m04s")
    assert.equal(formatDuration(3_720_000), "1h02m")
    assert.equal(formatDuration(97_200_000), "1d03h")
    assert.equal(formatDuration(-5), "0.0s")
  })

  it("moves the highlight with the selection", () => {
    const lines = screen(run([loaded, key("down"), key("down")]))
    assert.ok(rowOf(lines, "bbbb1111").startsWith("› "))
    assert.ok(rowOf(lines, "aaaa1111").startsWith("  "))
    const selected = view(run([loaded, key("down")]), 80, 24).find((l) => lineText(l).startsWith("›"))
    assert.ok(selected?.every((s) => s.style === "selected"))
  })

  it("keeps exact dimensions at 80x24, 60x15, 40x10 and tiny sizes", () => {
    const model = run([loaded])
    for (const [w, h] of [[80, 24], [60, 15], [40, 10], [20, 4], [10, 2], [0, 0]] as const) assertSize(model, w, h)
    assertSize(run([loaded, key("?")]), 40, 10)
    assertSize(run([loaded, key("enter")]), 30, 8)
  })

  it("drops Project, then Step, then Activity/Error, then Provider, on narrow terminals", () => {
    const m = run([loaded])
    assert.match(screen(m, 80, 24)[1] ?? "", /Provider +Status +Step +Project +Duration/)
    const at70 = screen(m, 70, 15)
    assert.equal(at70[1]?.trimEnd(), "  ID        Provider  Status     Step        Duration")
    assert.equal(rowOf(at70, "dddd1111"), "  dddd1111  claude    failed     06_IMPLEM…      5.0s  rate_limit: 42…")
    const at60 = screen(m, 60, 15)
    assert.equal(at60[1]?.trimEnd(), "  ID        Provider  Status     Duration")
    assert.equal(rowOf(at60, "aaaa1111"), "› aaaa1111  claude    running       3m04s  Editing src/app.…")
    assert.equal(rowOf(at60, "cccc2222"), "  cccc2222  claude    cancelled       10s  cancelled by user")
    assert.equal(at60.find((l) => l.startsWith("Running"))?.trimEnd(), `${"Running (2)".padEnd(43)}Activity`)
    const at50 = screen(m, 50, 15)
    assert.doesNotMatch(at50.join("\n"), /Error|Activity/)
    assert.match(at50[1] ?? "", /Provider/)
    assert.match(rowOf(at50, "dddd1111"), /claude +failed +5\.0s *$/)
    const at40 = screen(m, 40, 10)
    assert.doesNotMatch(at40[1] ?? "", /Provider|Error/)
    assert.match(rowOf(at40, "dddd1111") || rowOf(at40, "aaaa1111"), /^. \w{8} {2}\w+ +\S+ *$/)
    assert.equal(at40[9]?.trimEnd(), "↑↓ ⏎ r c d / ? q")
    // Below 31 columns Duration goes too rather than being cut into a wrong number.
    const at30 = screen(m, 30, 10)
    assert.equal(at30[1]?.trimEnd(), "  ID        Status")
    assert.match(rowOf(at30, "aaaa1111"), /^. aaaa1111 {2}running *$/)
    assertSize(m, 30, 10)
  })

  it("scrolls so the selection stays visible at 60x15", () => {
    const many = snapshot({ queued: Array.from({ length: 30 }, (_, i) => job(`q${String(i).padStart(7, "0")}-0000-4000-8000-000000000000`)) })
    let model = run([{ type: "snapshotLoaded", snapshot: many }], 60, 15)
    for (let i = 0; i < 20; i++) [model] = update(model, key("down"))
    let lines = screen(model, 60, 15)
    assert.ok(lines.some((l) => l.startsWith("› q0000020")))
    assert.ok(!lines.some((l) => l.includes("Running (0)")))
    ;[model] = update(model, key("home"))
    lines = screen(model, 60, 15)
    assert.match(lines[2] ?? "", /^Running \(0\) +Activity/)
    assert.ok(lines.some((l) => l.startsWith("› q0000000")))
    ;[model] = update(model, key("end"))
    assert.ok(screen(model, 60, 15).some((l) => l.startsWith("› q0000029")))
  })

  it("shows an empty state and a loading state", () => {
    assert.match(text(run([])), /Loading…/)
    assert.match(text(run([{ type: "snapshotLoaded", snapshot: snapshot() }])), /No jobs yet/)
    assert.match(text(run([{ type: "snapshotLoaded", snapshot: snapshot() }, key("/"), key("z")])), /No jobs match “z”/)
  })

  it("makes ANSI and control characters in errors and progress harmless", () => {
    const evil = snapshot({
      running: [job("eeee1111-0000-4000-8000-000000000000", { status: "running", startedAt: ago(1000), progress: "\x1b]0;pwned\x07step \x1b[2Jone" })],
      failed: [job("eeee2222-0000-4000-8000-000000000000", { status: "failed", error: "\x1b[31mred\x1b[0m\r\nline2\x07\u202eevil" })]
    })
    const model = run([{ type: "snapshotLoaded", snapshot: evil }])
    const all = view(model, 80, 24).flat().map((s) => s.text).join("")
    assert.doesNotMatch(all, /[\x00-\x1f\x7f-\x9f\u202e]/)
    const lines = screen(model)
    assert.match(rowOf(lines, "eeee1111"), /step one/)
    assert.match(rowOf(lines, "eeee2222"), /red ↵ line2�…/)
    assert.match(renderPlain(evil, NOW), /red ↵ line2�evil/)
  })

  it("draws the action menu for the selected job with only the actions that apply", () => {
    const failedMenu = text(run([loaded, key("end"), key("enter")]))
    assert.match(failedMenu, /┌─ dddd1111 /)
    assert.match(failedMenu, /› Details/)
    assert.match(failedMenu, /Retry +r/)
    assert.match(failedMenu, /Retry fresh +f/)
    assert.doesNotMatch(failedMenu, /Cancel +c/)
    assert.match(failedMenu, /Close/)
    const runningMenu = text(run([loaded, key("enter")]))
    assert.match(runningMenu, /Cancel +c/)
    assert.doesNotMatch(runningMenu, /Retry +r/)
    assert.match(text(run([loaded, key("enter"), key("down")])), /› Follow log/)
  })

  it("explains in one line that only failed or cancelled jobs can be retried", () => {
    const lines = screen(run([loaded, key("r")]))
    assert.equal(lines[22]?.trimEnd(), "Only failed or cancelled jobs can be retried; aaaa1111 is running.")
  })

  it("says on the status line while the database does not answer the probe, over notices, until it answers", () => {
    const down: Msg = { type: "probed", error: "connect ECONNREFUSED 127.0.0.1:5432" }
    const later = (ms: number): Msg => ({ type: "tick", now: new Date(NOW.getTime() + ms) })
    const lost = run([loaded, later(30_000), down])
    const lines = screen(lost)
    assert.equal(lines[22]?.trimEnd(), `Database unreachable — showing data from ${formatClock(NOW)}; retrying (connect ECONNREFUS…`)
    assert.ok(rowOf(lines, "dddd1111"), "the last data stays on screen")
    assert.match(screen(run([down]))[22] ?? "", /^Database unreachable; retrying \(connect ECONNREFUSED/)
    assert.match(screen(update(lost, key("r"))[0])[22] ?? "", /^Database unreachable — /, "a notice does not hide the outage")
    assert.match(screen(run([loaded, key("d"), down]))[22] ?? "", /^Database unreachable — /, "nor does the details screen")
    const [back] = update(lost, { type: "probed", error: null })
    assert.equal(screen(back)[22]?.trim(), "")
  })

  it("says on the status line while loads fail though the database answers, under notices, until a load works", () => {
    const refused = run([loaded, { type: "loadFailed", what: "snapshot", error: 'relation "jobs" does not exist' }])
    assert.match(screen(refused)[22] ?? "", /^Could not load jobs — showing data from \d\d:\d\d:\d\d; retrying \(relation "jobs" doe…/)
    assert.match(screen(update(refused, key("r"))[0])[22] ?? "", /^Only failed or cancelled jobs can be retried/)
    assert.equal(screen(update(refused, loaded)[0])[22]?.trim(), "")
  })

  it("asks before cancelling and shows the typed filter", () => {
    assert.match(screen(run([loaded, key("c")]))[22] ?? "", /^Cancel job aaaa1111 \(running\)\? y\/N/)
    const filtering = screen(run([loaded, key("/"), key("g"), key("e")]))
    assert.match(filtering[22] ?? "", /^\/ge▏ +⏎ apply {2}esc clear/)
    assert.ok(rowOf(filtering, "aaaa2222").startsWith("› "))
    assert.equal(rowOf(filtering, "aaaa1111"), "")
    const applied = screen(run([loaded, key("/"), key("r"), key("a"), key("t"), key("e"), key("enter")]))
    assert.match(applied[22] ?? "", /Filter “rate”: 1 job  /)
    assert.ok(applied.some((l) => /^Failed & cancelled \(1\) +Error/.test(l)) && applied.some((l) => /^Running \(0\) +Activity/.test(l)))
  })

  it("shows the help overlay", () => {
    const help = text(run([loaded, key("?")]))
    assert.match(help, /Keys/)
    assert.match(help, /retry a failed or cancelled job/)
  })
})

describe("details view", () => {
  const failed = sampleSnapshot().failed[1]!
  const data = details(failed, {
    metadata: { branch: "main", tries: 3, evil: "\x1b[2Jx" },
    executions: [
      execution(1, { error: "boom\x1b[31m!", errorKind: "crashed" }),
      execution(2, { status: "running", completedAt: null, durationMs: null, exitCode: null, workerId: "host-b:9:2" })
    ],
    logTail: [
      { at: NOW, stream: "stdout", message: "hello \x1b]8;;http://x\x07link\x1b]8;;\x07" },
      { at: NOW, stream: "stderr", message: "warning: 日本語 text" }
    ]
  })
  const opened = (): Model => run([loaded, key("end"), key("d"), { type: "detailsLoaded", id: failed.id, details: data }], 80, 40)

  it("shows every field, the metadata, every execution and the log tail", () => {
    const lines = screen(opened(), 80, 40)
    const t = lines.join("\n")
    assert.match(lines[0] ?? "", /^aidp jobs › dddd1111 {2}failed/)
    for (const label of ["Job ID", "Provider", "Status", "Created", "Started", "Completed", "Duration", "Error", "Metadata"]) {
      assert.match(t, new RegExp(`^${label} `, "m"), label)
    }
    assert.match(t, /^Job ID +dddd1111-0000-4000-8000-000000000006/m)
    assert.match(t, /^Status +failed \(attempt 3\)/m)
    assert.match(t, /^Created +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(10m00s ago\)/m)
    assert.match(t, /^Duration +5\.0s/m)
    assert.match(t, /^Error +rate_limit: 429 Too Many Requests/m)
    assert.match(t, /^Metadata +branch: main *\n +tries: 3 *\n +evil: x/m)
    assert.match(t, /Executions \(2\)/)
    assert.match(t, /^ +1 {2}failed +host-a:123:1 +12s {2}1/m)
    assert.match(t, /^ +crashed: boom!/m)
    assert.match(t, /^ +2 {2}running +host-b:9:2 +5m00s {2}-/m)
    assert.match(t, /Activity \(from the last 2 log lines\)/)
    assert.match(t, /^12:00:00 stdout +hello link/m)
    assert.match(t, /^12:00:00 stderr +warning: 日本語 text/m)
    assert.doesNotMatch(view(opened(), 80, 40).flat().map((s) => s.text).join(""), /\x1b/)
    assert.match(lines[39] ?? "", /esc back/)
  })

  it("shows loading, then not found", () => {
    const loading = run([loaded, key("d")])
    assert.match(text(loading), /Loading…/)
    const [gone] = update(loading, { type: "detailsLoaded", id: "aaaa1111-0000-4000-8000-000000000001", details: null })
    assert.match(text(gone), /Job aaaa1111-0000-4000-8000-000000000001 was not found\./)
  })

  it("shows why the job could not be loaded instead of saying it was not found", () => {
    const down: Msg = { type: "loadFailed", what: "details", error: "connect ECONNREFUSED 127.0.0.1:5432", id: failed.id }
    const lines = screen(run([loaded, key("end"), key("d"), down]))
    const t = lines.join("\n")
    assert.match(t, /Could not load job dddd1111-0000-4000-8000-000000000006: connect ECONNREFUSED\s+127\.0\.0\.1:5432/)
    assert.doesNotMatch(t, /not found/)
    assert.match(lines[22] ?? "", /^Could not load jobs — showing data from \d\d:\d\d:\d\d; retrying/)
  })

  it("shows an execution's signal whole in the Exit column, and durations under 10 s in tenths", () => {
    const killed = details(failed, {
      durationMs: 412,
      executions: [
        execution(1, { exitCode: null, signal: "SIGKILL", durationMs: 412, costUsd: 0.0123 }),
        execution(2, { exitCode: 137, durationMs: 9_950, costUsd: 0.5 })
      ]
    })
    const t = text(run([loaded, key("end"), key("d"), { type: "detailsLoaded", id: failed.id, details: killed }], 80, 40), 80, 40)
    assert.match(t, /^Duration +0\.4s *$/m)
    const header = /^ +# {2}Status +Worker +Duration {2}Exit +Cost *$/m.exec(t)?.[0] ?? ""
    assert.ok(header, t)
    const row1 = /^ +1 {2}failed +host-a:123:1 +0\.4s {2}SIGKILL +\$0\.0123 *$/m.exec(t)?.[0] ?? ""
    const row2 = /^ +2 {2}failed +host-a:123:1 +9\.9s {2}137 +\$0\.5000 *$/m.exec(t)?.[0] ?? ""
    assert.ok(row1 && row2, t)
    assert.equal(row1.indexOf("SIGKILL"), header.indexOf("Exit"))
    assert.equal(row1.indexOf("$"), header.indexOf("Cost"))
    assert.equal(row2.indexOf("$"), header.indexOf("Cost"))
  })

  it("shows each execution's agent session and whether it resumed an earlier attempt's", () => {
    const session = "3b0e5f43-58c4-4a55-9a55-1f0c2a8d7e10"
    const resumed = details(failed, {
      executions: [
        execution(1, { sessionId: session }),
        execution(2, { sessionId: session, resumedAttempt: 1 }),
        execution(3, { sessionId: "0d6f0b3e-2d1c-4a7b-9a31-6a0c5e2f9b44", resumedAttempt: 2, sessionGone: true })
      ]
    })
    const t = text(run([loaded, key("end"), key("d"), { type: "detailsLoaded", id: failed.id, details: resumed }], 80, 40), 80, 40)
    assert.match(t, new RegExp(`^ +1  failed .*\\n {5}session ${session} *$`, "m"))
    assert.match(t, new RegExp(`^ {5}session ${session} · resumed attempt 1's session *$`, "m"))
    assert.match(t, /^ {5}session 0d6f0b3e-2d1c-4a7b-9a31-6a0c5e2f9b44 · fresh start: attempt 2's *\n {5}session was gone *$/m)
  })

  it("shows the start of a multi-megabyte log line and says how to print it whole", () => {
    const huge = "0123456789abcdef".repeat(6 * 1024 * 1024 / 16 - 1) + "\x1b]0;pwned\x07END" + "x".repeat(4)
    const wide = "日本語のテキスト、".repeat(300_000)
    const withHuge = details(failed, {
      logTail: [
        { at: NOW, stream: "stdout", message: huge },
        { at: NOW, stream: "stderr", message: wide },
        { at: NOW, stream: "stdout", message: "after" }
      ]
    })
    const opened = run([loaded, key("end"), key("d"), { type: "detailsLoaded", id: failed.id, details: withHuge }])
    // The activity shows a non-JSON line as it is, and the stored lines (v) show it the same way.
    for (const model of [opened, update(opened, key("v"))[0]]) {
      const all = screen(model)
      assert.equal(all.length, 24)
      for (const l of all) assert.equal(displayWidth(l), 80)
      const [end] = update(model, key("end"))
      const t = screen(end).join("\n")
      assert.match(t, /aidp jobs logs dddd1111 --raw prints it\s+whole\) *\n12:00:00 stdout +after/)
      const content = detailsContent(end.details!, NOW, 80).map(lineText)
      assert.match(content.join("\n"), /\n {16,18}… \(6\.0 MB in all; aidp jobs logs dddd1111 --raw prints it(\n {16,18})?\s?whole\)\n/)
      assert.ok(content.length < 400, `${content.length} lines`)
      assert.ok(!content.join("").includes("END"), "only the start is shown")
      assert.ok(content.join("").includes("0123456789abcdef".repeat(3)))
      assert.doesNotMatch(content.join(""), /[\x00-\x1f\x7f-\x9f]/)
    }
  })

  it("keeps a cut message harmless: an escape sequence or a surrogate pair at the cut", () => {
    const cutInEscape = `${"a".repeat(3996)}\x1b]8;;http://evil\x07link${"x".repeat(5000)}`
    const cutInPair = `${"b".repeat(3999)}🎉${"y".repeat(5000)}`
    const data = details(failed, { logTail: [cutInEscape, cutInPair].map((message) => ({ at: NOW, stream: "stdout" as const, message })) })
    const opened = run([loaded, key("end"), key("d"), { type: "detailsLoaded", id: failed.id, details: data }])
    for (const model of [opened, update(opened, key("v"))[0]]) {
      const shown = detailsContent(model.details!, NOW, 80).map(lineText).join(" ").replace(/\s+/g, " ")
      assert.doesNotMatch(shown, /[\x00-\x1f\x7f-\x9f\ud800-\udfff]|evil|link/u)
      assert.equal(shown.match(/… \(\d+\.\d KB in all; aidp jobs logs dddd1111 --raw prints it whole\)/g)?.length, 2)
      assert.ok(shown.includes("b".repeat(10)) && !shown.includes("🎉") && !shown.includes("\ufffd"))
    }
  })

  it("scrolls within 60x15 and follows the end with l", () => {
    let model = run([loaded, key("end"), key("d"), { type: "detailsLoaded", id: failed.id, details: data }], 60, 15)
    assert.match(screen(model, 60, 15)[2] ?? "", /^Job ID/)
    assert.match(screen(model, 60, 15)[0] ?? "", /1-11\/\d+$/)
    ;[model] = update(model, key("pgdn"))
    assert.doesNotMatch(screen(model, 60, 15)[2] ?? "", /^Job ID/)
    ;[model] = update(model, key("l"))
    const lines = screen(model, 60, 15)
    assert.match(lines[0] ?? "", /following/)
    assert.match(lines[12] ?? "", /stderr +warning/)
    assertSize(model, 60, 15)
    assertSize(model, 40, 10)
  })
})

describe("log view: activity, and the stored lines with v", () => {
  const running = sampleSnapshot().running[0]!
  const LONG = "I read the architecture document and the two services it describes. The scheduler keeps its state in PostgreSQL, so the new retry policy belongs next to the claim query; next I will update docs/ARCHITECTURE.md and run the tests."
  const assistant = JSON.stringify({ type: "assistant", message: { role: "assistant", content: [{ type: "text", text: LONG }] }, session_id: "s1" })
  const toolUse = JSON.stringify({ type: "assistant", message: { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "Edit", input: { file_path: "/home/me/project/docs/ARCHITECTURE.md" } }] } })
  const data = details(running, {
    cwd: "/home/me/project",
    logTail: [
      { at: NOW, stream: "system", message: "Attempt 1 started by worker w1 on h: claude -p", executionId: "e1" },
      { at: NOW, stream: "stdout", message: JSON.stringify({ type: "system", subtype: "init", cwd: "/home/me/project", model: "claude-sonnet-4-5", claude_code_version: "2.1.332" }), executionId: "e1" },
      { at: NOW, stream: "stdout", message: assistant, executionId: "e1" },
      { at: NOW, stream: "stdout", message: toolUse, executionId: "e1" },
      { at: NOW, stream: "stderr", message: "\x1b[31mwarning:\x1b[0m slow disk", executionId: "e1" }
    ]
  })
  for (const [width, height] of [[80, 24], [60, 15]] as const) {
    it(`shows the activity, a long assistant text wrapped on word boundaries, at ${width}x${height}`, () => {
      const model = run([loaded, key("l"), { type: "detailsLoaded", id: running.id, details: data }], width, height)
      const lines = screen(model, width, height)
      assertSize(model, width, height)
      const t = lines.join("\n")
      assert.match(t, /tool {5}Edit docs\/ARCHITECTURE\.md/)
      assert.match(t, /stderr {3}warning: slow disk/)
      assert.doesNotMatch(t, /\{"type"/)
      const content = detailsContent(model.details!, NOW, width).map(lineText)
      const first = content.findIndex((l) => /^12:00:00 agent {4}I read/.test(l))
      assert.ok(first >= 0, content.join("\n"))
      const next = content.findIndex((l, i) => i > first && !l.startsWith(" ".repeat(18)))
      const agent = content.slice(first, next)
      assert.ok(agent.length > 2)
      assert.deepEqual(agent.map((l) => l.slice(18).trimEnd()).join(" ").split(" "), LONG.split(" "), "no word is cut")
      assert.match(content.join("\n"), /── Attempt 1 ──/)
    })
  }

  it("v shows the stored lines, v again the activity; escape sequences harmless in both", () => {
    const model = run([loaded, key("l"), { type: "detailsLoaded", id: running.id, details: data }, key("v")], 100, 40)
    const raw = detailsContent(model.details!, NOW, 100).map(lineText).join("\n")
    assert.match(raw, /Log \(last 5 lines, as stored\)/)
    assert.match(raw, /12:00:00 stdout \{"type":"assistant","message":\{"role":"assistant","content":\[\{"type":"text","text":"\n {16}I read the/)
    assert.match(raw, /stderr warning: slow disk/)
    assert.match(screen(model, 100, 40)[39] ?? "", /v activity/)
    assert.match(screen(update(model, key("v"))[0], 100, 40)[39] ?? "", /v raw log/)
    const back = screen(update(model, key("v"))[0], 100, 40).join("\n")
    assert.match(back, /Activity \(from the last 5 log lines\)/)
    assert.doesNotMatch(back, /\{"type"/)
    for (const m of [model, update(model, key("v"))[0]]) assert.doesNotMatch(view(m, 100, 40).flat().map((s) => s.text).join(""), /\x1b/)
  })
})

describe("sanitize", () => {
  it("removes CSI, OSC, DCS and other escape sequences whole", () => {
    assert.equal(sanitize("\x1b[1;31mred\x1b[0m"), "red")
    assert.equal(sanitize("a\x1b]0;title\x07b\x1b]8;;u\x1b\\c"), "abc")
    assert.equal(sanitize("a\x1bP1$r\x1b\\b"), "ab")
    assert.equal(sanitize("a\x1b(Bb\x1bcc"), "abc")
    assert.equal(sanitize("a\x9b2Jb\x9d0;t\x9cc"), "abc")
    assert.equal(sanitize("unterminated \x1b]0;title"), "unterminated ")
    assert.equal(sanitize("lone \x1b"), "lone ")
  })

  it("replaces other control characters, drops bidi overrides, repairs surrogates", () => {
    assert.equal(sanitize("bell\x07 del\x7f nul\x00"), "bell� del� nul�")
    assert.equal(sanitize("tab\tx"), "tab x")
    assert.equal(sanitize("a\u202eb\u2066c"), "abc")
    assert.equal(sanitize("x\ud800y"), "x\ufffdy")
    assert.equal(sanitize("é 日本 🎉"), "é 日本 🎉")
  })

  it("joins lines for one-line display and splits them for blocks", () => {
    assert.equal(sanitize("one\r\ntwo\rthree\n"), "one ↵ two ↵ three")
    assert.deepEqual(sanitizeLines("one\ntwo\x1b[K\u2028three"), ["one", "two", "three"])
  })

  it("visible: a name the user gave shows its control characters as escapes, harmless, and sanitize keeps it", () => {
    const name = "/tmp/a\x1b[31mred\x07\u202e\nb\ud800 é 日本"
    const shown = visible(name)
    assert.equal(shown, String.raw`/tmp/a\x1b[31mred\x07\u202e\x0ab\ud800 é 日本`)
    assert.equal(sanitize(shown), shown)
    assert.equal(visible("docs/PRD.md"), "docs/PRD.md")
  })
})

describe("text width", () => {
  it("counts wide and zero-width characters", () => {
    assert.equal(displayWidth("abc"), 3)
    assert.equal(displayWidth("日本語"), 6)
    assert.equal(displayWidth("🎉"), 2)
    assert.equal(displayWidth("e\u0301"), 1)
    assert.equal(displayWidth("👩‍💻"), 2)
    assert.equal(displayWidth("❤️"), 2)
  })

  it("truncates, slices and wraps by columns without splitting wide characters", () => {
    assert.equal(truncate("日本語テキスト", 7), "日本語…")
    assert.equal(truncate("short", 10), "short")
    assert.equal(truncate("abc", 0), "")
    assert.equal(lineText(sliceLine([seg("a日b")], 2, 4)), " b")
    assert.deepEqual(wrap("the quick brown fox", 10), ["the quick", "brown fox"])
    assert.deepEqual(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"])
    assert.deepEqual(wrap("日本", 1), ["日", "本"])
  })

  it("wraps and measures multi-megabyte text in one pass", () => {
    const ascii = "0123456789abcdef".repeat(64 * 1024) // 1 MiB, no spaces
    const lines = wrap(ascii, 64)
    assert.equal(lines.length, 16 * 1024)
    assert.ok(lines.every((l) => l === "0123456789abcdef".repeat(4)))
    const words = wrap("ab ".repeat(200_000), 10)
    assert.deepEqual([words.length, words[0], words.at(-1)], [66_667, "ab ab ab", "ab ab "])
    // Non-ASCII text goes through Intl.Segmenter, which is slow on long strings unless chunked.
    const wide = "日本語 e\u0301 🇫🇷 👩‍💻 ".repeat(10_000)
    assert.equal(displayWidth(wide), 10_000 * 15)
    const unit = ["日", "本", "語", " ", "e\u0301", " ", "🇫🇷", " ", "👩‍💻", " "]
    assert.deepEqual(graphemes(wide), Array.from({ length: 10_000 }, () => unit).flat())
    assert.equal(truncate(wide, 10), "日本語 e\u0301 …")
    assert.equal(wrap(wide, 19).length, 10_000)
    assert.equal(graphemes(`e${"\u0301".repeat(600)}x`).length, 2)
  })

  it("keeps rows of wide text at exactly the screen width", () => {
    const wide = snapshot({ failed: [job("ffff1111-0000-4000-8000-000000000000", { status: "failed", error: "失敗しました：".repeat(10) })] })
    const model = run([{ type: "snapshotLoaded", snapshot: wide }])
    assertSize(model, 80, 24)
    assertSize(model, 61, 15)
  })
})

describe("paint", () => {
  it("styles segments, without colour under NO_COLOR", () => {
    const line = [seg("ok", "completed"), seg(" plain"), seg("sel", "selected"), seg("ected", "selected")]
    assert.equal(renderLine(line, COLOR_PALETTE), "\x1b[0;32mok\x1b[0m plain\x1b[0;7mselected\x1b[0m")
    assert.equal(renderLine(line, MONO_PALETTE), "ok plain\x1b[0;7mselected\x1b[0m")
  })

  it("rewrites only changed rows inside synchronized-update marks", () => {
    assert.equal(paintFrame(["a", "b"], ["a", "b"]), "")
    assert.equal(paintFrame(["a", "b"], ["a", "c"]), `${SYNC_BEGIN}\x1b[2;1Hc${SYNC_END}`)
    assert.equal(paintFrame(null, ["a"]), `${SYNC_BEGIN}\x1b[0m\x1b[2J\x1b[1;1Ha${SYNC_END}`)
  })
})

describe("plain table", () => {
  it("prints every job once with the same columns, whole errors and no escapes", () => {
    const out = renderPlain(sampleSnapshot(), NOW)
    const lines = out.trimEnd().split("\n")
    assert.equal(lines.length, 7)
    assert.equal(lines[0], "ID        Provider  Status     Step        Project     Duration  Activity            Error")
    assert.equal(lines[1], "aaaa1111  claude    running    00_PRD      shop           3m04s  Editing src/app.ts")
    assert.equal(lines[3], "bbbb1111  cursor    queued     -           shop               -")
    assert.equal(lines[5], "cccc2222  claude    cancelled  03_ADR      shop             10s                      cancelled by user")
    assert.match(out, /dddd1111 {2}claude {4}failed {5}06_IMPLEM… {2}blog {12}5\.0s {22}rate_limit: 429 Too Many Requests: slow down and try again later please\n/)
    assert.doesNotMatch(out, /\x1b/)
  })

  it("cuts to a width and says when there are no jobs", () => {
    for (const l of renderPlain(sampleSnapshot(), NOW, 40).trimEnd().split("\n")) assert.ok(displayWidth(l) <= 40)
    assert.equal(renderPlain(snapshot(), NOW), "No jobs.\n")
  })
})
