/**
 * Incremental line splitting of a child's byte stream (PROVIDERS.md: a character can be split
 * between chunks, invalid bytes become U+FFFD, lines only end at `\n`, lines may be many MB).
 * No I/O: the caller feeds chunks in order.
 */

/** Decodes UTF-8 chunks into complete lines. One instance per stream. */
export class LineDecoder {
  private readonly decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true })
  /** Pieces of the line still open, joined once its `\n` arrives (keeps huge lines linear). */
  private pieces: string[] = []

  /** Lines completed by `chunk`, without `\n` or a trailing `\r`. */
  push(chunk: Uint8Array): string[] {
    return this.split(this.decoder.decode(chunk, { stream: true }))
  }

  /**
   * At end of stream: the decoder's held-back bytes (an incomplete character becomes U+FFFD)
   * and the last line if it had no `\n`. The decoder is reset for reuse.
   */
  end(): string[] {
    const lines = this.split(this.decoder.decode())
    const rest = this.pieces.join("")
    this.pieces = []
    if (rest !== "") lines.push(stripCr(rest))
    return lines
  }

  private split(text: string): string[] {
    const lines: string[] = []
    let start = 0
    for (let newline = text.indexOf("\n"); newline !== -1; newline = text.indexOf("\n", start)) {
      this.pieces.push(text.slice(start, newline))
      lines.push(stripCr(this.pieces.join("")))
      this.pieces = []
      start = newline + 1
    }
    if (start < text.length) this.pieces.push(text.slice(start))
    return lines
  }
}

/** The line without one trailing `\r` (CRLF output). */
function stripCr(line: string): string {
  return line.endsWith("\r") ? line.slice(0, -1) : line
}
