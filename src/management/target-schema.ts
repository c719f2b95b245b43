// Which schema a management request works in, and how a relation in it is written in DDL.
import { AppError } from '../errors/app-error.js'
import type { Source } from '../sources/source.js'
import { assertIdentifier, quoteIdent } from './identifiers.js'

export interface TargetSchema {
  /** the PostgreSQL schema, or the MySQL database */
  schema: string
  /** `"schema"."name"` on PostgreSQL; `` `name` `` on MySQL, where the connection's database is the schema */
  qualify(name: string): string
}

/**
 * PostgreSQL: one of the client's exposed schemas (default: the first, usually public). MySQL/MariaDB: the
 * client's database; schema_name may be omitted, "public" (the spec's default) or that database's name.
 */
export function targetSchema(source: Source, schemaName: string | undefined): TargetSchema {
  if (source.dialect === 'mysql') {
    const database = source.schemas[0]
    if (schemaName !== undefined && schemaName !== 'public' && schemaName !== database) {
      throw new AppError('invalid_request', `schema_name "${schemaName.slice(0, 80)}" is not this client's database; MySQL clients manage only "${database}"`)
    }
    return { schema: database, qualify: (name) => quoteIdent('mysql', name) }
  }
  const schema = schemaName === undefined ? (source.schemas.includes('public') ? 'public' : source.schemas[0]) : assertIdentifier(schemaName, 'schema_name')
  if (!source.schemas.includes(schema)) {
    throw new AppError('invalid_request', `schema "${schema}" is not exposed by client "${source.name}"`, {
      hint: `exposed schemas: ${source.schemas.join(', ')}`,
    })
  }
  return { schema, qualify: (name) => `${quoteIdent('postgres', schema)}.${quoteIdent('postgres', name)}` }
}
