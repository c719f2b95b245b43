// The request context (../request-context.ts) of a Fastify request, for routes to hand to services.
import type { FastifyRequest } from 'fastify'
import type { RequestContext } from '../request-context.js'

/** the context of `req`; its deadline signal is made only if a service asks for it */
export function contextOf(req: FastifyRequest): RequestContext {
  return {
    principal: req.principal,
    source: req.source,
    requestId: req.id,
    log: req.log,
    get deadline() { return req.deadlineSignal() },
  }
}
