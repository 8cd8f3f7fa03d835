/**
 * Asking for help: whether a command line asks for it, and the error that carries the help
 * text to main. Apart from parse.ts (and meow) so that main can answer without loading them.
 */

/**
 * Thrown by parseArgs (parse.ts) when the user asked for help: the command stops before doing
 * anything, and main prints `text` on stdout and exits 0.
 */
export class HelpRequested extends Error {
  constructor(readonly text: string) {
    super("help requested")
  }
}

/** Whether `argv` asks for help: `--help` or `-h` anywhere before a `--` (words after it are positional). */
export const wantsHelp = (argv: ReadonlyArray<string>): boolean => {
  const end = argv.indexOf("--")
  return (end === -1 ? argv : argv.slice(0, end)).some((word) => word === "--help" || word === "-h")
}
