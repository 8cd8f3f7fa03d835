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

/** How each kind of value is written in COPY text (never null: see {@link copyLine}). */
const FIELD: { readonly [K in ColumnKind]: (value: unknown) => string } = {
  text: (value) => escape(value as string),
  int: String,
  bigint: String,
  numeric: String,
  bool: (value) => (value ? "t" : "f"),
  json: (value) => escape(JSON.stringify(value)),
  // ISO 8601, ms, UTC.
  time: (value) => (value as Date).toISOString()
}

/**
 * A function writing one row of `table` as a COPY text line (with its newline), columns in
 * the order of the table's column list, `\N` for null. Throws a RangeError for an invalid Date.
 */
export const copyLine = <R>(table: Table<R>): ((row: R) => string) => {
  const names = Object.keys(table.columns) as Array<keyof R & string>
  const fields = names.map((name) => FIELD[table.columns[name]])
  return (row) => {
    let line = ""
    for (let i = 0; i < names.length; i++) {
      const value = row[names[i]!]
      line += (i === 0 ? "" : "\t") + (value === null || value === undefined ? "\\N" : fields[i]!(value))
    }
    return `${line}\n`
  }
}
