/**
 * Turns SIGINT/SIGTERM into an AbortSignal for a long-running command (graceful stop), and a
 * second signal into a quick one: the agents' process groups are killed at once and the
 * process exits as soon as their executions have recorded how they ended (an abandoned
 * execution re-queues its job at once), or after {@link FORCED_STOP_MS} at the latest.
 */
import { killTrackedGroups, trackedGroups } from "../workers/processGroups.js"

/** Longest wait after a second signal for the killed agents' executions to be recorded, ms (best effort). */
export const FORCED_STOP_MS = 1_500
/** How often the forced stop looks whether everything is recorded, ms. */
const FORCED_STOP_POLL_MS = 20

/**
 * An AbortSignal aborted by the first SIGINT or SIGTERM. A second one kills the provider
 * process groups this process runs and exits with 130 once their executions are recorded
 * (at most {@link FORCED_STOP_MS} later). `dispose` removes the handlers.
 */
export const stopSignal = (): { readonly signal: AbortSignal; readonly dispose: () => void; readonly received: () => string | null } => {
  const controller = new AbortController()
  let received: string | null = null
  let forcing = false
  const forceStop = () => {
    forcing = true
    killTrackedGroups()
    const deadline = Date.now() + FORCED_STOP_MS
    const check = () => {
      if (trackedGroups() === 0 || Date.now() >= deadline) process.exit(130)
      setTimeout(check, FORCED_STOP_POLL_MS)
    }
    check()
  }
  const onSignal = (name: NodeJS.Signals) => {
    if (received !== null) {
      if (!forcing) forceStop()
      return
    }
    received = name
    controller.abort()
  }
  process.on("SIGINT", onSignal)
  process.on("SIGTERM", onSignal)
  return {
    signal: controller.signal,
    received: () => received,
    dispose: () => {
      process.off("SIGINT", onSignal)
      process.off("SIGTERM", onSignal)
    }
  }
}
