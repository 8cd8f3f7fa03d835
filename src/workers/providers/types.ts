/**
 * The contract between the runner and a provider CLI (PROVIDERS.md): how to call it, how to
 * read its output line by line, and how to judge the run when it ends. Pure; no I/O.
 */
import type { Denial } from "../../domain/events.js"
import type { Budget, ErrorKind, LogStream, Permissions, Provider } from "../../domain/job.js"
import type { RetryHint } from "../../domain/retryPolicy.js"
import type { SessionPlan, SessionSupport } from "../../domain/session.js"

/** The child's output streams (the `system` stream is aidp's own). */
export type ChildStream = Extract<LogStream, "stdout" | "stderr">

/** Options that shape the command line of one execution. `cwd` is an absolute directory. */
export interface ArgvOptions {
  readonly model?: string | undefined
  readonly cwd: string
  /** What the agent may do, mapped to the CLI's own flags. */
  readonly permissions: Permissions
  /** The job's limits on one execution (claude's `--max-budget-usd`, `--max-turns`); none when absent. */
  readonly budget?: Budget | undefined
  /** How the run uses the agent's session (resume one, or start one with a chosen id); absent = the CLI's default. */
  readonly session?: SessionPlan | undefined
}

/** What one parsed line contributed. `progress`: short one-line messages for the monitor. */
export interface ParseStep<S> {
  readonly state: S
  readonly progress?: ReadonlyArray<string>
  /** True when this line was the CLI's final result event (any status). */
  readonly terminal?: boolean
}

/** How the child process ended, as the runner saw it. */
export interface ExitInfo {
  /** Exit code, or null when the process was ended by a signal. */
  readonly exitCode: number | null
  /** Signal name from the spawn API (`SIGKILL`), never inferred from the exit code. */
  readonly signal: string | null
  /** The last lines of stderr (at most a few KiB), `\n`-joined. */
  readonly stderrTail: string
  /** aidp stopped the process because it ran longer than the job's timeout. */
  readonly timedOut: boolean
  /** aidp stopped the process because the job was cancelled. */
  readonly cancelled: boolean
  /** aidp stopped the process after its terminal event because it did not exit by itself. */
  readonly killedAfterTerminal: boolean
}

/** A successful execution: terminal success event, exit 0 (or stopped by aidp after it), non-empty result. */
export interface Succeeded {
  readonly kind: "succeeded"
  /** 0, or null when the CLI printed its result but never exited and aidp ended it (cursor). */
  readonly exitCode: number | null
  readonly result: string
  /** Token counts as the CLI reported them (shape differs per provider). */
  readonly usage?: Record<string, unknown>
  readonly costUsd?: number
  readonly cliVersion?: string
  /** Tool calls the agent was refused (empty: none); the run still succeeded, with a warning. */
  readonly denials: ReadonlyArray<Denial>
  /** The session id the CLI reported (`init`/`result`). */
  readonly sessionId?: string
}

/** A failed execution. `error` is the CLI's own message, one line, at most ~300 chars. */
export interface Failed {
  readonly kind: "failed"
  readonly exitCode: number | null
  readonly signal: string | null
  readonly errorKind: ErrorKind
  readonly error: string
  readonly cliVersion?: string
  /** A time the CLI named for trying again (reset time, `retry after N s`, claude's `retry_delay_ms`). */
  readonly retryHint?: RetryHint
  /** What the run had cost, USD, when its final event said (claude's `total_cost_usd`). */
  readonly costUsd?: number
  /** Token counts, when its final event reported them (a run stopped at its budget used them). */
  readonly usage?: Record<string, unknown>
  /** The session id the CLI reported (`init`/`result`). */
  readonly sessionId?: string
}

/** The judged end of one execution. */
export type Outcome = Succeeded | Failed

/**
 * One provider CLI. `S` is the parser's state; every method is pure (state in, state out).
 * Methods use method syntax so that a `ProviderAdapter<ClaudeState>` is usable where a
 * `ProviderAdapter<unknown>` is expected (the registry).
 */
export interface ProviderAdapter<S> {
  readonly provider: Provider
  /** Environment variable naming the executable, e.g. `AIDP_CLAUDE_BIN`. */
  readonly binEnv: string
  /** Executable looked up on PATH when {@link binEnv} is unset. */
  readonly defaultBin: string
  /** One shell command that installs the CLI. */
  readonly installHint: string
  /**
   * How the prompt reaches the CLI. Always stdin: all three CLIs accept it there, and argv is
   * limited to ~128 KiB per argument (PROVIDERS.md), so the prompt never appears in argv.
   */
  readonly promptVia: "stdin"
  /**
   * Arguments after the executable. Never contains the prompt, so it can be recorded as is.
   * Throws for a level the CLI cannot honour (`permissionsRefusal` in domain/job.ts refuses
   * such jobs when they are queued).
   */
  argv(options: ArgvOptions): string[]
  /** What the CLI can do with sessions; {@link argv} honours a plan only as far as this allows. */
  readonly sessions: SessionSupport
  /** Whether a failed run's error line is the CLI saying the session it was asked to resume does not exist. */
  sessionGone(error: string): boolean
  /**
   * Parser state before the first line. `budget` is the job's (as given to {@link argv}), kept
   * by an adapter whose CLI stops at it, to name the limit when it does.
   */
  initial(budget?: Budget): S
  /** Folds one output line (without its `\n`) into the state. Unknown or non-JSON lines are ignored. */
  onLine(state: S, line: string, stream: ChildStream): ParseStep<S>
  /** Judges the execution from everything parsed and how the process ended. */
  finish(state: S, exit: ExitInfo): Outcome
}
