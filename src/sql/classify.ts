// What raw SQL classification answers, for every dialect: statements split out by the dialect's real parser,
// each classed read / write / ddl; rights are checked on the highest class found. The classifiers live in
// classify-postgres.ts (libpg-query, functions and relations resolved against the catalogue) and
// classify-mysql.ts (node-sql-parser, run as the parser re-emits it); both import only from here.

export type SqlClass = 'read' | 'write' | 'ddl'

export interface ClassifiedStatement {
  sql: string
  class: SqlClass
  /** a plain SELECT/VALUES whose rows PostgreSQL can turn into JSON itself */
  isPlainSelect: boolean
  /** transaction control (BEGIN/COMMIT…), which Atrium owns */
  isTransactionControl: boolean
}

export interface ClassifiedSql {
  statements: ClassifiedStatement[]
  /** the highest class among the statements */
  class: SqlClass
  /** what raised the class, phrased to follow "needed to" (e.g. "call pg_read_file(), which …"), when known */
  reason?: string
}

const RANK: Record<SqlClass, number> = { read: 0, write: 1, ddl: 2 }

/** the class that needs the stronger right */
export function higherClass(a: SqlClass, b: SqlClass): SqlClass {
  return RANK[b] > RANK[a] ? b : a
}
