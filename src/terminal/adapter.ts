/**
 * The terminal-kit adapter of the monitor: turns keys, resizes, a 1 s tick, database
 * notifications and liveness probes into messages for `update`, runs the commands it returns against a
 * {@link MonitorSource}, and paints `view` on the alternate screen by diffing frames.
 * It owns the terminal while running and always restores it (normal screen, cursor,
 * cooked input), also on errors and signals.
 */
import { writeSync } from "node:fs"
import { format } from "node:util"
import termkit from "terminal-kit"
import type { Model } from "./model.js"
import { COLOR_PALETTE, MONO_PALETTE, paintFrame, renderLine, SYNC_END } from "./paint.js"
import type { JobDetails, Snapshot } from "./types.js"
import { type Cmd, init, type Msg, update } from "./update.js"
import { view } from "./view.js"

/** Where the monitor's data comes from and where its actions go (filled by the CLI). */
export interface MonitorSource {
  /**
   * The grouped job lists. `filter` is the user's filter text (see `matchesFilter`); the
   * source may narrow its queries with it or ignore it, the monitor filters again.
   */
  loadSnapshot(filter?: string): Promise<Snapshot>
  /** One job with executions and log tail; null when no such job. */
  loadDetails(id: string): Promise<JobDetails | null>
  /**
   * Requests a retry of a failed or cancelled job (`fresh`: start over instead of resuming its
   * agent session); rejects with an Error whose message is for the user.
   */
  retry(id: string, fresh: boolean): Promise<void>
  /** Requests cancellation of a queued or running job; rejects like {@link retry}. */
  cancel(id: string): Promise<void>
  /** Merges a finished `--worktree` job's branch; resolves with the sentence saying so, rejects like {@link retry} (a refusal). */
  merge(id: string): Promise<string>
  /** Removes a finished `--worktree` job's worktree and branch; resolves and rejects like {@link merge}. */
  discard(id: string): Promise<string>
  /**
   * Shows the job's diff in the user's pager on this terminal and resolves when they leave it
   * (the monitor has given the terminal up meanwhile); rejects like {@link retry}.
   */
  showDiff(id: string): Promise<void>
  /**
   * Starts LISTEN; `onChange(jobId)` on every notification, `onChange(null)` when
   * everything should be re-read (after a reconnect). Resolves to an unsubscribe function.
   */
  subscribe(onChange: (jobId: string | null) => void): Promise<() => Promise<void>>
  /**
   * Starts probing whether the database answers, several times a second; `onProbe(null)`
   * after each answer, `onProbe(reason)` (one line, e.g. `no answer in 500 ms`) after each
   * miss. Returns the function that stops it, after which `onProbe` is not called.
   */
  watchLiveness(onProbe: (error: string | null) => void): () => Promise<void>
}

/** Tuning of {@link runMonitor}; the defaults are what users get. */
export interface MonitorOptions {
  /** Attributes without colour; default: the NO_COLOR environment variable is set and not empty. */
  readonly noColor?: boolean
  /** Interval of the clock tick that advances running durations, ms (default 1000). */
  readonly tickMs?: number
  /** Minimum time between two loads while changes keep coming, ms (default 50). */
  readonly coalesceMs?: number
  /** Polling interval when LISTEN is unavailable, ms (default 5000). */
  readonly pollMs?: number
  /**
   * A load without an answer for this long counts as failed, ms (default 10000): a
   * database behind a network partition does not refuse, it just never answers.
   */
  readonly loadTimeoutMs?: number
  /**
   * Whether an uncaught error (with its `origin`, as Node's 'uncaughtException' gives it) is
   * handled elsewhere in the process, so the monitor runs on (the database driver's known
   * faults, `isHandledDriverFault`); by default every uncaught error ends the monitor.
   */
  readonly isHandledElsewhere?: (error: unknown, origin: string) => boolean
}

/** Whether the full-screen monitor can run: both stdin and stdout are terminals. */
export function isInteractive(): boolean {
  return Boolean(process.stdin.isTTY && process.stdout.isTTY)
}

const KEY_NAMES: Readonly<Record<string, string>> = {
  UP: "up",
  DOWN: "down",
  PAGE_UP: "pgup",
  PAGE_DOWN: "pgdn",
  HOME: "home",
  END: "end",
  ENTER: "enter",
  KP_ENTER: "enter",
  ESCAPE: "escape",
  BACKSPACE: "backspace",
  CTRL_C: "ctrl-c"
}

/**
 * Runs `run(arg)` with the latest requested argument: never two at once, and at most once
 * per `intervalMs`, so a burst of requests becomes one or two calls.
 */
function coalescer<T>(intervalMs: number, run: (arg: T) => Promise<void>): { request(arg: T): void; stop(): void } {
  let pending: { arg: T } | null = null
  let busy = false
  let timer: NodeJS.Timeout | null = null
  let lastStart = -Infinity
  let stopped = false
  const kick = (): void => {
    if (stopped || busy || timer !== null || pending === null) return
    const wait = lastStart + intervalMs - Date.now()
    if (wait > 0) {
      timer = setTimeout(() => {
        timer = null
        kick()
      }, wait)
      return
    }
    const { arg } = pending
    pending = null
    busy = true
    lastStart = Date.now()
    void run(arg).finally(() => {
      busy = false
      kick()
    })
  }
  return {
    request(arg) {
      pending = { arg }
      kick()
    },
    stop() {
      stopped = true
      if (timer !== null) clearTimeout(timer)
    }
  }
}

/** Most text {@link holdStrayOutput} keeps; older text is dropped first. */
const HELD_LIMIT = 64 * 1024
const CONSOLE_METHODS = ["log", "info", "warn", "error", "debug", "trace", "dir"] as const

/**
 * Holds back what the process would print through `console` or `process.stderr` (warnings,
 * a library's diagnostics) while the monitor owns the screen, so nothing is drawn over it.
 * Returns the function that restores both and gives back the held text (its last 64 KiB).
 */
function holdStrayOutput(): () => string {
  let held = ""
  const keep = (text: string): void => {
    held = (held + text).slice(-HELD_LIMIT)
  }
  const stderr = process.stderr
  const ownWrite = Object.prototype.hasOwnProperty.call(stderr, "write")
  const write = stderr.write
  stderr.write = ((chunk: string | Uint8Array, encoding?: unknown, callback?: unknown): boolean => {
    keep(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"))
    const done = typeof encoding === "function" ? encoding : callback
    if (typeof done === "function") process.nextTick(() => (done as (error?: Error | null) => void)(null))
    return true
  }) as typeof stderr.write
  const consoleMethods = CONSOLE_METHODS.map((name) => [name, console[name]] as const)
  for (const [name] of consoleMethods) {
    console[name] = (...args: unknown[]): void => keep(`${format(...args)}\n`)
  }
  return () => {
    if (ownWrite) stderr.write = write
    else delete (stderr as { write?: unknown }).write
    for (const [name, original] of consoleMethods) console[name] = original as never
    return held
  }
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error))

/** `promise`, or a rejection saying the database did not answer within `ms`. */
function answerWithin<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from the database in ${Math.round(ms / 1000)} s`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/**
 * Shows the live monitor until the user quits (q, Ctrl-C) or the process gets SIGTERM,
 * SIGHUP or SIGINT. Rejects when stdin or stdout is not a terminal (use `renderPlain`
 * then) or when the monitor itself fails; the terminal is restored either way.
 */
export async function runMonitor(source: MonitorSource, opts: MonitorOptions = {}): Promise<void> {
  if (!isInteractive()) throw new Error("The job monitor needs a terminal on stdin and stdout.")
  const term = termkit.terminal
  const noColor = opts.noColor ?? (process.env["NO_COLOR"] ?? "") !== ""
  const palette = noColor ? MONO_PALETTE : COLOR_PALETTE
  const out = process.stdout
  const [initial, startCmds] = init(new Date(), term.width, term.height)
  let model: Model = initial
  let frame: string[] | null = null
  let paintScheduled = false
  /** The terminal is given up to the user's pager (see `suspended`). */
  let suspendedNow = false
  let failure: unknown = null
  // False once quitting starts: late results (a load finishing after q) must not paint.
  let running = true
  let resolveFinished: () => void = () => {}
  const finished = new Promise<void>((resolve) => (resolveFinished = resolve))
  const finish = (): void => {
    running = false
    resolveFinished()
  }
  const fail = (error: unknown): void => {
    failure ??= error
    finish()
  }

  const paint = (): void => {
    paintScheduled = false
    // While the pager owns the terminal (suspended), nothing is drawn; resuming repaints all.
    if (!running || suspendedNow) return
    try {
      const next = view(model, model.width, model.height).map((line) => renderLine(line, palette))
      const output = paintFrame(frame, next)
      frame = next
      if (output !== "") out.write(output)
    } catch (error) {
      fail(error)
    }
  }
  const dispatch = (msg: Msg): void => {
    if (!running) return
    try {
      const [next, cmds] = update(model, msg)
      // Most probes change nothing: no frame to compute.
      if (next === model && cmds.length === 0) return
      model = next
      for (const cmd of cmds) execute(cmd)
    } catch (error) {
      fail(error)
      return
    }
    if (!paintScheduled) {
      paintScheduled = true
      setImmediate(paint)
    }
  }

  const coalesceMs = opts.coalesceMs ?? 50
  const loadTimeoutMs = opts.loadTimeoutMs ?? 10_000
  const snapshots = coalescer<string>(coalesceMs, (filter) =>
    answerWithin(source.loadSnapshot(filter === "" ? undefined : filter), loadTimeoutMs).then(
      (snapshot) => dispatch({ type: "snapshotLoaded", snapshot }),
      (error) => dispatch({ type: "loadFailed", what: "snapshot", error: message(error) })
    )
  )
  const details = coalescer<string>(coalesceMs, (id) =>
    answerWithin(source.loadDetails(id), loadTimeoutMs).then(
      (data) => dispatch({ type: "detailsLoaded", id, details: data }),
      (error) => dispatch({ type: "loadFailed", what: "details", error: message(error), id })
    )
  )
  function execute(cmd: Cmd): void {
    switch (cmd.type) {
      case "loadSnapshot":
        return snapshots.request(cmd.filter)
      case "loadDetails":
        return details.request(cmd.id)
      case "retry":
      case "cancel":
        void (cmd.type === "retry" ? source.retry(cmd.id, cmd.fresh) : source.cancel(cmd.id)).then(
          () => dispatch({ type: "actionDone", action: cmd.type, id: cmd.id, error: null }),
          (error) => dispatch({ type: "actionDone", action: cmd.type, id: cmd.id, error: message(error) })
        )
        return
      case "merge":
      case "discard":
        void (cmd.type === "merge" ? source.merge(cmd.id) : source.discard(cmd.id)).then(
          (text) => dispatch({ type: "actionDone", action: cmd.type, id: cmd.id, error: null, text }),
          (error) => dispatch({ type: "actionDone", action: cmd.type, id: cmd.id, error: message(error) })
        )
        return
      case "diff":
        void suspended(() => source.showDiff(cmd.id)).then(
          () => dispatch({ type: "actionDone", action: "diff", id: cmd.id, error: null }),
          (error) => dispatch({ type: "actionDone", action: "diff", id: cmd.id, error: message(error) })
        )
        return
      case "quit":
        return finish()
    }
  }

  /**
   * Gives the terminal up (normal screen, cooked input) while `body` runs — the user's pager
   * owns it then — and takes it back after, repainting the whole frame.
   */
  const suspended = async (body: () => Promise<void>): Promise<void> => {
    if (suspendedNow) return
    suspendedNow = true
    out.write(`${SYNC_END}\x1b[0m`)
    term.grabInput(false)
    term.hideCursor(false)
    term.fullscreen(false)
    try {
      await body()
    } finally {
      suspendedNow = false
      if (running) {
        term.fullscreen(true)
        term.hideCursor()
        term.grabInput({})
        frame = null
        paint()
      }
    }
  }

  const onKey = (name: string, _matches: unknown, data: { isCharacter?: boolean }): void => {
    if (suspendedNow) return
    const key = KEY_NAMES[name] ?? (data.isCharacter ? name : undefined)
    if (key !== undefined) dispatch({ type: "key", key })
  }
  const onResize = (width: number, height: number): void => {
    frame = null
    dispatch({ type: "resize", width, height })
  }
  const onSignal = (): void => finish()
  const signals = ["SIGTERM", "SIGHUP", "SIGINT"] as const
  // A crash elsewhere in the process ends the monitor like a failure of its own (the
  // terminal is restored, then the error reported); process.exit() still restores it.
  // Unhandled rejections arrive here too (origin 'unhandledRejection'), as Node raises them
  // when no 'unhandledRejection' listener takes them.
  const onCrash = (error: unknown, origin: string): void => {
    if (!opts.isHandledElsewhere?.(error, origin)) fail(error)
  }
  let releaseOutput: (() => string) | null = null
  let restored = false
  const restore = (): string => {
    if (restored) return ""
    restored = true
    out.write(`${SYNC_END}\x1b[0m`)
    term.hideCursor(false)
    term.grabInput(false)
    term.fullscreen(false)
    return releaseOutput?.() ?? ""
  }
  const onExit = (): void => {
    const held = restore()
    if (held !== "") writeSync(2, held)
  }
  let tick: NodeJS.Timeout | null = null
  let stopProbing: (() => Promise<void>) | null = null
  let poll: NodeJS.Timeout | null = null
  const live: { unsubscribe: (() => Promise<void>) | null } = { unsubscribe: null }

  try {
    releaseOutput = holdStrayOutput()
    term.fullscreen(true)
    term.hideCursor()
    term.grabInput({})
    term.on("key", onKey)
    term.on("resize", onResize)
    for (const s of signals) process.on(s, onSignal)
    process.on("uncaughtException", onCrash)
    process.on("exit", onExit)
    paint()
    for (const cmd of startCmds) execute(cmd)
    tick = setInterval(() => dispatch({ type: "tick", now: new Date() }), opts.tickMs ?? 1000)
    stopProbing = source.watchLiveness((error) => dispatch({ type: "probed", error }))
    source.subscribe((jobId) => dispatch({ type: "jobChanged", jobId })).then(
      (stop) => {
        if (!running) return void stop().catch(() => {})
        live.unsubscribe = stop
        dispatch({ type: "jobChanged", jobId: null })
      },
      (error) => {
        if (!running) return
        dispatch({ type: "liveUpdatesFailed", error: message(error) })
        poll = setInterval(() => dispatch({ type: "jobChanged", jobId: null }), opts.pollMs ?? 5000)
      }
    )
    await finished
  } finally {
    if (tick !== null) clearInterval(tick)
    if (poll !== null) clearInterval(poll)
    snapshots.stop()
    details.stop()
    term.off("key", onKey)
    term.off("resize", onResize)
    for (const s of signals) process.off(s, onSignal)
    process.off("uncaughtException", onCrash)
    process.off("exit", onExit)
    const held = restore()
    if (held !== "") process.stderr.write(held)
    await Promise.all([live.unsubscribe?.().catch(() => {}), stopProbing?.().catch(() => {})])
  }
  if (failure !== null) throw failure
}
