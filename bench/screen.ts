/**
 * The monitor as a person sees it (issue 8): `aidp jobs` (the built CLI) in a pseudo-terminal
 * (@lydell/node-pty) whose output a headless xterm parses, timed to the parsed chunk that first
 * shows what is awaited. Figures: the first screen from the command's start, with its peak
 * RSS, over a large history; and commit -> repainted screen (a job queued by the command
 * handler, from the append's commit to its row on the screen).
 */
import { readFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { performance } from "node:perf_hooks"
import pty from "@lydell/node-pty"
import xterm from "@xterm/headless"
import * as Effect from "effect/Effect"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { channelFor } from "../src/events/sqlClient.js"
import { CommandHandler } from "../src/projections/commandHandler.js"
import { jobServicesLayer } from "../src/projections/services.js"
import { shortId } from "../src/terminal/view/format.js"
import { cliEnv, CLI } from "../test/support/cli.js"
import type { TestDb } from "../test/support/db.js"
import { insertHistory } from "./history.js"
import { peakRssMb, percentile } from "./stats.js"

/** Longest wait for anything on the screen, ms: the bench reports, it does not hang. */
const SCREEN_TIMEOUT_MS = 60_000

/** A running `aidp jobs` in a pseudo-terminal of `cols` x `rows`. */
const openMonitor = (db: TestDb, cols: number, rows: number) => {
  const term = new xterm.Terminal({ cols, rows, allowProposedApi: true })
  const startedAt = performance.now()
  const child = pty.spawn(process.execPath, [CLI, "jobs"], {
    name: "xterm-256color",
    cols,
    rows,
    cwd: tmpdir(),
    env: { ...cliEnv(db), TERM: "xterm-256color" } as Record<string, string>
  })
  const screen = (): string => {
    const buffer = term.buffer.active
    const lines: Array<string> = []
    for (let y = 0; y < term.rows; y++) lines.push(buffer.getLine(buffer.viewportY + y)?.translateToString(true) ?? "")
    return lines.join("\n")
  }
  let waiters: Array<{ holds: (screen: string) => boolean; resolve: (at: number) => void }> = []
  child.onData((data) => {
    term.write(data, () => {
      const at = performance.now()
      const now = screen()
      waiters = waiters.filter((waiter) => (waiter.holds(now) ? (waiter.resolve(at), false) : true))
    })
  })
  const exited = new Promise<void>((resolve) => child.onExit(() => resolve()))
  return {
    startedAt,
    pid: child.pid,
    /** The time (performance.now()) of the first parsed chunk after which `holds(screen)`; rejects after {@link SCREEN_TIMEOUT_MS}. */
    when: (what: string, holds: (screen: string) => boolean): Promise<number> =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the monitor never showed ${what}; screen:\n${screen()}`)), SCREEN_TIMEOUT_MS)
        waiters.push({ holds, resolve: (at) => (clearTimeout(timer), resolve(at)) })
      }),
    close: async () => {
      child.kill("SIGTERM")
      await exited
      term.dispose()
    }
  }
}

/**
 * The monitor's first screen over `history` finished jobs (inserted into `db`): ms from the
 * command's start to the first painted frame showing them, the median of `runs`, and the
 * largest peak RSS of those runs, MB (null without /proc).
 */
export const firstScreenFigure = async (db: TestDb, history: number, runs = 3): Promise<{ ms: number; peakRssMb: number | null }> => {
  await insertHistory(db, history)
  const times: Array<number> = []
  let peak: number | null = null
  for (let i = 0; i < runs; i++) {
    const monitor = openMonitor(db, 120, 40)
    try {
      const at = await monitor.when("the finished jobs", (screen) => screen.includes("Recently completed"))
      times.push(at - monitor.startedAt)
      const rss = await readFile(`/proc/${monitor.pid}/status`, "utf8").then(peakRssMb, () => null)
      if (rss !== null) peak = Math.max(peak ?? 0, rss)
    } finally {
      await monitor.close()
    }
  }
  return { ms: percentile(times, 50), peakRssMb: peak }
}

/**
 * Commit -> repainted screen: `samples` jobs queued one after another (the command handler, on
 * the channel the monitor listens to), each timed from its append's commit (the append
 * answered) to the first painted frame showing its row. Returns p50 and p99, ms.
 */
export const commitToScreenFigure = async (db: TestDb, samples = 40): Promise<{ p50: number; p99: number }> => {
  const runtime = ManagedRuntime.make(jobServicesLayer({ sql: db.sql, schema: db.schema, channel: channelFor(db.schema) }))
  const monitor = openMonitor(db, 160, samples + 20)
  try {
    await monitor.when("its first screen", (screen) => screen.trim() !== "")
    const latencies: Array<number> = []
    for (let i = 0; i < samples; i++) {
      const jobId = crypto.randomUUID()
      const shown = monitor.when(`job ${jobId}`, (screen) => screen.includes(shortId(jobId)))
      await runtime.runPromise(Effect.flatMap(CommandHandler, (handler) =>
        handler.handle(jobId, {
          _tag: "Enqueue", provider: "claude", model: null, prompt: `screen ${i}`, cwd: tmpdir(), step: null,
          priority: 0, maxAttempts: 1, timeoutMs: 60_000, metadata: {}, permissions: "edit"
        }, new Date())))
      const committedAt = performance.now()
      // A frame parsed before the append's answer arrived counts as 0 ms.
      latencies.push(Math.max(0, (await shown) - committedAt))
    }
    return { p50: percentile(latencies, 50), p99: percentile(latencies, 99) }
  } finally {
    await monitor.close()
    await runtime.dispose()
  }
}
