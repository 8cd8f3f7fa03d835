/**
 * Builds the `aidp` command (npm run build, after the type check): src/cli/main.ts and what
 * it imports, Effect and meow included, bundled by esbuild into a few ES modules under
 * dist/cli, one per lazily loaded command (jobs, execute, worker, the monitor, ...) plus the
 * chunks they share. A command then reads a handful of files instead of some 230 modules
 * (Effect alone is 146): module loading was most of a short command's time (issue 8, start-up;
 * profiled with node --cpu-prof). Every output file sits in dist/cli, so paths relative to
 * import.meta.url (../../sql/, ../../package.json) hold in any chunk. The other dependencies
 * stay external: they load files, native code or threads of their own at run time.
 */
import { build } from "esbuild"
import { chmodSync, readFileSync, rmSync } from "node:fs"

/** Dependencies bundled into dist; the rest are imported from node_modules at run time. */
const BUNDLED = new Set(["effect", "meow"])

const pkg = JSON.parse(readFileSync(new URL("package.json", import.meta.url), "utf8"))
rmSync(new URL("dist", import.meta.url), { recursive: true, force: true })
await build({
  entryPoints: ["src/cli/main.ts"],
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  outdir: "dist/cli",
  sourcemap: true,
  external: Object.keys(pkg.dependencies).filter((name) => !BUNDLED.has(name)),
  logLevel: "warning"
})
chmodSync(new URL("dist/cli/main.js", import.meta.url), 0o755)
