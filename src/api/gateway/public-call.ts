// /public/{route_key}/{op}: a published operation, called without a key (rate-limited per address), answered in
// the Athena envelope. What may be sent and how it narrows the published read is the capability's (src/public-routes/).
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { PublicRoutes } from '../../public-routes/public-routes.js'
import { queryPairs } from '../../query/parse/postgrest.js'
import { plural, sendEnvelope } from './respond.js'

export interface PublicCallDeps {
  publicRoutes: PublicRoutes
}

const Params = Type.Object({
  route_key: Type.String({ minLength: 1, maxLength: 100 }),
  op: Type.String({ minLength: 1, maxLength: 100, description: 'fetch or count, for a published fetch' }),
})

export function publicCallRoutes(app: FastifyInstance, services: PublicCallDeps): void {
  app.route({
    // every method reaches the handler, so a write on a read-only route is told so (405), not "no route"
    method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    url: '/public/:route_key/:op',
    config: { operation: 'public.call', access: 'public' },
    schema: {
      summary: 'Call a published route without a key: its rows (fetch) or their count; filters on published columns narrow it',
      tags: ['public'],
      params: Params,
    },
    handler: async (req, reply) => {
      const { route_key: key, op } = req.params as { route_key: string; op: string }
      const answer = await services.publicRoutes.call(
        { requestId: req.id, log: req.log, deadline: req.deadlineSignal() },
        { ip: req.ip, method: req.method, key, call: op, pairs: queryPairs(req.url) },
      )
      req.logContext.table = key
      if (answer.call === 'count') return sendEnvelope(reply, `Counted ${plural(answer.count, 'row')}`, JSON.stringify({ count: answer.count, table_name: answer.table }))
      return sendEnvelope(reply, `Fetched ${plural(answer.rows, 'row')}`, answer.body)
    },
  })
}
