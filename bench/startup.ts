/**
 * What a person waits for before a command answers: whole processes of the built CLI
 * (`aidp --help`, `aidp --version`, `aidp jobs list`) beside bare `node -e 0`, median wall
 * time in ms over a few runs.
 */
import { spawnSync } from "node:child_process"
import { performance } from "node:perf_hooks"
import { CLI } from "../test/support/cli.js"
import type { TestDb } from "../test/support/db.js"

const RUNS = 7

/** Median wall time of `RUNS` runs of `node args`, ms; throws if one exits non-zero. */
const medianRun = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv): number => {
  const samples: Array<number> = []
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now()
    const result = spawnSync(process.execPath, args, { env, stdio: ["ignore", "ignore", "pipe"] })
    samples.push(performance.now() - start)
    if (result.status !== 0) throw new Error(`node ${args.join(" ")} exited ${result.status}: ${result.stderr}`)
  }
  return samples.sort((a, b) => a - b)[Math.floor(RUNS / 2)]!
}

/** Start-up figures, ms: each command and the bare Node floor. */
export const startupFigures = (db: TestDb) => {
  const env = { ...process.env, AIDP_DATABASE_URL: db.url, AIDP_DB_SCHEMA: db.schema }
  return {
    node: medianRun(["-e", "0"], env),
    help: medianRun([CLI, "--help"], env),
    version: medianRun([CLI, "--version"], env),
    jobsList: medianRun([CLI, "jobs", "list"], env)
  }
}
