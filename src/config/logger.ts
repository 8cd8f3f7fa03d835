/**
 * Logging (pino). Human-readable lines on stderr for commands that print as they go
 * (`aidp worker`, `aidp execute`), JSON lines to AIDP_LOG_FILE when set, and nothing on the
 * terminal while the full-screen monitor owns it.
 */
import pino from "pino"
import pretty from "pino-pretty"
import type { Settings } from "./env.js"

/** Where a command wants its logs on the terminal. */
export type TerminalLogging =
  /** Warnings and errors only (one-shot commands). */
  | "quiet"
  /** Info and up (long-running commands: worker, execute). */
  | "verbose"
  /** Nothing: the monitor draws the whole screen. */
  | "none"

/** The logger type used everywhere. */
export type Logger = pino.Logger

/**
 * Builds the process logger. AIDP_DEBUG=1 lowers every destination to debug. Errors: none
 * (a log file that cannot be opened throws from pino at creation, with the path).
 */
export const createLogger = (settings: Settings, terminal: TerminalLogging): Logger => {
  const streams: Array<pino.StreamEntry> = []
  if (terminal !== "none") {
    streams.push({
      level: settings.debug ? "debug" : terminal === "verbose" ? "info" : "warn",
      // process.stderr itself (synchronous for files, pipes and terminals on Linux), not a
      // second writer on fd 2: a reader that went away (EPIPE) reaches its error handler
      // (cli/main.ts), which stops the command, instead of pino-pretty dropping it silently.
      stream: pretty({ destination: process.stderr, colorize: !process.env.NO_COLOR && process.stderr.isTTY, ignore: "pid,hostname", singleLine: true })
    })
  }
  if (settings.logFile) {
    streams.push({ level: settings.debug ? "debug" : "info", stream: pino.destination({ dest: settings.logFile, append: true, sync: true }) })
  }
  if (streams.length === 0) return pino({ level: "silent" })
  return pino({ level: settings.debug ? "debug" : "info", base: { pid: process.pid } }, pino.multistream(streams))
}
