// /api/v1/tables: tables with a declared schema, stored in the tenant's warehouse; PUT applies schema changes.
import { Type } from '@sinclair/typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Window as ListWindow } from '../../tenancy/paging.js'
import { actorOf } from './access.js'
import type { WorkspaceDeps } from './deps.js'
import { idParam, Name, routeOptions, Window } from './schemas.js'

// the schema's inside is checked by warehouse/table-schema.ts, which names the offending column in its 422
const TableBody = Type.Object({ name: Name, schema: Type.Unknown(), dataset_id: Type.String({ minLength: 1, maxLength: 100 }) }, { required: ['name', 'schema', 'dataset_id'] })
const TableUpdate = Type.Object({
  name: Type.Optional(Type.Union([Name, Type.Null()])),
  schema: Type.Optional(Type.Unknown()),
  dataset_id: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 100 }), Type.Null()])),
})
const tableParams = idParam('table_id')
const datasetParams = idParam('dataset_id')
type TableReq = FastifyRequest<{ Params: { table_id: string } }>

export function tableRoutes(app: FastifyInstance, { warehouse }: WorkspaceDeps): void {
  app.post('/api/v1/tables', routeOptions('tables.create', 'tables', 'Create Table', { body: TableBody }), async (req, reply) => {
    reply.status(201)
    return warehouse.createTable(actorOf(req), req.body as { name: string; schema: unknown; dataset_id: string })
  })
  app.get('/api/v1/tables', routeOptions('tables.list', 'tables', 'List Tables', { querystring: Window }), async (req) => ({
    tables: await warehouse.listTables(actorOf(req), req.query as ListWindow),
  }))
  app.get('/api/v1/datasets/:dataset_id/tables', routeOptions('tables.by_dataset', 'tables', 'List Tables By Dataset', { params: datasetParams, querystring: Window }), async (req: FastifyRequest<{ Params: { dataset_id: string } }>) => ({
    tables: await warehouse.listTables(actorOf(req), req.query as ListWindow, req.params.dataset_id),
  }))
  app.get('/api/v1/tables/:table_id', routeOptions('tables.get', 'tables', 'Get Table', { params: tableParams }), async (req: TableReq) =>
    warehouse.getTable(actorOf(req), req.params.table_id))
  const update = async (req: TableReq) => warehouse.updateTable(actorOf(req), req.params.table_id, req.body as { name?: string | null; schema?: unknown; dataset_id?: string | null })
  app.put('/api/v1/tables/:table_id', routeOptions('tables.update', 'tables', 'Update Table', { params: tableParams, body: TableUpdate }), update)
  app.patch('/api/v1/tables/:table_id', routeOptions('tables.update', 'tables', 'Update Table', { params: tableParams, body: TableUpdate }), update)
  app.delete('/api/v1/tables/:table_id', routeOptions('tables.delete', 'tables', 'Delete Table', { params: tableParams }), async (req: TableReq, reply) => {
    await warehouse.archiveTable(actorOf(req), req.params.table_id)
    reply.status(204)
  })
}
