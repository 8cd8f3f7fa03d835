/**
 * Long text for a person: through their pager ($PAGER, default `less -R`) when stdout is a
 * terminal, else printed as it is. The text must already be harmless (sanitized).
 */
import { spawn } from "node:child_process"
import { UserError } from "./errors.js"

/** The pager command line: $PAGER when set and not blank, else `less -R` (keeps aidp's colours). */
const pagerCommand = (env: NodeJS.ProcessEnv): string => env.PAGER?.trim() || "less -R"

/**
 * Shows `text` in the pager (run by `sh -c`, so $PAGER may carry options) and resolves when
 * the person leaves it; resolves at once after printing `text` when stdout is not a terminal
 * (`toTerminal` false). A pager that cannot start rejects with a sentence naming it.
 */
export const page = (text: string, toTerminal: boolean = process.stdout.isTTY === true): Promise<void> =>
  new Promise((resolve, reject) => {
    if (!toTerminal) {
      process.stdout.write(text, () => resolve())
      return
    }
    const command = pagerCommand(process.env)
    const child = spawn("sh", ["-c", command], { stdio: ["pipe", "inherit", "inherit"] })
    // The person may quit before reading it all: the pipe then closes early, which is fine.
    child.stdin.on("error", () => undefined)
    child.on("error", (error) => reject(new UserError(`Cannot start the pager ${JSON.stringify(command)}: ${error.message}; set PAGER to one that exists.`)))
    child.on("close", (code) => {
      if (code === 127) reject(new UserError(`The pager ${JSON.stringify(command)} was not found; set PAGER to one that exists (or PAGER=cat).`))
      else resolve()
    })
    child.stdin.end(text)
  })
