/**
 * Installable like the agents it runs (issue 5): `npm pack` makes a tarball with the built
 * files, `sql/`, package.json and the README (no sources, no tests); `npm install -g` of it
 * into a temporary prefix gives an `aidp` that prints its version and, from an unrelated
 * directory, migrates a fresh schema from its own `sql/`, lists jobs and runs a step.
 * The tarball is packed from the build `npm test` made (--ignore-scripts: no rebuild under
 * the other tests' feet).
 */
import assert from "node:assert/strict"
import { execFile } from "node:child_process"
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { after, before, test } from "node:test"
import { cliEnv } from "./support/cli.js"
import { createTestDb, type TestDb } from "./support/db.js"

const run = promisify(execFile)
const REPO = fileURLToPath(new URL("..", import.meta.url))

/** The environment of a user's shell: none of the npm_* variables `npm test` sets. */
const userEnv = (): NodeJS.ProcessEnv =>
  Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith("npm_")))

let root: string
let db: TestDb
before(async () => {
  root = await mkdtemp(path.join(tmpdir(), "aidp-pack-"))
  db = await createTestDb({ migrate: false })
})
after(async () => {
  await rm(root, { recursive: true, force: true })
  await db.drop()
})

test("the packed tarball installs with npm install -g and runs from any directory", { timeout: 600_000 }, async () => {
  const packed = await run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", root], { cwd: REPO, env: userEnv(), maxBuffer: 16 << 20 })
  const { filename, files } = (JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>)[0]!
  const paths = files.map((file) => file.path)
  for (const wanted of ["package.json", "README.md", "dist/cli/main.js", "sql/001_event_log.sql"]) {
    assert.ok(paths.includes(wanted), `the tarball has ${wanted}: ${paths.join(", ")}`)
  }
  // The bundle (build.mjs): the commands loaded lazily, in chunks beside main.js.
  assert.ok(paths.some((p) => /^dist\/cli\/[^/]+-[A-Z0-9]+\.js$/.test(p)), `the tarball has the bundle's chunks: ${paths.join(", ")}`)
  assert.deepEqual(paths.filter((p) => !/^(dist\/.*\.js|sql\/.*\.sql|package\.json|README\.md)$/.test(p)), [], "nothing but the built files, sql/, package.json and the README")

  const prefix = path.join(root, "prefix")
  await run("npm", ["install", "-g", "--prefix", prefix, "--prefer-offline", "--no-audit", "--no-fund", path.join(root, filename)], {
    cwd: root,
    env: userEnv(),
    maxBuffer: 16 << 20
  })
  const aidp = path.join(prefix, "bin", "aidp")
  const elsewhere = path.join(root, "project")
  await mkdir(elsewhere)
  const env = cliEnv(db, userEnv())
  const installed = (args: ReadonlyArray<string>) => run(aidp, [...args], { cwd: elsewhere, env, maxBuffer: 16 << 20 })

  const pkg = JSON.parse(await readFile(path.join(REPO, "package.json"), "utf8")) as { version: string }
  assert.equal((await installed(["--version"])).stdout, `${pkg.version}\n`)

  // The schema is empty: the installed aidp applies the migrations from its own sql/.
  assert.deepEqual(JSON.parse((await installed(["jobs", "list", "--json"])).stdout), [])
  const [migrations] = await db.sql<Array<{ n: number }>>`select count(*)::int as n from schema_migrations`
  assert.ok(migrations!.n >= 3, `migrations applied from the installed sql/: ${migrations!.n}`)

  const step = JSON.parse((await installed(["execute", "next", "--json"])).stdout) as { status: string; step: string }
  assert.deepEqual([step.step, step.status], ["00_PRD", "completed"])
  assert.ok(await readFile(path.join(elsewhere, "docs", "PRD.md"), "utf8"), "the step's document is in the project")

  const table = (await installed(["jobs"])).stdout
  assert.match(table, /completed/)
  const doctor = await installed(["doctor"])
  assert.match(doctor.stdout, /migrations applied/)
})
