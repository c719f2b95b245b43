// Bookkeeping around every request, in one onRequest and one onResponse hook (each hook is a step on every
// request): the X-Request-Id header, the request deadline, the request metrics, and the batched request log of
// data-plane requests.
import fp from 'fastify-plugin'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../../config/schema.js'
import type { RequestLog } from '../../monitoring/request-log.js'
import type { Metrics } from '../../observability/metrics.js'
import { RequestDeadlines } from '../request-deadlines.js'

import { headerValue } from '../../query/parse/headers.js'

const header = (req: FastifyRequest, name: string) => headerValue(req.headers, name) ?? null

export interface AccountingDeps {
  metrics: Metrics
  requestLog: RequestLog
  config: Pick<Config, 'deadlines'>
}

export const requestAccounting = fp<{ services: AccountingDeps }>(async (app, { services }) => {
  const { metrics, requestLog } = services
  app.decorateRequest('logContext', null as never)
  const deadlines = new RequestDeadlines(services.config.deadlines.requestTimeoutMs)
  app.decorateRequest('deadlineSignal', function (this: FastifyRequest) { return deadlines.signalFor(this) })
  deadlines.start()
  app.addHook('onClose', (_app, done) => { deadlines.stop(); done() })
  const tracking = deadlines.enabled
  app.addHook('onRequest', (req, reply, done) => {
    reply.header('x-request-id', req.id)
    req.logContext = {}
    if (tracking) deadlines.track(req, reply)
    done()
  })
  app.addHook('onResponse', (req, reply, done) => {
    if (tracking) deadlines.untrack(req)
    const route = req.routeOptions
    metrics.observeRequest(route.url ?? 'unmatched', req.method, reply.statusCode, reply.elapsedTime / 1000)
    const access = route.config?.access
    if (access === 'client' || access === 'client-in-body') record(req, reply, route.url, route.config.operation)
    done()
  })

  function record(req: FastifyRequest, reply: FastifyReply, path: string | undefined, operation: string | undefined): void {
    const principal = req.principal
    requestLog.record({
      at: new Date(),
      requestId: req.id,
      client: req.source?.name ?? header(req, 'x-athena-client'),
      table: req.logContext.table ?? null,
      operation: operation ?? 'unknown',
      method: req.method,
      path: path ?? req.url.split('?')[0],
      status: reply.statusCode,
      durationMs: reply.elapsedTime,
      cached: req.logContext.cached ?? false,
      apiKeyId: principal?.kind === 'key' ? principal.keyId : null,
      // a verified session's subject, never overridden by a header
      userId: principal?.kind === 'user' ? principal.sub : header(req, 'x-user-id'),
      companyId: header(req, 'x-company-id'),
      organizationId: header(req, 'x-organization-id'),
      sqlClass: req.logContext.sqlClass ?? null,
    })
  }
})
