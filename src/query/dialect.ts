// What each SQL dialect can do, as data the planner and compilers check (never `if (isMysql)` scattered in code).
// Which flavour a source has is decided by its entry in sources/dialects.ts.
import type { Operator } from './ast.js'

export interface DialectCapabilities {
  /** the flavour: one dialect may have several (MySQL and MariaDB share the mysql dialect) */
  name: 'postgres' | 'mysql' | 'mariadb'
  /** the product name in messages: "not supported on MariaDB sources" */
  displayName: string
  /** INSERT … RETURNING */
  insertReturning: boolean
  /** UPDATE/DELETE … RETURNING (else the rows are re-read by primary key) */
  mutationReturning: boolean
  operators: ReadonlySet<Operator>
  /** ORDER BY / LIMIT inside to-many embeds */
  embedOrderLimit: boolean
  /** ordering by a column of a to-one embed */
  embedOrder: boolean
  /** aggregates beside group columns inside an embed (`orders(status,total.sum())`): one entry per group */
  embedAggregateGroups: boolean
  casts: boolean
  /** `col->key` / `col->>key` paths into JSON columns, in select, filters and order */
  jsonPaths: boolean
  /** native array and range columns, so containment and range operators apply to them (else to JSON columns only) */
  arrays: boolean
  /** a set-returning function's rows can be selected, filtered, ordered and paged like a table's */
  functionReads: boolean
  /** a source spans named schemas (else it is one database, which a `public` profile header means) */
  namedSchemas: boolean
}

const ALL_OPERATORS: Operator[] = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'like', 'ilike', 'match', 'imatch', 'in', 'is', 'isdistinct',
  'cs', 'cd', 'ov', 'sl', 'sr', 'nxl', 'nxr', 'adj', 'fts', 'plfts', 'phfts', 'wfts']
const MYSQL_OPERATORS: Operator[] = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'like', 'ilike', 'match', 'imatch', 'in', 'is', 'isdistinct', 'cs', 'cd']

export const POSTGRES: DialectCapabilities = Object.freeze({
  name: 'postgres', displayName: 'PostgreSQL', insertReturning: true, mutationReturning: true, operators: new Set(ALL_OPERATORS),
  embedOrderLimit: true, embedOrder: true, embedAggregateGroups: true, casts: true, jsonPaths: true, arrays: true, functionReads: true, namedSchemas: true,
})
export const MARIADB: DialectCapabilities = Object.freeze({
  name: 'mariadb', displayName: 'MariaDB', insertReturning: true, mutationReturning: false, operators: new Set([...MYSQL_OPERATORS, 'ov' as const]),
  embedOrderLimit: true, embedOrder: false, embedAggregateGroups: true, casts: false, jsonPaths: false, arrays: false, functionReads: false, namedSchemas: false,
})
export const MYSQL: DialectCapabilities = Object.freeze({
  name: 'mysql', displayName: 'MySQL', insertReturning: false, mutationReturning: false, operators: new Set([...MYSQL_OPERATORS, 'ov' as const]),
  embedOrderLimit: false, embedOrder: false, embedAggregateGroups: false, casts: false, jsonPaths: false, arrays: false, functionReads: false, namedSchemas: false,
})

export const displayName = (c: DialectCapabilities) => c.displayName
