/**
 * A job's token usage and cost over all its executions (attempts), for `jobs show`, its
 * `--json` and the monitor's details. Pure.
 */
import { addUsage, NO_USAGE, type Usage, usageOf } from "../domain/usage.js"

/** What a job's executions used and cost together; null where none of them reported it. */
export interface UsageTotals {
  /** Sum of every execution's usage that was reported; null when none was. */
  readonly usage: Usage | null
  /** Sum of every reported `cost_usd`, USD (rounded to a millionth); null when none was. */
  readonly costUsd: number | null
}

/** Sums the stored usage (any provider's shape, see usageOf) and cost of `executions`. */
export function usageTotals(executions: ReadonlyArray<{ readonly usage: unknown; readonly costUsd: number | null }>): UsageTotals {
  const usages = executions.map((e) => usageOf(e.usage)).filter((u): u is Usage => u !== null)
  const costs = executions.map((e) => e.costUsd).filter((c): c is number => c !== null)
  return {
    usage: usages.length === 0 ? null : usages.reduce(addUsage, NO_USAGE),
    costUsd: costs.length === 0 ? null : Math.round(costs.reduce((a, b) => a + b, 0) * 1e6) / 1e6
  }
}
