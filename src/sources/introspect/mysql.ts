// Reads tables, views, columns, keys, foreign keys and routines of one MySQL/MariaDB database from information_schema.
import type { Executor, Row } from '../driver.js'
import { categorize, DbSchema, type FunctionInfo, type RawTable } from '../schema.js'

const q = (db: Executor, sql: string, params: unknown[]) => db.query({ sql, params }).then((r) => r.rows as Row[])

export async function introspectMysql(db: Executor, database: string): Promise<DbSchema> {
  const [tables, columns, constraints, routines, params, jsonChecks] = await Promise.all([
    q(db, `SELECT TABLE_NAME AS name, TABLE_TYPE AS type FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?`, [database]),
    q(db, `SELECT TABLE_NAME AS tbl, COLUMN_NAME AS name, COLUMN_TYPE AS type, DATA_TYPE AS dataType, IS_NULLABLE AS nullable,
             COLUMN_DEFAULT AS def, ORDINAL_POSITION AS pos, EXTRA AS extra
           FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, ORDINAL_POSITION`, [database]),
    q(db, `SELECT tc.TABLE_NAME AS tbl, tc.CONSTRAINT_NAME AS name, tc.CONSTRAINT_TYPE AS type, k.COLUMN_NAME AS col,
             k.REFERENCED_TABLE_SCHEMA AS refSchema, k.REFERENCED_TABLE_NAME AS refTable, k.REFERENCED_COLUMN_NAME AS refCol
           FROM information_schema.TABLE_CONSTRAINTS tc
           JOIN information_schema.KEY_COLUMN_USAGE k ON k.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA
             AND k.CONSTRAINT_NAME = tc.CONSTRAINT_NAME AND k.TABLE_NAME = tc.TABLE_NAME
           WHERE tc.TABLE_SCHEMA = ? AND tc.CONSTRAINT_TYPE IN ('PRIMARY KEY', 'UNIQUE', 'FOREIGN KEY')
           ORDER BY tc.TABLE_NAME, tc.CONSTRAINT_NAME, k.ORDINAL_POSITION`, [database]),
    q(db, `SELECT ROUTINE_NAME AS name, ROUTINE_TYPE AS type, DTD_IDENTIFIER AS returns, IS_DETERMINISTIC AS det
           FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?`, [database]),
    q(db, `SELECT SPECIFIC_NAME AS routine, PARAMETER_NAME AS name, DTD_IDENTIFIER AS type, PARAMETER_MODE AS mode
           FROM information_schema.PARAMETERS WHERE SPECIFIC_SCHEMA = ? AND ORDINAL_POSITION > 0 ORDER BY SPECIFIC_NAME, ORDINAL_POSITION`, [database]),
    // MariaDB stores JSON as LONGTEXT guarded by json_valid(); that check is how we know to return it as JSON.
    q(db, `SELECT TABLE_NAME AS tbl, CHECK_CLAUSE AS clause FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ?`, [database])
      .catch(() => [] as Row[]),
  ])
  const jsonColumns = new Set(jsonChecks.flatMap((c) => {
    const m = /json_valid\(`([^`]+)`\)/i.exec(String(c.clause))
    return m ? [`${c.tbl}.${m[1]}`] : []
  }))
  const raw = new Map<string, RawTable>()
  for (const t of tables) {
    raw.set(String(t.name), {
      schema: database,
      name: String(t.name),
      kind: t.type === 'VIEW' ? 'view' : 'table',
      insertable: t.type !== 'VIEW',
      columns: [],
      primaryKey: [],
      uniques: [],
      foreignKeys: [],
    })
  }
  for (const c of columns) {
    const table = raw.get(String(c.tbl))
    if (!table) continue
    const isJson = c.dataType === 'json' || jsonColumns.has(`${c.tbl}.${c.name}`)
    const type = isJson ? 'json' : String(c.type)
    table.columns.push({
      name: String(c.name),
      type,
      baseType: type,
      category: categorize(type),
      nullable: c.nullable === 'YES',
      default: c.def === null || c.def === undefined || c.def === 'NULL' ? null : String(c.def),
      position: Number(c.pos),
      generated: /auto_increment|GENERATED|VIRTUAL|STORED/i.test(String(c.extra ?? '')),
    })
  }
  const grouped = new Map<string, { tbl: string; type: string; cols: string[]; refSchema: string; refTable: string; refCols: string[] }>()
  for (const k of constraints) {
    const id = `${k.tbl}\u0000${k.name}\u0000${k.type}`
    const g = grouped.get(id) ?? { tbl: String(k.tbl), type: String(k.type), cols: [], refSchema: String(k.refSchema ?? ''), refTable: String(k.refTable ?? ''), refCols: [] }
    g.cols.push(String(k.col))
    if (k.refCol) g.refCols.push(String(k.refCol))
    grouped.set(id, g)
  }
  for (const [id, g] of grouped) {
    const table = raw.get(g.tbl)
    if (!table) continue
    if (g.type === 'PRIMARY KEY') table.primaryKey = g.cols
    else if (g.type === 'UNIQUE') table.uniques.push(g.cols)
    else if (g.refSchema === database) {
      table.foreignKeys.push({ name: id.split('\u0000')[1], schema: database, table: g.tbl, columns: g.cols, refSchema: database, refTable: g.refTable, refColumns: g.refCols })
    }
  }
  const functions: FunctionInfo[] = routines.map((r) => ({
    schema: database,
    name: String(r.name),
    args: params.filter((p) => p.routine === r.name && p.mode !== 'OUT').map((p) => ({ name: String(p.name), type: String(p.type), hasDefault: false })),
    returnType: r.type === 'FUNCTION' ? String(r.returns) : 'procedure',
    returnsSet: r.type === 'PROCEDURE',
    returnsRelation: null,
    returnsRows: r.type === 'PROCEDURE',
    outputColumns: [],
    volatility: r.det === 'YES' ? 'immutable' : 'volatile',
  }))
  return new DbSchema([database], [...raw.values()], functions)
}
