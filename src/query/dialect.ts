// What each SQL dialect can do, as data the planner checks (never `if (isMysql)` scattered in code).
import type { Operator } from './ast.js'

export interface DialectCapabilities {
  name: 'postgres' | 'mysql' | 'mariadb'
  /** INSERT … RETURNING */
  insertReturning: boolean
  /** UPDATE/DELETE … RETURNING (else the rows are re-read by primary key) */
  mutationReturning: boolean
  operators: ReadonlySet<Operator>
  /** ORDER BY / LIMIT inside to-many embeds */
  embedOrderLimit: boolean
  casts: boolean
}

const ALL_OPERATORS: Operator[] = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'like', 'ilike', 'match', 'imatch', 'in', 'is', 'isdistinct',
  'cs', 'cd', 'ov', 'sl', 'sr', 'nxl', 'nxr', 'adj', 'fts', 'plfts', 'phfts', 'wfts']
const MYSQL_OPERATORS: Operator[] = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'like', 'ilike', 'match', 'imatch', 'in', 'is', 'isdistinct', 'cs', 'cd']

export const POSTGRES: DialectCapabilities = Object.freeze({
  name: 'postgres', insertReturning: true, mutationReturning: true, operators: new Set(ALL_OPERATORS), embedOrderLimit: true, casts: true,
})
export const MARIADB: DialectCapabilities = Object.freeze({
  name: 'mariadb', insertReturning: true, mutationReturning: false, operators: new Set([...MYSQL_OPERATORS, 'ov' as const]), embedOrderLimit: true, casts: false,
})
export const MYSQL: DialectCapabilities = Object.freeze({
  name: 'mysql', insertReturning: false, mutationReturning: false, operators: new Set([...MYSQL_OPERATORS, 'ov' as const]), embedOrderLimit: false, casts: false,
})

export function capabilitiesFor(dialect: 'postgres' | 'mysql', serverVersion: string | undefined): DialectCapabilities {
  if (dialect === 'postgres') return POSTGRES
  return serverVersion?.startsWith('MariaDB') ? MARIADB : MYSQL
}

export const displayName = (c: DialectCapabilities) => (c.name === 'postgres' ? 'PostgreSQL' : c.name === 'mariadb' ? 'MariaDB' : 'MySQL')
