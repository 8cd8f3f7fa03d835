/** The terminal-kit adapter in a real pseudo-terminal: painting, keys, live updates, restore. */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { spawnInPty, type PtySession } from "./support/pty.js"

const demo = (cols = 80, rows = 24, env: Record<string, string> = {}): PtySession =>
  spawnInPty(process.execPath, ["--import", "tsx", "test/fixtures/monitor-demo.ts"], { cols, rows, env })

async function withDemo(body: (s: PtySession) => Promise<void>, env: Record<string, string> = {}): Promise<void> {
  const session = demo(80, 24, env)
  try {
    await body(session)
  } finally {
    session.kill("SIGKILL")
  }
}

describe("monitor adapter (pty)", { timeout: 120_000 }, () => {
  it("shows jobs, opens details, applies pushed changes without a key, and q restores the terminal", () =>
    withDemo(async (s) => {
      await s.waitForText("aidp jobs", 15_000)
      await s.waitForText("aaaa1111")
      assert.equal(s.term.buffer.active.type, "alternate")
      const screen = s.screenText()
      assert.match(screen, /Running \(1\)/)
      assert.match(screen, /bbbb2222 {2}gemini {4}queued/)
      assert.match(screen, /dddd4444 {2}cursor {4}failed {5}- {11}demo {13}10s {2}auth failed/)

      await s.press("down")
      await s.press("d")
      await s.waitForText("bbbb2222-0000-4000-8000-000000000002")
      assert.match(s.screenText(), /Job ID/)
      // The activity is below the fold of 24 rows: End scrolls to it.
      await s.press("end")
      await s.waitForText("log of bbbb2222")
      await s.press("escape")
      await s.waitForText("Running (1)")

      s.kill("SIGUSR2")
      await s.waitForText("fresh000")
      // Its activity, cut to the Activity column at 80 columns.
      await s.waitForText("Pushed by si…")
      assert.match(s.screenText(), /Running \(2\)/)

      await s.press("q")
      assert.equal(await s.exitCode, 0)
      assert.equal(s.term.buffer.active.type, "normal")
    }))

  it("holds back stray console and stderr output while it owns the screen, and prints it after", () =>
    withDemo(async (s) => {
      await s.waitForText("aaaa1111", 15_000)
      const before = s.screenText()
      s.kill("SIGUSR1")
      await s.waitForQuiet(200, 1000)
      assert.doesNotMatch(s.screenText(), /stray/)
      assert.equal(s.screenText().split("\n")[1], before.split("\n")[1])
      await s.press("q")
      assert.equal(await s.exitCode, 0)
      assert.equal(s.term.buffer.active.type, "normal")
      const after = s.screenText()
      for (const text of ["stray console.log", "stray console.error", "stray stderr write", "stray warning"]) assert.match(after, new RegExp(text))
    }))

  for (const crash of ["throw", "exit"] as const) {
    it(`restores the terminal when the process ${crash === "throw" ? "throws an uncaught error" : "calls process.exit()"}`, () =>
      withDemo(
        async (s) => {
          await s.waitForText("aaaa1111", 15_000)
          s.kill("SIGUSR1")
          assert.equal(await s.exitCode, crash === "throw" ? 1 : 3)
          assert.equal(s.term.buffer.active.type, "normal")
          const raw = s.rawOutput()
          assert.ok(raw.lastIndexOf("\x1b[?25h") > raw.lastIndexOf("\x1b[?25l"), "cursor shown again")
          if (crash === "throw") assert.match(s.screenText(), /demo crash/)
        },
        { DEMO_CRASH: crash }
      ))
  }

  it("runs on through the database driver's known faults, which the supervised client handles", () =>
    withDemo(
      async (s) => {
        await s.waitForText("aaaa1111", 15_000)
        s.kill("SIGUSR1")
        await s.waitForText("fresh000")
        assert.equal(s.term.buffer.active.type, "alternate")
        await s.press("q")
        assert.equal(await s.exitCode, 0)
        assert.doesNotMatch(s.screenText(), /Cannot read properties|ECONNREFUSED/)
      },
      { DEMO_CRASH: "driver" }
    ))

  it("repaints on resize, dropping columns that no longer fit", () =>
    withDemo(async (s) => {
      await s.waitForText("aaaa1111", 15_000)
      assert.match(s.screenText(), /Provider +Status +Step +Project +Duration *\n/)
      assert.match(s.screenText(), /Running \(1\) +Activity/)
      s.resize(44, 12)
      await s.waitForText(/ID +Provider +Status +Duration *\n/)
      assert.doesNotMatch(s.screenText(), /Error|Activity|Step|Project/)
      await s.press("ctrl-c")
      assert.equal(await s.exitCode, 0)
      assert.equal(s.term.buffer.active.type, "normal")
    }))

  it("paints in synchronized updates, never passes job text escapes through, and honours NO_COLOR", () =>
    withDemo(
      async (s) => {
        await s.waitForText("auth failed", 15_000)
        const raw = s.rawOutput()
        assert.ok(raw.includes("\x1b[?2026h") && raw.includes("\x1b[?2026l"))
        assert.ok(!raw.includes("\x1b[31mauth"))
        assert.doesNotMatch(raw, /\x1b\[[0-9;]*;3[0-7]m/)
        assert.match(raw, /\x1b\[0;7m› aaaa1111/)
        await s.press("q")
        assert.equal(await s.exitCode, 0)
        const after = s.rawOutput().slice(s.rawOutput().lastIndexOf("\x1b[?2026l"))
        assert.ok(after.includes("\x1b[?25h"), "cursor shown again")
        assert.ok(after.includes("\x1b[?1049l"), "alternate screen left")
      },
      { NO_COLOR: "1" }
    ))
})
