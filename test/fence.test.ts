/**
 * When a silent worker stops its agents (issue 6, item 2): 2 s before its lease runs out, so
 * an outage shorter than that leaves them running, but never before half a lease or two beats.
 */
import assert from "node:assert/strict"
import { it } from "node:test"
import { FENCE_MARGIN_MS, fenceAfter } from "../src/workers/pool.js"

it("fences 2 s before the lease runs out, at half a lease for short leases, never within two beats", () => {
  assert.equal(FENCE_MARGIN_MS, 2_000)
  const cases: ReadonlyArray<readonly [leaseMs: number, beatMs: number, fenceMs: number]> = [
    [30_000, 3_000, 28_000], // the default lease: a 20 s outage leaves the agents running
    [60_000, 6_000, 58_000],
    [10_000, 1_000, 8_000],
    [4_000, 400, 2_000],
    [2_000, 200, 1_000], // the shortest lease (AIDP_WORKER_LEASE_MS >= 2000)
    [2_000, 1_500, 3_000] // beats slower than half a lease: two beats
  ]
  assert.deepEqual(cases.map(([lease, beat]) => fenceAfter(lease, beat)), cases.map(([, , fence]) => fence))
})
