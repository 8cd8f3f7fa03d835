/**
 * Provider process groups of this host. Provider CLIs run in groups of their own, so nothing
 * stops them when their worker dies. This process kills the groups it runs when it exits
 * without unwinding (a second Ctrl-C, process.exit); and since a worker killed with SIGKILL
 * runs no exit hook, each group is also recorded in a per-user folder of this host, where
 * every worker of the same installation (aidp schema) on the host stops the groups whose
 * worker is dead (at start and on each maintenance pass), so an abandoned execution does
 * not go on editing files beside its retry (DESIGN.md, invariants 1 and 4). Only that
 * installation's workers can retry the job, so they are the ones to stop its orphans; the
 * workers of another installation on the host leave them alone.
 */
import { mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"

/** One recorded provider process group. `startTicks` guard against pid reuse (Linux /proc). */
interface GroupRecord {
  readonly pgid: number
  readonly workerPid: number
  readonly workerStart: string | null
  readonly groupStart: string | null
}

/** The folder of this user's records on this host (every installation's, told apart by file name). */
export const recordsDir = (): string => path.join(os.tmpdir(), `aidp-${os.userInfo().uid}`, "process-groups")

/** A process's start time in clock ticks since boot (field 22 of /proc/PID/stat); null when unknown. */
const startTicks = (pid: number): string | null => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null
  } catch {
    return null
  }
}

/** Whether a process with this pid exists on this host (EPERM: it exists, not ours). */
export const processExists = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}

/** Whether `pid` is the same process that was recorded (alive, and started when it did). */
const isSameProcess = (pid: number, start: string | null): boolean =>
  processExists(pid) && (start === null || startTicks(pid) === start)

/**
 * The record of group `pgid` of installation `schema`: `<schema>.<pgid>.json` (a schema name
 * has no dot: AIDP_DB_SCHEMA is a lower-case identifier).
 */
const fileOf = (schema: string, pgid: number) => path.join(recordsDir(), `${schema}.${pgid}.json`)

/** Groups this process runs, killed by the exit hook. */
const liveGroups = new Set<number>()
let exitHookInstalled = false

/** SIGKILLs process group `pgid`; false when it is gone already. Never throws. */
export const killGroup = (pgid: number): boolean => {
  try {
    process.kill(-pgid, "SIGKILL")
    return true
  } catch {
    return false // the group is gone already
  }
}

/**
 * Tracks provider group `pgid` (its leader's pid) while this process runs it: killed if
 * this process exits, and recorded for the other workers of installation `schema` on the
 * host if it dies. Writing the record is best effort (no writable temp folder: the exit hook
 * still covers normal exits).
 */
export const trackGroup = (schema: string, pgid: number): void => {
  if (!exitHookInstalled) {
    exitHookInstalled = true
    process.on("exit", () => {
      for (const group of liveGroups) killGroup(group)
    })
  }
  liveGroups.add(pgid)
  try {
    mkdirSync(recordsDir(), { recursive: true, mode: 0o700 })
    const record: GroupRecord = {
      pgid,
      workerPid: process.pid,
      workerStart: startTicks(process.pid),
      groupStart: startTicks(pgid)
    }
    writeFileSync(fileOf(schema, pgid), JSON.stringify(record))
  } catch {
    // Best effort, as said above.
  }
}

/**
 * SIGKILLs every provider group this process runs, at once (a second Ctrl-C: no grace). They
 * stay tracked until their executions have recorded how they ended (see {@link trackedGroups}).
 * Returns how many groups were signalled.
 */
export const killTrackedGroups = (): number => {
  let killed = 0
  for (const group of liveGroups) if (killGroup(group)) killed += 1
  return killed
}

/** How many provider groups this process runs whose executions have not finished recording. */
export const trackedGroups = (): number => liveGroups.size

/** Stops tracking group `pgid` of installation `schema` (its provider ended and was reaped by this process). */
export const untrackGroup = (schema: string, pgid: number): void => {
  liveGroups.delete(pgid)
  forgetRecord(schema, pgid)
}

const forgetRecord = (schema: string, pgid: number): void => {
  try {
    unlinkSync(fileOf(schema, pgid))
  } catch {
    // Already gone.
  }
}

/**
 * Sends SIGKILL to every recorded group of installation `schema` whose worker process is
 * gone, and forgets it. Returns the pgids it stopped. Never throws.
 */
export const reapOrphans = (schema: string): Array<number> => {
  const reaped: Array<number> = []
  let files: Array<string>
  try {
    files = readdirSync(recordsDir()).filter((name) => name.startsWith(`${schema}.`) && name.endsWith(".json"))
  } catch {
    return reaped
  }
  for (const name of files) {
    let record: GroupRecord
    try {
      record = JSON.parse(readFileSync(path.join(recordsDir(), name), "utf8")) as GroupRecord
    } catch {
      continue
    }
    if (isSameProcess(record.workerPid, record.workerStart)) continue
    // The group leader may have exited while its children live on; without /proc
    // evidence of reuse, a group id whose leader is someone else's process is left alone.
    const leaderStart = startTicks(record.pgid)
    if ((leaderStart === null || leaderStart === record.groupStart) && killGroup(record.pgid)) reaped.push(record.pgid)
    forgetRecord(schema, record.pgid)
  }
  return reaped
}
