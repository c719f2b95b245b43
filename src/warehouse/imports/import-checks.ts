// The SQL an import runs on DuckDB to check a file against a table's declared schema: which of the file's
// columns feed which declared column, each value converted with TRY_CAST, and for each row the reasons it does not
// fit (a value that is not of the column's type, a NULL in a NOT NULL column). Pure: builds text from checked
// names only (declared column names are identifiers; file columns are used only when they match one).
import type { ColumnSpec } from '../table-schema.js'

export type ImportFormat = 'CSV' | 'JSONL' | 'PARQUET'
export const IMPORT_FORMATS = ['CSV', 'JSONL', 'PARQUET'] as const

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`
export const literal = (text: string) => `'${text.replaceAll("'", "''")}'`

/** the file as rows: CSV with a header, every value as text (types are checked per column, not guessed) */
export function readerOf(format: ImportFormat, file: string): string {
  switch (format) {
    case 'CSV': return `read_csv(${literal(file)}, header = true, all_varchar = true)`
    // one JSON value per line, kept whole: keys are looked up per declared column
    case 'JSONL': return `read_ndjson_objects(${literal(file)})`
    case 'PARQUET': return `read_parquet(${literal(file)})`
  }
}

export interface ColumnMatch {
  /** declared columns with the file's column (or JSON key) that feeds each; absent: NULL */
  sources: Map<string, string>
  /** the file's columns the table does not declare */
  unknown: string[]
  /** NOT NULL columns the file does not have */
  missingRequired: string[]
}

/** matches the file's column names to the declared ones, ignoring case as DuckDB's names do */
export function matchColumns(declared: readonly ColumnSpec[], fileColumns: readonly string[]): ColumnMatch {
  const byLower = new Map(declared.map((c) => [c.name.toLowerCase(), c]))
  const sources = new Map<string, string>()
  const unknown: string[] = []
  for (const name of fileColumns) {
    const col = byLower.get(name.toLowerCase())
    if (col && !sources.has(col.name)) sources.set(col.name, name)
    else unknown.push(name)
  }
  const missingRequired = declared.filter((c) => !c.nullable && !sources.has(c.name)).map((c) => c.name)
  return { sources, unknown, missingRequired }
}

const NESTED = /(\]|^JSON|^STRUCT|^MAP)/

/** the raw value of a declared column in a row of the reader */
function rawOf(format: ImportFormat, col: ColumnSpec, source: string | undefined): string {
  if (source === undefined) return 'NULL'
  if (format !== 'JSONL') return quote(source)
  // the key matched a declared name case-insensitively, so it is an identifier too: safe inside the path
  const path = literal(`$."${source}"`)
  // scalars as their text (so "10" and 10 both fit an INTEGER), nested values and JSON columns as JSON
  return NESTED.test(col.type) ? `json_extract(json, ${path})` : `json_extract_string(json, ${path})`
}

/**
 * A SELECT over the reader with, per row: __row (1-based), __reason ('' when the row fits) and c0…cn, the
 * declared columns converted to their types.
 */
export function checkedRowsSql(format: ImportFormat, file: string, declared: readonly ColumnSpec[], sources: Map<string, string>): string {
  const raws = declared.map((c) => rawOf(format, c, sources.get(c.name)))
  const values = declared.map((c, i) => `TRY_CAST(${raws[i]} AS ${c.type}) AS c${i}`)
  const reasons = declared.map((c, i) => {
    const raw = raws[i]!
    const notNull = c.nullable ? '' : `WHEN ${raw} IS NULL THEN ${literal(`${c.name}: NULL in a NOT NULL column`)} `
    return `CASE ${notNull}WHEN ${raw} IS NOT NULL AND TRY_CAST(${raw} AS ${c.type}) IS NULL THEN ${literal(`${c.name}: `)} || left(CAST(${raw} AS VARCHAR), 60) || ${literal(` is not a valid ${c.type}`)} END`
  })
  if (format === 'JSONL') reasons.unshift(`CASE WHEN json_type(json) <> 'OBJECT' THEN 'the line is not a JSON object' END`)
  return `SELECT row_number() OVER () AS __row, concat_ws('; ', ${reasons.join(', ')}) AS __reason, ${values.join(', ')} FROM ${readerOf(format, file)}`
}

/** the file's column names (JSONL: every key of every line) */
export function fileColumnsSql(format: ImportFormat, file: string): string {
  return format === 'JSONL'
    ? `SELECT DISTINCT k FROM (SELECT unnest(json_keys(json)) AS k FROM ${readerOf(format, file)} WHERE json_type(json) = 'OBJECT') ORDER BY k`
    : `SELECT column_name FROM (DESCRIBE SELECT * FROM ${readerOf(format, file)})`
}
