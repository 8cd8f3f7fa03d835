/**
 * Errors that end a command, and how each becomes one sentence and an exit code
 * (DESIGN.md, Command line: 0 success, 1 failure, 2 usage error).
 */

/** The command line itself is wrong (unknown subcommand, bad flag value). Exit code 2. */
export class UsageError extends Error {
  readonly exitCode = 2
}

/**
 * Something the user asked for cannot be done (job not found, job failed). Exit code 1, or
 * the one given (130 for a command stopped by Ctrl-C).
 */
export class UserError extends Error {
  constructor(message: string, readonly exitCode: number = 1) {
    super(message)
  }
}

/** Errors whose message is already a sentence for the user (by class or Effect tag name). */
const USER_FACING = new Set([
  "DatabaseUnreachable",
  "EmbeddedPostgresError",
  "MigrationError",
  "JobNotFound",
  "IllegalTransition",
  "DatabaseError",
  "LandingRefused"
])

/**
 * The sentence and exit code for an error that ended a command. Unknown errors are bugs:
 * their message is shown with a hint to rerun with AIDP_DEBUG=1 for the stack.
 */
export const describeError = (error: unknown): { readonly message: string; readonly exitCode: number } => {
  if (error instanceof UsageError || error instanceof UserError) return { message: error.message, exitCode: error.exitCode }
  const name = (error as { _tag?: string; name?: string } | null)?._tag ?? (error as Error | null)?.name ?? ""
  const message = error instanceof Error ? error.message : String(error)
  // A bad environment variable is a usage error, like a bad flag.
  if (name === "InvalidSetting" || name === "DatabaseSettingInvalid") return { message, exitCode: 2 }
  if (USER_FACING.has(name) || USER_FACING.has(error?.constructor?.name ?? "")) return { message, exitCode: 1 }
  return { message: `Unexpected error: ${message} (set AIDP_DEBUG=1 for details).`, exitCode: 1 }
}
