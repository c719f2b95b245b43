// Bookkeeping around every request, in one onRequest and one onResponse hook (each hook is a step on every
// request): the X-Request-Id header, the request deadline, the request metrics, and the batched request log of
// data-plane requests, and the admission event of a refused request.
import fp from 'fastify-plugin'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../../config/schema.js'
import type { RequestLog } from '../../monitoring/request-log.js'
import type { Metrics } from '../../observability/metrics.js'
import { RequestDeadlines } from '../request-deadlines.js'
import type { AdmissionLog } from '../../monitoring/admission-log.js'
import { splitKey } from '../../auth/api-key-format.js'
import { platformKeyPublicId } from '../../auth/platform-keys.js'
import { presentedKey } from '../credentials.js'

import { headerValue } from '../../query/parse/headers.js'

const header = (req: FastifyRequest, name: string) => headerValue(req.headers, name) ?? null

export interface AccountingDeps {
  metrics: Metrics
  requestLog: RequestLog
  admissionLog: Pick<AdmissionLog, 'record'>
  config: Pick<Config, 'deadlines'>
}

export const requestAccounting = fp<{ services: AccountingDeps }>(async (app, { services }) => {
  const { metrics, requestLog, admissionLog } = services
  app.decorateRequest('logContext', null as never)
  app.decorateRequest('refusal', null)
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
    // an admitted request pays only this check; the family's error renderer set it on a refusal
    if (req.refusal !== null) recordRefusal(req, reply, route.url, route.config?.operation)
    done()
  })

  function recordRefusal(req: FastifyRequest, reply: FastifyReply, path: string | undefined, operation: string | undefined): void {
    const principal = req.principal
    // a key that was refused has no principal: its public id is read from the key itself, never its secret
    const keyId = principal?.kind === 'key' || principal?.kind === 'platform' ? principal.publicId : keyIdOf(req)
    admissionLog.record({
      at: new Date(),
      kind: req.refusal!.code,
      client: req.source?.name ?? header(req, 'x-athena-client'),
      key_id: keyId,
      user: principal?.kind === 'user' ? principal.sub : null,
      ip: req.ip ?? null,
      method: req.method,
      route: path ?? req.url.split('?')[0],
      operation: operation ?? null,
      status: reply.statusCode,
      request_id: req.id,
      detail: req.refusal!.message.slice(0, 2000),
    })
  }

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
      filterColumns: req.logContext.filterColumns ?? null,
    })
  }
})

/**
 * the public id of a key the request presented (a gateway key ath_<public id>.<secret>, or a platform key
 * pk_live_<public id><secret>), capped so a forged one cannot fill the table
 */
function keyIdOf(req: FastifyRequest): string | null {
  const key = presentedKey(req)
  const id = key === undefined ? undefined : splitKey(key)?.publicId ?? platformKeyPublicId(key)
  return id ? id.slice(0, 64) : null
}
