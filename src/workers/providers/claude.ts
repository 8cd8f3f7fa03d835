/**
 * Claude Code (`claude`, npm `@anthropic-ai/claude-code`) headless in stream-json mode.
 * Shapes from PROVIDERS.md: `system/init` carries `claude_code_version` and `model`;
 * `assistant` lines hold text and tool_use blocks; the final `result` line decides, and API
 * failures come back as `is_error:true` with the message in `result` (exit 0 or 1). Pure.
 */
import type { Denial } from "../../domain/events.js"
import type { Budget, Permissions } from "../../domain/job.js"
import { type BudgetLimit, decideOutcome, joinTexts } from "./outcome.js"
import { arr, isObject, num, obj, parseJsonObject, str, type JsonObject } from "../../domain/json.js"
import { appendTail, denial, summary, toolProgress } from "./parse.js"
import { CLAUDE_SESSION_GONE, sessionArgs, withSession } from "./session.js"
import type { ProviderAdapter } from "./types.js"

/** Claude's final `result` event, as far as aidp uses it. */
interface ClaudeResult {
  readonly subtype: string
  readonly isError: boolean
  readonly text: string
  readonly errors: string
  readonly apiErrorStatus: number | undefined
  readonly usage: JsonObject | undefined
  readonly costUsd: number | undefined
  readonly turns: number | undefined
  readonly denials: ReadonlyArray<Denial>
}

/** Parser state: what the init and result events said, plus non-JSON stdout (max 4 KiB). */
export interface ClaudeState {
  readonly cliVersion?: string
  readonly cwd?: string
  readonly result?: ClaudeResult
  /** `retry_delay_ms` of the last `system/api_retry` line (PROVIDERS.md), ms. */
  readonly retryDelayMs?: number
  /** The job's limits given as `--max-budget-usd` / `--max-turns`. */
  readonly budget?: Budget
  /** `session_id` of the init or result event. */
  readonly sessionId?: string
  readonly plain: string
}

const PLAIN_TAIL_CHARS = 4096

/** Progress messages for the content blocks of one `assistant` line. */
function assistantProgress(event: JsonObject, cwd: string | undefined): string[] {
  return arr(obj(event, "message"), "content").flatMap((block): string[] => {
    if (!isObject(block)) return []
    const text = str(block, "text")
    if (str(block, "type") === "text" && text !== undefined && text.trim() !== "") return [summary(`assistant: ${text}`)]
    if (str(block, "type") === "tool_use") return [toolProgress(str(block, "name") ?? "unknown", obj(block, "input"), cwd)]
    return []
  })
}

/**
 * The refused tool calls of a `result` event: `permission_denials: [{tool_name, tool_use_id,
 * tool_input}]` (PROVIDERS.md), paths in the input made relative to `cwd`.
 */
export function claudeDenials(event: JsonObject, cwd: string | undefined): Denial[] {
  return arr(event, "permission_denials").flatMap((entry): Denial[] =>
    isObject(entry) ? [denial(str(entry, "tool_name") ?? "unknown", obj(entry, "tool_input"), cwd)] : [])
}

/** `--permission-mode` per level: `plan` reads only; `acceptEdits` edits files unasked; `bypassPermissions` also runs any command. */
const PERMISSION_MODE: { readonly [P in Permissions]: string } = {
  plan: "plan",
  edit: "acceptEdits",
  full: "bypassPermissions"
}

/** Claude's session flags: `--session-id <uuid>` starts one with aidp's id, `--resume <id>` continues one. */
const claudeSessions = { choose: true }

/** The `result` subtypes that say claude stopped at a limit it was given (PROVIDERS.md). */
const LIMIT_SUBTYPES: Readonly<Record<string, BudgetLimit>> = {
  error_max_budget_usd: "cost",
  error_max_turns: "turns"
}

/** The limit a `result` subtype says claude stopped at (whatever `is_error` says); undefined for every other subtype. */
const stoppedAt = (subtype: string): BudgetLimit | undefined => Object.hasOwn(LIMIT_SUBTYPES, subtype) ? LIMIT_SUBTYPES[subtype] : undefined

/** `--max-budget-usd` and `--max-turns` for the job's limits (none for an absent one). */
function budgetArgs(budget: Budget | undefined): string[] {
  return [
    ...(budget?.maxCostUsd === undefined ? [] : ["--max-budget-usd", String(budget.maxCostUsd)]),
    ...(budget?.maxTurns === undefined ? [] : ["--max-turns", String(budget.maxTurns)])
  ]
}

/** The `result` event reduced to what the outcome needs. */
function readResult(event: JsonObject, cwd: string | undefined): ClaudeResult {
  return {
    subtype: str(event, "subtype") ?? "",
    isError: event["is_error"] === true,
    text: str(event, "result") ?? "",
    errors: arr(event, "errors").filter((error): error is string => typeof error === "string").join("\n"),
    apiErrorStatus: num(event, "api_error_status"),
    usage: obj(event, "usage"),
    costUsd: num(event, "total_cost_usd"),
    turns: num(event, "num_turns"),
    denials: claudeDenials(event, cwd)
  }
}

/**
 * The Claude Code adapter. `--permission-mode` from the job's level ({@link PERMISSION_MODE}):
 * headless runs cannot answer permission prompts, so what the mode does not allow is refused
 * and listed in the result's `permission_denials`.
 */
export const claudeAdapter: ProviderAdapter<ClaudeState> = {
  provider: "claude",
  binEnv: "AIDP_CLAUDE_BIN",
  defaultBin: "claude",
  installHint: "npm install -g @anthropic-ai/claude-code",
  promptVia: "stdin",
  argv: ({ model, permissions, budget, session }) => [
    "-p",
    "--output-format",
    "stream-json",
    "--verbose",
    ...(model === undefined ? [] : ["--model", model]),
    "--permission-mode",
    PERMISSION_MODE[permissions],
    ...budgetArgs(budget),
    ...sessionArgs("claude", claudeSessions, session)
  ],
  sessions: claudeSessions,
  sessionGone: (error) => CLAUDE_SESSION_GONE.test(error),
  initial: (budget) => (budget === undefined ? { plain: "" } : { plain: "", budget }),
  onLine(state, line, stream) {
    if (stream === "stderr") return { state }
    const event = parseJsonObject(line)
    if (event === undefined) return { state: { ...state, plain: appendTail(state.plain, line, PLAIN_TAIL_CHARS) } }
    switch (str(event, "type")) {
      case "system": {
        if (str(event, "subtype") === "init") {
          const cliVersion = str(event, "claude_code_version")
          const cwd = str(event, "cwd")
          const model = str(event, "model")
          return {
            state: { ...withSession(state, event), ...(cliVersion === undefined ? {} : { cliVersion }), ...(cwd === undefined ? {} : { cwd }) },
            progress: [summary(`started: model ${model ?? "default"}${cliVersion === undefined ? "" : `, claude ${cliVersion}`}`)]
          }
        }
        if (str(event, "subtype") === "api_retry") {
          const status = num(event, "error_status")
          const retryDelayMs = num(event, "retry_delay_ms")
          return {
            state: retryDelayMs === undefined ? state : { ...state, retryDelayMs },
            progress: [`retry: API attempt ${num(event, "attempt") ?? "?"}${status === undefined ? "" : ` (HTTP ${status})`}`]
          }
        }
        return { state }
      }
      case "assistant":
        return { state, progress: assistantProgress(event, state.cwd) }
      case "result":
        return { state: { ...withSession(state, event), result: readResult(event, state.cwd) }, terminal: true }
      default:
        return { state }
    }
  },
  finish(state, exit) {
    const result = state.result
    return decideOutcome(exit, {
      provider: "claude",
      cliVersion: state.cliVersion,
      retryDelayMs: state.retryDelayMs,
      budget: state.budget,
      sessionId: state.sessionId,
      fallbackText: joinTexts(exit.stderrTail, state.plain),
      terminal:
        result === undefined
          ? undefined
          : {
              ok: result.subtype === "success" && !result.isError,
              result: result.text,
              errorText: joinTexts(result.isError ? result.text : "", result.errors) || `claude stopped: ${result.subtype}`,
              errorStatus: result.apiErrorStatus,
              usage: result.usage,
              costUsd: result.costUsd,
              denials: result.denials,
              turns: result.turns,
              stoppedAt: stoppedAt(result.subtype)
            }
    })
  }
}
