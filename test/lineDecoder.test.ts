/** Pure tests of the incremental UTF-8 line decoder. */
import assert from "node:assert/strict"
import { describe, it } from "node:test"
import { LineDecoder } from "../src/workers/lineDecoder.js"

/** Every line produced by feeding `chunks` in order, then ending the stream. */
function decode(...chunks: Array<Uint8Array | string>): string[] {
  const decoder = new LineDecoder()
  const lines = chunks.flatMap((chunk) => decoder.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk))
  return [...lines, ...decoder.end()]
}

describe("LineDecoder", () => {
  it("splits only on \\n, strips one trailing \\r, keeps empty lines", () => {
    assert.deepEqual(decode("a\nb\r\n\nc\rd\n"), ["a", "b", "", "c\rd"])
  })

  it("joins a line split across chunks and flushes the unterminated last line", () => {
    assert.deepEqual(decode('{"type":', '"result"', "}\ntail"), ['{"type":"result"}', "tail"])
    assert.deepEqual(decode("x\r", "\n"), ["x"])
  })

  it("emits nothing for an empty stream or a final \\n", () => {
    assert.deepEqual(decode(), [])
    assert.deepEqual(decode("one\n"), ["one"])
  })

  it("reassembles a multi-byte character split between chunks", () => {
    const bytes = Buffer.from("é日🎉\n")
    const chunks = [...bytes].map((byte) => Uint8Array.of(byte))
    assert.deepEqual(decode(...chunks), ["é日🎉"])
  })

  it("turns invalid bytes into U+FFFD, including a truncated character at the end", () => {
    assert.deepEqual(decode(Uint8Array.of(0x61, 0xff, 0xfe, 0x62, 0x0a)), ["a\ufffd\ufffdb"])
    assert.deepEqual(decode(Uint8Array.of(0x61, 0xe6, 0x97)), ["a\ufffd"])
  })

  it("keeps ANSI escape sequences verbatim", () => {
    assert.deepEqual(decode("\x1b[31mred\x1b[0m\n"), ["\x1b[31mred\x1b[0m"])
  })

  it("handles a line of several MB arriving in 64 KiB chunks", () => {
    const line = "x".repeat(6 * 1024 * 1024)
    const bytes = Buffer.from(`${line}\nnext\n`)
    const chunks: Uint8Array[] = []
    for (let offset = 0; offset < bytes.length; offset += 65536) chunks.push(bytes.subarray(offset, offset + 65536))
    const lines = decode(...chunks)
    assert.equal(lines.length, 2)
    assert.equal(lines[0]?.length, line.length)
    assert.equal(lines[1], "next")
  })
})
