// PUT /gateway/insert (insert or upsert) and DELETE /gateway/delete.
import type { FastifyInstance } from 'fastify'
import { deleteRowsAt, insertRowsAt } from '../../data/data-target.js'
import { parseAthenaDelete, parseAthenaInsert, type AthenaDeleteBody, type AthenaInsertBody } from '../../query/parse/athena.js'
import type { GatewayDeps } from './deps.js'
import { publishEventHeader, stripNullsHeader } from './headers.js'
import { plural, sendEnvelope } from './respond.js'
import { DeleteBody, GatewayHeaders, InsertBody } from './schemas.js'
import { targetOf } from './target.js'
import { contextOf } from '../../http/request-context.js'

export function writeRoutes(app: FastifyInstance, services: GatewayDeps): void {
  app.put('/gateway/insert', {
    config: { operation: 'gateway.insert', access: 'client', forwardsUpstream: true },
    schema: { summary: 'Insert rows (insert_body object or array); with update_body or on_conflict, upsert', tags: ['gateway'], headers: GatewayHeaders, body: InsertBody },
  }, async (req, reply) => {
    const ast = parseAthenaInsert(req.body as AthenaInsertBody, stripNullsHeader(req))
    req.logContext.table = ast.relation.name
    const result = await insertRowsAt(services, contextOf(req), targetOf(req), ast, { publishEvent: publishEventHeader(req) })
    return sendEnvelope(reply, `${ast.onConflict ? 'Upserted' : 'Inserted'} ${plural(result.affected, 'row')}`, result.body)
  })

  app.delete('/gateway/delete', {
    config: { operation: 'gateway.delete', access: 'client', forwardsUpstream: true },
    schema: { summary: 'Delete rows by resource_id and/or conditions (never without a filter)', tags: ['gateway'], headers: GatewayHeaders, body: DeleteBody },
  }, async (req, reply) => {
    const ast = parseAthenaDelete(req.body as AthenaDeleteBody | undefined)
    req.logContext.table = ast.relation.name
    const result = await deleteRowsAt(services, contextOf(req), targetOf(req), ast, { publishEvent: publishEventHeader(req) })
    return sendEnvelope(reply, `Deleted ${plural(result.affected, 'row')}`, result.body)
  })
}
