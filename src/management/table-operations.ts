// Managed tables: create, alter (additive, safe operations), drop, and drop one column.
import { AppError } from '../errors/app-error.js'
import type { Dialect } from '../sources/dialects.js'
import { columnDefinition, reservedColumnDefinitions, type ColumnRequest } from './column-definition.js'
import { renderDefault } from './default-expression.js'
import { assertIdentifier, assertNotAuditTable, assertNotReserved, quoteIdent } from './identifiers.js'
import { columnKey, isTableKind, liveColumns, relationKind, type LiveColumn } from './live-schema.js'
import { authorizeManagement, runManagedChange, type ChangeOutcome, type ManagementDeps } from './run-managed-change.js'
import type { RequestContext } from '../request-context.js'
import { targetSchema, type TargetSchema } from './target-schema.js'

export interface ManagementResult {
  message: string
  data: Record<string, unknown> & ChangeOutcome
}

export interface CreateTableInput {
  schema_name?: string
  table_name: string
  columns?: ColumnRequest[]
  if_not_exists?: boolean
}

const MAX_COLUMNS = 200

export async function createTable(deps: ManagementDeps, ctx: RequestContext, input: CreateTableInput): Promise<ManagementResult> {
  authorizeManagement(ctx, 'management.tables.create')
  const dialect = ctx.source.dialect
  const target = targetSchema(ctx.source, input.schema_name)
  const table = assertIdentifier(input.table_name, 'table_name')
  assertNotAuditTable(table)
  const columns = input.columns ?? []
  if (columns.length > MAX_COLUMNS) throw new AppError('invalid_request', `a table can be created with at most ${MAX_COLUMNS} columns`)
  const defs = columns.map((c, i) => columnDefinition(dialect, c, `columns[${i}]`))
  const seen = new Set<string>()
  for (const d of defs) {
    if (seen.has(columnKey(dialect, d.name))) throw new AppError('invalid_request', `column "${d.name}" is given twice`)
    seen.add(columnKey(dialect, d.name))
  }
  const sql = `CREATE TABLE ${target.qualify(table)} (${[...reservedColumnDefinitions(dialect), ...defs.map((d) => d.sql)].join(', ')})`
  const outcome = await runManagedChange(deps, ctx, {
    operation: 'management.tables.create',
    objectSchema: target.schema,
    objectName: table,
    details: { columns: defs.map((d) => d.name) },
    existsCode: 'table_exists',
    plan: async (db) => {
      if (await relationKind(db, dialect, target.schema, table)) throw tableExists(target, table)
      return [sql]
    },
  })
  return { message: `Table ${target.schema}.${table} created`, data: { operation: 'create_table', schema_name: target.schema, table_name: table, ...outcome } }
}

export interface EditTableInput {
  schema_name?: string
  operations: Array<Record<string, unknown>>
}

type Step = (cols: Map<string, LiveColumn>) => string

const MYSQL_UNSUPPORTED: Record<string, string> = {
  set_not_null: 'MySQL/MariaDB can change nullability only by restating the whole column definition (MODIFY COLUMN), which could silently change its type, default or charset',
  drop_not_null: 'MySQL/MariaDB can change nullability only by restating the whole column definition (MODIFY COLUMN), which could silently change its type, default or charset',
}

export async function editTable(deps: ManagementDeps, ctx: RequestContext, tableName: string, input: EditTableInput): Promise<ManagementResult> {
  authorizeManagement(ctx, 'management.tables.alter')
  const dialect = ctx.source.dialect
  const target = targetSchema(ctx.source, input.schema_name)
  const table = assertIdentifier(tableName, 'table_name')
  assertNotAuditTable(table)
  const steps = input.operations.map((op, i) => editStep(dialect, op, `operations[${i}]`))
  const outcome = await runManagedChange(deps, ctx, {
    operation: 'management.tables.alter',
    objectSchema: target.schema,
    objectName: table,
    details: { operations: input.operations },
    existsCode: 'column_exists',
    plan: async (db) => {
      if (!isTableKind(await relationKind(db, dialect, target.schema, table))) throw tableNotFound(target, table)
      const cols = await liveColumns(db, dialect, target.schema, table)
      // each step checks and updates `cols`, so later operations see earlier ones (add then set_default)
      const clauses = steps.map((step) => step(cols))
      // PostgreSQL: one statement per operation, all in the one transaction; MySQL: one ALTER with every clause
      return dialect === 'postgres'
        ? clauses.map((c) => `ALTER TABLE ${target.qualify(table)} ${c}`)
        : [`ALTER TABLE ${target.qualify(table)} ${clauses.join(', ')}`]
    },
  })
  return { message: `Table ${target.schema}.${table} altered (${steps.length} operation${steps.length === 1 ? '' : 's'})`, data: { operation: 'alter_table', schema_name: target.schema, table_name: table, ...outcome } }
}

/** validates one operation now (400s before any I/O) and returns the check + clause to run against live columns */
function editStep(dialect: Dialect, op: Record<string, unknown>, field: string): Step {
  const type = op.type
  if (dialect === 'mysql' && typeof type === 'string' && MYSQL_UNSUPPORTED[type]) {
    throw new AppError('unsupported_feature', `${field}: ${type} is not supported on MySQL/MariaDB clients: ${MYSQL_UNSUPPORTED[type]}`)
  }
  const q = (name: string) => quoteIdent(dialect, name)
  const existing = (name: string, cols: Map<string, LiveColumn>) => {
    const col = cols.get(columnKey(dialect, name))
    if (!col) throw new AppError('column_not_found', `column "${name}" does not exist`, { data: { column: name } })
    return col
  }
  const absent = (name: string, cols: Map<string, LiveColumn>) => {
    if (cols.has(columnKey(dialect, name))) throw new AppError('column_exists', `column "${name}" already exists`, { data: { column: name } })
  }
  switch (type) {
    case 'add_column': {
      const def = columnDefinition(dialect, op.column as ColumnRequest, `${field}.column`)
      return (cols) => {
        absent(def.name, cols)
        cols.set(columnKey(dialect, def.name), { name: def.name, nullable: (op.column as ColumnRequest).nullable !== false })
        return `ADD COLUMN ${def.sql}`
      }
    }
    case 'rename_column': {
      const from = assertIdentifier(op.from, `${field}.from`)
      const to = assertIdentifier(op.to, `${field}.to`)
      assertNotReserved(from, 'renamed')
      assertNotReserved(to, 'defined by a request')
      return (cols) => {
        const col = existing(from, cols)
        absent(to, cols)
        cols.delete(columnKey(dialect, from))
        cols.set(columnKey(dialect, to), { ...col, name: to })
        return `RENAME COLUMN ${q(from)} TO ${q(to)}`
      }
    }
    case 'set_default':
    case 'drop_default':
    case 'set_not_null':
    case 'drop_not_null': {
      const column = assertIdentifier(op.column_name, `${field}.column_name`)
      assertNotReserved(column, 'changed')
      const clause = type === 'set_default'
        ? `SET DEFAULT ${renderDefault(dialect, typeof op.default_expression === 'string' ? op.default_expression : '')}`
        : type === 'drop_default' ? 'DROP DEFAULT' : type === 'set_not_null' ? 'SET NOT NULL' : 'DROP NOT NULL'
      return (cols) => {
        existing(column, cols)
        return `ALTER COLUMN ${q(column)} ${clause}`
      }
    }
    default:
      throw new AppError('invalid_request', `${field}.type must be one of add_column, rename_column, set_default, drop_default, set_not_null, drop_not_null`)
  }
}

export interface DropInput {
  schema_name?: string
  cascade?: boolean
}

export async function dropTable(deps: ManagementDeps, ctx: RequestContext, tableName: string, input: DropInput): Promise<ManagementResult> {
  authorizeManagement(ctx, 'management.tables.drop')
  const dialect = ctx.source.dialect
  const target = targetSchema(ctx.source, input.schema_name)
  const table = assertIdentifier(tableName, 'table_name')
  assertNotAuditTable(table)
  // MySQL has no CASCADE for tables (it parses and ignores the word), so it is left out there
  const cascade = input.cascade === true && dialect === 'postgres' ? ' CASCADE' : ''
  const outcome = await runManagedChange(deps, ctx, {
    operation: 'management.tables.drop',
    objectSchema: target.schema,
    objectName: table,
    details: { cascade: input.cascade === true },
    plan: async (db) => {
      if (!isTableKind(await relationKind(db, dialect, target.schema, table))) throw tableNotFound(target, table)
      return [`DROP TABLE ${target.qualify(table)}${cascade}`]
    },
  })
  return { message: `Table ${target.schema}.${table} dropped`, data: { operation: 'drop_table', schema_name: target.schema, table_name: table, ...outcome } }
}

export async function dropColumn(deps: ManagementDeps, ctx: RequestContext, tableName: string, columnName: string, input: DropInput): Promise<ManagementResult> {
  authorizeManagement(ctx, 'management.columns.drop')
  const dialect = ctx.source.dialect
  const target = targetSchema(ctx.source, input.schema_name)
  const table = assertIdentifier(tableName, 'table_name')
  const column = assertIdentifier(columnName, 'column_name')
  assertNotAuditTable(table)
  assertNotReserved(column, 'dropped')
  const cascade = input.cascade === true && dialect === 'postgres' ? ' CASCADE' : ''
  const outcome = await runManagedChange(deps, ctx, {
    operation: 'management.columns.drop',
    objectSchema: target.schema,
    objectName: `${table}.${column}`,
    details: { table_name: table, column_name: column, cascade: input.cascade === true },
    plan: async (db) => {
      if (!isTableKind(await relationKind(db, dialect, target.schema, table))) throw tableNotFound(target, table)
      const cols = await liveColumns(db, dialect, target.schema, table)
      if (!cols.has(columnKey(dialect, column))) throw new AppError('column_not_found', `column "${column}" does not exist on ${target.schema}.${table}`, { data: { table, column } })
      return [`ALTER TABLE ${target.qualify(table)} DROP COLUMN ${quoteIdent(dialect, column)}${cascade}`]
    },
  })
  return { message: `Column ${column} dropped from ${target.schema}.${table}`, data: { operation: 'drop_column', schema_name: target.schema, table_name: table, column_name: column, ...outcome } }
}

export function tableNotFound(target: TargetSchema, table: string): AppError {
  return new AppError('table_not_found', `table ${target.schema}.${table} does not exist`, { data: { schema: target.schema, table } })
}

function tableExists(target: TargetSchema, table: string): AppError {
  return new AppError('table_exists', `a table (or other relation) named ${target.schema}.${table} already exists`, { data: { schema: target.schema, table } })
}
