/**
 * `npm run bench`: throughput and latency figures of the event store, projections and the
 * monitor's queries, against a throwaway schema on the test database
 * (AIDP_TEST_DATABASE_URL, default postgres://root@127.0.0.1:5432/test). Prints figures
 * and ratios; asserts nothing (targets belong here, not in unit tests).
 */
import { performance } from "node:perf_hooks"
import { Effect, ManagedRuntime } from "effect"
import { channelFor } from "../src/events/sqlClient.js"
import { CommandHandler } from "../src/projections/commandHandler.js"
import { monitorGroups, listJobs } from "../src/projections/queries.js"
import { rebuildReadModels } from "../src/projections/rebuild.js"
import { jobServicesLayer } from "../src/projections/services.js"
import { createTestDb } from "../test/support/db.js"

const JOBS = Number(process.env.BENCH_JOBS ?? 2_000)
const HISTORY = Number(process.env.BENCH_HISTORY ?? 200_000)

const time = async <A>(body: () => Promise<A>): Promise<{ value: A; ms: number }> => {
  const start = performance.now()
  const value = await body()
  const ms = performance.now() - start
  return { value, ms }
}

const median = async (runs: number, body: () => Promise<unknown>): Promise<number> => {
  const samples: Array<number> = []
  for (let i = 0; i < runs; i++) samples.push((await time(body)).ms)
  samples.sort((a, b) => a - b)
  return samples[Math.floor(samples.length / 2)]!
}

const main = async () => {
  const db = await createTestDb()
  try {
    const runtime = ManagedRuntime.make(jobServicesLayer({ sql: db.sql, schema: db.schema, channel: channelFor(db.schema) }))
    const handle = (jobId: string, command: Parameters<CommandHandler["Service"]["handle"]>[1]) =>
      runtime.runPromise(Effect.flatMap(CommandHandler, (h) => h.handle(jobId, command, new Date())))

    const ids = Array.from({ length: JOBS }, () => crypto.randomUUID())
    const enqueue = await time(async () => {
      for (let i = 0; i < ids.length; i += 8) {
        await Promise.all(ids.slice(i, i + 8).map((id, k) =>
          handle(id, {
            _tag: "Enqueue", provider: "claude", model: null, prompt: `bench job ${i + k}`, cwd: "/tmp", step: null,
            priority: 0, maxAttempts: 3, timeoutMs: 60_000, metadata: {}, permissions: "edit"
          })))
      }
    })
    const lines = Array.from({ length: 50 }, (_, i) => ({ stream: "stdout" as const, text: `line ${i} ${"x".repeat(80)}`, at: new Date().toISOString() }))
    const lifecycle = await time(async () => {
      for (let i = 0; i < ids.length; i += 8) {
        await Promise.all(ids.slice(i, i + 8).map(async (id) => {
          const executionId = crypto.randomUUID()
          await handle(id, { _tag: "Start", executionId, workerId: "bench", host: "bench", pid: 1, argv: ["claude"] })
          await handle(id, { _tag: "RecordOutput", executionId, lines })
          await handle(id, { _tag: "Succeed", executionId, exitCode: 0, result: "ok", usage: null, costUsd: 0.01, durationMs: 1000, cliVersion: null, denials: [] })
        }))
      }
    })
    const [row] = await db.sql<Array<{ events: string }>>`select count(*) as events from job_events`
    const events = Number(row!.events)
    const rebuild = await time(() => rebuildReadModels(db.sql))

    const monitorSmall = await median(15, () => monitorGroups(db.sql))
    const listSmall = await median(15, () => listJobs(db.sql, { status: "completed", limit: 50 }))
    // A large history for the monitor's queries: rows inserted directly (read-model shape only).
    await time(() => db.sql`
      insert into jobs (id, provider, status, prompt_summary, cwd, priority, max_attempts, timeout_ms, run_at,
                        created_at, completed_at, duration_ms, attempts, metadata, version, last_position)
      select gen_random_uuid(), 'claude', (array['completed','failed','cancelled'])[1 + g % 3], 'history', '/tmp', 0, 3, 60000,
             now() - make_interval(secs => g), now() - make_interval(secs => g), now() - make_interval(secs => g) + interval '1 minute',
             60000, 1, '{}', 3, 0
      from generate_series(1, ${HISTORY}) g`)
    await db.sql`analyze jobs`
    const monitorLarge = await median(15, () => monitorGroups(db.sql))
    const listLarge = await median(15, () => listJobs(db.sql, { status: "completed", limit: 50 }))

    const perSecond = (n: number, ms: number) => Math.round((n / ms) * 1000)
    const out = [
      `jobs enqueued                ${JOBS} in ${enqueue.ms.toFixed(0)} ms  (${perSecond(JOBS, enqueue.ms)} jobs/s)`,
      `start+output(50 lines)+succeed ${JOBS} in ${lifecycle.ms.toFixed(0)} ms  (${perSecond(JOBS, lifecycle.ms)} jobs/s, ${perSecond(JOBS * 3, lifecycle.ms)} appends/s)`,
      `rebuild of read models       ${events} events in ${rebuild.ms.toFixed(0)} ms  (${perSecond(events, rebuild.ms)} events/s)`,
      `monitor snapshot query       ${monitorSmall.toFixed(2)} ms at ${JOBS} jobs, ${monitorLarge.toFixed(2)} ms at ${JOBS + HISTORY} jobs  (ratio ${(monitorLarge / monitorSmall).toFixed(2)}x for ${((JOBS + HISTORY) / JOBS).toFixed(0)}x the rows)`,
      `jobs list --status completed ${listSmall.toFixed(2)} ms at ${JOBS} jobs, ${listLarge.toFixed(2)} ms at ${JOBS + HISTORY} jobs  (ratio ${(listLarge / listSmall).toFixed(2)}x)`
    ]
    process.stdout.write(`${out.join("\n")}\n`)
    await runtime.dispose()
  } finally {
    await db.drop()
  }
}

main().catch((error) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`)
  process.exit(1)
})
