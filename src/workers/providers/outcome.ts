/**
 * The success/failure rules every provider shares (PROVIDERS.md, "Rules for every provider").
 * Each adapter reduces its own final event to a {@link TerminalEvent}; this module decides.
 * Pure; no I/O.
 */
import type { Denial } from "../../domain/events.js"
import type { Budget, ErrorKind, Provider } from "../../domain/job.js"
import { classifyError, delayHint, errorLine, retryHint, truncate } from "../classify.js"
import type { ExitInfo, Outcome } from "./types.js"

/** A provider's final result event, normalised. */
export interface TerminalEvent {
  /** The event reports success (e.g. claude `subtype:"success"` and `is_error:false`). */
  readonly ok: boolean
  /** The final answer text (may be empty). */
  readonly result: string
  /** The CLI's error message when `ok` is false (may be multi-line). */
  readonly errorText: string
  /** HTTP status of the API error when the CLI reports one (claude `api_error_status`). */
  readonly errorStatus?: number | undefined
  readonly usage?: Record<string, unknown> | undefined
  readonly costUsd?: number | undefined
  /** Tool calls the agent was refused during the run. */
  readonly denials?: ReadonlyArray<Denial> | undefined
  /** Agent turns the run took (claude `num_turns`). */
  readonly turns?: number | undefined
  /** The limit the CLI stopped the run at (claude `error_max_budget_usd`, `error_max_turns`). */
  readonly stoppedAt?: BudgetLimit | undefined
}

/** One of a job's limits: `cost` (`--max-cost`) or `turns` (`--max-turns`). */
export type BudgetLimit = "cost" | "turns"

/** What an adapter knows at the end of a run. */
export interface RunReport {
  readonly provider: Provider
  /** The final result event, if one arrived. */
  readonly terminal: TerminalEvent | undefined
  readonly cliVersion?: string | undefined
  /** Text to classify and quote when there is no usable error event: stderr tail, non-JSON stdout. */
  readonly fallbackText: string
  /** Provider-specific meaning of exit codes (gemini); undefined when a code says nothing. */
  readonly exitKind?: ((exitCode: number) => ErrorKind | undefined) | undefined
  /** The delay the CLI last announced before retrying an API call itself, ms (claude `system/api_retry` `retry_delay_ms`). */
  readonly retryDelayMs?: number | undefined
  /** The session id the CLI reported (`init`/`result`). */
  readonly sessionId?: string | undefined
  /** The job's limits the CLI was given, to name the one that stopped the run. */
  readonly budget?: Budget | undefined
}

/** US dollars as `$0.50`, `$0.523`, `$12.00`: at least two decimals, at most four. */
const dollars = (usd: number): string => {
  const text = String(Number(usd.toFixed(4)))
  const decimals = text.includes(".") ? text.length - text.indexOf(".") - 1 : 0
  return `$${decimals >= 2 ? text : usd.toFixed(2)}`
}

/**
 * The error of a run the CLI stopped at `limit`, from what its final event says it spent,
 * e.g. `claude stopped at its budget: $0.52 spent, limit $0.50 (--max-cost).` or `claude
 * stopped after 12 turns, limit 12 (--max-turns).`; what was spent or the limit is left out
 * when unknown (a limit from the CLI's own settings).
 */
export function budgetError(provider: Provider, limit: BudgetLimit, spent: Pick<TerminalEvent, "costUsd" | "turns">, budget: Budget | undefined): string {
  if (limit === "cost") {
    const cost = spent.costUsd === undefined ? [] : [`${dollars(spent.costUsd)} spent`]
    const limit = budget?.maxCostUsd === undefined ? [] : [`limit ${dollars(budget.maxCostUsd)} (--max-cost)`]
    const facts = [...cost, ...limit].join(", ")
    return `${provider} stopped at its budget${facts === "" ? "" : `: ${facts}`}.`
  }
  const taken = spent.turns === undefined ? "at its turn limit" : `after ${spent.turns} turn${spent.turns === 1 ? "" : "s"}`
  return `${provider} stopped ${taken}${budget?.maxTurns === undefined ? "" : `, limit ${budget.maxTurns} (--max-turns)`}.`
}

/** Joins the non-empty texts with `\n` (stderr tail, then non-JSON stdout). */
export function joinTexts(...texts: ReadonlyArray<string>): string {
  return texts.filter((text) => text !== "").join("\n")
}

/**
 * Judges a run. In order: cancelled, timed out (aidp stopped it); stopped by the CLI at one of
 * the job's limits (`budget`, {@link budgetError}); a success event with exit 0
 * (or stopped by aidp after it, the cursor hang) and a non-empty result succeeds; an error
 * event is classified from its status/exit code, then its text; without a final event a
 * signal is `crashed`, exit 0 is `bad_output` and a non-zero exit is classified from the
 * exit code and the text (`crashed` when nothing matches). A failure the CLI reported
 * carries the time it named for trying again, if any (`retryHint`, see classify.ts); any
 * failure after a final event carries the cost that event reported.
 */
export function decideOutcome(exit: ExitInfo, report: RunReport): Outcome {
  const { provider, terminal, cliVersion } = report
  const identity = {
    ...(cliVersion === undefined ? {} : { cliVersion }),
    ...(report.sessionId === undefined ? {} : { sessionId: report.sessionId })
  }
  // `text`: the CLI's error text, when the CLI reported the failure (not aidp's stop or a crash);
  // a time it names, else claude's last announced retry delay, becomes the retry hint.
  const fail = (errorKind: ErrorKind, error: string, text?: string): Outcome => {
    const announced = report.retryDelayMs === undefined ? undefined : delayHint(provider, report.retryDelayMs)
    const hint = text === undefined ? undefined : retryHint(provider, text) ?? announced
    return {
      kind: "failed",
      exitCode: exit.exitCode,
      signal: exit.signal,
      errorKind,
      error: truncate(error),
      ...identity,
      ...(hint === undefined ? {} : { retryHint: hint }),
      ...(terminal?.costUsd === undefined ? {} : { costUsd: terminal.costUsd }),
      ...(terminal?.usage === undefined ? {} : { usage: terminal.usage })
    }
  }
  const exitKind = exit.exitCode === null ? undefined : report.exitKind?.(exit.exitCode)
  const ended = exit.signal === null ? `exited with code ${exit.exitCode}` : `was killed by ${exit.signal}`
  const detail = (text: string): string => {
    const line = errorLine(text)
    return line === "" ? "" : `: ${line}`
  }

  if (exit.cancelled) return fail("cancelled", `Cancelled: aidp stopped ${provider} at the user's request.`)
  if (exit.timedOut) return fail("timeout", `${provider} ran past the job's timeout and aidp stopped it.`)
  // Whatever is_error and the exit code say: the run ended where the job said it must.
  if (terminal?.stoppedAt !== undefined) return fail("budget", budgetError(provider, terminal.stoppedAt, terminal, report.budget))

  if (terminal?.ok === true) {
    if (terminal.result.trim() === "") return fail("bad_output", `${provider} reported success with an empty result.`)
    if (exit.exitCode === 0 || exit.killedAfterTerminal) {
      return {
        kind: "succeeded",
        exitCode: exit.exitCode,
        result: terminal.result,
        denials: terminal.denials ?? [],
        ...(terminal.usage === undefined ? {} : { usage: terminal.usage }),
        ...(terminal.costUsd === undefined ? {} : { costUsd: terminal.costUsd }),
        ...identity
      }
    }
    const kind = classifyError({ structured: exitKind, text: report.fallbackText })
    return fail(kind === "unknown" ? "crashed" : kind, `${provider} ${ended} after reporting success${detail(report.fallbackText)}`)
  }

  if (terminal !== undefined) {
    const text = terminal.errorText.trim() === "" ? report.fallbackText : terminal.errorText
    const kind = classifyError({ structured: exitKind, status: terminal.errorStatus, text })
    const message = errorLine(text)
    return fail(kind, message === "" ? `${provider} reported an error without a message and ${ended}.` : message, text)
  }

  if (exit.signal !== null) return fail("crashed", `${provider} was killed by ${exit.signal} before its result${detail(report.fallbackText)}`)
  if (exit.exitCode === 0) return fail("bad_output", `${provider} exited with code 0 without a result${detail(report.fallbackText)}`)
  const kind = classifyError({ structured: exitKind, text: report.fallbackText })
  const message = errorLine(report.fallbackText)
  return fail(
    kind === "unknown" && exitKind === undefined ? "crashed" : kind,
    message === "" ? `${provider} exited with code ${exit.exitCode} without a result.` : message,
    report.fallbackText
  )
}
