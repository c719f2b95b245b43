// Deferred execution: a structured gateway call sent with `Prefer: respond-async` (or `X-Athena-Deferred: true`)
// is checked now (syntax and rights), stored and answered 202 with its request id; GET /gateway/deferred/{id}
// gives its status and, once done, the body the synchronous call would have sent; …/requeue runs a failed or
// expired one again; GET /gateway/deferred lists the caller's. Only the key or session that sent a request (or
// the admin key) sees or lists it.
import { Type } from '@sinclair/typebox'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { requireOperation } from '../../auth/operation-rights.js'
import type { Principal } from '../../auth/principal.js'
import type { DeferredOwner, DeferredRequests, DeferredView } from '../../deferred/deferred-requests.js'
import { DEFERRED_VIEW_STATUSES, type DeferredViewStatus } from '../../deferred/deferred-store.js'
import { AppError } from '../../errors/app-error.js'
import type { RateLimits } from '../../auth/rate-limits.js'
import { headerValue } from '../../query/parse/headers.js'
import { isWrite, operationsOf, parseCall, tableOf } from './calls.js'
import { callKindOf } from './deferred-calls.js'
import { gatewaySuccess } from './envelope.js'
import { plural } from './respond.js'
import { prefers, publishEventHeader, stripNullsHeader } from './headers.js'

export interface DeferredRouteDeps {
  deferred: DeferredRequests
  rateLimits: RateLimits
}

/** a polling client is told to come back in about this long */
const POLL_AFTER_SECONDS = 1

/** `Prefer: respond-async` (any position, any case) or `X-Athena-Deferred: true` */
export function wantsDeferred(req: FastifyRequest): { prefer: boolean } | undefined {
  if (prefers(req, 'respond-async')) return { prefer: true }
  const flag = headerValue(req.headers, 'x-athena-deferred')?.trim().toLowerCase()
  if (flag === 'true' || flag === '1') return { prefer: false }
  if (flag && flag !== 'false' && flag !== '0') throw new AppError('invalid_request', `X-Athena-Deferred must be true or false, got "${flag}"`)
  return undefined
}

/** who sent a request, as stored; an anonymous caller cannot own one (anyone could read it back) */
function ownerOf(principal: Principal | null): DeferredOwner {
  switch (principal?.kind) {
    case 'admin': return { kind: 'admin', id: 'admin' }
    case 'key': return { kind: 'key', id: principal.keyId }
    case 'user': {
      const exp = principal.claims.exp
      return { kind: 'user', id: principal.sub, role: principal.role, expiresAt: typeof exp === 'number' ? new Date(exp * 1000).toISOString() : null }
    }
    default:
      throw new AppError('missing_api_key', 'a deferred request belongs to the key that sent it: send an API key (or a session token)', {
        hint: 'send a key as apikey, Authorization: Bearer, X-API-Key or X-Athena-Key',
      })
  }
}

/** whose requests the caller may see: its own, or every one for the admin key */
const viewerOf = (principal: Principal | null): DeferredOwner | null => (principal?.kind === 'admin' ? null : ownerOf(principal))

/**
 * The gateway scope's preHandler: a deferrable call that asks to be deferred is checked like the synchronous
 * one (body, rights; a frozen client is the run's to refuse) and queued instead of run. Other routes ignore
 * `Prefer: respond-async`, as PostgREST ignores preferences it does not honour; `X-Athena-Deferred: true`
 * on them is refused, since the caller said it wants no synchronous answer. A callback hook, so the requests
 * that ask nothing (nearly all) cost no promise.
 */
export function deferIfAsked(services: DeferredRouteDeps, req: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void {
  let asked: { prefer: boolean } | undefined
  try {
    asked = wantsDeferred(req)
  } catch (err) {
    done(err as Error)
    return
  }
  if (!asked) {
    done()
    return
  }
  // answered here (202) means the handler must not run: done is called only when the call is not deferred
  submit(services, req, reply, asked).then((answered) => { if (!answered) done() }, (err: Error) => done(err))
}

async function submit(services: DeferredRouteDeps, req: FastifyRequest, reply: FastifyReply, asked: { prefer: boolean }): Promise<boolean> {
  const operation = req.routeOptions.config?.operation
  const kind = req.method === 'GET' ? undefined : callKindOf(operation)
  if (!kind) {
    if (asked.prefer) return false
    throw new AppError('deferred_not_supported', `${req.method} ${req.routeOptions.url} cannot be deferred`, {
      hint: 'structured calls can: POST /gateway/fetch, /gateway/data, /gateway/update, /query/count, PUT /gateway/insert, DELETE /gateway/delete',
    })
  }
  // custom_supabase forwards with the caller's upstream key in its headers, which are not stored
  if (!req.source) throw new AppError('deferred_not_supported', 'calls forwarded to custom_supabase cannot be deferred', { hint: 'send it without Prefer: respond-async' })
  const owner = ownerOf(req.principal)
  const call = { operation: operation!, body: req.body, strip_nulls: stripNullsHeader(req), publish_event: publishEventHeader(req), return_minimal: prefers(req, 'return=minimal') || undefined }
  const parsed = parseCall({ kind, body: call.body, stripNulls: call.strip_nulls, publishEvent: call.publish_event, returnMinimal: call.return_minimal })
  const minimal = call.return_minimal === true && isWrite(parsed)
  req.logContext.table = tableOf(parsed)
  for (const op of operationsOf(parsed)) requireOperation(req.principal, op)
  const id = await services.deferred.submit(owner, req.source.name, call)
  const location = `/gateway/deferred/${id}`
  reply.header('location', location).header('retry-after', String(POLL_AFTER_SECONDS))
  if (asked.prefer) reply.header('preference-applied', minimal ? 'respond-async, return=minimal' : 'respond-async')
  reply.status(202).send(gatewaySuccess(`Deferred request ${id} queued`, { request_id: id, status: 'queued', location }))
  return true
}

const IdParams = Type.Object({ request_id: Type.String({ minLength: 1, maxLength: 100 }) })

const STATUS_WORD = `(${DEFERRED_VIEW_STATUSES.join('|')})`
const ListQuery = Type.Object({
  status: Type.Optional(Type.String({
    // one list of values in one parameter: a repeated ?status= would be a second value of a string parameter
    pattern: `^${STATUS_WORD}(,${STATUS_WORD})*$`,
    maxLength: 200,
    description: `only requests in these statuses, comma-separated: ${DEFERRED_VIEW_STATUSES.join(', ')}`,
  })),
  client: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'only requests sent to this client (any case)' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 25, description: 'requests per page (1 to 100)' })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'next_cursor of the previous page, unchanged' })),
}, { additionalProperties: false })

interface ListParams { status?: string; client?: string; limit?: number; cursor?: string }

/** the status envelope; `result` is the synchronous call's body once the request is done */
function describe(record: DeferredView) {
  const done = record.status === 'succeeded' || record.status === 'failed'
  return {
    request_id: record.id,
    status: record.status,
    operation: record.operation,
    client: record.client_name,
    attempts: record.attempts,
    created_at: record.created_at,
    started_at: record.started_at,
    finished_at: record.finished_at,
    expires_at: record.expires_at,
    error: record.error,
    result_status: done ? record.result_status : null,
    result: done && record.result_body !== null ? JSON.parse(record.result_body) as unknown : null,
  }
}

export function deferredRoutes(app: FastifyInstance, services: DeferredRouteDeps): void {
  // the caller's key or session is checked without a client (a request names its own); 'client-in-body' does that
  const config = (operation: string) => ({ operation, access: 'client-in-body' as const })
  const polled = async (req: FastifyRequest) => {
    const viewer = viewerOf(req.principal)
    if (req.principal) await services.rateLimits.checkCaller(req.principal, undefined)
    return viewer
  }

  app.get('/gateway/deferred/:request_id', {
    config: config('gateway.deferred.get'),
    schema: { summary: 'The status of a deferred request and, once done, the body the synchronous call would have answered', tags: ['gateway'], params: IdParams },
  }, async (req, reply) => {
    const viewer = await polled(req)
    const record = await services.deferred.get((req.params as { request_id: string }).request_id, viewer)
    if (record.status === 'queued' || record.status === 'running') reply.header('retry-after', String(POLL_AFTER_SECONDS))
    return gatewaySuccess(`Deferred request ${record.id} is ${record.status}`, describe(record))
  })

  // the same access and owner rules as one request's GET: a key or session sees its own, the admin key every one
  app.get('/gateway/deferred', {
    config: config('gateway.deferred.list'),
    schema: { summary: "The caller's deferred requests, newest first, without their answers' bodies (paged by cursor)", tags: ['gateway'], querystring: ListQuery },
  }, async (req) => {
    const viewer = await polled(req)
    const q = req.query as ListParams
    const statuses = q.status ? [...new Set(q.status.split(','))] as DeferredViewStatus[] : undefined
    const page = await services.deferred.list(viewer, { statuses, client: q.client, limit: q.limit ?? 25, cursor: q.cursor })
    // a list can hold many answers of up to deferred.maxResultBytes each: GET /gateway/deferred/{id} reads one
    const requests = page.requests.map((r) => {
      const { result: _omitted, ...summary } = describe(r)
      return summary
    })
    return gatewaySuccess(`Listed ${plural(requests.length, 'deferred request')}`, { requests, next_cursor: page.next_cursor })
  })

  app.post('/gateway/deferred/:request_id/requeue', {
    config: config('gateway.deferred.requeue'),
    schema: { summary: 'Run a failed or expired deferred request again (its rights are checked again)', tags: ['gateway'], params: IdParams },
  }, async (req, reply) => {
    const viewer = await polled(req)
    const id = (req.params as { request_id: string }).request_id
    // the rights are checked again now, as on a submission, then once more when it runs
    const { request } = await services.deferred.get(id, viewer)
    const kind = callKindOf(request.operation)
    if (kind) {
      const parsed = parseCall({ kind, body: request.body, stripNulls: request.strip_nulls, publishEvent: request.publish_event, returnMinimal: request.return_minimal })
      for (const op of operationsOf(parsed)) requireOperation(req.principal, op)
    }
    const record = await services.deferred.requeue(id, viewer)
    const location = `/gateway/deferred/${record.id}`
    reply.header('location', location).header('retry-after', String(POLL_AFTER_SECONDS))
    return reply.status(202).send(gatewaySuccess(`Deferred request ${record.id} queued again`, { ...describe(record), location }))
  })
}
