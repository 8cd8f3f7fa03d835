/**
 * A job's log as activity, one line at a time: `stepActivity(state, line)` returns the next
 * state and the entries that line completed, so `aidp jobs logs --follow` and `aidp execute`
 * render as lines arrive; `endActivity` ends text still being joined; `activityOf` does a
 * whole log (or a log tail, which may start in the middle of an execution). Pure.
 */
import type { Provider } from "../job.js"
import { parseJsonObject } from "../json.js"
import { claudeRenderer } from "./claude.js"
import { flush, INITIAL_STATE } from "./common.js"
import { cursorRenderer } from "./cursor.js"
import { geminiRenderer } from "./gemini.js"
import type { ActivityEntry, ActivityLine, ProviderRenderer, ProviderState, Step } from "./types.js"

const RENDERERS: Record<Provider, ProviderRenderer> = { claude: claudeRenderer, gemini: geminiRenderer, cursor: cursorRenderer }

/** Where the fold is: the provider, the execution of the last line, that execution's renderer state. */
export interface ActivityState {
  readonly provider: Provider
  readonly executionId: string | null
  readonly inner: ProviderState
}

/** The state before the first line of a job's log. */
export const startActivity = (provider: Provider): ActivityState => ({ provider, executionId: null, inner: INITIAL_STATE })

/** aidp's own line that starts an execution (src/projections/project.ts): "Attempt 2 started by worker ...". */
const ATTEMPT_STARTED = /^Attempt (\d+) started\b/

const withInner = (state: ActivityState, step: Step<ProviderState>): Step<ActivityState> => ({
  state: { ...state, inner: step.state },
  entries: step.entries
})

/** Entries for a line of a new execution: what the last one was joining, then a header. */
function newExecution(state: ActivityState, line: ActivityLine, executionId: string): Step<ActivityState> {
  const ended = flush(state.inner)
  const started = line.stream === "system" ? ATTEMPT_STARTED.exec(line.message) : null
  const header: ActivityEntry = { kind: "attempt", at: line.at, executionId, attempt: started ? Number(started[1]) : null }
  return { state: { ...state, executionId, inner: INITIAL_STATE }, entries: [...ended.entries, header] }
}

/** The next state and the entries `line` completed. */
export function stepActivity(state: ActivityState, line: ActivityLine): Step<ActivityState> {
  const executionId = line.executionId ?? null
  if (executionId !== null && executionId !== state.executionId) {
    const started = newExecution(state, line, executionId)
    const rest = stepActivity(started.state, line)
    return { state: rest.state, entries: [...started.entries, ...rest.entries] }
  }
  const raw: ActivityEntry = { kind: "raw", at: line.at, stream: line.stream, text: line.message }
  const renderer = RENDERERS[state.provider]
  // Another stream's lines do not end text being joined: their order against stdout is arbitrary.
  if (line.stream === "stderr") return { state, entries: [renderer.stderr(line.message, line.at) ?? raw] }
  const event = line.stream === "stdout" ? parseJsonObject(line.message) : undefined
  if (event === undefined) {
    const ended = flush(state.inner)
    return { state: { ...state, inner: ended.state }, entries: [...ended.entries, raw] }
  }
  return withInner(state, renderer.event(state.inner, event, line.at))
}

/** Ends the log: the entry of text still being joined, if any. */
export function endActivity(state: ActivityState): Step<ActivityState> {
  return withInner(state, flush(state.inner))
}

/** The activity of a whole log (oldest line first). */
export function activityOf(provider: Provider, lines: Iterable<ActivityLine>): ActivityEntry[] {
  let state = startActivity(provider)
  const entries: ActivityEntry[] = []
  for (const line of lines) {
    const step = stepActivity(state, line)
    state = step.state
    entries.push(...step.entries)
  }
  entries.push(...endActivity(state).entries)
  return entries
}
