/** Turns SIGINT/SIGTERM into an AbortSignal for a long-running command (graceful stop). */

/**
 * An AbortSignal aborted by the first SIGINT or SIGTERM; a second one exits at once with
 * 130. `dispose` removes the handlers.
 */
export const stopSignal = (): { readonly signal: AbortSignal; readonly dispose: () => void; readonly received: () => string | null } => {
  const controller = new AbortController()
  let received: string | null = null
  const onSignal = (name: NodeJS.Signals) => {
    if (received !== null) process.exit(130)
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
