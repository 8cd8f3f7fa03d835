/**
 * Per-file fixture of the tests that race several `aidp worker` processes: a throwaway schema
 * with its command handler, a temporary folder whose `record.jsonl` the fake agent writes, and
 * the worker processes a test starts (push them to `workers`). After the file every worker and
 * every recorded fake run is killed, and the schema and folder are removed.
 *
 *   const fleet = workerFleet("aidp-concurrency-")
 *   test("…", async () => { const { db, commands, dir, workers } = fleet; … })
 */
import type { ChildProcess } from "node:child_process"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { after, before } from "node:test"
import { commandsFor, type Commands } from "./commands.js"
import { createTestDb, type TestDb } from "./db.js"
import { killChild, killFakeRun, readRecords } from "./wait.js"

/** What {@link workerFleet} sets up; the fields are filled in by its `before` hook. */
export interface Fleet {
  db: TestDb
  commands: Commands
  dir: string
  readonly workers: Array<ChildProcess>
}

/** Registers the file's before/after hooks; `prefix` names the temporary folder. */
export const workerFleet = (prefix: string): Fleet => {
  const fleet = { workers: [] } as unknown as Fleet
  before(async () => {
    fleet.db = await createTestDb()
    fleet.dir = await mkdtemp(join(tmpdir(), prefix))
    fleet.commands = commandsFor(fleet.db)
  })
  after(async () => {
    for (const worker of fleet.workers) killChild(worker)
    if (fleet.dir !== undefined) for (const run of readRecords(join(fleet.dir, "record.jsonl"))) killFakeRun(run)
    await fleet.commands?.dispose()
    await fleet.db?.drop()
    if (fleet.dir !== undefined) await rm(fleet.dir, { recursive: true, force: true })
  })
  return fleet
}
