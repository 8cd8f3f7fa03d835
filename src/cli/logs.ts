/**
 * `aidp jobs logs JOB [--follow] [--raw | --json]`: a job's log as the agent's activity
 * (wrapped at word boundaries to the terminal's width), as the stored lines (`--raw`), or as
 * activity entries in JSON (`--json`: one array; with `--follow`, one entry per line). All
 * text reaching the terminal is sanitized. `--follow` keeps printing as lines arrive (woken by
 * NOTIFY, with a poll fallback) until the job is completed, failed or cancelled. The sinks
 * here also serve `aidp execute`, which prints the activity while it waits.
 */
import { endActivity, startActivity, stepActivity, type ActivityState } from "../domain/activity/fold.js"
import type { ActivityEntry } from "../domain/activity/types.js"
import type { Provider } from "../domain/job.js"
import { type LogRecord, logsAfter } from "../projections/queries.js"
import { sanitize } from "../terminal/sanitize.js"
import { entryLines } from "../terminal/view/activity.js"
import { formatClock } from "../terminal/view/format.js"
import { lineText } from "../terminal/view/text.js"
import type { App } from "./app.js"
import { watchJob } from "./watch.js"

/** Lines fetched per query. */
const PAGE = 1000

/** Columns the activity is wrapped to when stdout is not a terminal. */
const PIPE_COLUMNS = 100

/** The width to wrap printed activity to: the terminal's columns, or {@link PIPE_COLUMNS}. */
export const outputColumns = (): number => (process.stdout.isTTY && process.stdout.columns > 0 ? process.stdout.columns : PIPE_COLUMNS)

/**
 * Where fetched log lines go: `lines` for each page (oldest first); `flush` when the log is
 * complete or paused (an attempt ended), for text still being joined.
 */
export interface LogSink {
  readonly lines: (page: ReadonlyArray<LogRecord>) => void
  readonly flush: () => void
}

const write = (text: string): void => {
  if (text !== "") process.stdout.write(text)
}

/** The stored lines as `HH:MM:SS stream message`, sanitized. */
export const rawSink = (): LogSink => ({
  lines: (page) => write(page.map((log) => `${formatClock(log.at)} ${log.stream.padEnd(6)} ${sanitize(log.message)}\n`).join("")),
  flush: () => undefined
})

/**
 * The activity of the lines, folded as they arrive; `onEntries` gets each batch of completed
 * entries (text still being joined waits for the next line or for `flush`).
 */
export const activitySink = (provider: Provider, onEntries: (entries: ReadonlyArray<ActivityEntry>) => void): LogSink => {
  let state: ActivityState = startActivity(provider)
  return {
    lines: (page) => {
      const entries: ActivityEntry[] = []
      for (const line of page) {
        const step = stepActivity(state, line)
        state = step.state
        entries.push(...step.entries)
      }
      onEntries(entries)
    },
    flush: () => {
      const step = endActivity(state)
      state = step.state
      onEntries(step.entries)
    }
  }
}

/** Activity as text wrapped to `width` columns; `keep` picks the entries printed. */
export const textSink = (provider: Provider, jobId: string, width: number, keep: (entry: ActivityEntry) => boolean = () => true): LogSink =>
  activitySink(provider, (entries) =>
    write(entries.filter(keep).flatMap((entry) => entryLines(entry, width, jobId)).map((line) => `${lineText(line).trimEnd()}\n`).join(""))
  )

/**
 * Activity entries as JSON: one array, printed by `flush` (call it once, at the end), or
 * (`lines`) one entry per line as they complete (JSON Lines).
 */
export const jsonSink = (provider: Provider, lines: boolean): LogSink => {
  const all: ActivityEntry[] = []
  const sink = activitySink(provider, (entries) => {
    if (lines) write(entries.map((entry) => `${JSON.stringify(entry)}\n`).join(""))
    else all.push(...entries)
  })
  return {
    lines: sink.lines,
    flush: () => {
      sink.flush()
      if (!lines) write(`${JSON.stringify(all, null, 2)}\n`)
    }
  }
}

/** Hands every line after `afterSeq` to `sink`; returns the last seq handed. */
export const sendAfter = async (app: App, jobId: string, afterSeq: number, sink: LogSink): Promise<number> => {
  let seq = afterSeq
  for (;;) {
    const page = await logsAfter(app.db.sql, jobId, seq, PAGE)
    if (page.length > 0) {
      sink.lines(page)
      seq = page[page.length - 1]!.seq
    }
    if (page.length < PAGE) return seq
  }
}

/** Prints the whole log of a job. */
export const printLogs = async (app: App, jobId: string, sink: LogSink): Promise<void> => {
  await sendAfter(app, jobId, 0, sink)
  sink.flush()
}

/**
 * Prints the log and keeps following it until the job ends. The job's row is read before
 * each print, so the lines written with its final event are printed too.
 */
export const followLogs = async (app: App, jobId: string, sink: LogSink): Promise<void> => {
  let seq = 0
  await app.run(watchJob(app, jobId, async () => {
    seq = await sendAfter(app, jobId, seq, sink)
  }))
  sink.flush()
}
