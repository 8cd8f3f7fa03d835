/**
 * Argument parsing for one subcommand, with meow: `--help`/`-h` anywhere before `--` asks for
 * the subcommand's help and nothing else; unknown flags are refused (exit 2).
 */
import meow, { type AnyFlags, type Result } from "meow"
import { localClockTime, spanMs } from "../domain/span.js"
import { wrap } from "../terminal/view/text.js"
import { UsageError } from "./errors.js"
import { HelpRequested, wantsHelp } from "./helpRequest.js"

const kebab = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)

/** One option of a help text: how it is written (`--limit N`) and what it does, with its default. */
export type OptionHelp = readonly [spelling: string, description: string]

/**
 * A command's help: its usage line(s), what it does, every option it takes (each flag the
 * command parses must appear here; `-h, --help` is added) and optional closing notes.
 */
export interface CommandHelp {
  readonly usage: string | ReadonlyArray<string>
  readonly about: string
  readonly options?: ReadonlyArray<OptionHelp>
  readonly notes?: string
}

/** Width (columns) help paragraphs are wrapped to, whatever the terminal: help is read, not laid out. */
const HELP_WIDTH = 92

/**
 * `help` as printed: usage, the description wrapped to 92 columns, the options in aligned
 * columns (descriptions wrapped under themselves), then the notes as written.
 */
export const helpText = (help: CommandHelp): string => {
  const usage = typeof help.usage === "string" ? [help.usage] : help.usage
  const options: ReadonlyArray<OptionHelp> = [...(help.options ?? []), ["-h, --help", "show this help and do nothing else"]]
  const width = Math.max(...options.map(([spelling]) => spelling.length))
  const option = ([spelling, text]: OptionHelp) =>
    wrap(text, HELP_WIDTH - width - 4).map((line, index) => `  ${(index === 0 ? spelling : "").padEnd(width)}  ${line}`).join("\n")
  return [
    `Usage\n${usage.map((line) => `  ${line}`).join("\n")}`,
    wrap(help.about.trim().replace(/\s*\n\s*/g, " "), HELP_WIDTH).join("\n"),
    `Options\n${options.map(option).join("\n")}`,
    ...(help.notes ? [help.notes.trim()] : [])
  ].join("\n\n") + "\n"
}

/**
 * Throws {@link HelpRequested} with `help` when `argv` asks for it. A help that does not name
 * one of `flags` is a bug (the flag was added without its help line): throws an Error then.
 */
export const answerHelp = (help: CommandHelp, argv: ReadonlyArray<string>, flags: AnyFlags = {}): void => {
  if (!wantsHelp(argv)) return
  const named = (help.options ?? []).map(([spelling]) => spelling).join(" ")
  const missing = Object.keys(flags).filter((name) => !new RegExp(`--${kebab(name)}\\b`).test(named))
  if (missing.length > 0) throw new Error(`The help of "${typeof help.usage === "string" ? help.usage : help.usage[0]}" does not name --${missing.map(kebab).join(", --")}.`)
  throw new HelpRequested(helpText(help))
}

/**
 * Parses `argv` (the words after the subcommand) against `flags`. `--help`/`-h` before `--`
 * throws {@link HelpRequested} with `help`, whatever else is on the line. Unknown flags and
 * meow's own complaints become a UsageError (one sentence, exit 2): meow's built-in check
 * would print a bare list and exit by itself.
 */
export const parseArgs = <F extends AnyFlags>(help: CommandHelp, argv: ReadonlyArray<string>, flags: F): Result<F> => {
  answerHelp(help, argv, flags)
  // meow refuses a repeated value flag in its own words (camelCase); a repeated switch it takes silently.
  for (const [name, count] of flagUses(argv, flags)) {
    if (count > 1 && (flags[name] as { isMultiple?: boolean }).isMultiple !== true) {
      throw new UsageError(`--${kebab(name)} is given ${count} times; give it once.`)
    }
  }
  let result: Result<F>
  try {
    result = meow({
      importMeta: import.meta,
      argv: joinDashValues(argv, flags),
      flags,
      allowUnknownFlags: true,
      autoHelp: false,
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
    if (type === "boolean") {
      // yargs reads `--detach=1` or `--json=false` as a boolean it then ignores: a switch takes no value.
      const end = argv.indexOf("--")
      const given = argv.find((word, index) =>
        (end === -1 || index < end) && [kebab(name), name].some((spelling) => word.startsWith(`--${spelling}=`) || word.startsWith(`--no-${spelling}=`)))
      if (given !== undefined) throw new UsageError(`${given.replace(/=.*$/s, "")} is a switch and takes no value (got ${JSON.stringify(given)}). Run with --help for the options.`)
    } else {
      // yargs drops a number flag without a value, and gives a string one "": both are mistakes.
      const spellings = new Set([`--${kebab(name)}`, `--${name}`, ...(shortFlag ? [`-${shortFlag}`] : [])])
      const end = argv.indexOf("--")
      const at = argv.findIndex((word, index) => spellings.has(word) && (end === -1 || index < end))
      const next = at === -1 ? undefined : argv[at + 1]
      if (at !== -1 && (next === undefined || next === "--" || (next.startsWith("-") && next !== "-" && !/^-\d/.test(next)))) {
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
 * How many times `argv` gives each of `flags` (camelCase names) before `--`: as `--name`,
 * `--name=V`, `--no-name` (kebab-case or camelCase) or its short flag. Flags not given are absent.
 */
export const flagUses = (argv: ReadonlyArray<string>, flags: AnyFlags): Map<string, number> => {
  const end = argv.indexOf("--")
  const uses = new Map<string, number>()
  for (const [name, spec] of Object.entries(flags)) {
    const { shortFlag } = spec as { shortFlag?: string }
    const spellings = new Set([kebab(name), name].flatMap((spelling) => [`--${spelling}`, `--no-${spelling}`]))
    if (shortFlag) spellings.add(`-${shortFlag}`)
    const count = argv.filter((word, index) => (end === -1 || index < end) && spellings.has(word.replace(/=.*$/s, ""))).length
    if (count > 0) uses.set(name, count)
  }
  return uses
}

/**
 * The first flag `argv` gives (before `--`) that is not one of `used`, spelled `--kebab-case`
 * (undefined when there is none): what a form of a command would otherwise ignore.
 */
export const unusedFlag = (argv: ReadonlyArray<string>, flags: AnyFlags, used: ReadonlyArray<string>): string | undefined => {
  const given = [...flagUses(argv, flags).keys()].filter((name) => !used.includes(name))
  return given.length === 0 ? undefined : `--${kebab(given[0]!)}`
}

/**
 * `argv` with a value flag followed by a lone `-` (stdin, as in `--prompt-file -`) or by a
 * value that starts with `-` and a digit (`--since -5m`) written as `--flag=VALUE`: the parser
 * would otherwise take `-` for a positional argument and `-5m` for the options -5 and -m.
 */
const joinDashValues = (argv: ReadonlyArray<string>, flags: AnyFlags): Array<string> => {
  const takesValue = (word: string): boolean =>
    Object.entries(flags).some(([name, spec]) => {
      const { shortFlag, type } = spec as { shortFlag?: string; type?: string }
      return type !== "boolean" && (word === `--${kebab(name)}` || word === `--${name}` || (shortFlag !== undefined && word === `-${shortFlag}`))
    })
  const end = argv.indexOf("--")
  const words: Array<string> = []
  for (let i = 0; i < argv.length; i += 1) {
    const word = argv[i]!
    const next = argv[i + 1]
    if (next !== undefined && (next === "-" || /^-\d/.test(next)) && (end === -1 || i < end) && takesValue(word)) {
      words.push(`${word}=${next}`)
      i += 1
    } else words.push(word)
  }
  return words
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

/**
 * Reads a flag value that must be one of `allowed`, in any case (`--status FAILED` is
 * `failed`, as `--step` takes any case); returns the allowed spelling. Throws UsageError
 * listing them.
 */
export const oneOf = <T extends string>(name: string, value: string | undefined, allowed: ReadonlyArray<T>): T | undefined => {
  if (value === undefined) return undefined
  const found = allowed.find((candidate) => candidate.toLowerCase() === value.trim().toLowerCase())
  if (found === undefined) {
    throw new UsageError(`--${name} must be one of ${allowed.join(", ")}; got ${JSON.stringify(value)}.`)
  }
  return found
}

/** A command's usage on one line (several forms joined with " | "), for error messages. */
export const usageLine = (help: CommandHelp): string => (typeof help.usage === "string" ? help.usage : help.usage.join(" | "))

/** Refuses extra positional words. */
export const noMoreArgs = (input: ReadonlyArray<string>, expected: number, usage: string | CommandHelp): void => {
  const line = typeof usage === "string" ? usage : usageLine(usage)
  if (input.length > expected) throw new UsageError(`Unexpected argument ${JSON.stringify(input[expected])}. Usage: ${line}`)
}

/** The times a time flag may name, ms since the epoch: the years 1 to 9999 (PostgreSQL and ISO 8601 both read them). */
const EARLIEST_TIME = Date.parse("0001-01-01T00:00:00Z")
const LATEST_TIME = Date.parse("9999-12-31T23:59:59.999Z")

/** Whether year-month-day is a day of the calendar (not February 30, not month 13). */
const realDay = (year: number, month: number, day: number): boolean => {
  const date = new Date(0)
  date.setUTCFullYear(year, month - 1, day)
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day
}

/**
 * Reads a time flag: ISO 8601 (`2026-11-29`, `2026-11-29T10:00Z`), a span before `now`
 * (`30m`, `2h`, `7d`) or a local clock time (`15:00`, `yesterday 15:00`). Throws UsageError
 * naming the flag.
 */
export const timeFlag = (name: string, value: string | undefined, now: Date): Date | undefined => {
  if (value === undefined) return undefined
  if (/^-\d+[a-z]$/.test(value.trim())) {
    throw new UsageError(`--${name} ${value.trim()} is not a span: a span ago is a positive number and a unit, e.g. --${name} ${value.trim().slice(1)}.`)
  }
  const relative = spanMs(value)
  if (relative === 0) throw new UsageError(`--${name} ${value.trim()} is not a span: a span ago is a positive number and a unit, e.g. --${name} 1h.`)
  const calendar = /^(\d{4})-(\d{2})-(\d{2})/.exec(value.trim())
  if (calendar && !realDay(Number(calendar[1]), Number(calendar[2]), Number(calendar[3]))) {
    throw new UsageError(`--${name} ${value.trim()} names a day the calendar does not have; write a real date, e.g. ${calendar[1]}-${calendar[2]}-01.`)
  }
  const date = relative !== null ? new Date(now.getTime() - relative) : localClockTime(value, now) ?? new Date(value)
  if (relative !== null && !(date.getTime() >= EARLIEST_TIME)) {
    throw new UsageError(`--${name} ${value.trim()} reaches back before the year 1; write a shorter span (30m, 2h, 7d) or an ISO 8601 time.`)
  }
  if (Number.isNaN(date.getTime())) {
    throw new UsageError(`--${name} must be an ISO 8601 time (2026-11-29T10:00Z), a span ago (30m, 2h, 7d) or a local time (15:00, yesterday 15:00); got ${JSON.stringify(value)}.`)
  }
  if (date.getTime() < EARLIEST_TIME || date.getTime() > LATEST_TIME) {
    throw new UsageError(`--${name} ${JSON.stringify(value)} is outside the years 1 to 9999; write a time within them.`)
  }
  return date
}

/** As {@link timeFlag}, for a flag that names a moment already past (`--at`, `--older-than`): a future one is a UsageError. */
export const pastTimeFlag = (name: string, value: string | undefined, now: Date): Date | undefined => {
  const date = timeFlag(name, value, now)
  if (date !== undefined && date > now) {
    throw new UsageError(`--${name} ${value!.trim()} is in the future; give a past time: a span ago (2h, 90d), an ISO 8601 time or a local time (15:00, yesterday 15:00).`)
  }
  return date
}

/** Reads an optional text flag that must not be blank (e.g. --model); throws UsageError naming it. */
export const textFlag = (name: string, value: string | undefined): string | undefined => {
  if (value === undefined) return undefined
  if (value.trim() === "") throw new UsageError(`--${name} needs a value; leave the flag out to use the default.`)
  return value.trim()
}
