/**
 * When a silent worker stops its agents (issue 6, item 2): 5 s before its lease runs out, so
 * an outage shorter than that leaves them running, but never before half a lease or two beats.
 */
import assert from "node:assert/strict"
import { it } from "node:test"
import { FENCE_MARGIN_MS, fenceAfter } from "../src/workers/pool.js"

it("fences 5 s before the lease runs out, at half a lease for short leases, never within two beats", () => {
  assert.equal(FENCE_MARGIN_MS, 5_000)
  const cases: ReadonlyArray<readonly [leaseMs: number, beatMs: number, fenceMs: number]> = [
    [30_000, 7_500, 25_000], // the default lease: a 20 s outage leaves the agents running
    [60_000, 15_000, 55_000],
    [10_000, 2_500, 5_000],
    [4_000, 1_000, 2_000],
    [2_000, 500, 1_000], // the shortest lease (AIDP_WORKER_LEASE_MS >= 2000)
    [2_000, 1_500, 3_000] // beats slower than half a lease: two beats
  ]
  assert.deepEqual(cases.map(([lease, beat]) => fenceAfter(lease, beat)), cases.map(([, , fence]) => fence))
})
