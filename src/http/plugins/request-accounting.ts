// Records every data-plane request (gateway, /rest/v1) into the batched request log after the response is sent.
import fp from 'fastify-plugin'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Services } from '../../services.js'

const header = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v) ?? null

export const requestLogHook = fp<{ services: Services }>(async (app, { services }) => {
  app.decorateRequest('logContext', null as never)
  app.addHook('onRequest', (req, _reply, done) => {
    req.logContext = {}
    done()
  })
  app.addHook('onResponse', (req, reply, done) => {
    const access = req.routeOptions.config?.access
    if (access === 'client' || access === 'client-in-body') record(req, reply)
    done()
  })

  function record(req: FastifyRequest, reply: FastifyReply): void {
    const principal = req.principal
    services.requestLog.record({
      at: new Date(),
      requestId: req.id,
      client: req.source?.name ?? header(req.headers['x-athena-client']),
      table: req.logContext.table ?? null,
      operation: req.routeOptions.config.operation ?? 'unknown',
      method: req.method,
      path: req.routeOptions.url ?? req.url.split('?')[0],
      status: reply.statusCode,
      durationMs: reply.elapsedTime,
      cached: req.logContext.cached ?? false,
      apiKeyId: principal?.kind === 'key' ? principal.keyId : null,
      userId: header(req.headers['x-user-id']),
      companyId: header(req.headers['x-company-id']),
      organizationId: header(req.headers['x-organization-id']),
      sqlClass: req.logContext.sqlClass ?? null,
    })
  }
})
