// POST /query/count: the number of rows matching Athena conditions.
import type { FastifyInstance } from 'fastify'
import { countRows } from '../../data/read-rows.js'
import { parseAthenaFetch, type AthenaFetchBody } from '../../query/parse/athena.js'
import type { GatewayDeps } from './deps.js'
import { plural, sendEnvelope } from './respond.js'
import { FetchBody, GatewayHeaders } from './schemas.js'
import { contextOf } from '../../http/request-context.js'

export function countRoute(app: FastifyInstance, services: GatewayDeps): void {
  app.post('/query/count', {
    config: { operation: 'query.count', access: 'client' },
    schema: { summary: 'Count the rows matching conditions', tags: ['gateway'], headers: GatewayHeaders, body: FetchBody },
  }, async (req, reply) => {
    const body = req.body as AthenaFetchBody
    const ast = parseAthenaFetch({ ...body, limit: undefined, offset: undefined, page_size: undefined })
    req.logContext.table = ast.relation.name
    const count = await countRows(contextOf(req), ast)
    return sendEnvelope(reply, `Counted ${plural(count, 'row')}`, JSON.stringify({ count, table_name: ast.relation.name }))
  })
}
