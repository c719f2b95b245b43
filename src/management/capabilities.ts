// What the management API can do on one client: operations, rights, allow-lists and what its database lacks.
import type { Source } from '../sources/source.js'
import { auditLogState } from './audit-log.js'
import { allowedDataTypes } from './data-types.js'
import { allowedDefaultFunctions } from './default-expression.js'
import { ALLOWED_EXTENSIONS } from './extension-operations.js'
import { RESERVED_COLUMNS } from './identifiers.js'
import { allowedIndexMethods } from './index-operations.js'
import { operationRights } from '../auth/operation-rights.js'
import { requireManagementAccess } from './management-access.js'
import type { RequestContext } from '../request-context.js'

const RIGHTS: Array<{ operation: string; required_right: string }> = [
  { operation: 'capabilities', required_right: operationRights['management.read'].right },
  { operation: 'create_table', required_right: operationRights['management.tables.create'].right },
  { operation: 'add_column', required_right: operationRights['management.tables.alter'].right },
  { operation: 'rename_column', required_right: operationRights['management.tables.alter'].right },
  { operation: 'set_default', required_right: operationRights['management.tables.alter'].right },
  { operation: 'drop_default', required_right: operationRights['management.tables.alter'].right },
  { operation: 'set_not_null', required_right: operationRights['management.tables.alter'].right },
  { operation: 'drop_not_null', required_right: operationRights['management.tables.alter'].right },
  { operation: 'drop_table', required_right: operationRights['management.tables.drop'].right },
  { operation: 'drop_column', required_right: operationRights['management.columns.drop'].right },
  { operation: 'create_index', required_right: operationRights['management.indexes.create'].right },
  { operation: 'drop_index', required_right: operationRights['management.indexes.drop'].right },
  { operation: 'install_extension', required_right: operationRights['management.extensions.install'].right },
]

const MYSQL_UNSUPPORTED = [
  { operation: 'set_not_null', reason: 'needs MODIFY COLUMN with the whole column definition, which could change more than nullability' },
  { operation: 'drop_not_null', reason: 'needs MODIFY COLUMN with the whole column definition, which could change more than nullability' },
  { operation: 'install_extension', reason: 'extensions exist only on PostgreSQL' },
]

export async function managementCapabilities(ctx: RequestContext) {
  requireManagementAccess(ctx.principal, ctx.source, 'management.read')
  const source: Source = ctx.source
  const dialect = source.dialect
  const unsupported = dialect === 'mysql' ? MYSQL_UNSUPPORTED : []
  const audit = await auditLogState(source.driver, dialect)
  return {
    backend: dialect === 'postgres' ? 'postgresql' : 'mysql',
    retention_mutation_supported: false,
    replication_mutation_supported: false,
    supported_operations: RIGHTS.map((r) => r.operation).filter((op) => !unsupported.some((u) => u.operation === op)),
    unsupported_operations: unsupported,
    required_rights: RIGHTS,
    allowed_index_methods: allowedIndexMethods(dialect),
    allowed_column_data_types: allowedDataTypes(dialect),
    allowed_default_functions: allowedDefaultFunctions(dialect),
    allowed_extensions: dialect === 'postgres' ? [...ALLOWED_EXTENSIONS] : [],
    reserved_columns: [...RESERVED_COLUMNS],
    // PostgreSQL runs each change and its audit row in one transaction; MySQL commits DDL implicitly
    transactional_ddl: dialect === 'postgres',
    audit_log_installed: audit.installed,
    frozen: source.frozen,
  }
}
