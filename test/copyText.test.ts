/**
 * COPY text lines of read-model rows (src/projections/copyText.ts): PostgreSQL's escapes and
 * null marker, each kind of value as the live driver's JSON would store it. That the rebuild
 * stores the same bytes as the live driver is test/projections.property.test.ts.
 */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { copyLine } from "../src/projections/copyText.js"
import { EXECUTIONS, LOGS } from "../src/projections/rows.js"
import { at } from "./support/events.js"

describe("copyLine", () => {
  it("escapes COPY's own characters and writes null as \\N", () => {
    const line = copyLine(LOGS)({ job_id: "j", seq: 7, execution_id: null, at: at(0), stream: "stdout", level: "info", message: "a\tb\nc\rd\\e \\N é" })
    assert.equal(line, "j\t7\t\\N\t2026-03-01T10:00:00.000Z\tstdout\tinfo\ta\\tb\\nc\\rd\\\\e \\\\N é\n")
  })

  it("writes numbers and JSON (escaped) in their text form, columns in the list's order", () => {
    const line = copyLine(EXECUTIONS)({
      id: "e", job_id: "j", attempt: 2, status: "succeeded", worker_id: "w", host: "h", pid: 1, argv: ["claude", "-p\t"],
      cli_version: null, started_at: at(0), completed_at: at(1500), duration_ms: 1500, exit_code: 0, signal: null, error: null,
      error_kind: null, result: "ok", usage: { n: 1.5, s: "x\ny" }, cost_usd: 0.000123456789, denials: [],
      session_id: "s-1", resumed_attempt: 1, session_gone: false, changes: null
    })
    assert.deepEqual(line.split("\t"), [
      "e", "j", "2", "succeeded", "w", "h", "1", "[\"claude\",\"-p\\\\t\"]", "\\N", "2026-03-01T10:00:00.000Z",
      "2026-03-01T10:00:01.500Z", "1500", "0", "\\N", "\\N", "\\N", "ok", "{\"n\":1.5,\"s\":\"x\\\\ny\"}", "0.000123456789", "[]", "s-1", "1", "f", "\\N\n"
    ])
  })
})
