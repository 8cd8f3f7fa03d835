/**
 * Rebuild: drop the read models' rows and replay the whole event log through the same
 * projector the live appends use, in one transaction that blocks appends meanwhile. It
 * reports whether the result differs from what was there, which proves (or disproves)
 * DESIGN.md invariant 3: replay(job_events) == live read models.
 */
import type postgres from "postgres"
import { readAllIn } from "../events/store.js"
import { project } from "./project.js"

/** Read-model tables in dependency order (children first). */
const TABLES = ["job_logs", "job_executions", "jobs"] as const

/** Result of a rebuild: events replayed, and per table whether its rows changed. */
export interface RebuildReport {
  readonly events: number
  readonly tables: ReadonlyArray<{ readonly table: string; readonly rows: number; readonly identical: boolean }>
}

/** Events replayed per page. */
const PAGE = 5_000

/** A digest of every row of a table, in a stable order. */
const digest = async (tx: postgres.TransactionSql, table: string): Promise<{ rows: number; md5: string }> => {
  const order = table === "job_logs" ? "job_id, seq" : "id"
  const [row] = await tx.unsafe<Array<{ rows: string; md5: string | null }>>(
    `select count(*) as rows, md5(string_agg(t::text, E'\\n' order by ${order})) as md5 from ${table} t`
  )
  return { rows: Number(row!.rows), md5: row!.md5 ?? "" }
}

/**
 * Rebuilds `jobs`, `job_executions` and `job_logs` from `job_events`. Rejects with the
 * driver's error (and changes nothing) when any step fails.
 */
export const rebuildReadModels = (sql: postgres.Sql): Promise<RebuildReport> =>
  sql.begin(async (tx) => {
    // Appends lock a `jobs` row, then insert into job_events, then write the other read
    // models: take the tables in that order too, or a rebuild and an append can deadlock.
    await tx`lock table jobs, job_executions, job_logs in access exclusive mode`
    await tx`lock table job_events in share mode`
    const before = new Map<string, { rows: number; md5: string }>()
    for (const table of TABLES) before.set(table, await digest(tx, table))
    await tx.unsafe(`truncate ${TABLES.join(", ")}`)
    let after = 0
    let events = 0
    for (;;) {
      const page = await readAllIn(tx, { after, limit: PAGE })
      if (page.length === 0) break
      await project(tx, page)
      events += page.length
      after = page[page.length - 1]!.position
    }
    const tables = []
    for (const table of [...TABLES].reverse()) {
      const now = await digest(tx, table)
      tables.push({ table, rows: now.rows, identical: now.md5 === before.get(table)!.md5 && now.rows === before.get(table)!.rows })
    }
    return { events, tables }
  })
