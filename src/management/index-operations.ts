// Indexes on managed tables: create (allow-listed methods, validated columns) and drop by name.
import { AppError } from '../errors/app-error.js'
import type { Dialect } from '../sources/dialects.js'
import { assertIdentifier, assertNotAuditTable, quoteIdent } from './identifiers.js'
import { columnKey, isTableKind, liveColumns, liveIndexes, relationKind } from './live-schema.js'
import { authorizeManagement, runManagedChange, type ManagementDeps } from './run-managed-change.js'
import type { RequestContext } from '../request-context.js'
import type { ManagementResult } from './table-operations.js'
import { tableNotFound } from './table-operations.js'
import { targetSchema } from './target-schema.js'

const INDEX_METHODS: Record<Dialect, string[]> = {
  postgres: ['btree', 'hash', 'gin', 'gist', 'brin'],
  // InnoDB builds every index as a B-tree whatever USING says, so offering more would be a lie
  mysql: ['btree'],
}

export const allowedIndexMethods = (dialect: Dialect) => [...INDEX_METHODS[dialect]]

export interface CreateIndexInput {
  schema_name?: string
  table_name: string
  index_name?: string | null
  columns: string[]
  unique?: boolean
  method?: string
  /** PostgreSQL: CREATE INDEX CONCURRENTLY, so writes to the table go on while it builds */
  concurrently?: boolean
}

const MAX_INDEX_COLUMNS = 32

export async function createIndex(deps: ManagementDeps, ctx: RequestContext, input: CreateIndexInput): Promise<ManagementResult> {
  authorizeManagement(ctx, 'management.indexes.create')
  const dialect = ctx.source.dialect
  const target = targetSchema(ctx.source, input.schema_name)
  const table = assertIdentifier(input.table_name, 'table_name')
  assertNotAuditTable(table)
  if (!Array.isArray(input.columns) || input.columns.length === 0 || input.columns.length > MAX_INDEX_COLUMNS) {
    throw new AppError('invalid_request', `columns must list 1 to ${MAX_INDEX_COLUMNS} column names`)
  }
  const columns = input.columns.map((c, i) => assertIdentifier(c, `columns[${i}]`))
  if (new Set(columns.map((c) => columnKey(dialect, c))).size !== columns.length) throw new AppError('invalid_request', 'columns lists a column twice')
  const method = (input.method ?? 'btree').toLowerCase()
  if (!INDEX_METHODS[dialect].includes(method)) {
    throw new AppError('index_method_not_allowed', `index method "${method.slice(0, 40)}" is not allowed on this client`, { data: { allowed_index_methods: INDEX_METHODS[dialect] } })
  }
  // only B-tree indexes can enforce uniqueness in PostgreSQL
  if (input.unique && method !== 'btree') throw new AppError('invalid_request', `a unique index must use btree, not ${method}`)
  const name = input.index_name == null
    ? assertIdentifier(`${table}_${columns.join('_')}_idx`.slice(0, 63), 'index_name')
    : assertIdentifier(input.index_name, 'index_name')
  const q = (n: string) => quoteIdent(dialect, n)
  const unique = input.unique ? 'UNIQUE ' : ''
  const concurrently = dialect === 'postgres' && input.concurrently === true
  const sql = dialect === 'postgres'
    ? `CREATE ${unique}INDEX ${concurrently ? 'CONCURRENTLY ' : ''}${q(name)} ON ${target.qualify(table)} USING ${method} (${columns.map(q).join(', ')})`
    : `CREATE ${unique}INDEX ${q(name)} ON ${target.qualify(table)} (${columns.map(q).join(', ')}) USING BTREE`
  const outcome = await runManagedChange(deps, ctx, {
    operation: 'management.indexes.create',
    objectSchema: target.schema,
    objectName: name,
    details: { table_name: table, columns, unique: input.unique === true, method, concurrently },
    existsCode: 'index_exists',
    outsideTransaction: concurrently ? { cleanup: [`DROP INDEX CONCURRENTLY IF EXISTS ${target.qualify(name)}`] } : undefined,
    plan: async (db) => {
      if (!isTableKind(await relationKind(db, dialect, target.schema, table))) throw tableNotFound(target, table)
      const cols = await liveColumns(db, dialect, target.schema, table)
      const missing = columns.find((c) => !cols.has(columnKey(dialect, c)))
      if (missing) throw new AppError('column_not_found', `column "${missing}" does not exist on ${target.schema}.${table}`, { data: { table, column: missing } })
      // PostgreSQL index names share the namespace of tables; MySQL's are per table, but a name used twice
      // would make DELETE /management/indexes/{index_name} ambiguous, so it must be unique in the database
      const taken = dialect === 'postgres' ? (await relationKind(db, dialect, target.schema, name)) !== undefined : (await liveIndexes(db, dialect, target.schema, name)).length > 0
      if (taken) throw new AppError('index_exists', `an index (or other relation) named ${target.schema}.${name} already exists`, { data: { index: name } })
      return [sql]
    },
  })
  return { message: `Index ${name} created on ${target.schema}.${table}`, data: { operation: 'create_index', schema_name: target.schema, table_name: table, index_name: name, ...outcome } }
}

export async function dropIndex(deps: ManagementDeps, ctx: RequestContext, indexName: string, input: { schema_name?: string }): Promise<ManagementResult> {
  authorizeManagement(ctx, 'management.indexes.drop')
  const dialect = ctx.source.dialect
  const target = targetSchema(ctx.source, input.schema_name)
  const name = assertIdentifier(indexName, 'index_name')
  let table = ''
  const outcome = await runManagedChange(deps, ctx, {
    operation: 'management.indexes.drop',
    objectSchema: target.schema,
    objectName: name,
    details: {},
    plan: async (db) => {
      const found = await liveIndexes(db, dialect, target.schema, name)
      if (found.length === 0) throw new AppError('index_not_found', `index ${target.schema}.${name} does not exist`, { data: { index: name } })
      if (found.length > 1) throw new AppError('invalid_request', `index name "${name}" exists on several tables (${found.map((f) => f.table).join(', ')}); drop it with SQL`)
      const [index] = found
      assertNotAuditTable(index.table)
      if (index.constraint) {
        throw new AppError('invalid_request', `index ${name} enforces constraint ${index.constraint} of ${index.table}; it cannot be dropped on its own`)
      }
      table = index.table
      return [dialect === 'postgres'
        ? `DROP INDEX ${target.qualify(name)}`
        : `DROP INDEX ${quoteIdent(dialect, name)} ON ${target.qualify(index.table)}`]
    },
  })
  return { message: `Index ${name} dropped`, data: { operation: 'drop_index', schema_name: target.schema, table_name: table, index_name: name, ...outcome } }
}
