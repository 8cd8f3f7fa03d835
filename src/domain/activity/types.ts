/**
 * Agent activity: what a job's agent did, in words, made from the raw lines its CLI printed
 * (the `job_logs` rows). The shapes here are shared by every provider's renderer, the
 * command line (`aidp jobs logs`, `aidp execute`) and the monitor. Pure data.
 */
import type { LogStream } from "../job.js"
import type { Usage } from "../usage.js"

/** One stored log line, as the renderers read it (a `job_logs` row). */
export interface ActivityLine {
  readonly at: Date
  readonly stream: LogStream
  /** The line as stored: raw CLI output (unsanitized) or aidp's own `system` text. */
  readonly message: string
  /** The execution (attempt) that wrote it; null or absent for job-level lines. */
  readonly executionId?: string | null
}

/**
 * One thing the agent (or aidp) did. `at` is the time of the line that completed it. Text
 * fields are the CLI's own text, unsanitized: views sanitize them.
 * - `attempt`: a new execution starts here (its number when the log says it, else null).
 * - `session`: the CLI started (model, CLI version where it reports them).
 * - `text`: assistant text; `thinking`: the model's reasoning, shown as one line.
 * - `tool`: a tool call, with its main argument (path, command, pattern; see toolTarget).
 * - `toolResult`: a tool call's result: ok or error, its size in UTF-8 bytes.
 * - `retry`: the CLI retries an API call by itself (claude `system/api_retry`, gemini's stderr
 *   "Attempt N failed ... Retrying").
 * - `warning`, `error`: non-fatal and fatal messages of the CLI.
 * - `result`: the final event: success or not, the final text, duration (ms), turns, tokens,
 *   cost (USD).
 * - `raw`: a line that is not the provider's JSON (stderr noise, banners, aidp's own lines).
 */
export type ActivityEntry =
  | { readonly kind: "attempt"; readonly at: Date; readonly executionId: string; readonly attempt: number | null }
  | { readonly kind: "session"; readonly at: Date; readonly model: string | null; readonly version: string | null }
  | { readonly kind: "text"; readonly at: Date; readonly text: string }
  | { readonly kind: "thinking"; readonly at: Date; readonly text: string }
  | { readonly kind: "tool"; readonly at: Date; readonly name: string; readonly target: string | null }
  | {
    readonly kind: "toolResult"
    readonly at: Date
    readonly name: string | null
    readonly ok: boolean
    readonly bytes: number
    readonly error: string | null
  }
  | {
    readonly kind: "retry"
    readonly at: Date
    readonly attempt: number | null
    readonly maxRetries: number | null
    readonly delayMs: number | null
    readonly status: number | null
    readonly reason: string | null
  }
  | { readonly kind: "warning"; readonly at: Date; readonly text: string }
  | { readonly kind: "error"; readonly at: Date; readonly text: string }
  | {
    readonly kind: "result"
    readonly at: Date
    readonly ok: boolean
    /** The final text when it says something the assistant text before it did not; else null. */
    readonly text: string | null
    readonly durationMs: number | null
    readonly turns: number | null
    readonly usage: Usage | null
    readonly costUsd: number | null
  }
  | { readonly kind: "raw"; readonly at: Date; readonly stream: LogStream; readonly text: string }

/** Text being joined from pieces (gemini deltas, cursor pieces and thinking deltas). */
export interface Pending {
  readonly kind: "text" | "thinking"
  readonly at: Date
  readonly text: string
}

/**
 * What a renderer remembers between lines of one execution: the workspace (to show paths
 * relative to it), the tool calls' names by id, text being joined, and the last assistant
 * text shown (so the final result is not shown twice).
 */
export interface ProviderState {
  readonly cwd: string | undefined
  readonly tools: Readonly<Record<string, string>>
  readonly pending: Pending | null
  readonly lastText: string
}

/** A state and the entries one step produced. */
export interface Step<S> {
  readonly state: S
  readonly entries: ReadonlyArray<ActivityEntry>
}

/**
 * One provider's renderer. `event` reads one JSON object of stdout; `stderr` may turn a
 * stderr line into an entry (null: shown as it is). Both are pure and lenient: unknown event
 * types and fields produce nothing.
 */
export interface ProviderRenderer {
  readonly event: (state: ProviderState, event: Readonly<Record<string, unknown>>, at: Date) => Step<ProviderState>
  readonly stderr: (text: string, at: Date) => ActivityEntry | null
}
