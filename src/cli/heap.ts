/**
 * Garbage collection on demand, for a long pass over the event log. V8 lets its old space grow
 * to about four times what is live before it collects again, so a pass that makes a lot of
 * short-lived garbage (pages of decoded events) holds far more memory than it uses:
 * `aidp jobs replay --stats` over 1,000,000 events peaked at 290 MB RSS with about 50 MB live.
 * A full collection every so many events keeps the peak near what is live.
 */
import v8 from "node:v8"
import vm from "node:vm"

/** Events read between two collections: a full collection of ~50 MB live takes ~20-100 ms. */
export const EVENTS_PER_COLLECTION = 50_000

let gc: (() => void) | undefined

/** Runs a full garbage collection (V8's `gc`, exposed on first use). */
export const collectGarbage = (): void => {
  if (gc === undefined) {
    v8.setFlagsFromString("--expose-gc")
    gc = vm.runInNewContext("gc") as () => void
  }
  gc()
}
