/**
 * Runs one provider CLI as a child process and returns its judged outcome (PROVIDERS.md,
 * "Rules for every provider"): no shell, prompt on stdin, own process group, stdout and
 * stderr read concurrently line by line, output batched to the caller, its own timeout.
 *
 * Stopping: a timeout, a cancel (`spec.cancel`) or interrupting the fiber sends SIGTERM to the
 * process group, waits `graceMs`, then SIGKILL. A cancel or timeout yields a `failed` outcome
 * (`cancelled`/`timeout`) with all output delivered; interrupting the fiber is the hard stop
 * (worker shutdown): the tree is killed and waited for, and nothing more is delivered.
 */
import { spawn, type ChildProcessByStdio } from "node:child_process"
import { stat } from "node:fs/promises"
import { basename } from "node:path"
import { performance } from "node:perf_hooks"
import type { Readable, Writable } from "node:stream"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import type { OutputLine } from "../domain/events.js"
import type { Budget, ErrorKind, Provider } from "../domain/job.js"
import { OutputBatcher } from "./batcher.js"
import { LineDecoder } from "./lineDecoder.js"
import { appendTail } from "./providers/parse.js"
import type { ChildStream, Outcome, ProviderAdapter } from "./providers/types.js"

/** One execution to run. */
export interface RunSpec {
  /** The provider this run is for (the same as the adapter's). */
  readonly provider: Provider
  /** Executable: a name looked up on PATH or a path. */
  readonly bin: string
  /** Arguments after `bin` (the adapter's argv); never the prompt. */
  readonly args: ReadonlyArray<string>
  /** The job's limits on this execution, as given to the adapter's argv (the parser names the one that stops it). */
  readonly budget?: Budget | undefined
  /** Written to the child's stdin, which is then closed. */
  readonly prompt: string
  readonly cwd: string
  /** The user's environment; `CLAUDECODE` and `CLAUDE_CODE_ENTRYPOINT` are removed. */
  readonly env: NodeJS.ProcessEnv
  /** Wall-clock limit, ms. */
  readonly timeoutMs: number
  /** Between SIGTERM and SIGKILL to the group, ms. Default {@link DEFAULT_GRACE_MS}. */
  readonly graceMs?: number
  /** How long a CLI may linger after its final event before it is stopped, ms. Default {@link DEFAULT_TERMINAL_GRACE_MS}. */
  readonly terminalGraceMs?: number
  /** Aborting it stops the process group and yields a `cancelled` outcome. */
  readonly cancel?: AbortSignal
}

/** Where the runner delivers what it reads, in order, from a single fiber. */
export interface RunHooks {
  /**
   * Batches of output lines (each ≤100 ms or ≤64 KiB, see batcher.ts; several when the agent
   * printed faster than they were recorded, at most {@link MAX_BATCHES_PER_DELIVERY}) with the
   * progress messages gathered since the last call (progress rides on output), for one append.
   * The batch read after the last call is not delivered here but returned in the outcome's
   * `tail`, so the caller can record it with the outcome in one transaction.
   */
  readonly onOutput: (batches: ReadonlyArray<ReadonlyArray<OutputLine>>, progress: ReadonlyArray<string>) => Effect.Effect<void>
  /** The child is running with this pid (also its process group id); called before any output. */
  readonly onStart?: (pid: number) => Effect.Effect<void>
}

/** Output read after the last {@link RunHooks.onOutput} call: its lines and progress messages (possibly none). */
export interface OutputTail {
  readonly lines: ReadonlyArray<OutputLine>
  readonly progress: ReadonlyArray<string>
}

/** No output left to record. */
export const EMPTY_TAIL: OutputTail = { lines: [], progress: [] }

/**
 * An outcome with the execution's wall time, ms (monotonic clock, from the call until the
 * child is gone and its output read), and the output not yet delivered ({@link OutputTail}).
 */
export type RunOutcome = Outcome & { readonly durationMs: number; readonly tail: OutputTail }

/** Most batches handed to one {@link RunHooks.onOutput} call (16 x 64 KiB: 1 MiB per append at most). */
export const MAX_BATCHES_PER_DELIVERY = 16

/** PROVIDERS.md: SIGTERM, then SIGKILL after 10 s. */
export const DEFAULT_GRACE_MS = 10_000
/** PROVIDERS.md (cursor): after the final event, a short grace before the process is ended. */
export const DEFAULT_TERMINAL_GRACE_MS = 3_000
/** After the child exits, how long pipes held open by an escaped descendant are waited for, ms. */
const DRAIN_MS = 2_000
/** Longest wait for the child to die after SIGKILL when interrupted, ms. */
const KILL_WAIT_MS = 5_000
const STDERR_TAIL_CHARS = 8_192
/** PROVIDERS.md: these make a CLI think it is nested in another agent session. */
const NESTED_SESSION_VARS = ["CLAUDECODE", "CLAUDE_CODE_ENTRYPOINT"]

type Child = ChildProcessByStdio<Writable, Readable, Readable>
type ExitEvent = { readonly exitCode: number | null; readonly signal: string | null }
type ChildEvent =
  | { readonly _tag: "Lines"; readonly stream: ChildStream; readonly texts: ReadonlyArray<string>; readonly at: string; readonly bytes: number }
  | { readonly _tag: "Eof"; readonly stream: ChildStream }
  | ({ readonly _tag: "Exit" } & ExitEvent)
  | { readonly _tag: "Cancel" }
type Spawned = { readonly _tag: "Spawned"; readonly child: Child; readonly pid: number } | { readonly _tag: "SpawnFailed"; readonly code: string; readonly message: string }

/** `env` without the variables that make a CLI refuse to start as a nested session. */
function childEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const copy = { ...env }
  for (const name of NESTED_SESSION_VARS) delete copy[name]
  return copy
}

/**
 * The one-sentence error for a CLI that cannot be started: ENOENT (not found) or EACCES
 * (not executable), naming the variable that chooses the executable and how to install it.
 */
export function notInstalledError(adapter: ProviderAdapter<unknown>, bin: string, code: string): string {
  const where = code === "EACCES" ? "is not executable" : bin.includes("/") ? "not found" : "not found on PATH"
  return `${adapter.provider} is not installed (${adapter.binEnv}=${bin} ${where}). Install it: ${adapter.installHint}`
}

/** Sends `signal` to the process group `pid`; a group that is already gone is not an error. */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code !== "ESRCH" && code !== "EPERM") throw error
  }
}

/** Output read but not recorded yet above which the child's pipes are paused, bytes. */
const MAX_BACKLOG_BYTES = 4 * 1024 * 1024

/**
 * Output read from a child but not recorded yet. Past {@link MAX_BACKLOG_BYTES} the pipes are
 * paused until it is recorded: an agent printing faster than the database takes its lines
 * waits on its writes instead of filling the worker's memory. Once the child has exited
 * (`release`), nothing is paused again: what is left fits in the pipes.
 */
class Backlog {
  private bytes = 0
  private released = false
  private readonly paused = new Set<Readable>()

  /** `n` bytes read from `readable`. */
  read(readable: Readable, n: number): void {
    this.bytes += n
    if (this.bytes > MAX_BACKLOG_BYTES && !this.released) {
      readable.pause()
      this.paused.add(readable)
    }
  }

  /** `n` bytes recorded (or dropped). */
  recorded(n: number): void {
    this.bytes -= n
    if (this.bytes <= MAX_BACKLOG_BYTES) this.resume()
  }

  /** The child exited: read the rest at once. */
  release(): void {
    this.released = true
    this.resume()
  }

  private resume(): void {
    for (const readable of this.paused) readable.resume()
    this.paused.clear()
  }
}

/** Feeds a child stream through a {@link LineDecoder} into `events`, then one `Eof`. */
function readLines(readable: Readable, stream: ChildStream, events: Queue.Queue<ChildEvent>, backlog: Backlog): void {
  const decoder = new LineDecoder()
  const offer = (texts: string[], bytes: number): void => {
    if (texts.length > 0) Queue.offerUnsafe(events, { _tag: "Lines", stream, texts, at: new Date().toISOString(), bytes })
    else backlog.recorded(bytes)
  }
  readable.on("data", (chunk: Buffer) => {
    backlog.read(readable, chunk.length)
    offer(decoder.push(chunk), chunk.length)
  })
  readable.once("close", () => {
    offer(decoder.end(), 0)
    Queue.offerUnsafe(events, { _tag: "Eof", stream })
  })
}

/**
 * Spawns the child in its own process group (`detached`) and wires every listener before the
 * first event can fire. Succeeds with `SpawnFailed` for ENOENT/EACCES and the like.
 */
function spawnChild(spec: RunSpec, events: Queue.Queue<ChildEvent>, exited: Deferred.Deferred<ExitEvent>, backlog: Backlog): Effect.Effect<Spawned> {
  return Effect.callback<Spawned>((resume) => {
    const failed = (error: unknown): Spawned => {
      const { code, message } = error as NodeJS.ErrnoException
      return { _tag: "SpawnFailed", code: code ?? "UNKNOWN", message }
    }
    let child: Child
    try {
      child = spawn(spec.bin, [...spec.args], { cwd: spec.cwd, env: childEnv(spec.env), detached: true, stdio: ["pipe", "pipe", "pipe"] })
    } catch (error) {
      resume(Effect.succeed(failed(error)))
      return
    }
    let started = false
    child.on("error", (error) => {
      if (!started) resume(Effect.succeed(failed(error)))
    })
    child.once("spawn", () => {
      started = true
      const pid = child.pid
      if (pid === undefined) return resume(Effect.succeed(failed(new Error("the child has no pid"))))
      child.stdin.on("error", () => {}) // EPIPE: the child exited without reading its stdin
      child.stdin.end(spec.prompt)
      resume(Effect.succeed({ _tag: "Spawned", child, pid }))
    })
    readLines(child.stdout, "stdout", events, backlog)
    readLines(child.stderr, "stderr", events, backlog)
    child.once("exit", (exitCode, signal) => {
      backlog.release()
      Queue.offerUnsafe(events, { _tag: "Exit", exitCode, signal })
      Deferred.doneUnsafe(exited, Exit.succeed({ exitCode, signal }))
    })
    return Effect.sync(() => {
      if (child.pid !== undefined) signalGroup(child.pid, "SIGKILL")
    })
  })
}

/**
 * Final cleanup, on every exit path: a child still running (the fiber was interrupted) gets
 * SIGTERM, `graceMs`, SIGKILL and is waited for; then whatever is left in its group is killed
 * and the pipes are closed.
 */
function reap(child: Child, exited: Deferred.Deferred<ExitEvent>, graceMs: number): Effect.Effect<void> {
  return Effect.gen(function* () {
    const pid = child.pid
    if (pid === undefined) return
    if (child.exitCode === null && child.signalCode === null) {
      signalGroup(pid, "SIGTERM")
      const ended = yield* Deferred.await(exited).pipe(Effect.timeoutOption(graceMs))
      if (Option.isNone(ended)) {
        signalGroup(pid, "SIGKILL")
        yield* Deferred.await(exited).pipe(Effect.timeoutOption(KILL_WAIT_MS))
      }
    }
    signalGroup(pid, "SIGKILL")
    child.stdin.destroy()
    child.stdout.destroy()
    child.stderr.destroy()
  })
}

/** The read/parse/deliver loop of a started child, until it has exited and both pipes closed. */
function supervise<S>(adapter: ProviderAdapter<S>, spec: RunSpec, hooks: RunHooks, child: Child, pid: number, events: Queue.Queue<ChildEvent>, backlog: Backlog): Effect.Effect<Outcome & { readonly tail: OutputTail }> {
  return Effect.gen(function* () {
    const graceMs = spec.graceMs ?? DEFAULT_GRACE_MS
    const terminalGraceMs = spec.terminalGraceMs ?? DEFAULT_TERMINAL_GRACE_MS
    const timeoutAt = performance.now() + spec.timeoutMs
    const batcher = new OutputBatcher()
    const eof = { stdout: false, stderr: false }
    let parser = adapter.initial(spec.budget)
    let progress: string[] = []
    let stderrTail = ""
    let exit: ExitEvent | undefined
    let timedOut = false
    let cancelled = false
    let killedAfterTerminal = false
    let stopping = false
    let terminalAt: number | undefined
    let killAt: number | undefined
    let drainAt: number | undefined

    const stop = (now: number): void => {
      stopping = true
      signalGroup(pid, "SIGTERM")
      killAt = now + graceMs
    }
    /** Batches full or due, not delivered yet. */
    let ready: OutputLine[][] = []
    /**
     * Delivers the ready batches, {@link MAX_BATCHES_PER_DELIVERY} at a time, the progress
     * gathered so far with the last of them (progress rides on output).
     */
    const deliver = Effect.gen(function* () {
      const nonEmpty = ready.filter((batch) => batch.length > 0)
      ready = []
      for (let start = 0; start < nonEmpty.length; start += MAX_BATCHES_PER_DELIVERY) {
        const last = start + MAX_BATCHES_PER_DELIVERY >= nonEmpty.length
        const messages = last ? progress : []
        if (last) progress = []
        yield* hooks.onOutput(nonEmpty.slice(start, start + MAX_BATCHES_PER_DELIVERY), messages)
      }
    })
    const handle = (event: ChildEvent, now: number) =>
      Effect.gen(function* () {
        switch (event._tag) {
          case "Lines": {
            for (const text of event.texts) {
              const step = adapter.onLine(parser, text, event.stream)
              parser = step.state
              if (step.progress !== undefined) progress.push(...step.progress)
              if (step.terminal === true) terminalAt ??= now + terminalGraceMs
              if (event.stream === "stderr") stderrTail = appendTail(stderrTail, text, STDERR_TAIL_CHARS)
              ready.push(...batcher.add({ stream: event.stream, text, at: event.at }, now))
            }
            return
          }
          case "Eof":
            eof[event.stream] = true
            return
          case "Exit":
            exit = { exitCode: event.exitCode, signal: event.signal }
            signalGroup(pid, "SIGKILL") // grandchildren left in the group
            drainAt = now + DRAIN_MS
            return
          case "Cancel":
            if (exit === undefined && !stopping) {
              cancelled = true
              stop(now)
            }
            return
        }
      })

    if (hooks.onStart !== undefined) yield* hooks.onStart(pid)
    while (exit === undefined || !eof.stdout || !eof.stderr) {
      const now = performance.now()
      if (exit === undefined && !stopping && now >= timeoutAt) {
        timedOut = true
        stop(now)
      } else if (exit === undefined && !stopping && terminalAt !== undefined && now >= terminalAt) {
        killedAfterTerminal = true
        stop(now)
      }
      if (exit === undefined && killAt !== undefined && now >= killAt) {
        signalGroup(pid, "SIGKILL")
        killAt = undefined
      }
      if (drainAt !== undefined && now >= drainAt) {
        child.stdout.destroy() // 'close' follows, which ends the loop
        child.stderr.destroy()
        drainAt = undefined
      }
      const batchAt = batcher.deadline()
      if (batchAt !== undefined && now >= batchAt) {
        ready.push(batcher.take())
        yield* deliver
      }

      const running = exit === undefined && !stopping
      const deadlines = [running ? timeoutAt : undefined, running ? terminalAt : undefined, exit === undefined ? killAt : undefined, drainAt, batcher.deadline()]
      const next = Math.min(...deadlines.filter((deadline): deadline is number => deadline !== undefined))
      const taken = Number.isFinite(next)
        ? yield* Queue.takeAll(events).pipe(Effect.timeoutOption(Math.max(1, next - performance.now())))
        : Option.some(yield* Queue.takeAll(events))
      if (Option.isNone(taken)) continue
      const at = performance.now()
      for (const event of taken.value) yield* handle(event, at)
      // Everything read at once is recorded together: a backlog costs one append per MiB, not per batch.
      yield* deliver
      backlog.recorded(taken.value.reduce((sum, event) => sum + (event._tag === "Lines" ? event.bytes : 0), 0))
    }
    // Batches full but not delivered yet (none: the loop delivers after each read) go first.
    yield* deliver
    const tail: OutputTail = { lines: batcher.take(), progress }
    return { ...adapter.finish(parser, { exitCode: exit.exitCode, signal: exit.signal, stderrTail, timedOut, cancelled, killedAfterTerminal }), tail }
  })
}

/** Whether the optional cancel signal has fired (read each time; it changes under us). */
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true
}

/** Why `cwd` cannot be used, or undefined when it is a directory. */
function cwdProblem(cwd: string): Effect.Effect<string | undefined> {
  return Effect.promise(() =>
    stat(cwd).then(
      (info) => (info.isDirectory() ? undefined : `Working directory ${cwd} is not a directory.`),
      () => `Working directory ${cwd} does not exist.`
    )
  )
}

/**
 * Runs one provider child process to its outcome. Never fails: every problem (not installed,
 * bad cwd, crash, timeout, cancel) is a `failed` outcome. Interrupting it kills the process
 * group (SIGTERM, `graceMs`, SIGKILL) and waits for the child before the interruption completes.
 */
export function runProvider<S>(adapter: ProviderAdapter<S>, spec: RunSpec, hooks: RunHooks): Effect.Effect<RunOutcome> {
  return Effect.gen(function* () {
    const startedAt = performance.now()
    const elapsed = (): number => Math.round(performance.now() - startedAt)
    const notStarted = (errorKind: ErrorKind, error: string): RunOutcome => ({ kind: "failed", exitCode: null, signal: null, errorKind, error, durationMs: elapsed(), tail: EMPTY_TAIL })

    if (isAborted(spec.cancel)) return notStarted("cancelled", `Cancelled: ${adapter.provider} was not started.`)
    const badCwd = yield* cwdProblem(spec.cwd)
    if (badCwd !== undefined) return notStarted("unknown", badCwd)

    const events = yield* Queue.unbounded<ChildEvent>()
    const exited = yield* Deferred.make<ExitEvent>()
    const backlog = new Backlog()
    const spawned = yield* spawnChild(spec, events, exited, backlog)
    if (spawned._tag === "SpawnFailed") {
      return spawned.code === "ENOENT" || spawned.code === "EACCES"
        ? notStarted("not_installed", notInstalledError(adapter, spec.bin, spawned.code))
        : notStarted("unknown", `${basename(spec.bin)} could not be started: ${spawned.message}`)
    }
    const child = spawned.child
    const onAbort = (): void => void Queue.offerUnsafe(events, { _tag: "Cancel" })
    spec.cancel?.addEventListener("abort", onAbort, { once: true })
    if (isAborted(spec.cancel)) onAbort() // aborted while spawning

    const outcome = yield* supervise(adapter, spec, hooks, child, spawned.pid, events, backlog).pipe(
      Effect.ensuring(
        Effect.andThen(
          Effect.sync(() => spec.cancel?.removeEventListener("abort", onAbort)),
          reap(child, exited, spec.graceMs ?? DEFAULT_GRACE_MS)
        )
      )
    )
    return { ...outcome, durationMs: elapsed() }
  })
}
