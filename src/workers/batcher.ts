/**
 * Groups output lines into ExecutionOutput batches (DESIGN.md: at most 100 ms or 64 KiB per
 * batch). No timers and no I/O: the caller passes a monotonic clock reading in ms, asks for
 * the {@link OutputBatcher.deadline} and calls {@link OutputBatcher.take} when it is due or
 * at the end.
 */
import type { OutputLine } from "../domain/events.js"

/** Limits of one batch. */
export interface BatchLimits {
  /** Longest time a line may wait, ms after the first buffered line. Default 100. */
  readonly maxDelayMs: number
  /** Most UTF-8 bytes of text per batch; one longer line forms a batch of its own. Default 65536. */
  readonly maxBytes: number
}

/** DESIGN.md's limits. */
export const DEFAULT_BATCH_LIMITS: BatchLimits = { maxDelayMs: 100, maxBytes: 64 * 1024 }

/** Buffers lines and says when a batch is due. */
export class OutputBatcher {
  private lines: OutputLine[] = []
  private bytes = 0
  private firstAtMs: number | undefined

  constructor(private readonly limits: BatchLimits = DEFAULT_BATCH_LIMITS) {}

  /**
   * Buffers `line` (read at monotonic `nowMs`) and returns the batches that are full: the
   * buffer before it when the line would push it over `maxBytes`, and the buffer with it when
   * that reaches `maxBytes`. Usually none.
   */
  add(line: OutputLine, nowMs: number): OutputLine[][] {
    const size = Buffer.byteLength(line.text, "utf8")
    const full: OutputLine[][] = []
    if (this.lines.length > 0 && this.bytes + size > this.limits.maxBytes) full.push(this.take())
    this.lines.push(line)
    this.bytes += size
    this.firstAtMs ??= nowMs
    if (this.bytes >= this.limits.maxBytes) full.push(this.take())
    return full
  }

  /** Monotonic ms at which the buffered lines must be flushed, or undefined when empty. */
  deadline(): number | undefined {
    return this.firstAtMs === undefined ? undefined : this.firstAtMs + this.limits.maxDelayMs
  }

  /** Every buffered line (possibly none), emptying the buffer. */
  take(): OutputLine[] {
    const lines = this.lines
    this.lines = []
    this.bytes = 0
    this.firstAtMs = undefined
    return lines
  }
}
