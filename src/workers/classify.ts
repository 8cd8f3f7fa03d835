/**
 * Failure classification shared by every provider: text, HTTP status or structured kind ->
 * ErrorKind, and the one-line message shown to the user. Pure; no I/O.
 * The patterns are the messages recorded in PROVIDERS.md.
 */
import type { ErrorKind } from "../domain/job.js"
import { formatWait, type RetryHint } from "../domain/retryPolicy.js"

/** An HTTP status code as a word: `(429)` and `status 429.` match, `file.js:429:3` does not. */
const status = (...codes: number[]): string => String.raw`(?<![\w:.\/-])(?:${codes.join("|")})(?![\w:\/-]|\.\d)`

/** Checked in this order: the first match wins (quota before rate_limit, auth before all). */
const TEXT_RULES: ReadonlyArray<readonly [ErrorKind, RegExp]> = [
  [
    "auth",
    new RegExp(
      [
        "invalid api.?key",
        "api key is invalid",
        "api key not valid",
        "not logged in",
        "authentication required",
        "unauthori[sz]ed",
        "set an auth method",
        status(401, 403)
      ].join("|"),
      "i"
    )
  ],
  [
    "quota",
    new RegExp(
      [
        "credit balance is too low",
        "you.ve hit your (?:usage )?limit",
        "usage limit",
        "insufficient.quota",
        "exceeded your current quota",
        "exhausted your (?:daily )?quota",
        "terminalquotaerror",
        String.raw`(?:daily|per.day)\b.{0,60}quota`,
        String.raw`quota.{0,60}(?:daily|per.day)\b`
      ].join("|"),
      "i"
    )
  ],
  [
    "rate_limit",
    new RegExp(["rate.?limit", "too many requests", "resource.?exhausted", "resource has been exhausted", status(429)].join("|"), "i")
  ],
  ["overloaded", new RegExp(["overloaded", "service unavailable", status(503, 529)].join("|"), "i")],
  [
    "server_error",
    new RegExp(["internal server error", "an internal error has occurred", "bad gateway", "gateway timeout", status(500, 502, 504)].join("|"), "i")
  ],
  // An API request that timed out inside the CLI (claude `Request timed out.`) is a network
  // problem; `timeout` is kept for an execution aidp stopped at the job's timeout (a hang).
  [
    "network",
    new RegExp(
      [
        "connection error|connection refused|econnrefused|econnreset|enotfound|eai_again|etimedout|fetch failed|network error",
        "socket hang up|getaddrinfo|timed out|deadline exceeded",
        status(408)
      ].join("|"),
      "i"
    )
  ]
]

/** ErrorKind from free text (a CLI's error message or stderr); `unknown` when nothing matches. */
export function classifyText(text: string): ErrorKind {
  for (const [kind, pattern] of TEXT_RULES) if (pattern.test(text)) return kind
  return "unknown"
}

/**
 * ErrorKind from an HTTP status of the provider's API, or undefined when the status says
 * nothing specific (400 and other 4xx: the text decides, e.g. gemini's 400 `API key not
 * valid` is `auth`). 503 and 529 are `overloaded`, every other 5xx `server_error`.
 */
export function classifyHttpStatus(code: number): ErrorKind | undefined {
  switch (code) {
    case 401:
    case 403:
      return "auth"
    case 402:
      return "quota"
    case 408:
      return "network"
    case 429:
      return "rate_limit"
    case 503:
    case 529:
      return "overloaded"
    default:
      return code >= 500 && code <= 599 ? "server_error" : undefined
  }
}

/**
 * ErrorKind from the structured error first (a kind from an exit code, then the HTTP status
 * given or found in the text's API error JSON, see {@link apiError}), then from the text
 * (PROVIDERS.md). A 429 whose text says the daily quota is spent is `quota` (final until the
 * reset), not `rate_limit`. Returns `unknown` when nothing decides.
 */
export function classifyError(input: { readonly structured?: ErrorKind | undefined; readonly status?: number | undefined; readonly text: string }): ErrorKind {
  const status = input.status ?? apiError(input.text)?.status
  const fromStatus = status === undefined ? undefined : classifyHttpStatus(status)
  const structured = [input.structured, fromStatus].find((kind) => kind !== undefined && kind !== "unknown")
  const fromText = classifyText(input.text)
  if (structured === "rate_limit" && fromText === "quota") return "quota"
  return structured ?? fromText
}

/** Longest error message kept, in characters (UTF-16 units). */
export const MAX_ERROR_CHARS = 300

const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][\s\S]*?(?:\x07|\x1b\\)|\x1b[@-_]/g
const CONTROL = /[\x00-\x1f\x7f-\x9f]+/g
const NOISE = [
  /^at\s/, // stack frame
  /^\^+$/, // caret under the source line of a Node crash
  /^Node\.js v\d/,
  /^(?:file:\/\/|node:|\/)\S*:\d+$/ // `file:///x/cli.js:123` source location
]
const EXCEPTION = /^[A-Z]\w*(?:Error|Exception)\b/

/** Index just past the JSON object that starts at `start` (a `{`), or -1 when it is not closed. */
function objectEnd(text: string, start: number): number {
  let depth = 0
  let inString = false
  for (let i = start; i < text.length; i++) {
    const char = text[i]
    if (inString) {
      if (char === "\\") i++
      else if (char === '"') inString = false
    } else if (char === '"') inString = true
    else if (char === "{") depth++
    else if (char === "}" && --depth === 0) return i + 1
  }
  return -1
}

/** A trailing pointer to documentation after an API's message (Google's `See https://...`). */
const DOCS_POINTER = /\s*See https?:\/\/\S+$/

/** An API error read from a CLI's text: the human message and, when the JSON names one, the HTTP status. */
export interface ApiError {
  /** The API's message on one line (newlines joined with a space, a trailing `See <url>` dropped). */
  readonly message: string
  /** `error.code` of the API's JSON (gemini `{"error":{"code":401,...}}`), when numeric. */
  readonly status: number | undefined
  /** The text before the JSON object on its line (`ApiError: `, `API Error: 529 `). */
  readonly prefix: string
}

/**
 * The first JSON object in `text` with an `error.message` or `message`, wherever it ends
 * (gemini's `[API Error: {...}]` ends `}]`). A message that is itself JSON (gemini wraps the
 * API's body as a string) is unwrapped too.
 */
function jsonError(text: string): ApiError | undefined {
  for (let start = text.indexOf("{"); start >= 0; start = text.indexOf("{", start + 1)) {
    const end = objectEnd(text, start)
    if (end < 0) return undefined
    let value: unknown
    try {
      value = JSON.parse(text.slice(start, end))
    } catch {
      continue
    }
    if (typeof value !== "object" || value === null) continue
    const record = value as Record<string, unknown>
    const error = typeof record["error"] === "object" && record["error"] !== null ? (record["error"] as Record<string, unknown>) : undefined
    const message = typeof error?.["message"] === "string" ? error["message"] : record["message"]
    if (typeof message !== "string") continue
    const code = error?.["code"]
    const inner = jsonError(message)
    const prefix = text.slice(text.lastIndexOf("\n", start) + 1, start)
    return {
      message: inner?.message ?? oneLine(message).replace(DOCS_POINTER, ""),
      status: inner?.status ?? (typeof code === "number" ? code : undefined),
      prefix
    }
  }
  return undefined
}

/** Gemini's wrapper around a failed API call's error (PROVIDERS.md): `[API Error: <JSON or text>]`. */
const GEMINI_WRAPPER = /\[API Error: ([\s\S]*?)\](?=[ \t]*(?:\n|$))/

/**
 * The API error in a CLI's error text, if it has one: gemini's `[API Error: ...]` wrapper
 * (its JSON's message, or its text with newlines joined), else the first JSON object with an
 * error message (`ApiError: {"error":{...}}` on gemini's stderr, claude's `API Error: 529
 * {"type":"error",...}`). Shapes from PROVIDERS.md.
 */
export function apiError(text: string): ApiError | undefined {
  const wrapped = GEMINI_WRAPPER.exec(text)?.[1]
  if (wrapped !== undefined) {
    const inner = jsonError(wrapped)
    if (inner !== undefined) return { ...inner, prefix: "" }
    const message = oneLine(wrapped)
    if (message !== "" && !message.startsWith("{")) return { message, status: undefined, prefix: "" }
  }
  return jsonError(text)
}

/** `text` without escape sequences or control characters, whitespace runs made one space. */
function oneLine(text: string): string {
  return text.replace(ANSI, "").replace(CONTROL, " ").replace(/\s+/g, " ").trim()
}

/** Gemini's retry notice in front of the error it retried (PROVIDERS.md: 429 noise on stderr). */
const RETRY_NOTICE = /^Attempt \d+ failed with status \d+\. Retrying with backoff\.\.\.\s+(?=\S)/

/** One line without escape sequences, control characters, retry notices, JSON or repeated blanks. */
function clean(line: string): string {
  const plain = oneLine(line)
  const error = jsonError(plain)
  return (error === undefined ? plain : `${error.prefix}${error.message}`.trim()).replace(RETRY_NOTICE, "")
}

/** `text` cut to {@link MAX_ERROR_CHARS}, with `…` when cut. */
export function truncate(text: string, max = MAX_ERROR_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max - 1).trimEnd()}…`
}

/**
 * The CLI's own error message from multi-line text, as one line of at most
 * {@link MAX_ERROR_CHARS}, never JSON: gemini's `[API Error: ...]` message when there is one;
 * else the first line that shows the error kind of the whole text, else the first
 * `XxxError: ...` line, else the first meaningful line, each with any JSON error object
 * replaced by its message. Stack frames, source locations, escape sequences and blank lines
 * are skipped. Empty string when nothing is left.
 */
export function errorLine(text: string): string {
  const wrapped = GEMINI_WRAPPER.test(text) ? apiError(text) : undefined
  if (wrapped !== undefined) return truncate(wrapped.message)
  const lines = text.split("\n").map(clean).filter((line) => line !== "" && !NOISE.some((noise) => noise.test(line)))
  const kind = classifyText(text)
  const chosen =
    (kind === "unknown" ? undefined : lines.find((line) => classifyText(line) === kind)) ??
    lines.find((line) => EXCEPTION.test(line)) ??
    lines[0] ??
    ""
  return truncate(chosen)
}

/** `retry after 1s`, `Please retry in 38.46s`, gemini's RetryInfo `"retryDelay":"38s"`: seconds. */
const RETRY_DELAY = /retry (?:after|in) (\d+(?:\.\d+)?) ?s(?:ec(?:ond)?s?)?\b|"retryDelay":\s*"(\d+(?:\.\d+)?)s"/i
/** Claude's `resets 4pm (Europe/Berlin)`, `resets 4:30pm`, `resets 16:00 (UTC)`. */
const RESETS = /\bresets (?:at )?(\d{1,2})(?::(\d\d))? ?([ap]m)?(?: \(([A-Za-z_]+(?:\/[A-Za-z_+-]+)*)\))?/i

/**
 * The time `provider` named for trying again in its error text (PROVIDERS.md): a delay
 * (`Suggested retry after 1s.`, `Please retry in 38.4s.`, `"retryDelay":"38s"`) or a
 * wall-clock reset (`You've hit your limit · resets 4pm (Europe/Berlin)`; UTC when no zone is
 * named). Undefined when it named none.
 */
export function retryHint(provider: string, text: string): RetryHint | undefined {
  const reset = RESETS.exec(text)
  if (reset !== null) {
    const [, hourText = "0", minuteText = "0", meridiem, timeZone] = reset
    const clock = Number(hourText)
    const hour = meridiem === undefined ? clock : (clock % 12) + (meridiem.toLowerCase() === "pm" ? 12 : 0)
    const minute = Number(minuteText)
    if (hour < 24 && minute < 60) return { _tag: "Reset", hour, minute, timeZone: timeZone ?? "UTC", said: `${provider}: ${reset[0].trim()}` }
  }
  const delay = RETRY_DELAY.exec(text)
  const seconds = Number(delay?.[1] ?? delay?.[2])
  return delay === null || !Number.isFinite(seconds) ? undefined : delayHint(provider, Math.ceil(seconds * 1000))
}

/** A delay `provider` asked for, ms (claude's `retry_delay_ms`, gemini's `retry after 1s`). */
export function delayHint(provider: string, ms: number): RetryHint {
  return { _tag: "Delay", ms, said: `${provider} asked for ${formatWait(ms)}` }
}
