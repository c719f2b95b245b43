// PUT /gateway/insert (insert or upsert) and DELETE /gateway/delete.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { deleteRows, insertRows, type WriteContext } from '../../data/write-rows.js'
import { AppError } from '../../errors/app-error.js'
import type { Filter } from '../../query/ast.js'
import { parseAthenaDelete, parseAthenaInsert, type AthenaDeleteBody, type AthenaInsertBody } from '../../query/parse/athena.js'
import type { Services } from '../../services.js'
import type { TableInfo } from '../../sources/schema.js'
import { publishEventHeader, stripNullsHeader } from './headers.js'
import { plural, sendEnvelope } from './respond.js'
import { DeleteBody, GatewayHeaders, InsertBody } from './schemas.js'
import { upstreamFor } from './upstream.js'
import { forwardDelete, forwardInsert } from '../../upstream/postgrest-upstream.js'

const writeContext = (services: Services, req: FastifyRequest): WriteContext => ({
  services, source: req.source, principal: req.principal, requestId: req.id, publishEvent: publishEventHeader(req),
})

/** `resource_id` addresses a row by its single-column primary key (or an `id` column) */
function resourceKey(table: TableInfo): string {
  if (table.primaryKey.length === 1) return table.primaryKey[0]
  if (table.columnMap.has('id')) return 'id'
  throw new AppError('invalid_request', `resource_id needs a single-column primary key, and "${table.name}" has none; use conditions instead`)
}

function renameResourceId(filters: Filter[], table: TableInfo, key: string): Filter[] {
  if (table.columnMap.has('resource_id')) return filters
  return filters.map((f) => (f.kind === 'cond' && f.field.column === 'resource_id' ? { ...f, field: { ...f.field, column: key } } : f))
}

export function writeRoutes(app: FastifyInstance, services: Services): void {
  app.put('/gateway/insert', {
    config: { operation: 'gateway.insert', access: 'client', forwardsUpstream: true },
    schema: { summary: 'Insert rows (insert_body object or array); with update_body or on_conflict, upsert', tags: ['gateway'], headers: GatewayHeaders, body: InsertBody },
  }, async (req, reply) => {
    const ast = parseAthenaInsert(req.body as AthenaInsertBody, stripNullsHeader(req))
    req.logContext.table = ast.relation.name
    const upstream = upstreamFor(services, req, 'gateway.insert', 'insert rows')
    if (upstream) {
      const forwarded = await forwardInsert(upstream, ast)
      return sendEnvelope(reply, `${ast.onConflict ? 'Upserted' : 'Inserted'} ${plural(forwarded.rows, 'row')}`, forwarded.body)
    }
    const result = await insertRows(writeContext(services, req), ast)
    return sendEnvelope(reply, `${ast.onConflict ? 'Upserted' : 'Inserted'} ${plural(result.affected, 'row')}`, result.body)
  })

  app.delete('/gateway/delete', {
    config: { operation: 'gateway.delete', access: 'client', forwardsUpstream: true },
    schema: { summary: 'Delete rows by resource_id and/or conditions (never without a filter)', tags: ['gateway'], headers: GatewayHeaders, body: DeleteBody },
  }, async (req, reply) => {
    const body = req.body as AthenaDeleteBody | undefined
    if (!body || typeof body !== 'object') throw new AppError('invalid_request', 'the body must be a JSON object with table_name and resource_id or conditions')
    const ast = parseAthenaDelete(body)
    req.logContext.table = ast.relation.name
    const upstream = upstreamFor(services, req, 'gateway.delete', 'delete rows')
    if (upstream) {
      // a PostgREST upstream has no schema cache here: resource_id means an `id` column
      ast.where = ast.where.map((f) => (f.kind === 'cond' && f.field.column === 'resource_id' ? { ...f, field: { ...f.field, column: 'id' } } : f))
      if (ast.resourceId !== undefined) ast.where.push({ kind: 'cond', field: { column: 'id', json: [] }, op: 'eq', negated: false, value: { kind: 'scalar', value: ast.resourceId } })
      const forwarded = await forwardDelete(upstream, ast)
      return sendEnvelope(reply, `Deleted ${plural(forwarded.rows, 'row')}`, forwarded.body)
    }
    const table = (await req.source.schema()).findTable(ast.relation.name, ast.relation.schema)
    if (table) {
      const key = resourceKey(table)
      ast.where = renameResourceId(ast.where, table, key)
      if (ast.resourceId !== undefined) {
        ast.where.push({ kind: 'cond', field: { column: key, json: [] }, op: 'eq', negated: false, value: { kind: 'scalar', value: ast.resourceId } })
      }
    }
    const result = await deleteRows(writeContext(services, req), ast)
    return sendEnvelope(reply, `Deleted ${plural(result.affected, 'row')}`, result.body)
  })
}
