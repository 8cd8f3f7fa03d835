/**
 * A diff as `aidp jobs diff` prints it: git's unified diff with every line made harmless
 * (escape sequences and control characters shown, never run: a file's content is untrusted),
 * then coloured by aidp itself when asked (added green, removed red, hunks cyan, headers bold).
 * Pure.
 */
import { sanitize } from "./sanitize.js"

const SGR = { added: "\x1b[32m", removed: "\x1b[31m", hunk: "\x1b[36m", header: "\x1b[1m", reset: "\x1b[0m" } as const

/** The style of one diff line by its first characters; null for context lines. */
const styleOf = (line: string): keyof typeof SGR | null => {
  if (line.startsWith("+++ ") || line.startsWith("--- ") || line.startsWith("diff --git ")) return "header"
  if (line.startsWith("+")) return "added"
  if (line.startsWith("-")) return "removed"
  if (line.startsWith("@@")) return "hunk"
  return null
}

/** `diff` (git's output) sanitized line by line, with ANSI colours when `color`; ends in a newline unless empty. */
export const renderDiff = (diff: string, color: boolean): string => {
  if (diff === "") return ""
  const lines = diff.replace(/\n$/, "").split("\n").map((raw) => {
    const line = sanitize(raw)
    const style = color ? styleOf(line) : null
    return style === null ? line : `${SGR[style]}${line}${SGR.reset}`
  })
  return `${lines.join("\n")}\n`
}
