/**
 * `aidp jobs` with no subcommand: the live monitor when stdin and stdout are terminals,
 * else the job table printed once. The monitor's data comes from the read models, its
 * wake-ups from LISTEN (a job changed) with a re-sync after every reconnect, and whether
 * the database is there at all from the liveness probe. Its logs go to AIDP_LOG_FILE
 * only: the terminal belongs to the monitor (logger "none").
 */
import { watchLiveness } from "../config/liveness.js"
import { renewConnections } from "../config/supervisedSql.js"
import { isHandledDriverFault } from "../config/supervisedSql.js"
import { channelFor } from "../events/sqlClient.js"
import { subscribe } from "../events/listener.js"
import { getJob, monitorSnapshot } from "../projections/queries.js"
import { isInteractive, runMonitor, type MonitorSource } from "../terminal/adapter.js"
import { renderPlain } from "../terminal/plain.js"
import { type App, withApp } from "./app.js"
import { loadDetails } from "./details.js"
import { UserError } from "./errors.js"
import { submitCommand } from "./jobCommands.js"
import { diffColor, discardJob, jobDiff, mergeJob } from "./land.js"
import { page } from "./pager.js"
import { toJobDetails } from "./show.js"

/** Job `id` as the read model has it; UserError when it is gone. */
const existingJob = async (app: App, id: string) => {
  const job = await getJob(app.db.sql, id)
  if (!job) throw new UserError(`Job ${id.slice(0, 8)} no longer exists.`)
  return job
}

/** The monitor's window on the database. */
export const monitorSource = (app: App): MonitorSource => ({
  loadSnapshot: () => monitorSnapshot(app.db.sql, new Date(), app.settings.leaseMs),
  loadDetails: async (id) => {
    const details = await loadDetails(app.db.sql, id)
    return details ? toJobDetails(details) : null
  },
  retry: async (id, fresh) => {
    await submitCommand(app, id, { _tag: "Retry", now: new Date(), fresh })
    app.logger.info({ jobId: id, fresh }, "retry requested from the monitor")
  },
  cancel: async (id) => {
    await submitCommand(app, id, { _tag: "RequestCancel", requestedBy: "user" })
    app.logger.info({ jobId: id }, "cancellation requested from the monitor")
  },
  merge: async (id) => mergeJob(app, await existingJob(app, id), "monitor"),
  discard: async (id) => discardJob(app, await existingJob(app, id), "monitor"),
  showDiff: async (id) => {
    const text = await jobDiff(await existingJob(app, id), diffColor(true))
    if (text === "") throw new UserError(`Job ${id.slice(0, 8)} changed nothing.`)
    await page(text, true)
  },
  subscribe: async (onChange) => {
    const stop = await subscribe(app.db.sql, channelFor(app.db.schema), {
      // A workflow's event (rare) names the workflow, not a job: open details may show it.
      onNotification: (notification) => onChange(notification.t.startsWith("Workflow") ? null : notification.j),
      onResync: () => onChange(null)
    })
    app.logger.debug({ channel: channelFor(app.db.schema) }, "monitor listening")
    return stop
  },
  watchLiveness: (onProbe) => {
    let reachable = true
    return watchLiveness(() => app.db.openClient({ max: 1, fetchTypes: false }), (error) => {
      if ((error === null) !== reachable) {
        reachable = error === null
        if (reachable) {
          app.logger.info("database answers again")
          // Connections opened during the outage may still wait for it (up to the connect
          // timeout), and the reload would wait behind them: start afresh.
          renewConnections(app.db.sql)
        } else app.logger.warn({ error }, "database unreachable")
      }
      onProbe(error)
    })
  }
})

/** Runs `aidp jobs`; returns the exit code. */
export const runMonitorCommand = (): Promise<number> => {
  const interactive = isInteractive()
  return withApp(interactive ? "none" : "quiet", async (app) => {
    if (!interactive) {
      const snapshot = await monitorSnapshot(app.db.sql, new Date(), app.settings.leaseMs)
      process.stdout.write(renderPlain(snapshot, new Date()))
      return 0
    }
    try {
      await runMonitor(monitorSource(app), { isHandledElsewhere: isHandledDriverFault })
    } catch (error) {
      throw new UserError(`The monitor stopped: ${error instanceof Error ? error.message : String(error)}`)
    }
    return 0
  }, "installed")
}
