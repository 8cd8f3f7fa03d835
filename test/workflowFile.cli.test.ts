/**
 * aidp.workflow.json as a user meets it from the command line (the built CLI, real PostgreSQL,
 * no worker: jobs stay queued): the project's root found from a subfolder, a broken link, the
 * file edited while its workflow runs, and folder and file names with escape sequences.
 */
import assert from "node:assert/strict"
import { execFileSync } from "node:child_process"
import { lstat, mkdir, readFile, symlink, writeFile } from "node:fs/promises"
import path from "node:path"
import { describe, test } from "node:test"
import { builtInWorkflowFile } from "../src/domain/workflowFile.js"
import { runCli } from "./support/cli.js"
import { assertCliError, e2eSuite } from "./support/e2e.js"

const two = { steps: [{ id: "idea", document: "notes/idea.md", prompt: "Write down the idea." }, { id: "plan", document: "notes/plan.md", prompt: "Plan it.", builds_on: ["idea"] }] }

describe("aidp.workflow.json from the command line", () => {
  const suite = e2eSuite()
  const { dirs } = suite
  const jobsIn = async (cwd: string) => suite.db.sql<Array<{ step: string; cwd: string; document: string }>>`
    select step, cwd, metadata->>'document' as document from jobs where cwd like ${`${cwd}%`} order by created_at`

  test("from a subfolder, execute runs the workflow of the project's root: the first folder upward with aidp.workflow.json, else the git repository's top", async () => {
    const repo = await dirs.make()
    const deep = path.join(repo, "src", "deep")
    await mkdir(deep, { recursive: true })
    // No file anywhere: the repository's top; init writes there.
    const init = await runCli(suite.db, ["execute", "init"], { cwd: deep })
    assert.equal(init.code, 0, init.stderr)
    assert.equal(init.stdout, `Wrote the built-in workflow to ${path.join(repo, "aidp.workflow.json")}; edit its steps, and aidp execute runs them.\n`)
    assert.equal(await readFile(path.join(repo, "aidp.workflow.json"), "utf8"), builtInWorkflowFile())
    assertCliError(await runCli(suite.db, ["execute", "init"], { cwd: deep }), 1, `${path.join(repo, "aidp.workflow.json")} already exists`)
    // A file in a subfolder makes that folder a project of its own.
    await writeFile(path.join(repo, "src", "aidp.workflow.json"), JSON.stringify(two))
    const queued = await runCli(suite.db, ["execute", "next", "--detach"], { cwd: deep })
    assert.equal(queued.code, 0, queued.stderr)
    const fromTop = await runCli(suite.db, ["execute", "00_prd", "--detach"], { cwd: repo })
    assert.equal(fromTop.code, 0, fromTop.stderr)
    assert.deepEqual((await jobsIn(repo)).map((job) => [job.step, job.cwd, job.document]), [["idea", path.join(repo, "src"), "notes/idea.md"], ["00_PRD", repo, "docs/PRD.md"]])
    const list = await runCli(suite.db, ["execute", "--list", "--json"], { cwd: deep })
    assert.deepEqual(JSON.parse(list.stdout).map((row: any) => [row.step, row.status]), [["idea", "queued"], ["plan", "pending"]])
    // Outside any repository and without a file: the folder itself.
    const loose = await dirs.make({ git: false })
    assert.equal((await runCli(suite.db, ["execute", "init"], { cwd: loose })).code, 0)
    assert.ok((await lstat(path.join(loose, "aidp.workflow.json"))).isFile())
  })

  test("a dangling link as aidp.workflow.json is one sentence for execute, --list and init, and nothing runs or is written", async () => {
    const cwd = await dirs.make()
    const file = path.join(cwd, "aidp.workflow.json")
    await symlink("missing.json", file)
    const sub = path.join(cwd, "sub")
    await mkdir(sub)
    for (const args of [["execute", "next", "--detach"], ["execute", "all", "--detach"], ["execute", "--list"], ["execute", "init"], ["jobs", "list", "--step", "00_PRD"]]) {
      assertCliError(await runCli(suite.db, args, { cwd: sub }), 1, `${file} is a broken link (to missing.json); point it at a workflow file, or delete it to use the built-in steps.`)
    }
    assert.ok((await lstat(file)).isSymbolicLink())
    assert.equal((await jobsIn(cwd)).length, 0)
  })

  test("ids that would misbehave are refused with the rule, naming the step; a repeat in another case too", async () => {
    const cwd = await dirs.make()
    for (const id of ["__proto__", "..", "x.y"]) {
      await writeFile(path.join(cwd, "aidp.workflow.json"), JSON.stringify({ steps: [{ id, document: "a.md", prompt: "A." }] }))
      assertCliError(await runCli(suite.db, ["execute", "--list"], { cwd }), 2, `step 1 (${JSON.stringify(id)}): field "id" must be a letter or digit, then letters, digits, _ and -`)
    }
    await writeFile(path.join(cwd, "aidp.workflow.json"), JSON.stringify({ steps: [{ id: "prd", document: "a.md", prompt: "A." }, { id: "PRD", document: "./b.md", prompt: "B." }] }))
    assertCliError(await runCli(suite.db, ["execute", "all"], { cwd }), 2, `step 2 ("PRD"): field "id" repeats step 1's ("prd" in another case); give each step its own id.`)
    await writeFile(path.join(cwd, "aidp.workflow.json"), JSON.stringify({ steps: [{ id: "a", document: "docs/a.md", prompt: "A." }, { id: "b", document: "./docs//x/../a.md", prompt: "B." }] }))
    assertCliError(await runCli(suite.db, ["execute", "all"], { cwd }), 2, `step 2 ("b"): field "document" is "docs/a.md", as step 1's; each step produces its own document.`)
    assert.equal((await jobsIn(cwd)).length, 0)
  })

  test("the file edited while its workflow runs: --list shows the workflow's steps and says the file changed; jobs list --step takes the old steps", async () => {
    const cwd = await dirs.make()
    const file = path.join(cwd, "aidp.workflow.json")
    await writeFile(file, JSON.stringify(two))
    const started = await runCli(suite.db, ["execute", "all", "--detach"], { cwd })
    assert.equal(started.code, 0, started.stderr)
    const id = started.stdout.trim()
    const unchanged = await runCli(suite.db, ["execute", "--list"], { cwd })
    assert.equal(unchanged.code, 0, unchanged.stderr)
    assert.match(unchanged.stdout, new RegExp(`^Workflow ${id} \\(2 steps: idea…plan\\): running\n\nStep {2,}Status`))

    await writeFile(file, JSON.stringify({ steps: [{ id: "draft", document: "draft.md", prompt: "Draft it." }] }))
    const list = await runCli(suite.db, ["execute", "--list"], { cwd })
    assert.equal(list.code, 0, list.stderr)
    assert.match(list.stdout, new RegExp(`^Workflow ${id} \\(2 steps: idea…plan\\): running\naidp\\.workflow\\.json has changed since workflow ${id} started; it runs the steps it started with, and the file's steps apply from the next workflow:\n\nStep {2,}Status`))
    assert.match(list.stdout, /\nidea {2,}queued {2,}notes\/idea\.md/)
    assert.match(list.stdout, /\nplan {2,}pending {2,}notes\/plan\.md/)
    assert.doesNotMatch(list.stdout, /draft/)
    const rows = JSON.parse((await runCli(suite.db, ["execute", "--list", "--json"], { cwd })).stdout)
    assert.deepEqual(rows.map((row: any) => [row.step, row.status, row.workflowId]), [["idea", "queued", id], ["plan", "pending", null]])

    // Steps the file no longer has, in any case; the file's own; not one nobody has.
    for (const [given, step] of [["idea", "idea"], ["IDEA", "idea"], ["plan", "plan"], ["draft", "draft"]]) {
      const listed = await runCli(suite.db, ["jobs", "list", "--cwd", cwd, "--step", given!, "--json"])
      assert.equal(listed.code, 0, listed.stderr)
      assert.deepEqual(JSON.parse(listed.stdout).map((job: any) => job.step), step === "idea" ? ["idea"] : [], given)
    }
    assertCliError(await runCli(suite.db, ["jobs", "list", "--cwd", cwd, "--step", "00_PRD"]), 2, '--step "00_PRD" is not a step of this project; its steps are draft, idea, plan.')

    // A wrong file does not hide the running workflow's steps.
    await writeFile(file, "{")
    const broken = await runCli(suite.db, ["execute", "--list"], { cwd })
    assert.equal(broken.code, 0, broken.stderr)
    assert.match(broken.stdout, new RegExp(`\naidp\\.workflow\\.json: is not valid JSON \\(.*\\); fix it or delete it to use the built-in steps\\. Workflow ${id} runs the steps it started with:\n\nStep`))
    assert.match(broken.stdout, /\nplan {2,}pending/)
    assert.equal((await runCli(suite.db, ["execute", "cancel"], { cwd })).code, 0)
    assertCliError(await runCli(suite.db, ["execute", "--list"], { cwd }), 2, "aidp.workflow.json: is not valid JSON")
  })

  test("escape sequences in a folder or file name are printed visibly and harmlessly, never executed", async () => {
    const parent = await dirs.make({ git: false })
    const folder = path.join(parent, "a\u001b[31mred")
    await mkdir(folder)
    execFileSync("git", ["init", "-q", folder])
    const init = await runCli(suite.db, ["execute", "init"], { cwd: folder })
    assert.equal(init.code, 0, init.stderr)
    assert.equal(init.stdout, `Wrote the built-in workflow to ${parent}/a\\x1b[31mred/aidp.workflow.json; edit its steps, and aidp execute runs them.\n`)
    assertCliError(await runCli(suite.db, ["execute", "init"], { cwd: folder }), 1, `${parent}/a\\x1b[31mred/aidp.workflow.json already exists`)
    const prompt = await runCli(suite.db, ["jobs", "enqueue", "--provider", "claude", "--prompt-file", "/nonexistent/p\u001b]0;title\u0007.md"])
    assertCliError(prompt, 2, "Cannot read --prompt-file /nonexistent/p\\x1b]0;title\\x07.md: ")
    for (const output of [init.stdout, prompt.stderr]) assert.doesNotMatch(output, /[\u0000-\u0009\u000b-\u001f]/)
  })
})
