/**
 * Failure classification shared by every provider: text, HTTP status or structured kind ->
 * ErrorKind, and the one-line message shown to the user. Pure; no I/O.
 * The patterns are the messages recorded in PROVIDERS.md.
 */
import type { ErrorKind } from "../domain/job.js"

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
  ["rate_limit", new RegExp(["rate.?limit", "too many requests", "resource.?exhausted", status(429)].join("|"), "i")],
  ["overloaded", new RegExp(["overloaded", "service unavailable", status(503, 529)].join("|"), "i")],
  [
    "network",
    /connection error|connection refused|econnrefused|econnreset|enotfound|eai_again|etimedout|fetch failed|network error|socket hang up|getaddrinfo/i
  ],
  ["timeout", new RegExp(["timed out", "gateway timeout", "deadline exceeded", status(408, 504)].join("|"), "i")]
]

/** ErrorKind from free text (a CLI's error message or stderr); `unknown` when nothing matches. */
export function classifyText(text: string): ErrorKind {
  for (const [kind, pattern] of TEXT_RULES) if (pattern.test(text)) return kind
  return "unknown"
}

/**
 * ErrorKind from an HTTP status of the provider's API, or undefined when the status says
 * nothing specific (e.g. 400, 500).
 */
export function classifyHttpStatus(code: number): ErrorKind | undefined {
  switch (code) {
    case 401:
    case 403:
      return "auth"
    case 402:
      return "quota"
    case 408:
    case 504:
      return "timeout"
    case 429:
      return "rate_limit"
    case 503:
    case 529:
      return "overloaded"
    default:
      return undefined
  }
}

/**
 * ErrorKind from the structured error first (a kind from an exit code, or an HTTP status),
 * then from the text (PROVIDERS.md). A 429 whose text says the daily quota is spent is
 * `quota` (final until the reset), not `rate_limit`. Returns `unknown` when nothing decides.
 */
export function classifyError(input: { readonly structured?: ErrorKind | undefined; readonly status?: number | undefined; readonly text: string }): ErrorKind {
  const structured = input.structured ?? (input.status === undefined ? undefined : classifyHttpStatus(input.status))
  const fromText = classifyText(input.text)
  if (structured === "rate_limit" && fromText === "quota") return "quota"
  if (structured !== undefined && structured !== "unknown") return structured
  return fromText
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

/**
 * The `error.message` or `message` of a JSON object that a line is, or ends with, kept
 * after whatever precedes it: gemini prints `{"error":{...}}` or `ApiError: {"error":{...}}`
 * on stderr, claude `API Error: 529 {"type":"error","error":{...}}`.
 */
function jsonMessage(line: string): string | undefined {
  const start = line.indexOf("{")
  if (start < 0 || !line.endsWith("}")) return undefined
  try {
    const value: unknown = JSON.parse(line.slice(start))
    if (typeof value !== "object" || value === null) return undefined
    const record = value as Record<string, unknown>
    const error = record["error"]
    const nested = typeof error === "object" && error !== null ? (error as Record<string, unknown>)["message"] : undefined
    const message = typeof nested === "string" ? nested : record["message"]
    return typeof message === "string" ? `${line.slice(0, start)}${message}` : undefined
  } catch {
    return undefined
  }
}

/** Gemini's retry notice in front of the error it retried (PROVIDERS.md: 429 noise on stderr). */
const RETRY_NOTICE = /^Attempt \d+ failed with status \d+\. Retrying with backoff\.\.\.\s+(?=\S)/

/** One line without escape sequences, control characters, retry notices or repeated blanks. */
function clean(line: string): string {
  const plain = line.replace(ANSI, "").replace(CONTROL, " ").replace(/\s+/g, " ").trim()
  const text = jsonMessage(plain)?.replace(CONTROL, " ").replace(/\s+/g, " ").trim() ?? plain
  return text.replace(RETRY_NOTICE, "")
}

/** `text` cut to {@link MAX_ERROR_CHARS}, with `…` when cut. */
export function truncate(text: string, max = MAX_ERROR_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max - 1).trimEnd()}…`
}

/**
 * The CLI's own error message from multi-line text, as one line of at most
 * {@link MAX_ERROR_CHARS}: the first line that shows the error kind of the whole text, else
 * the first `XxxError: ...` line, else the first meaningful line. Stack frames, source
 * locations, escape sequences and blank lines are skipped. Empty string when nothing is left.
 */
export function errorLine(text: string): string {
  const lines = text.split("\n").map(clean).filter((line) => line !== "" && !NOISE.some((noise) => noise.test(line)))
  const kind = classifyText(text)
  const chosen =
    (kind === "unknown" ? undefined : lines.find((line) => classifyText(line) === kind)) ??
    lines.find((line) => EXCEPTION.test(line)) ??
    lines[0] ??
    ""
  return truncate(chosen)
}
