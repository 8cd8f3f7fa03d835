/**
 * The liveness probe: whether the database answers right now. A database behind a partition
 * neither refuses nor sends anything, and the queries already under way just wait, so only an
 * answer asked for with a deadline tells that it is gone. Used by the monitor (`aidp jobs`),
 * whose user should see an outage, and its end, within a second.
 */
import type { Sql } from "postgres"

/**
 * Time from the start of one probe to the start of the next, ms. An outage is reported at
 * most this plus {@link PROBE_DEADLINE_MS} (700 ms) after it began, its end one connection
 * set-up after the next probe starts.
 */
export const PROBE_INTERVAL_MS = 200
/** A probe without an answer for this long failed, ms: well above a `select 1` on a busy machine. */
export const PROBE_DEADLINE_MS = 500

/**
 * `promise`, or a rejection with `timedOut()` once `ms` milliseconds passed without it
 * settling (the promise itself runs on; only the wait ends).
 */
export function withDeadline<T>(promise: Promise<T>, ms: number, timedOut: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timedOut()), ms)
  })
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer))
}

/** Timing of {@link watchLiveness}, ms; the defaults are what users get. */
export interface LivenessTiming {
  readonly intervalMs?: number
  readonly deadlineMs?: number
}

/**
 * Asks `select 1` every {@link PROBE_INTERVAL_MS} (one probe at a time) on a client of its
 * own made by `open` (one connection), and tells `onProbe` each outcome: null when the
 * database answered within {@link PROBE_DEADLINE_MS}, else why not, one line (e.g. `connect
 * ECONNREFUSED 127.0.0.1:5432`, `no answer in 500 ms`). After a failed probe its client is
 * ended at once and the next probe opens a fresh one: a connection cut off by a partition can
 * hang for minutes, and the driver's reconnect schedule is not the probe's. Returns the
 * function that stops probing and ends the client; no `onProbe` call comes after it.
 */
export function watchLiveness(open: () => Sql, onProbe: (error: string | null) => void, timing: LivenessTiming = {}): () => Promise<void> {
  const intervalMs = timing.intervalMs ?? PROBE_INTERVAL_MS
  const deadlineMs = timing.deadlineMs ?? PROBE_DEADLINE_MS
  let client: Sql | null = null
  let timer: NodeJS.Timeout | null = null
  let stopped = false
  const drop = (sql: Sql): void => {
    if (client === sql) client = null
    void sql.end({ timeout: 0 }).catch(() => undefined)
  }
  const probe = async (): Promise<void> => {
    timer = null
    const started = Date.now()
    const sql = (client ??= open())
    let error: string | null = null
    try {
      await withDeadline(sql`select 1`.execute(), deadlineMs, () => new Error(`no answer in ${deadlineMs} ms`))
    } catch (cause) {
      error = (cause instanceof Error ? cause.message : String(cause)).split("\n")[0] ?? ""
      drop(sql)
    }
    if (stopped) return
    onProbe(error)
    timer = setTimeout(() => void probe(), Math.max(0, started + intervalMs - Date.now()))
  }
  void probe()
  return async () => {
    stopped = true
    if (timer !== null) clearTimeout(timer)
    await client?.end({ timeout: 0 }).catch(() => undefined)
  }
}
