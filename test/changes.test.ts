/** What a run changed, from git's output (src/domain/changes.ts): parsing, totals, the compact text. */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { compactChanges, fileLine, MAX_SUMMARY_FILES, parseDiff, summarize, worktreeBranch } from "../src/domain/changes.js"

describe("changes", () => {
  it("parses git's -z name-status and numstat: text, binary, deleted and odd paths, by path", () => {
    const nameStatus = "M\0src/a.ts\0A\0logo.png\0D\0old.txt\0T\0link\0A\0with\ttab and\nnewline.md\0"
    const numstat = "3\t1\tsrc/a.ts\0-\t-\tlogo.png\0" + "0\t7\told.txt\0" + "1\t1\tlink\0" + "2\t0\twith\ttab and\nnewline.md\0"
    assert.deepEqual(parseDiff(nameStatus, numstat), [
      { path: "link", status: "type_changed", added: 1, removed: 1 },
      { path: "logo.png", status: "added", added: null, removed: null },
      { path: "old.txt", status: "deleted", added: 0, removed: 7 },
      { path: "src/a.ts", status: "modified", added: 3, removed: 1 },
      { path: "with\ttab and\nnewline.md", status: "added", added: 2, removed: 0 }
    ])
    assert.deepEqual(parseDiff("", ""), [])
    assert.throws(() => parseDiff("X\0a\0", ""), /Unexpected git status/)
    assert.throws(() => parseDiff("", "garbage\0"), /Unexpected git numstat/)
  })

  it("summarizes every file in its totals but lists at most MAX_SUMMARY_FILES", () => {
    const files = Array.from({ length: MAX_SUMMARY_FILES + 2 }, (_, i) => ({ path: `f${i}`, status: "added" as const, added: 2, removed: 1 }))
    const summary = summarize([...files, { path: "bin", status: "added", added: null, removed: null }], { repo: "/r", base: "a", head: "b" })
    assert.deepEqual([summary.files.length, summary.file_count, summary.lines_added, summary.lines_removed], [MAX_SUMMARY_FILES, MAX_SUMMARY_FILES + 3, 2 * (MAX_SUMMARY_FILES + 2), MAX_SUMMARY_FILES + 2])
    assert.equal("approximate" in summary, false)
    assert.equal(summarize([], { repo: "/r", base: "a", head: "b", approximate: true }).approximate, true)
  })

  it("says it compactly, and one file per line", () => {
    assert.equal(compactChanges({ file_count: 3, lines_added: 120, lines_removed: 4 }), "3 files +120 −4")
    assert.equal(compactChanges({ file_count: 1, lines_added: 0, lines_removed: 0, approximate: true }), "~1 file +0 −0")
    assert.equal(compactChanges({ file_count: 0, lines_added: 0, lines_removed: 0 }), "no changes")
    assert.equal(fileLine({ path: "a.ts", status: "modified", added: 12, removed: 3 }), "+12 −3        a.ts")
    assert.equal(fileLine({ path: "logo.png", status: "added", added: null, removed: null }), "binary        logo.png (added)")
    assert.equal(fileLine({ path: "l", status: "type_changed", added: 1, removed: 1 }), "+1 −1         l (type changed)")
    assert.equal(worktreeBranch("0123456789abcdef"), "aidp/01234567")
  })
})
