/**
 * The history figure (issue 9): `aidp jobs replay --stats` over a generated history, as a
 * whole process: events/s and its peak RSS (MB, from /usr/bin/time's %M where the machine has
 * it; null elsewhere). Replay reads the log in pages and keeps per job, not per event, so the
 * RSS should stay flat as the history grows (target: under 200 MB at 1,000,000 events).
 */
import { spawnSync } from "node:child_process"
import { existsSync } from "node:fs"
import { performance } from "node:perf_hooks"
import { CLI } from "../test/support/cli.js"
import type { TestDb } from "../test/support/db.js"
import { perSecond } from "./stats.js"

/** GNU time, which reports a child's peak RSS. */
const TIME = "/usr/bin/time"

/** What {@link replayStatsFigure} measured. */
export interface ReplayStatsFigure {
  readonly perSecond: number
  /** Peak resident set size of the whole command, MB; null without GNU time. */
  readonly peakRssMb: number | null
}

/** Runs `aidp jobs replay --stats --json` over `db`'s `events` events once; throws if it fails. */
export const replayStatsFigure = (db: TestDb, events: number): ReplayStatsFigure => {
  const env = { ...process.env, AIDP_DATABASE_URL: db.url, AIDP_DB_SCHEMA: db.schema }
  const measured = existsSync(TIME)
  const command = [CLI, "jobs", "replay", "--stats", "--json"]
  const start = performance.now()
  const result = measured
    ? spawnSync(TIME, ["-f", "peak-kb %M", process.execPath, ...command], { env, stdio: ["ignore", "ignore", "pipe"] })
    : spawnSync(process.execPath, command, { env, stdio: ["ignore", "ignore", "pipe"] })
  const ms = performance.now() - start
  if (result.status !== 0) throw new Error(`aidp jobs replay --stats exited ${result.status}: ${result.stderr}`)
  const kb = /peak-kb (\d+)/.exec(result.stderr.toString())?.[1]
  return { perSecond: perSecond(events, ms), peakRssMb: kb === undefined ? null : Number(kb) / 1024 }
}
