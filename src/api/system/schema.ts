// Schema introspection routes, answered from the source's schema cache (never a per-request catalog scan).
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsync } from 'fastify'
import { AppError } from '../../errors/app-error.js'
import type { SourceRegistry } from '../../sources/registry.js'
import type { ForeignKey } from '../../sources/schema.js'
import { listSupabaseMigrations } from '../../sources/supabase-migrations.js'
import { ClientHeader } from '../gateway/schemas.js'

const ClientsReply = Type.Object({ clients: Type.Array(Type.String()) })
/** a foreign key: from `table_schema.table_name (columns)` to `references` */
const Relationship = Type.Object({
  name: Type.String(),
  table_schema: Type.String(),
  table_name: Type.String(),
  columns: Type.Array(Type.String()),
  references: Type.Object({ table_schema: Type.String(), table_name: Type.String(), columns: Type.Array(Type.String()) }),
})
const relationshipOf = (fk: ForeignKey) => ({
  name: fk.name,
  table_schema: fk.schema,
  table_name: fk.table,
  columns: fk.columns,
  references: { table_schema: fk.refSchema, table_name: fk.refTable, columns: fk.refColumns },
})
/** one client's schema: security.protect.schema decides whether a key (with schema.read) is needed, not the client's enforcement */
const SCHEMA_ACCESS = { protect: 'schema', client: true } as const

export interface SchemaRouteDeps {
  registry: SourceRegistry
}

export const schemaRoutes: FastifyPluginAsync<{ services: SchemaRouteDeps }> = async (app, { services }) => {
  const listClients = async () => ({ clients: services.registry.names() })

  app.get('/schema/clients', {
    config: { operation: 'schema.clients', access: { protect: 'clients' } },
    schema: { summary: 'List configured clients', tags: ['schema'], response: { 200: ClientsReply } },
  }, listClients)
  app.get('/clients', {
    config: { operation: 'schema.clients', access: { protect: 'clients' } },
    schema: { summary: 'List clients (admin)', tags: ['schema'], response: { 200: ClientsReply } },
  }, listClients)

  app.get('/schema/tables', {
    config: { operation: 'schema.tables', access: SCHEMA_ACCESS },
    schema: {
      summary: 'List tables and views of the selected client',
      tags: ['schema'],
      headers: ClientHeader,
      response: { 200: Type.Object({ tables: Type.Array(Type.Object({ table_schema: Type.String(), table_name: Type.String(), table_type: Type.String() })) }) },
    },
  }, async (req) => {
    const schema = await req.source.schema()
    const tables = [...schema.tables.values()].map((t) => ({
      table_schema: t.schema,
      table_name: t.name,
      table_type: t.kind === 'table' ? 'BASE TABLE' : t.kind === 'view' ? 'VIEW' : t.kind.toUpperCase().replace('_', ' '),
    }))
    return { tables }
  })

  app.get('/schema/columns', {
    config: { operation: 'schema.columns', access: SCHEMA_ACCESS },
    schema: {
      summary: 'Describe columns for a given table',
      tags: ['schema'],
      headers: ClientHeader,
      querystring: Type.Object({ table_name: Type.String({ minLength: 1 }), table_schema: Type.Optional(Type.String({ minLength: 1 })) }),
      response: {
        200: Type.Object({
          columns: Type.Array(Type.Object({
            column_name: Type.String(),
            data_type: Type.Union([Type.String(), Type.Null()]),
            column_default: Type.Union([Type.String(), Type.Null()]),
            is_nullable: Type.Union([Type.String(), Type.Null()]),
          })),
          // keys and relationships, for schema browsers (the console's); additions to the gateway's reply
          primary_key: Type.Array(Type.String()),
          foreign_keys: Type.Array(Relationship),
          referenced_by: Type.Array(Relationship),
        }),
      },
    },
  }, async (req) => {
    const { table_name, table_schema } = req.query as { table_name: string; table_schema?: string }
    const schema = await req.source.schema()
    const table = schema.findTable(table_name, table_schema)
    if (!table) {
      throw new AppError('unknown_table', `table "${table_schema ? `${table_schema}.` : ''}${table_name}" does not exist on client "${req.source.name}"`, {
        hint: 'GET /schema/tables lists the tables this client exposes',
      })
    }
    return {
      columns: table.columns.map((c) => ({ column_name: c.name, data_type: c.type, column_default: c.default, is_nullable: c.nullable ? 'YES' : 'NO' })),
      primary_key: table.primaryKey,
      foreign_keys: table.foreignKeys.map(relationshipOf),
      referenced_by: table.referencedBy.map(relationshipOf),
    }
  })

  app.get('/schema/migrations', {
    config: { operation: 'schema.migrations', access: SCHEMA_ACCESS },
    schema: { summary: 'List schema migrations (Supabase-style)', tags: ['schema'], headers: ClientHeader },
  }, (req) => listSupabaseMigrations(req.source))

  app.post('/schema/refresh', {
    config: { operation: 'schema.refresh', access: SCHEMA_ACCESS },
    schema: { summary: "Reload the selected client's schema cache", tags: ['schema'], headers: ClientHeader },
  }, async (req) => {
    const schema = await req.source.refreshSchema()
    return { status: 'success', message: `Schema cache reloaded for ${req.source.name}`, data: { tables: schema.tables.size, loaded_at: schema.loadedAt.toISOString() } }
  })
}
