/**
 * Test helpers for processes and conditions: poll until something holds, check whether a
 * pid is alive, and kill what a test started (workers and the fake providers' process
 * groups) so nothing outlives the test.
 */
import type { ChildProcess } from "node:child_process"
import { readFileSync } from "node:fs"
import { constants as osConstants } from "node:os"

/**
 * Upper bound for a process the test starts (worker, CLI, fake agent) to show its first
 * effect, ms: generous, because a loaded machine (two suites on two cores) starts processes
 * slowly; a passing test never waits for it.
 */
export const START_MS = 60_000

/**
 * Polls `condition` every `intervalMs` until it returns a truthy value (returned) or
 * `timeoutMs` (default {@link START_MS}) passes (throws, naming `what` and the last value seen).
 */
export const waitFor = async <T>(
  what: string,
  condition: () => T | Promise<T>,
  timeoutMs = START_MS,
  intervalMs = 100
): Promise<NonNullable<T>> => {
  const deadline = Date.now() + timeoutMs
  let last: T | undefined
  let lastError: unknown
  for (;;) {
    try {
      last = await condition()
      lastError = undefined
      if (last) return last as NonNullable<T>
    } catch (error) {
      lastError = error
    }
    if (Date.now() >= deadline) {
      const detail = lastError !== undefined ? `last error: ${String(lastError)}` : `last value: ${JSON.stringify(last)}`
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what} (${detail}).`)
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

/**
 * Polls `remaining` (a count of work left) every `intervalMs` until it is 0. Throws, naming
 * `what`, only when the count has not gone down for `stallMs`: a loaded machine may be slow,
 * but work that stopped moving is a failure however long the run may take.
 */
export const waitForProgress = async (
  what: string,
  remaining: () => Promise<number>,
  stallMs: number,
  intervalMs = 250
): Promise<void> => {
  let best = Number.POSITIVE_INFINITY
  let movedAt = Date.now()
  for (;;) {
    const left = await remaining()
    if (left === 0) return
    if (left < best) {
      best = left
      movedAt = Date.now()
    } else if (Date.now() - movedAt >= stallMs) {
      throw new Error(`No progress for ${stallMs} ms waiting for ${what} (${left} left).`)
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

/** Whether a process with this pid exists (a zombie counts; reaped ones do not). */
export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}

/** Whether `pid` is alive and not a zombie (Linux /proc). A zombie cannot run anything. */
export const isRunning = (pid: number): boolean => {
  if (!isAlive(pid)) return false
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z"
  } catch {
    return false
  }
}

/**
 * Resolves once `signal`, sent to `pid`, is no longer pending: the kernel has delivered it
 * (the SigPnd and ShdPnd masks of /proc/PID/status). A signal sent while the same one is
 * still pending merges with it, so a test that means to send it twice waits for this first.
 */
export const signalDelivered = (pid: number, signal: NodeJS.Signals, timeoutMs = 10_000): Promise<true> => {
  const bit = 1n << BigInt(osConstants.signals[signal] - 1)
  return waitFor(`${signal} to be delivered to ${pid}`, () => {
    const status = readFileSync(`/proc/${pid}/status`, "utf8")
    const pending = ["SigPnd", "ShdPnd"].map((field) => BigInt(`0x${new RegExp(`^${field}:\\s*([0-9a-f]+)$`, "m").exec(status)![1]}`))
    return pending.every((mask) => (mask & bit) === 0n) || null
  }, timeoutMs, 10)
}

/** SIGKILLs a process group, ignoring one that is gone. */
export const killGroup = (pgid: number): void => {
  try {
    process.kill(-pgid, "SIGKILL")
  } catch {
    // already gone
  }
}

/** SIGKILLs a pid, ignoring one that is gone. */
export const killPid = (pid: number): void => {
  try {
    process.kill(pid, "SIGKILL")
  } catch {
    // already gone
  }
}

/** Resolves when `child` has exited (at once if it already has). */
export const exited = (child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve({ code: child.exitCode, signal: child.signalCode })
    : new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })))

/** One line of the fake agent's FAKE_AGENT_RECORD file. */
export interface FakeRecord {
  readonly flavor: string
  readonly prompt: string
  readonly pid: number
  readonly grandchildPid?: number
}

/** The fake agent's record file, parsed (empty when it does not exist yet). */
export const readRecords = (file: string): FakeRecord[] => {
  let text: string
  try {
    text = readFileSync(file, "utf8")
  } catch {
    return []
  }
  return text.split("\n").filter((line) => line.trim() !== "").map((line) => JSON.parse(line) as FakeRecord)
}

/** Waits until the fake agent has recorded at least `count` runs in `file`; returns them all. */
export const waitForRuns = (file: string, count = 1, timeoutMs = START_MS): Promise<FakeRecord[]> =>
  waitFor(`${count} run(s) of the fake agent`, () => {
    const runs = readRecords(file)
    return runs.length >= count ? runs : null
  }, timeoutMs)

/** The command line of a running pid ("" when it is gone). */
const commandLine = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ")
  } catch {
    return ""
  }
}

/**
 * Kills what one run of the fake agent may have left: its process group (it runs in its
 * own, with the grandchild of leave_child). Checks the command lines first, so a pid reused
 * by an unrelated process since is left alone.
 */
export const killFakeRun = (run: FakeRecord): void => {
  if (commandLine(run.pid).includes("fake-agent")) killGroup(run.pid)
  if (run.grandchildPid !== undefined && commandLine(run.grandchildPid).includes("setInterval")) killPid(run.grandchildPid)
}

/** SIGKILLs `child` unless it has exited (its pid may belong to someone else by now). */
export const killChild = (child: ChildProcess): void => {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill("SIGCONT")
    child.kill("SIGKILL")
  }
}
