/**
 * aidp's environment variables (DESIGN.md, Environment), decoded with Effect Schema at
 * start. An invalid value is rejected with one sentence naming the variable; the database
 * variables are read by `database.ts`.
 */
import * as Schema from "effect/Schema"
import * as SchemaGetter from "effect/SchemaGetter"
import { DEFAULT_PERMISSIONS, PERMISSIONS, type Permissions, PermissionsSchema, PROVIDERS, type Provider } from "../domain/job.js"
import { spanMs } from "../domain/span.js"

/** Settings read from the environment (besides the database's). */
export interface Settings {
  /** QUE_WORKER_COUNT: worker fibers per worker process (default 1). */
  readonly workerCount: number
  /** AIDP_DEBUG=1: debug logging. */
  readonly debug: boolean
  /** AIDP_LOG_FILE: pino JSON logs are appended there. */
  readonly logFile: string | null
  /** AIDP_WORKER_LEASE_MS: a worker silent this long is presumed lost (default 30000 ms). */
  readonly leaseMs: number
  /** AIDP_PERMISSIONS: what a new job's agent may do when `--permissions` is not given (default edit). */
  readonly permissions: Permissions
  /** AIDP_<PROVIDER>_CONCURRENCY: most running jobs of a provider across all workers (absent: no limit). */
  readonly concurrency: ProviderLimits
  /** AIDP_RETENTION: `aidp worker` prunes finished jobs that ended longer ago than this once a day, ms (null: never). */
  readonly retentionMs: number | null
  /** AIDP_WORKTREE=1: new jobs run in a git worktree of their own unless they say otherwise (`--worktree`'s default). */
  readonly worktree: boolean
}

/** Most running jobs per provider, across every worker sharing the database; a provider absent has no limit. */
export type ProviderLimits = Readonly<Partial<Record<Provider, number>>>

/** The variable that limits each provider's running jobs (unset: no limit). */
export const CONCURRENCY_VARS: Readonly<Record<Provider, string>> = {
  claude: "AIDP_CLAUDE_CONCURRENCY",
  gemini: "AIDP_GEMINI_CONCURRENCY",
  cursor: "AIDP_CURSOR_CONCURRENCY"
}

/** An environment variable has a value aidp cannot use. `message` names it and what is expected. */
export class InvalidSetting extends Schema.TaggedError<InvalidSetting>()("InvalidSetting", {
  message: Schema.String
}) {}

/**
 * A whole number written in plain decimal digits, from `min` to `max`. `Number()` alone
 * would take `0x10`, `1e2`, `0b11` or ` 7 ` too.
 */
const DecimalInt = (min: number, max: number) =>
  Schema.String.pipe(
    Schema.check(Schema.isPattern(/^\d+$/)),
    Schema.decodeTo(Schema.Number.check(Schema.isInt(), Schema.isBetween({ minimum: min, maximum: max })), {
      decode: SchemaGetter.transform((text: string) => Number(text)),
      encode: SchemaGetter.transform((n: number) => String(n))
    })
  )
/** Most workers one process runs (each may hold a provider CLI and a database connection). */
export const MAX_WORKER_COUNT = 256
/** Shortest lease, ms: below it a worker under load misses beats and abandons its own healthy jobs. */
export const MIN_LEASE_MS = 2_000
/** Longest lease, ms (one day). */
export const MAX_LEASE_MS = 86_400_000
/** Highest per-provider concurrency limit. */
export const MAX_CONCURRENCY = 10_000
const WorkerCount = DecimalInt(1, MAX_WORKER_COUNT)
const Concurrency = DecimalInt(1, MAX_CONCURRENCY)
const LeaseMs = DecimalInt(MIN_LEASE_MS, MAX_LEASE_MS)
/** Shortest AIDP_RETENTION, ms: a day (a prune is meant for old history, not the day's work). */
export const MIN_RETENTION_MS = 86_400_000
/** Longest AIDP_RETENTION, ms: 100 years (a longer one would reach back before the year 1). */
export const MAX_RETENTION_MS = 36_500 * 86_400_000
/** A span from a day to 100 years in hours, days or weeks, e.g. `90d`, `12w`, `48h`, as ms. */
const Retention = Schema.String.pipe(
  Schema.check(
    Schema.isPattern(/^\d+[hdw]$/),
    Schema.makeFilter((text: string) => (spanMs(text) ?? 0) >= MIN_RETENTION_MS && (spanMs(text) ?? 0) <= MAX_RETENTION_MS)
  ),
  Schema.decodeTo(Schema.Number, {
    decode: SchemaGetter.transform((text: string) => spanMs(text)!),
    encode: SchemaGetter.transform((ms: number) => `${ms / 1_000}s`)
  })
)
const Flag = Schema.Literals(["0", "1"])
const NonEmpty = Schema.String.check(Schema.isNonEmpty())
const NotBlank = Schema.String.check(Schema.isPattern(/\S/))

const read = <S extends Schema.Top & { readonly DecodingServices: never }>(
  env: NodeJS.ProcessEnv,
  name: string,
  schema: S,
  expected: string
): S["Type"] | undefined => {
  const raw = env[name]
  if (raw === undefined) return undefined
  try {
    return Schema.decodeUnknownSync(schema as never)(raw) as S["Type"]
  } catch {
    throw new InvalidSetting({ message: `Invalid ${name}=${JSON.stringify(raw)}: expected ${expected}.` })
  }
}

/**
 * Reads and validates {@link Settings} from `env`. Integers are plain decimal digits (no sign,
 * spaces, `0x`, exponent). Throws InvalidSetting, e.g. `Invalid QUE_WORKER_COUNT="0x10":
 * expected a whole number from 1 to 256 in decimal digits, e.g. QUE_WORKER_COUNT=4.`
 */
export const readSettings = (env: NodeJS.ProcessEnv): Settings => {
  const debug = read(env, "AIDP_DEBUG", Flag, "1 (debug logging) or 0, or leave it unset")
  return {
    workerCount: read(env, "QUE_WORKER_COUNT", WorkerCount, `a whole number from 1 to ${MAX_WORKER_COUNT} in decimal digits, e.g. QUE_WORKER_COUNT=4`) ?? 1,
    debug: debug === "1",
    logFile: read(env, "AIDP_LOG_FILE", NonEmpty, "a file path") ?? null,
    leaseMs: read(env, "AIDP_WORKER_LEASE_MS", LeaseMs, `milliseconds from ${MIN_LEASE_MS} to ${MAX_LEASE_MS} in decimal digits, e.g. AIDP_WORKER_LEASE_MS=30000`) ?? 30_000,
    permissions: read(env, "AIDP_PERMISSIONS", PermissionsSchema, `one of ${PERMISSIONS.join(", ")}`) ?? DEFAULT_PERMISSIONS,
    concurrency: readLimits(env),
    retentionMs: read(env, "AIDP_RETENTION", Retention, "a span from a day to 100 years, a whole number and a unit (h, d, w), e.g. AIDP_RETENTION=90d") ?? null,
    worktree: read(env, "AIDP_WORKTREE", Flag, "1 (new jobs run in a git worktree of their own) or 0, or leave it unset") === "1"
  }
}

/** The AIDP_<PROVIDER>_CONCURRENCY limits that are set. Throws InvalidSetting. */
const readLimits = (env: NodeJS.ProcessEnv): ProviderLimits => {
  const limits: Partial<Record<Provider, number>> = {}
  for (const provider of PROVIDERS) {
    const name = CONCURRENCY_VARS[provider]
    const limit = read(env, name, Concurrency, `a whole number from 1 to ${MAX_CONCURRENCY} in decimal digits (unset: no limit), e.g. ${name}=2`)
    if (limit !== undefined) limits[provider] = limit
  }
  return limits
}

/** Provider executable variables (PROVIDERS.md); an empty or blank value is rejected. */
export const PROVIDER_BIN_VARS = ["AIDP_CLAUDE_BIN", "AIDP_GEMINI_BIN", "AIDP_CURSOR_BIN"] as const

/** Checks the provider executable variables are not empty or blank when set. Throws InvalidSetting. */
export const checkProviderBins = (env: NodeJS.ProcessEnv): void => {
  for (const name of PROVIDER_BIN_VARS) read(env, name, NotBlank, "the name or path of an executable, or leave it unset for the default")
}
