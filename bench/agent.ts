/**
 * The near-zero agent CLI every whole-path figure spawns: a shell script that reads its
 * prompt from stdin and prints claude's `init` and `result` stream-json lines
 * (PROVIDERS.md, Claude Code), then exits 0. aidp, graphile-worker and the bare spawns all
 * run this same file, so what differs between their figures is the queue.
 */
import { spawn } from "node:child_process"
import { chmod, writeFile } from "node:fs/promises"
import path from "node:path"

const INIT = JSON.stringify({ type: "system", subtype: "init", cwd: "/tmp", session_id: "bench", tools: [], model: "bench", claude_code_version: "2.1.332" })
const RESULT = JSON.stringify({
  type: "result", subtype: "success", is_error: false, result: "done", duration_ms: 1, num_turns: 1,
  total_cost_usd: 0, usage: { input_tokens: 1, output_tokens: 1 }, session_id: "bench"
})

/** Writes the script into `dir` and returns its path. */
export const writeAgent = async (dir: string): Promise<string> => {
  const file = path.join(dir, "bench-claude")
  await writeFile(file, `#!/bin/sh\ncat >/dev/null\nprintf '%s\\n' '${INIT}' '${RESULT}'\n`)
  await chmod(file, 0o755)
  return file
}

/**
 * Writes into `dir` an agent that prints `mb` MB of 1 KiB plain-text lines between claude's
 * `init` and `result` lines (the output figure: ingestion MB/s and the worker's peak RSS);
 * returns its path.
 */
export const writeChattyAgent = async (dir: string, mb: number): Promise<string> => {
  const file = path.join(dir, "bench-claude-chatty")
  const line = "x".repeat(1023)
  await writeFile(file, `#!/bin/sh\ncat >/dev/null\nprintf '%s\\n' '${INIT}'\nyes '${line}' | head -n ${mb * 1024}\nprintf '%s\\n' '${RESULT}'\n`)
  await chmod(file, 0o755)
  return file
}

/** Runs the agent once with `prompt` on stdin; resolves with its stdout when it has exited 0. */
export const runAgent = (bin: string, prompt: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const child = spawn(bin, [], { stdio: ["pipe", "pipe", "ignore"], detached: true })
    let out = ""
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()))
    child.on("error", reject)
    child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`the agent exited ${code}`))))
    child.stdin.end(prompt)
  })
