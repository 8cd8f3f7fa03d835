/**
 * Argument parsing for one subcommand, with meow: unknown flags are refused (exit 2),
 * `--help` prints the subcommand's help.
 */
import meow, { type AnyFlags, type Result } from "meow"
import { UsageError } from "./errors.js"

const kebab = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)

/**
 * Parses `argv` (the words after the subcommand) against `flags`; `help` is shown for --help.
 * Unknown flags and meow's own complaints become a UsageError (one sentence, exit 2): meow's
 * built-in check would print a bare list and exit by itself.
 */
export const parseArgs = <F extends AnyFlags>(help: string, argv: ReadonlyArray<string>, flags: F): Result<F> => {
  let result: Result<F>
  try {
    result = meow(help, {
      importMeta: import.meta,
      argv: [...argv],
      flags,
      allowUnknownFlags: true,
      autoVersion: false,
      description: false
    })
  } catch (error) {
    throw new UsageError(`${error instanceof Error ? error.message.split("\n")[0] : String(error)} Run with --help for the options.`)
  }
  const known = new Set<string>(["help"])
  for (const [name, spec] of Object.entries(flags)) {
    known.add(name)
    const { shortFlag, aliases, type } = spec as { shortFlag?: string; aliases?: ReadonlyArray<string>; type?: string }
    if (shortFlag) known.add(shortFlag)
    for (const alias of aliases ?? []) known.add(alias)
    if (type !== "boolean") {
      // yargs drops a number flag without a value, and gives a string one "": both are mistakes.
      const spellings = new Set([`--${kebab(name)}`, `--${name}`, ...(shortFlag ? [`-${shortFlag}`] : [])])
      const at = argv.findIndex((word) => spellings.has(word))
      const next = at === -1 ? undefined : argv[at + 1]
      if (at !== -1 && (next === undefined || (next.startsWith("-") && !/^-\d/.test(next)))) {
        throw new UsageError(`${argv[at]} needs a value. Run with --help for the options.`)
      }
      if (type === "number") checkDecimal(argv, spellings)
    }
  }
  const unknown = Object.keys(result.unnormalizedFlags).filter((name) => !known.has(name))
  if (unknown.length > 0) {
    const tokenOf = (name: string): string =>
      argv.find((word) => {
        const bare = word.replace(/^--?/, "").replace(/=.*$/s, "")
        return word.startsWith("-") && [bare, bare.replace(/^no-/, "")].some((b) => b === name || b.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) === name)
      })?.replace(/=.*$/s, "") ?? (name.length === 1 ? `-${name}` : `--${kebab(name)}`)
    const shown = unknown.map(tokenOf)
    const options = Object.keys(flags).map((name) => `--${kebab(name)}`)
    throw new UsageError(
      `Unknown option${shown.length > 1 ? "s" : ""} ${shown.join(", ")}; ${options.length > 0 ? `the options are ${options.join(", ")}` : "this command takes no options"} (see --help).`
    )
  }
  return result
}

/**
 * Refuses a number flag whose value is not a whole number in plain decimal digits (an
 * optional minus sign, then digits): yargs would read `0x10` as 16 and `1e2` as 100.
 */
const checkDecimal = (argv: ReadonlyArray<string>, spellings: ReadonlySet<string>): void => {
  argv.forEach((word, i) => {
    const [flag, inline] = word.includes("=") ? [word.slice(0, word.indexOf("=")), word.slice(word.indexOf("=") + 1)] : [word, undefined]
    if (!spellings.has(flag)) return
    const value = inline ?? argv[i + 1]
    if (value !== undefined && !/^-?\d+$/.test(value)) {
      throw new UsageError(`${flag} must be a whole number in decimal digits (e.g. ${flag} 3); got ${JSON.stringify(value)}.`)
    }
  })
}

/** Reads an optional integer flag in [min, max]; throws UsageError naming the flag. */
export const intFlag = (name: string, value: number | undefined, min: number, max: number): number | undefined => {
  if (value === undefined) return undefined
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}.`)
  }
  return value
}

/** Checks a flag value is one of `allowed`; throws UsageError listing them. */
export const oneOf = <T extends string>(name: string, value: string | undefined, allowed: ReadonlyArray<T>): T | undefined => {
  if (value === undefined) return undefined
  if (!(allowed as ReadonlyArray<string>).includes(value)) {
    throw new UsageError(`--${name} must be one of ${allowed.join(", ")}; got ${JSON.stringify(value)}.`)
  }
  return value as T
}

/** Refuses extra positional words. */
export const noMoreArgs = (input: ReadonlyArray<string>, expected: number, usage: string): void => {
  if (input.length > expected) throw new UsageError(`Unexpected argument ${JSON.stringify(input[expected])}. Usage: ${usage}`)
}

const RELATIVE = /^(\d+)(s|m|h|d|w)$/
const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

/**
 * Reads a time flag: ISO 8601 (`2026-11-29`, `2026-11-29T10:00Z`) or a span before `now`
 * (`30m`, `2h`, `7d`). Throws UsageError naming the flag.
 */
export const timeFlag = (name: string, value: string | undefined, now: Date): Date | undefined => {
  if (value === undefined) return undefined
  const relative = RELATIVE.exec(value.trim())
  if (relative) return new Date(now.getTime() - Number(relative[1]) * UNIT_MS[relative[2]!]!)
  const date = new Date(value)
  if (Number.isNaN(date.getTime())) {
    throw new UsageError(`--${name} must be an ISO 8601 time (2026-11-29T10:00Z) or a span ago (30m, 2h, 7d); got ${JSON.stringify(value)}.`)
  }
  return date
}

/** Reads an optional text flag that must not be blank (e.g. --model); throws UsageError naming it. */
export const textFlag = (name: string, value: string | undefined): string | undefined => {
  if (value === undefined) return undefined
  if (value.trim() === "") throw new UsageError(`--${name} needs a value; leave the flag out to use the default.`)
  return value.trim()
}
