// TypeBox schemas of the management DDL routes, after the gateway spec (CreateTableRequest and friends).
import { Type, type TSchema } from '@sinclair/typebox'

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])
// Names are checked by the management module (invalid_identifier); the limit here only bounds the input.
const Name = (description: string) => Type.String({ maxLength: 1000, description })
const SchemaName = Type.Optional(Type.String({ maxLength: 1000, default: 'public', description: 'PostgreSQL schema (an exposed one); on MySQL the client database' }))

export const ManagementHeaders = Type.Object({
  'x-athena-client': Type.Optional(Type.String({ description: 'selects the data source (client)' })),
})

export const ManagementColumn = Type.Object({
  name: Name('column name'),
  data_type: Type.String({ maxLength: 200, description: 'one of allowed_column_data_types (GET /management/capabilities)' }),
  nullable: Type.Optional(Type.Boolean({ default: true })),
  default_expression: Type.Optional(Nullable(Type.String({ maxLength: 2000, description: 'a literal or an allow-listed function; see docs/management.md' }))),
}, { additionalProperties: false })

export const CreateTableBody = Type.Object({
  schema_name: SchemaName,
  table_name: Name('table name'),
  columns: Type.Optional(Type.Array(ManagementColumn, { maxItems: 1000 })),
  if_not_exists: Type.Optional(Type.Boolean({ description: 'accepted for compatibility and ignored: an existing table is still a 409' })),
}, { additionalProperties: false })

export const EditTableBody = Type.Object({
  schema_name: SchemaName,
  operations: Type.Array(
    Type.Object({ type: Type.String({ description: 'add_column, rename_column, set_default, drop_default, set_not_null or drop_not_null' }) }, { additionalProperties: true }),
    { minItems: 1, maxItems: 50 },
  ),
}, { additionalProperties: false })

export const DropBody = Type.Object({
  schema_name: SchemaName,
  cascade: Type.Optional(Type.Boolean({ default: false })),
}, { additionalProperties: false })

export const CreateIndexBody = Type.Object({
  schema_name: SchemaName,
  table_name: Name('table name'),
  index_name: Type.Optional(Nullable(Name('index name; generated from table and columns when absent'))),
  columns: Type.Array(Name('column name'), { minItems: 1, maxItems: 32 }),
  unique: Type.Optional(Type.Boolean({ default: false })),
  method: Type.Optional(Type.String({ maxLength: 40, default: 'btree' })),
}, { additionalProperties: false })

export const DropIndexBody = Type.Object({ schema_name: SchemaName }, { additionalProperties: false })

export const InstallExtensionBody = Type.Object({
  extension_name: Type.String({ maxLength: 200, description: 'an allow-listed extension, e.g. pgcrypto' }),
  if_not_exists: Type.Optional(Type.Boolean({ default: false })),
}, { additionalProperties: false })

export const TableParams = Type.Object({ table_name: Name('table name') })
export const ColumnParams = Type.Object({ table_name: Name('table name'), column_name: Name('column name') })
export const IndexParams = Type.Object({ index_name: Name('index name') })

export const ChangeReply = Type.Object({
  status: Type.Literal('success'),
  message: Type.String(),
  data: Type.Object({
    operation: Type.String(),
    statements: Type.Array(Type.String(), { description: 'the DDL exactly as it ran' }),
    audit_log_id: Nullable(Type.Integer({ description: 'id of the database_audit_log row' })),
  }, { additionalProperties: true }),
})

export const CapabilitiesReply = Type.Object({
  status: Type.Literal('success'),
  message: Type.String(),
  data: Type.Object({
    backend: Type.String(),
    retention_mutation_supported: Type.Boolean(),
    replication_mutation_supported: Type.Boolean(),
    supported_operations: Type.Array(Type.String()),
    unsupported_operations: Type.Array(Type.Object({ operation: Type.String(), reason: Type.String() })),
    required_rights: Type.Array(Type.Object({ operation: Type.String(), required_right: Type.String() })),
    allowed_index_methods: Type.Array(Type.String()),
    allowed_column_data_types: Type.Array(Type.String()),
    allowed_default_functions: Type.Array(Type.String()),
    allowed_extensions: Type.Array(Type.String()),
    reserved_columns: Type.Array(Type.String()),
    transactional_ddl: Type.Boolean(),
    audit_log_installed: Type.Boolean(),
    frozen: Type.Boolean(),
  }),
})
