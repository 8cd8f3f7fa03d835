/**
 * Token usage of one execution, in one shape for every provider. The CLIs report it in their
 * final event, each in its own shape (PROVIDERS.md), and the `job_executions.usage` column keeps
 * it as reported: claude's `result.usage` (`input_tokens`, `output_tokens`,
 * `cache_read_input_tokens`, `cache_creation_input_tokens`), gemini's `result.stats`
 * (`input_tokens`, `output_tokens`, `cached`), cursor's `result.usage` (camelCase keys in the
 * versions that report it). Pure.
 */
import { isObject, type JsonObject } from "./json.js"

/** Token counts of one execution (or a sum of several). A count the CLI did not report is 0. */
export interface Usage {
  readonly inputTokens: number
  readonly outputTokens: number
  /** Input tokens served from the provider's prompt cache. */
  readonly cacheReadTokens: number
  /** Input tokens written to the provider's prompt cache. */
  readonly cacheWriteTokens: number
}

/** No tokens: the start of a sum. */
export const NO_USAGE: Usage = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 }

/** Each field's spellings across the providers, first match wins. */
const KEYS: { readonly [K in keyof Usage]: ReadonlyArray<string> } = {
  inputTokens: ["input_tokens", "inputTokens", "prompt_tokens"],
  outputTokens: ["output_tokens", "outputTokens", "candidates_tokens"],
  cacheReadTokens: ["cache_read_input_tokens", "cacheReadTokens", "cached", "cached_tokens"],
  cacheWriteTokens: ["cache_creation_input_tokens", "cacheWriteTokens"]
}

const count = (raw: JsonObject, keys: ReadonlyArray<string>): number | undefined => {
  for (const key of keys) {
    const value = raw[key]
    if (typeof value === "number" && Number.isFinite(value) && value >= 0) return value
  }
  return undefined
}

/**
 * The stored usage of an execution (any provider's shape) as {@link Usage}; null when the CLI
 * reported none (no object, or no token count in it).
 */
export function usageOf(raw: unknown): Usage | null {
  if (!isObject(raw)) return null
  const fields = Object.fromEntries(Object.entries(KEYS).map(([field, keys]) => [field, count(raw, keys)]))
  if (Object.values(fields).every((value) => value === undefined)) return null
  return {
    inputTokens: fields.inputTokens ?? 0,
    outputTokens: fields.outputTokens ?? 0,
    cacheReadTokens: fields.cacheReadTokens ?? 0,
    cacheWriteTokens: fields.cacheWriteTokens ?? 0
  }
}

/** The field-by-field sum of two usages. */
export function addUsage(a: Usage, b: Usage): Usage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cacheReadTokens: a.cacheReadTokens + b.cacheReadTokens,
    cacheWriteTokens: a.cacheWriteTokens + b.cacheWriteTokens
  }
}
