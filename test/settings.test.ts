/**
 * Strict settings (issue 6, item 5), table-driven over readSettings: integers are plain
 * decimal digits, the worker count and the lease have their ranges, and each refusal names
 * the variable and what to write instead.
 */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { MAX_LEASE_MS, MAX_WORKER_COUNT, MIN_LEASE_MS, readSettings, type Settings } from "../src/config/env.js"

const accepted: ReadonlyArray<readonly [NodeJS.ProcessEnv, Partial<Settings>]> = [
  [{}, { workerCount: 1, leaseMs: 30_000, debug: false, logFile: null, retentionMs: null }],
  [{ AIDP_RETENTION: "90d" }, { retentionMs: 90 * 86_400_000 }],
  [{ AIDP_RETENTION: "2w" }, { retentionMs: 14 * 86_400_000 }],
  [{ AIDP_RETENTION: "24h" }, { retentionMs: 86_400_000 }],
  [{ AIDP_RETENTION: "36500d" }, { retentionMs: 36_500 * 86_400_000 }],
  [{ QUE_WORKER_COUNT: "4" }, { workerCount: 4 }],
  [{ QUE_WORKER_COUNT: "1" }, { workerCount: 1 }],
  [{ QUE_WORKER_COUNT: String(MAX_WORKER_COUNT) }, { workerCount: MAX_WORKER_COUNT }],
  [{ QUE_WORKER_COUNT: "08" }, { workerCount: 8 }],
  [{ AIDP_WORKER_LEASE_MS: String(MIN_LEASE_MS) }, { leaseMs: MIN_LEASE_MS }],
  [{ AIDP_WORKER_LEASE_MS: "60000" }, { leaseMs: 60_000 }],
  [{ AIDP_WORKER_LEASE_MS: String(MAX_LEASE_MS) }, { leaseMs: MAX_LEASE_MS }],
  [{ AIDP_DEBUG: "1", AIDP_LOG_FILE: "/tmp/aidp.log" }, { debug: true, logFile: "/tmp/aidp.log" }],
  [{ AIDP_DEBUG: "0" }, { debug: false }]
]

const refused: ReadonlyArray<readonly [string, string, RegExp]> = [
  ...["0x10", "1e2", "0b11", "+4", "-1", "4.0", " 7", "7 ", "", "0", "257", "ten", "Infinity"].map(
    (value) => ["QUE_WORKER_COUNT", value, /expected a whole number from 1 to 256 in decimal digits, e\.g\. QUE_WORKER_COUNT=4\.$/] as const
  ),
  ...["1", "1999", "0x7d0", "2e3", "30000.5", "-30000", "86400001", ""].map(
    (value) => ["AIDP_WORKER_LEASE_MS", value, /expected milliseconds from 2000 to 86400000 in decimal digits, e\.g\. AIDP_WORKER_LEASE_MS=30000\.$/] as const
  ),
  ...["23h", "0d", "90", "90 days", " 90d", "-5d", "1.5d", "", "1440m", "99999999d", "36501d"].map(
    (value) => ["AIDP_RETENTION", value, /expected a span from a day to 100 years, a whole number and a unit \(h, d, w\), e\.g\. AIDP_RETENTION=90d\.$/] as const
  ),
  // Only the documented values: "true" would read as on while "yes" is refused.
  ...["true", "false", "yes", "2", ""].map((value) => ["AIDP_DEBUG", value, /expected 1 \(debug logging\) or 0, or leave it unset\.$/] as const)
]

describe("readSettings", () => {
  for (const [env, expected] of accepted) {
    it(`accepts ${JSON.stringify(env)}`, () => {
      const settings = readSettings(env)
      for (const [key, value] of Object.entries(expected)) assert.deepEqual(settings[key as keyof Settings], value, key)
    })
  }
  for (const [name, value, sentence] of refused) {
    it(`refuses ${name}=${JSON.stringify(value)}, naming it`, () => {
      assert.throws(() => readSettings({ [name]: value }), (error: Error) => {
        assert.equal(error.message.startsWith(`Invalid ${name}=${JSON.stringify(value)}: `), true, error.message)
        assert.match(error.message, sentence)
        return true
      })
    })
  }
})
