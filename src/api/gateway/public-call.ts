// /public/{route_key}/{op}: a published operation, called without a key (rate-limited per address). A fetch and its
// count answer in the Athena envelope; a storage read streams an object (get) or answers a page of keys (list).
// What may be sent and how it narrows the publication is the capability's (src/public-routes/).
import { Type } from '@sinclair/typebox'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { AppError } from '../../errors/app-error.js'
import { parseRangeHeader } from '../../http/range-header.js'
import { DEFAULT_CONTENT_TYPE, type GetResult } from '../../objects/object-store.js'
import type { PublicRoutes } from '../../public-routes/public-routes.js'
import { queryPairs } from '../../query/parse/postgrest.js'
import { plural, sendEnvelope } from './respond.js'

export interface PublicCallDeps {
  publicRoutes: PublicRoutes
}

const Params = Type.Object({
  route_key: Type.String({ minLength: 1, maxLength: 100 }),
  op: Type.String({ minLength: 1, maxLength: 100, description: 'fetch or count, for a published fetch; get or list, for a published storage read' }),
})

/** an object of a published storage read, streamed; If-None-Match with its ETag is a 304 */
function sendObject(reply: FastifyReply, object: GetResult, method: string, ifNoneMatch: string | undefined) {
  reply.header('etag', object.etag).header('cache-control', 'public, max-age=60')
  if (ifNoneMatch && ifNoneMatch.split(',').some((t) => t.trim() === object.etag || t.trim() === '*')) {
    object.body.destroy()
    return reply.status(304).send()
  }
  reply
    .header('content-type', object.contentType || DEFAULT_CONTENT_TYPE)
    .header('content-length', String(object.contentLength))
    .header('last-modified', object.lastModified.toUTCString())
    .header('accept-ranges', 'bytes')
    // uploaded bytes are served from the API's own origin: never sniffed into another type, and a page among them
    // (HTML, SVG) runs no script and reaches nothing
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', "default-src 'none'; sandbox")
  if (object.range) reply.status(206).header('content-range', `bytes ${object.range.start}-${object.range.end}/${object.size}`)
  if (method === 'HEAD') {
    object.body.destroy()
    return reply.send()
  }
  return reply.send(object.body)
}

export function publicCallRoutes(app: FastifyInstance, services: PublicCallDeps): void {
  app.route({
    // every method reaches the handler, so a write on a read-only route is told so (405), not "no route"
    method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    url: '/public/:route_key/:op',
    config: { operation: 'public.call', access: 'public' },
    schema: {
      summary: 'Call a published route without a key: rows (fetch) or their count; an object (get) or its keys (list) for a storage read',
      tags: ['public'],
      params: Params,
    },
    handler: async (req, reply) => {
      const { route_key: key, op } = req.params as { route_key: string; op: string }
      let answer
      try {
        answer = await services.publicRoutes.call(
          { requestId: req.id, log: req.log, deadline: req.deadlineSignal() },
          { ip: req.ip, method: req.method, key, call: op, pairs: queryPairs(req.url), range: parseRangeHeader(req.headers.range) },
        )
      } catch (err) {
        if (err instanceof AppError && err.code === 'invalid_range' && typeof err.extra.data?.size === 'number') reply.header('content-range', `bytes */${err.extra.data.size}`)
        throw err
      }
      req.logContext.table = key
      switch (answer.call) {
        case 'count': return sendEnvelope(reply, `Counted ${plural(answer.count, 'row')}`, JSON.stringify({ count: answer.count, table_name: answer.table }))
        case 'fetch': return sendEnvelope(reply, `Fetched ${plural(answer.rows, 'row')}`, answer.body)
        case 'list': return sendEnvelope(reply, `Listed ${plural(answer.page.objects.length, 'object')}`, JSON.stringify(answer.page))
        case 'get': return sendObject(reply, answer.object, req.method, req.headers['if-none-match'])
      }
    },
  })
}
