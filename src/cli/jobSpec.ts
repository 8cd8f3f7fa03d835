/**
 * What `aidp jobs enqueue` takes for one job, defined once ({@link ENQUEUE_FIELDS}): each
 * field's flag, help line and Effect Schema. The flags and every line of `--from FILE` (JSON
 * Lines) are decoded by the same schemas and refused with the same sentences. Pure: reading
 * prompt files and checking folders is enqueue.ts's.
 */
import * as Schema from "effect/Schema"
import * as SchemaGetter from "effect/SchemaGetter"
import { WORKTREE_KEY } from "../domain/changes.js"
import { STEP_RUNNER_KEY, WORKFLOW_ID_KEY, WORKFLOW_STEP_KEY } from "../domain/workflow.js"
import { type Budget, MAX_PROMPT_BYTES, PERMISSIONS, type Permissions, PermissionsSchema, PROVIDERS, type Provider, ProviderSchema } from "../domain/job.js"
import { formatBytes } from "../terminal/view/limit.js"
import { truncate } from "../terminal/view/text.js"
import { DOCUMENT_KEY } from "../workers/document.js"
import { UsageError } from "./errors.js"
import { BUDGET_HELP, DOLLARS, DOLLARS_EXPECTED, JOB_DEFAULTS, MAX_COST_USD, PERMISSIONS_HELP } from "./jobCommands.js"
import type { OptionHelp } from "./parse.js"

/** Longest time limit of one attempt, seconds (7 days). */
const MAX_TIMEOUT_S = 7 * 24 * 3600

/** One field of a job to enqueue: its flag's type, help line, schema and what a valid value is. */
interface Field<S extends Schema.Top> {
  /** meow's type of the flag (`--prompt-file` for `promptFile`). */
  readonly type: "string" | "number" | "boolean"
  readonly help: OptionHelp
  /** Decodes the value a line or the flag gives (any JSON value) into the field's type. */
  readonly schema: S
  /** Ends "… must be": what a valid value is, e.g. "a whole number from 1 to 100". */
  readonly expected: string
  /** Turns the flag's text into the value `schema` decodes (default: as given). */
  readonly fromFlag?: (text: string) => unknown
  /** Why a decoded value is refused anyway, ending "--flag …" as a sentence (default: never). */
  readonly refuse?: (value: S["Type"]) => string | undefined
}

const field = <S extends Schema.Top>(spec: Field<S>): Field<S> => spec

/** A string read in any case and with spaces around it, as one of `literals`. */
const AnyCase = <L extends Schema.Top & { readonly Encoded: string }>(literals: L) =>
  Schema.String.pipe(Schema.decodeTo(literals, {
    decode: SchemaGetter.transform((text: string) => text.trim().toLowerCase()),
    encode: SchemaGetter.transform((value: string) => value)
  }))

const Whole = (minimum: number, maximum: number) => Schema.Number.check(Schema.isInt(), Schema.isBetween({ minimum, maximum }))
const NotBlank = Schema.String.check(Schema.isPattern(/\S/))
/** Widest value quoted back in an error, columns. */
const QUOTED_COLUMNS = 80

/** A value as an error quotes it: JSON, cut to {@link QUOTED_COLUMNS} columns. */
const shown = (value: unknown): string => truncate(JSON.stringify(value) ?? String(value), QUOTED_COLUMNS)

/** Deepest nesting of `metadata`: objects and arrays inside one another (deeper ones overflow the stack of whatever walks them). */
export const MAX_METADATA_DEPTH = 32

/** How deeply `value` nests objects and arrays, counted up to `limit + 1` (an iterative walk: no recursion). */
const depthOf = (value: unknown, limit: number): number => {
  let deepest = 0
  const stack: Array<readonly [unknown, number]> = [[value, 1]]
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!
    if (typeof item !== "object" || item === null) continue
    deepest = Math.max(deepest, depth)
    if (deepest > limit) return deepest
    for (const child of Object.values(item)) stack.push([child, depth + 1])
  }
  return deepest
}

/**
 * Metadata keys aidp sets on the jobs of `aidp execute` and acts on (the step's document, which
 * a worker writes; the workflow and step the job belongs to): a job's own metadata may not claim them.
 */
export const RESERVED_METADATA_KEYS: ReadonlyArray<string> = [DOCUMENT_KEY, WORKFLOW_ID_KEY, WORKFLOW_STEP_KEY, STEP_RUNNER_KEY]

const JsonObject = Schema.Record(Schema.String, Schema.Unknown).check(
  Schema.makeFilter((value: Readonly<Record<string, unknown>>) => depthOf(value, MAX_METADATA_DEPTH) <= MAX_METADATA_DEPTH)
)
/** `--max-cost`: a JSON number, or decimal text as the flag gives it; above 0, at most 4 decimals. */
const Dollars = Schema.Union([
  Schema.Number,
  Schema.String.pipe(Schema.check(Schema.isPattern(DOLLARS)), Schema.decodeTo(Schema.Number, {
    decode: SchemaGetter.transform((text: string) => Number(text)),
    encode: SchemaGetter.transform((n: number) => String(n))
  }))
]).check(
  Schema.isGreaterThan(0),
  Schema.isLessThanOrEqualTo(MAX_COST_USD),
  Schema.makeFilter((n: number) => Math.round(n * 10_000) / 10_000 === n)
)

/**
 * Every field a job to enqueue may set, in help order. The key is a `--from` line's JSON
 * key; the flag is its kebab-case spelling (`maxAttempts` → `--max-attempts`). A new field is
 * one more entry here and its use in enqueue.ts (`toCommand`).
 */
export const ENQUEUE_FIELDS = {
  provider: field({
    type: "string",
    help: ["--provider P", `the agent CLI to run: ${PROVIDERS.join(", ")} (required)`],
    schema: AnyCase(ProviderSchema),
    expected: `one of ${PROVIDERS.join(", ")}`
  }),
  prompt: field({
    type: "string",
    help: ["--prompt TEXT", "what to ask the agent"],
    // PostgreSQL cannot store U+0000: refused rather than altered, as in a prompt file.
    schema: Schema.String.check(Schema.makeFilter((text: string) => !text.includes("\u0000") && Buffer.byteLength(text, "utf8") <= MAX_PROMPT_BYTES)),
    expected: `text without NUL characters (\\u0000), at most ${formatBytes(MAX_PROMPT_BYTES)}`
  }),
  promptFile: field({
    type: "string",
    help: ["--prompt-file F", "read the prompt from file F (- for stdin), relative to the current folder"],
    schema: NotBlank,
    expected: "a file's path"
  }),
  cwd: field({
    type: "string",
    help: ["--cwd DIR", "the directory the agent works in (default: the current one)"],
    schema: NotBlank,
    expected: "a directory's path"
  }),
  model: field({
    type: "string",
    help: ["--model M", "the provider's model name (default: the CLI's own default)"],
    schema: NotBlank.pipe(Schema.decodeTo(Schema.String, {
      decode: SchemaGetter.transform((text: string) => text.trim()),
      encode: SchemaGetter.transform((text: string) => text)
    })),
    expected: "a model name, not blank (leave it out for the CLI's default)"
  }),
  priority: field({
    type: "number",
    help: ["--priority N", `higher runs first, -1000 to 1000 (default ${JOB_DEFAULTS.priority})`],
    schema: Whole(-1000, 1000),
    expected: "a whole number from -1000 to 1000"
  }),
  maxAttempts: field({
    type: "number",
    help: ["--max-attempts N", `attempts before the job fails for good, 1 to 100 (default ${JOB_DEFAULTS.maxAttempts})`],
    schema: Whole(1, 100),
    expected: "a whole number from 1 to 100"
  }),
  timeout: field({
    type: "number",
    help: ["--timeout SECONDS", `one attempt's time limit (default ${JOB_DEFAULTS.timeoutMs / 1000}, i.e. ${JOB_DEFAULTS.timeoutMs / 60_000} min)`],
    schema: Whole(1, MAX_TIMEOUT_S),
    expected: `a whole number of seconds from 1 to ${MAX_TIMEOUT_S}`
  }),
  permissions: field({ type: "string", help: PERMISSIONS_HELP, schema: AnyCase(PermissionsSchema), expected: `one of ${PERMISSIONS.join(", ")}` }),
  maxCost: field({ type: "string", help: BUDGET_HELP[0]!, schema: Dollars, expected: DOLLARS_EXPECTED }),
  maxTurns: field({ type: "number", help: BUDGET_HELP[1]!, schema: Whole(1, 10_000), expected: "a whole number from 1 to 10000" }),
  worktree: field({
    type: "boolean",
    help: ["--worktree", "run in a git worktree of its own, on branch aidp/<first 8 of the job id> (default: AIDP_WORKTREE)"],
    // A line may also name the worktree, {"key": K}: jobs with one key share one worktree and branch.
    schema: Schema.Union([Schema.Boolean, Schema.Struct({ key: Schema.String.check(Schema.isPattern(WORKTREE_KEY)) })]),
    expected: `true, false or {"key": "a name"} (letters, digits, - and _; jobs with one key share a worktree)`
  }),
  retryTimeouts: field({
    type: "boolean",
    help: ["--retry-timeouts", "retry an attempt that ran past its time limit automatically (default: a person retries it)"],
    schema: Schema.Boolean,
    expected: "true or false"
  }),
  metadata: field({
    type: "string",
    help: ["--metadata JSON", "a JSON object stored with the job, shown by jobs show (default {})"],
    schema: JsonObject,
    expected: `a JSON object nested at most ${MAX_METADATA_DEPTH} deep, e.g. {"ticket": "ABC-1"}`,
    refuse: (value) => {
      const key = Object.keys(value).find((k) => RESERVED_METADATA_KEYS.includes(k))
      return key === undefined
        ? undefined
        : `may not set ${JSON.stringify(key)}: aidp sets ${RESERVED_METADATA_KEYS.join(", ")} itself on the jobs of aidp execute; choose another key.`
    },
    fromFlag: (text) => {
      try {
        return JSON.parse(text)
      } catch {
        return text
      }
    }
  })
} as const

/** The name of a field of {@link ENQUEUE_FIELDS}. */
export type FieldName = keyof typeof ENQUEUE_FIELDS

const FIELD_NAMES = Object.keys(ENQUEUE_FIELDS) as ReadonlyArray<FieldName>

/** A job as a line or the flags give it: every field optional, each decoded by its schema. */
export type JobSpec = { readonly [K in FieldName]?: (typeof ENQUEUE_FIELDS)[K]["schema"]["Type"] }

/** meow's flag definitions of the fields (no defaults: a flag left out is absent, so a line's own value or the default applies). */
export const enqueueFlags = (): { [K in FieldName]: { readonly type: (typeof ENQUEUE_FIELDS)[K]["type"] } } =>
  Object.fromEntries(FIELD_NAMES.map((name) => [name, { type: ENQUEUE_FIELDS[name].type }])) as never

/** The fields' help lines, in order. */
export const enqueueHelp = (): ReadonlyArray<OptionHelp> => FIELD_NAMES.map((name) => ENQUEUE_FIELDS[name].help)

const kebab = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)

/** Where a spec comes from, for the sentences about it: the flags or one `--from` line. */
export interface SpecSource {
  /** How it spells a field: `--prompt-file` (flags) or `"promptFile"` (a line). */
  readonly spell: (name: FieldName) => string
  /** Whether a sentence about a bad value repeats it (a number flag's is on the line the user just typed). */
  readonly shows: (name: FieldName) => boolean
  /** How a sentence about missing fields ends, with its full stop: the usage, or the flags that give every line one. */
  readonly missing: (names: ReadonlyArray<FieldName>) => string
}

/** The flags as a {@link SpecSource}; a missing field's sentence ends with `usage`. */
export const flagSource = (usage: string): SpecSource => ({
  spell: (name) => `--${kebab(name)}`,
  shows: (name) => ENQUEUE_FIELDS[name].type !== "number",
  missing: () => `. Usage: ${usage}`
})

/** A `--from` line as a {@link SpecSource}: a missing field may come from its flag instead. */
export const LINE_SOURCE: SpecSource = {
  spell: (name) => JSON.stringify(name),
  shows: () => true,
  missing: (names) => `, in the line or as ${names.map((name) => `--${kebab(name)}`).join(" / ")} for every line.`
}

/**
 * Decodes `raw` (a line's object, or the flags given) field by field. Absent or null values
 * are left out. Throws UsageError naming the field, what it must be and what was given, or
 * an unknown key and the known ones.
 */
const decodeSpec = (raw: Readonly<Record<string, unknown>>, source: SpecSource): JobSpec => {
  const spec: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined || value === null) continue
    if (!Object.hasOwn(ENQUEUE_FIELDS, key)) {
      throw new UsageError(`Unknown field ${JSON.stringify(key)}; the fields are ${FIELD_NAMES.join(", ")}.`)
    }
    const name = key as FieldName
    const result = Schema.decodeUnknownResult(ENQUEUE_FIELDS[name].schema as never)(value)
    if (result._tag === "Failure") {
      throw new UsageError(`${source.spell(name)} must be ${ENQUEUE_FIELDS[name].expected}${source.shows(name) ? `; got ${shown(value)}` : ""}.`)
    }
    const refusal = (ENQUEUE_FIELDS[name] as { readonly refuse?: (value: unknown) => string | undefined }).refuse?.(result.success)
    if (refusal !== undefined) throw new UsageError(`${source.spell(name)} ${refusal}`)
    spec[name] = result.success
  }
  return spec as JobSpec
}

/** The flags `cli` was given (meow's result, camelCase keys) as a spec; throws UsageError naming a bad flag. */
export const flagSpec = (flags: Readonly<Record<string, unknown>>, usage: string): JobSpec =>
  decodeSpec(
    Object.fromEntries(FIELD_NAMES.flatMap((name) => {
      const value = flags[name]
      const fromFlag = ENQUEUE_FIELDS[name].fromFlag
      // An unset switch is `false` to meow: absent, so that a line's own value applies.
      if (value === undefined || value === false) return []
      return [[name, fromFlag && typeof value === "string" ? fromFlag(value) : value]]
    })),
    flagSource(usage)
  )

/** One job of a `--from` text: its 1-based line number and what the line says. */
export interface JobLine {
  readonly line: number
  readonly spec: JobSpec
}

/** Prefixes a UsageError thrown by `body` with `Line N of SOURCE: `; other errors pass. */
export const atLine = <A>(line: number, source: string, body: () => A): A => {
  try {
    return body()
  } catch (error) {
    if (error instanceof UsageError) throw new UsageError(`Line ${line} of ${source}: ${error.message.charAt(0).toLowerCase()}${error.message.slice(1)}`)
    throw error
  }
}

/**
 * Reads JSON Lines text (from `source`, a file's name or "stdin"): one JSON object per line,
 * blank lines skipped, `\r\n` endings accepted. Throws UsageError naming the first bad line.
 */
export const parseJobLines = (text: string, source: string): Array<JobLine> => {
  const jobs: Array<JobLine> = []
  text.split("\n").forEach((raw, index) => {
    if (raw.trim() === "") return
    const line = index + 1
    atLine(line, source, () => {
      let value: unknown
      try {
        value = JSON.parse(raw)
      } catch (error) {
        throw new UsageError(`not JSON (${error instanceof Error ? error.message : String(error)}); write one JSON object per line, e.g. {"provider": "claude", "prompt": "Fix the tests."}.`)
      }
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new UsageError(`not a JSON object; write one object per line, e.g. {"provider": "claude", "prompt": "Fix the tests."}.`)
      }
      jobs.push({ line, spec: decodeSpec(value as Record<string, unknown>, LINE_SOURCE) })
    })
  })
  return jobs
}

/**
 * A line's spec over the flags' `defaults`: the line's own fields win. The prompt is one
 * choice: a line with `prompt` or `promptFile` replaces both of the defaults'.
 */
export const withDefaults = (defaults: JobSpec, line: JobSpec): JobSpec => {
  const ownPrompt = line.prompt !== undefined || line.promptFile !== undefined
  const { prompt, promptFile, ...rest } = defaults
  return { ...rest, ...(ownPrompt ? {} : { prompt, promptFile }), ...line }
}

/** A complete job to enqueue: the spec with the required fields checked and the defaults applied. */
export interface JobRequest {
  readonly provider: Provider
  /** The prompt itself, or the file (`-`: stdin) to read it from. */
  readonly prompt: { readonly text: string } | { readonly file: string }
  /** As given, not resolved (default: the current folder). */
  readonly cwd: string | undefined
  readonly model: string | null
  readonly priority: number
  readonly maxAttempts: number
  readonly timeoutMs: number
  /** Absent: AIDP_PERMISSIONS decides. */
  readonly permissions: Permissions | undefined
  readonly retryTimeouts: boolean
  readonly metadata: Readonly<Record<string, unknown>>
  /** One execution's limits (claude only); absent fields: no limit. */
  readonly budget: Budget
  /** `--worktree` / a line's `worktree`: true, false, or a shared key; absent: AIDP_WORKTREE decides. */
  readonly worktree: boolean | { readonly key: string } | undefined
}

/**
 * Checks that `spec` names a provider and exactly one of prompt / promptFile, and fills in
 * the defaults. Throws UsageError naming what is missing, spelled as `source` spells it.
 */
export const completeSpec = (spec: JobSpec, source: SpecSource): JobRequest => {
  if (spec.provider === undefined) {
    throw new UsageError(`Missing ${source.spell("provider")} (one of ${PROVIDERS.join(", ")})${source.missing(["provider"])}`)
  }
  if ((spec.prompt === undefined) === (spec.promptFile === undefined)) {
    throw new UsageError(`Give exactly one of ${source.spell("prompt")} or ${source.spell("promptFile")}${source.missing(["prompt", "promptFile"])}`)
  }
  return {
    provider: spec.provider,
    prompt: spec.prompt !== undefined ? { text: spec.prompt } : { file: spec.promptFile! },
    cwd: spec.cwd,
    model: spec.model ?? null,
    priority: spec.priority ?? JOB_DEFAULTS.priority,
    maxAttempts: spec.maxAttempts ?? JOB_DEFAULTS.maxAttempts,
    timeoutMs: (spec.timeout ?? JOB_DEFAULTS.timeoutMs / 1000) * 1000,
    permissions: spec.permissions,
    retryTimeouts: spec.retryTimeouts ?? false,
    metadata: spec.metadata ?? {},
    budget: { maxCostUsd: spec.maxCost, maxTurns: spec.maxTurns },
    worktree: spec.worktree
  }
}
