// Existence checks for management DDL, asked of the database itself (inside the DDL's transaction on
// PostgreSQL) rather than the schema cache, which may lag behind changes made elsewhere.
import type { Dialect } from '../sources/dialects.js'
import type { Executor } from '../sources/driver.js'

export interface LiveColumn {
  name: string
  nullable: boolean
}

/** PostgreSQL relkind ('r' table, 'p' partitioned, 'v' view, 'i' index, …) or MySQL table_type; undefined when absent */
export async function relationKind(db: Executor, dialect: Dialect, schema: string, name: string): Promise<string | undefined> {
  const res = dialect === 'postgres'
    ? await db.query({ sql: 'SELECT c.relkind::text AS kind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2', params: [schema, name] })
    : await db.query({ sql: 'SELECT table_type AS kind FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?', params: [name] })
  return res.rows[0] ? String(res.rows[0].kind) : undefined
}

export const isTableKind = (kind: string | undefined) => kind === 'r' || kind === 'p' || kind === 'BASE TABLE'

/** a table's columns keyed by name (lower-cased on MySQL, whose column names ignore case) */
export async function liveColumns(db: Executor, dialect: Dialect, schema: string, table: string): Promise<Map<string, LiveColumn>> {
  const res = dialect === 'postgres'
    ? await db.query({
        sql: `SELECT a.attname::text AS name, NOT a.attnotnull AS nullable FROM pg_attribute a
              WHERE a.attrelid = (SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2)
                AND a.attnum > 0 AND NOT a.attisdropped`,
        params: [schema, table],
      })
    : await db.query({
        sql: "SELECT column_name AS name, is_nullable = 'YES' AS nullable FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ?",
        params: [table],
      })
  return new Map(res.rows.map((r) => [columnKey(dialect, String(r.name)), { name: String(r.name), nullable: Boolean(r.nullable) }]))
}

export const columnKey = (dialect: Dialect, name: string) => (dialect === 'mysql' ? name.toLowerCase() : name)

export interface LiveIndex {
  table: string
  /** the constraint (primary key, unique) the index enforces, if any */
  constraint: string | null
}

/** every index with this name (PostgreSQL: at most one per schema; MySQL names are per table) */
export async function liveIndexes(db: Executor, dialect: Dialect, schema: string, name: string): Promise<LiveIndex[]> {
  if (dialect === 'postgres') {
    const res = await db.query({
      sql: `SELECT t.relname::text AS table_name, (SELECT con.conname::text FROM pg_constraint con WHERE con.conindid = c.oid LIMIT 1) AS constraint_name
            FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND c.relname = $2`,
      params: [schema, name],
    })
    return res.rows.map((r) => ({ table: String(r.table_name), constraint: (r.constraint_name as string | null) ?? null }))
  }
  const res = await db.query({
    sql: `SELECT DISTINCT table_name AS table_name, index_name AS index_name FROM information_schema.statistics
          WHERE table_schema = DATABASE() AND index_name = ?`,
    params: [name],
  })
  return res.rows.map((r) => ({ table: String(r.table_name), constraint: String(r.index_name).toUpperCase() === 'PRIMARY' ? 'PRIMARY' : null }))
}
