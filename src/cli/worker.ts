/**
 * `aidp worker [--count N]`: runs QUE_WORKER_COUNT (or N) workers and the workflows' process
 * manager until SIGINT, SIGTERM or SIGHUP (its terminal closed).
 * Stopping is graceful: no new claims, running provider processes are stopped and their
 * executions recorded as abandoned, so the retry policy hands them to another worker. A
 * second signal kills the providers at once (see signals.ts).
 */
import { MAX_WORKER_COUNT } from "../config/env.js"
import * as Effect from "effect/Effect"
import { runPool } from "../workers/pool.js"
import { runProcessManager } from "../workers/processManager.js"
import { openAppWhenReachable } from "./app.js"
import { type CommandHelp, intFlag, noMoreArgs, parseArgs } from "./parse.js"
import { stopSignal } from "./signals.js"

const HELP: CommandHelp = {
  usage: "aidp worker [--count N]",
  about: `Runs workers that claim queued jobs and run their provider CLIs, until SIGINT (Ctrl-C),
SIGTERM or SIGHUP (its terminal closed). Stopping is graceful: running agents are stopped and their jobs handed back. Workers
also move workflows on (aidp execute all): each step is queued when the one before completed.`,
  options: [["--count N", `workers in this process, 1 to ${MAX_WORKER_COUNT} (default QUE_WORKER_COUNT, else 1)`]]
}

/** Runs `aidp worker`; returns the exit code. */
export const runWorker = async (argv: ReadonlyArray<string>): Promise<number> => {
  const cli = parseArgs(HELP, argv, { count: { type: "number" } })
  noMoreArgs(cli.input, 0, HELP)
  const count = intFlag("count", cli.flags.count, 1, MAX_WORKER_COUNT)
  // The stop signal first: a worker waiting for its database to come up stops on Ctrl-C too.
  const stop = stopSignal()
  try {
    const app = await openAppWhenReachable({ terminal: "verbose" }, stop.signal)
    if (app === null) return 0 // stopped before the database answered: nothing ran
    try {
      stop.signal.addEventListener("abort", () => {
        app.logger.info({ signal: stop.received() }, "stopping: running agents are stopped and their jobs queued again (a second signal stops them at once)")
      }, { once: true })
      // The workflows' process manager runs beside the workers: it queues the steps they run.
      await app.runUntil(Effect.all([
        runPool({
          count: count ?? app.settings.workerCount,
          leaseMs: app.settings.leaseMs,
          concurrency: app.settings.concurrency,
          retentionMs: app.settings.retentionMs,
          env: app.env,
          logger: app.logger
        }),
        runProcessManager({ logger: app.logger })
      ], { concurrency: "unbounded", discard: true }), stop.signal)
      app.logger.info({ signal: stop.received() }, "workers stopped")
      return 0
    } finally {
      await app.close()
    }
  } finally {
    stop.dispose()
  }
}
