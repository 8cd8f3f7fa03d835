/**
 * Rows as PostgreSQL's COPY text format (one line per row, tab between columns, `\N` for
 * null, backslash escapes), for the rebuild's bulk writes. A value is written as the live
 * driver's JSON would give it, so both drivers store the same bytes. Pure; no I/O.
 */
import type { ColumnKind, Table } from "./rows.js"

/** Backslash, newline, carriage return and tab are COPY's own characters: escaped. */
const escape = (text: string): string =>
  /[\\\n\r\t]/.test(text)
    ? text.replace(/[\\\n\r\t]/g, (c) => (c === "\\" ? "\\\\" : c === "\n" ? "\\n" : c === "\r" ? "\\r" : "\\t"))
    : text

/** One value in COPY text: `\N` for null; Dates as ISO 8601 (ms, UTC); JSON as its text. */
const field = (kind: ColumnKind, value: unknown): string => {
  if (value === null || value === undefined) return "\\N"
  switch (kind) {
    case "text":
      return escape(value as string)
    case "int":
    case "bigint":
    case "numeric":
      return String(value)
    case "bool":
      return value ? "t" : "f"
    case "json":
      return escape(JSON.stringify(value))
    case "time":
      return (value as Date).toISOString()
  }
}

/**
 * A function writing one row of `table` as a COPY text line (with its newline), columns in
 * the order of the table's column list. Throws a RangeError for an invalid Date.
 */
export const copyLine = <R>(table: Table<R>): ((row: R) => string) => {
  const columns = Object.entries(table.columns) as Array<[keyof R & string, ColumnKind]>
  return (row) => {
    let line = ""
    for (let i = 0; i < columns.length; i++) {
      const [name, kind] = columns[i]!
      line += (i === 0 ? "" : "\t") + field(kind, row[name])
    }
    return `${line}\n`
  }
}
