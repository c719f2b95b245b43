// The request context (../request-context.ts) of a Fastify request, for routes to hand to services.
import type { FastifyRequest } from 'fastify'
import type { Principal } from '../auth/principal.js'
import type { RequestContext } from '../request-context.js'
import type { Source } from '../sources/source.js'

// A class rather than an object literal with a getter: the literal would make a closure and an accessor per
// request, and this is on every data-plane request.
class HttpRequestContext implements RequestContext {
  readonly principal: Principal
  readonly source: Source
  readonly requestId: string
  readonly log: FastifyRequest['log']

  constructor(private readonly req: FastifyRequest) {
    this.principal = req.principal
    this.source = req.source
    this.requestId = req.id
    this.log = req.log
  }

  /** made only if a service asks for it */
  get deadline(): AbortSignal | undefined {
    return this.req.deadlineSignal()
  }
}

/** the context of `req` */
export function contextOf(req: FastifyRequest): RequestContext {
  return new HttpRequestContext(req)
}
