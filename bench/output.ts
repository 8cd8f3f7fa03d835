/**
 * An agent printing a lot (issue 8): one job whose agent prints `mb` MB of plain lines, run by
 * one `aidp worker` process: ingestion MB/s (the execution's start to its end) and the
 * worker's peak RSS.
 */
import { commandsFor } from "../test/support/commands.js"
import type { TestDb } from "../test/support/db.js"
import { writeChattyAgent } from "./agent.js"
import { drainWithWorker } from "./peers.js"
import { perSecond } from "./stats.js"

/** The output figure over `db` with the agent written into `dir`: MB/s and peak RSS in MB (null without /proc). */
export const outputFigure = async (db: TestDb, dir: string, mb: number): Promise<{ mbPerSecond: number; peakRssMb: number | null }> => {
  const bin = await writeChattyAgent(dir, mb)
  const commands = commandsFor(db)
  try {
    await commands.enqueue({ prompt: "print a lot", cwd: dir })
  } finally {
    await commands.dispose()
  }
  const { ms, peakRssMb } = await drainWithWorker(db, bin, dir, 1)
  return { mbPerSecond: perSecond(mb, ms), peakRssMb }
}
