/**
 * Cursor CLI (`cursor-agent`, newer installs `agent`) headless in stream-json mode. Shapes
 * from PROVIDERS.md: `system/init`, `user`, `assistant`, `thinking`, `tool_call`
 * (started|completed) and, on success only, a final `result` line. Failures print no JSON:
 * text on stderr and a non-zero exit. It may print its result and never exit; the runner ends
 * it after a grace and the result decides. Pure.
 */
import { type Permissions, permissionsRefusal } from "../../domain/job.js"
import { decideOutcome, joinTexts } from "./outcome.js"
import { arr, isObject, obj, parseJsonObject, str, type JsonObject } from "../../domain/json.js"
import { appendTail, summary, toolProgress } from "./parse.js"
import { CURSOR_SESSION_GONE, sessionArgs, withSession } from "./session.js"
import type { ProviderAdapter } from "./types.js"

/** Parser state: the workspace from init, the final result, non-JSON stdout (max 4 KiB). */
export interface CursorState {
  readonly cwd?: string
  readonly result?: { readonly ok: boolean; readonly text: string; readonly usage: JsonObject | undefined }
  readonly plain: string
  /** `session_id` (the chat id) of the init or result event. */
  readonly sessionId?: string
}

const PLAIN_TAIL_CHARS = 4096

/** `tool: shell ls -1` for a started tool call: `{"tool_call":{"shellToolCall":{"args":{...}}}}`. */
function toolCallProgress(event: JsonObject, cwd: string | undefined): string[] {
  const call = Object.entries(obj(event, "tool_call") ?? {}).find(([, value]) => isObject(value))
  if (call === undefined) return []
  const [key, value] = call
  return [toolProgress(key.replace(/ToolCall$/, ""), obj(isObject(value) ? value : undefined, "args"), cwd)]
}

/** `assistant: ...` for the text blocks of an `assistant` line. */
function assistantProgress(event: JsonObject): string[] {
  const text = arr(obj(event, "message"), "content")
    .map((block) => (isObject(block) ? str(block, "text") ?? "" : ""))
    .join("")
  return text.trim() === "" ? [] : [summary(`assistant: ${text}`)]
}

/** Cursor's session flags: `--resume <chatId>` continues a chat; it names new chats itself. */
const cursorSessions = { choose: false }

/** `--force` at level `full`, nothing at `edit`; throws at `plan` (see {@link cursorAdapter}). */
function forceFlag(permissions: Permissions): string[] {
  const refusal = permissionsRefusal("cursor", permissions)
  if (refusal !== undefined) throw new Error(refusal)
  return permissions === "full" ? ["--force"] : []
}

/**
 * The Cursor CLI adapter. `--trust`: a new folder otherwise blocks on a trust prompt or exits
 * 0 doing nothing; `--force` only at level `full` (it allows commands; at `edit` a command
 * the agent wants is not approved); level `plan` throws: cursor has no read-only mode
 * (PROVIDERS.md), and such jobs are refused when queued. `--workspace`: the job's cwd,
 * explicitly. The prompt goes on stdin (PROVIDERS.md: piping it works), so argv has no size
 * limit to enforce. Cursor's refusals have no documented output shape, so none are read.
 */
export const cursorAdapter: ProviderAdapter<CursorState> = {
  provider: "cursor",
  binEnv: "AIDP_CURSOR_BIN",
  defaultBin: "cursor-agent",
  installHint: "curl https://cursor.com/install -fsS | bash",
  promptVia: "stdin",
  argv: ({ model, cwd, permissions, session }) => [
    "-p",
    "--output-format",
    "stream-json",
    "--trust",
    ...forceFlag(permissions),
    ...(model === undefined ? [] : ["--model", model]),
    ...sessionArgs("cursor", cursorSessions, session),
    "--workspace",
    cwd
  ],
  sessions: cursorSessions,
  sessionGone: (error) => CURSOR_SESSION_GONE.test(error),
  initial: () => ({ plain: "" }),
  onLine(state, line, stream) {
    if (stream === "stderr") return { state }
    const event = parseJsonObject(line)
    if (event === undefined) return { state: { ...state, plain: appendTail(state.plain, line, PLAIN_TAIL_CHARS) } }
    switch (str(event, "type")) {
      case "system": {
        if (str(event, "subtype") !== "init") return { state }
        const cwd = str(event, "cwd")
        return {
          state: withSession(cwd === undefined ? state : { ...state, cwd }, event),
          progress: [summary(`started: model ${str(event, "model") ?? "default"}`)]
        }
      }
      case "assistant":
        return { state, progress: assistantProgress(event) }
      case "tool_call":
        return { state, progress: str(event, "subtype") === "started" ? toolCallProgress(event, state.cwd) : [] }
      case "result":
        return {
          state: {
            ...withSession(state, event),
            result: {
              ok: str(event, "subtype") === "success" && event["is_error"] !== true,
              text: str(event, "result") ?? "",
              usage: obj(event, "usage")
            }
          },
          terminal: true
        }
      default:
        return { state }
    }
  },
  finish(state, exit) {
    const result = state.result
    return decideOutcome(exit, {
      provider: "cursor",
      sessionId: state.sessionId,
      fallbackText: joinTexts(exit.stderrTail, state.plain),
      terminal:
        result === undefined
          ? undefined
          : { ok: result.ok, result: result.text, errorText: result.ok ? "" : result.text, usage: result.usage }
    })
  }
}
