// A Workspace table's declared schema ({"columns":[{name, type, nullable, private}]}): its validation, and the
// changes a new schema makes to an old one (add, rename, drop, nullability), or a clear 422 for what cannot be
// applied. Pure: no engine, no I/O. Column names and type names are checked here, so the engine can quote them.
import { AppError } from '../errors/app-error.js'

export interface ColumnSpec {
  name: string
  /** a DuckDB type name: INTEGER, VARCHAR, DECIMAL(10,2), TIMESTAMP, INTEGER[] … */
  type: string
  nullable: boolean
  /** masked for users below Dataset editor in query results */
  private: boolean
}

export interface TableSchema {
  columns: ColumnSpec[]
}

export type SchemaChange =
  | { kind: 'add'; column: ColumnSpec }
  | { kind: 'rename'; from: string; to: string }
  | { kind: 'drop'; name: string }
  | { kind: 'nullable'; name: string; nullable: boolean }

/** DuckDB's base type names a column may declare (aliases included); parameters and [] are checked apart */
const BASE_TYPES = new Set([
  'BOOLEAN', 'BOOL', 'TINYINT', 'SMALLINT', 'INTEGER', 'INT', 'BIGINT', 'HUGEINT', 'UTINYINT', 'USMALLINT', 'UINTEGER',
  'UBIGINT', 'UHUGEINT', 'FLOAT', 'REAL', 'DOUBLE', 'DECIMAL', 'NUMERIC', 'VARCHAR', 'TEXT', 'STRING', 'BLOB', 'DATE',
  'TIME', 'TIMESTAMP', 'TIMESTAMPTZ', 'TIMESTAMP WITH TIME ZONE', 'INTERVAL', 'UUID', 'JSON', 'BIT',
])
const TYPE_SHAPE = /^([A-Z][A-Z ]*?)(?:\((\d{1,2})(?:,\s*(\d{1,2}))?\))?((?:\[\])*)$/
const NAME_SHAPE = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/
const MAX_COLUMNS = 1000

const invalid = (loc: Array<string | number>, msg: string) => new AppError('invalid_table_schema', msg, { data: { loc: ['body', 'schema', ...loc] } })

/** the type in DuckDB's canonical spelling, or null when it is not one a column may declare */
export function normalizeType(type: string): string | null {
  const m = TYPE_SHAPE.exec(type.trim().toUpperCase().replace(/\s+/g, ' '))
  if (!m || !BASE_TYPES.has(m[1]!.trim())) return null
  const [, base, p, s, arrays] = m
  if (p !== undefined && !['DECIMAL', 'NUMERIC', 'VARCHAR'].includes(base!.trim())) return null
  if (s !== undefined && Number(s) > Number(p)) return null
  if (p !== undefined && ['DECIMAL', 'NUMERIC'].includes(base!.trim()) && (Number(p) < 1 || Number(p) > 38)) return null
  return `${base!.trim()}${p !== undefined ? `(${p}${s !== undefined ? `,${s}` : ''})` : ''}${arrays ?? ''}`
}

/** checks a declared schema and returns it normalised (types upper-cased, defaults filled); 422 naming the column */
export function parseTableSchema(input: unknown): TableSchema {
  if (typeof input !== 'object' || input === null || !Array.isArray((input as { columns?: unknown }).columns)) {
    throw invalid([], 'schema must be an object {"columns": [{"name", "type", "nullable", "private"}]}')
  }
  const raw = (input as { columns: unknown[] }).columns
  if (raw.length === 0) throw invalid(['columns'], 'a table needs at least one column')
  if (raw.length > MAX_COLUMNS) throw invalid(['columns'], `a table may have at most ${MAX_COLUMNS} columns`)
  const seen = new Set<string>()
  const columns = raw.map((c, i): ColumnSpec & { old_name?: string } => {
    if (typeof c !== 'object' || c === null) throw invalid(['columns', i], 'each column must be an object')
    const { name, type, nullable = true, private: isPrivate = false, old_name: oldName } = c as Record<string, unknown>
    if (typeof name !== 'string' || !NAME_SHAPE.test(name)) throw invalid(['columns', i, 'name'], 'a column name is 1–63 letters, digits or _, not starting with a digit')
    if (seen.has(name.toLowerCase())) throw invalid(['columns', i, 'name'], `column "${name}" is declared twice`)
    seen.add(name.toLowerCase())
    const normal = typeof type === 'string' ? normalizeType(type) : null
    if (!normal) throw invalid(['columns', i, 'type'], `column "${name}": "${String(type)}" is not a DuckDB type a column may declare (e.g. INTEGER, BIGINT, DOUBLE, DECIMAL(18,2), VARCHAR, BOOLEAN, DATE, TIMESTAMP, JSON, VARCHAR[])`)
    if (typeof nullable !== 'boolean') throw invalid(['columns', i, 'nullable'], `column "${name}": nullable must be true or false`)
    if (typeof isPrivate !== 'boolean') throw invalid(['columns', i, 'private'], `column "${name}": private must be true or false`)
    if (oldName !== undefined && (typeof oldName !== 'string' || !NAME_SHAPE.test(oldName))) throw invalid(['columns', i, 'old_name'], `column "${name}": old_name must name an existing column`)
    return { name, type: normal, nullable, private: isPrivate, ...(oldName !== undefined ? { old_name: oldName as string } : {}) }
  })
  return { columns }
}

/**
 * The changes that turn `before` into `after`. A column is renamed when the new schema gives its old name
 * as `old_name`; a column of the old schema that the new one does not name (by name or old_name) is dropped;
 * a new name is added. A type change is refused: a column's values would have to be converted.
 */
export function diffSchemas(before: TableSchema, after: TableSchema): SchemaChange[] {
  const old = new Map(before.columns.map((c) => [c.name, c]))
  const kept = new Set<string>()
  const changes: SchemaChange[] = []
  const drops: SchemaChange[] = []
  const adds: SchemaChange[] = []
  for (const [i, col] of (after.columns as Array<ColumnSpec & { old_name?: string }>).entries()) {
    const from = col.old_name ?? col.name
    const prior = old.get(from)
    if (col.old_name !== undefined && !prior) throw invalid(['columns', i, 'old_name'], `column "${col.old_name}" does not exist, so it cannot be renamed to "${col.name}"`)
    if (!prior) {
      if (!col.nullable) throw invalid(['columns', i, 'nullable'], `a new column ("${col.name}") must be nullable: the rows already in the table have no value for it`)
      adds.push({ kind: 'add', column: stripOldName(col) })
      continue
    }
    if (kept.has(from)) throw invalid(['columns', i], `column "${from}" is named twice`)
    kept.add(from)
    if (prior.type !== col.type) throw invalid(['columns', i, 'type'], `column "${from}" cannot change type from ${prior.type} to ${col.type}; add a new column instead`)
    if (from !== col.name) changes.push({ kind: 'rename', from, to: col.name })
    if (prior.nullable !== col.nullable) changes.push({ kind: 'nullable', name: col.name, nullable: col.nullable })
  }
  for (const name of old.keys()) if (!kept.has(name)) drops.push({ kind: 'drop', name })
  if (kept.size === 0 && adds.length === 0) throw invalid(['columns'], 'a table needs at least one column')
  // drops first, so a dropped name can be added again; renames next
  return [...drops, ...changes.filter((c) => c.kind === 'rename'), ...adds, ...changes.filter((c) => c.kind === 'nullable')]
}

/** the schema as stored: old_name was an instruction for this change, not part of the schema */
export function storedSchema(schema: TableSchema): TableSchema {
  return { columns: schema.columns.map(stripOldName) }
}

function stripOldName(c: ColumnSpec & { old_name?: string }): ColumnSpec {
  return { name: c.name, type: c.type, nullable: c.nullable, private: c.private }
}
