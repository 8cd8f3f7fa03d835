/**
 * A large history of finished jobs for the bench's monitor and list figures, written straight
 * into the `jobs` read model with one SQL statement (read-model rows only, no events): fast
 * enough for 1,000,000 jobs.
 */
import type { TestDb } from "../test/support/db.js"

/** Inserts `n` finished claude jobs (completed, failed, cancelled in turn), one second apart going back from now, then ANALYZE. */
export const insertHistory = async (db: TestDb, n: number): Promise<void> => {
  await db.sql`
    insert into jobs (id, provider, status, prompt_summary, cwd, priority, max_attempts, timeout_ms, run_at,
                      created_at, completed_at, duration_ms, attempts, metadata, version, last_position)
    select gen_random_uuid(), 'claude', (array['completed','failed','cancelled'])[1 + g % 3], 'history', '/tmp', 0, 3, 60000,
           now() - make_interval(secs => g), now() - make_interval(secs => g), now() - make_interval(secs => g) + interval '1 minute',
           60000, 1, '{}', 3, 0
    from generate_series(1, ${n}) g`
  await db.sql`analyze jobs`
}
