/**
 * Turns SIGINT/SIGTERM/SIGHUP (the terminal closed) into an AbortSignal for a long-running command (graceful stop), and a
 * second signal into a quick one: the agents' process groups are killed at once and the
 * process exits as soon as their executions have recorded how they ended (an abandoned
 * execution re-queues its job at once), or after {@link FORCED_STOP_MS} at the latest.
 * A reader of the output that went away (EPIPE, `aidp execute next | head -2`) stops the
 * command the same graceful way, as if it had got SIGPIPE.
 */
import { killTrackedGroups, trackedGroups } from "../workers/processGroups.js"

/** Longest wait after a second signal for the killed agents' executions to be recorded, ms (best effort). */
export const FORCED_STOP_MS = 1_500
/** How often the forced stop looks whether everything is recorded, ms. */
const FORCED_STOP_POLL_MS = 20

/** What stopped a command: a signal, or its output's reader going away (EPIPE). */
export type StopCause = "SIGINT" | "SIGTERM" | "SIGHUP" | "SIGPIPE"

/** The conventional exit code of a command stopped by `cause`: 128 + the signal's number (130 for Ctrl-C). */
export const stopExitCode = (cause: StopCause): number => 128 + ({ SIGHUP: 1, SIGINT: 2, SIGPIPE: 13, SIGTERM: 15 } as const)[cause]

/** Who a stop by `cause` is recorded as having been requested by (a cancelled job's error, a paused workflow's reason). */
export const stopRequester = (cause: StopCause | null): string =>
  ({ SIGINT: "user (Ctrl-C)", SIGTERM: "user (SIGTERM)", SIGHUP: "user (terminal closed)", SIGPIPE: "user (output closed)" } as const)[cause ?? "SIGINT"]

/** Exit code of a forced stop (a second signal), once one began; the process ends with it whoever finishes first. */
let forcedExitCode: number | null = null

/** 130 once a second signal forced the stop, else null: the exit code the process must end with. */
export const forcedStopCode = (): number | null => forcedExitCode

/** The graceful stops of the running commands' {@link stopSignal}s, for {@link stopOnLostOutput}. */
const gracefulStops = new Set<(cause: StopCause) => void>()

/**
 * Stops the running command gracefully because its output's reader went away, as SIGINT
 * would (once: later calls do nothing). Returns whether a command was listening; when none
 * was, the caller ends the process itself.
 */
export const stopOnLostOutput = (): boolean => {
  for (const stop of gracefulStops) stop("SIGPIPE")
  return gracefulStops.size > 0
}

/**
 * An AbortSignal aborted by the first SIGINT, SIGTERM or SIGHUP (or a lost output, see
 * {@link stopOnLostOutput}). A second one kills the provider
 * process groups this process runs and exits with 130 once their executions are recorded
 * (at most {@link FORCED_STOP_MS} later). `dispose` removes the handlers.
 */
export const stopSignal = (): { readonly signal: AbortSignal; readonly dispose: () => void; readonly received: () => StopCause | null } => {
  const controller = new AbortController()
  let received: StopCause | null = null
  let forcing = false
  const forceStop = () => {
    forcing = true
    // The graceful stop may still win the race to the end (the killed agents were its last
    // wait): the process ends with 130 either way.
    forcedExitCode = 130
    killTrackedGroups()
    const deadline = Date.now() + FORCED_STOP_MS
    const check = () => {
      if (trackedGroups() === 0 || Date.now() >= deadline) process.exit(130)
      setTimeout(check, FORCED_STOP_POLL_MS)
    }
    check()
  }
  const stopGracefully = (cause: StopCause) => {
    if (received !== null) return
    received = cause
    controller.abort()
  }
  const onSignal = (name: "SIGINT" | "SIGTERM" | "SIGHUP") => {
    if (received === null) return stopGracefully(name)
    if (!forcing) forceStop()
  }
  process.on("SIGINT", onSignal)
  process.on("SIGTERM", onSignal)
  process.on("SIGHUP", onSignal)
  gracefulStops.add(stopGracefully)
  return {
    signal: controller.signal,
    received: () => received,
    dispose: () => {
      process.off("SIGINT", onSignal)
      process.off("SIGTERM", onSignal)
      process.off("SIGHUP", onSignal)
      gracefulStops.delete(stopGracefully)
    }
  }
}
