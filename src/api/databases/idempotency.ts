// Idempotency-Key on the family's POST, PATCH and DELETE routes (Stripe's semantics, idempotency-store.ts):
// a claimed request runs and its answer is stored; a retry with the same key and request gets that answer
// again with Idempotent-Replayed: true; the same key with another request is 422 idempotency_key_reused; a
// retry while the first still runs waits for its answer (bounded), then is 409 idempotency_key_in_use.
// Requests refused before they run (bad key, validation) store nothing, as on Stripe.
import { createHash } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { AppError } from '../../errors/app-error.js'
import type { IdempotencyStore } from '../../idempotency/idempotency-store.js'

const KEY = /^[\x21-\x7e]{1,255}$/
/** how long a retry waits for the first request with its key, and how often it looks */
const IN_PROGRESS_WAIT_MS = 30_000
const IN_PROGRESS_POLL_MS = 100

interface Claimed {
  owner: string
  key: string
  settled: boolean
}

const claims = new WeakMap<FastifyRequest, Claimed>()

/** method, path with query, and the body with its keys sorted: the request a key stands for */
function fingerprint(req: FastifyRequest): string {
  return createHash('sha256').update(`${req.method} ${req.url}\n${canonicalJson(req.body ?? null)}`).digest('hex')
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`
  }
  return JSON.stringify(value)
}

export function installIdempotency(app: FastifyInstance, store: IdempotencyStore): void {
  app.addHook('preHandler', async (req, reply) => {
    if (req.method === 'GET' || req.method === 'HEAD') return
    const raw = req.headers['idempotency-key']
    if (raw === undefined) return
    const key = Array.isArray(raw) ? raw[0]! : raw
    if (!KEY.test(key)) throw new AppError('validation_failed', 'Idempotency-Key must be 1-255 printable characters (a UUID is best)', { data: { field: 'Idempotency-Key' } })
    const principal = req.principal
    const owner = principal.kind === 'platform' ? `user:${principal.userId}` : principal.kind
    const print = fingerprint(req)
    const until = Date.now() + IN_PROGRESS_WAIT_MS
    for (;;) {
      const claim = await store.claim(owner, key, print)
      if (claim.kind === 'claimed') {
        claims.set(req, { owner, key, settled: false })
        return
      }
      if (claim.kind === 'mismatch') {
        throw new AppError('idempotency_key_reused', 'this Idempotency-Key was already used with a different request', {
          data: { field: 'Idempotency-Key' }, hint: 'use a new key for a new request; a retry must send the same method, path and body',
        })
      }
      if (claim.kind === 'replay') {
        return reply.code(claim.status).header('idempotent-replayed', 'true').type('application/json; charset=utf-8').send(claim.body)
      }
      if (Date.now() >= until || req.raw.socket?.destroyed) {
        throw new AppError('idempotency_key_in_use', 'a request with this Idempotency-Key is still being processed', { hint: 'retry in a few seconds to get its answer' })
      }
      await new Promise((resolve) => setTimeout(resolve, IN_PROGRESS_POLL_MS))
    }
  })

  // the answer is stored before it is sent, so a retry arriving right after sees it
  app.addHook('onSend', async (req, reply, payload) => {
    const claimed = claims.get(req)
    if (!claimed || claimed.settled) return payload
    claimed.settled = true
    if (reply.statusCode >= 500) await store.release(claimed.owner, claimed.key)
    else await store.complete(claimed.owner, claimed.key, reply.statusCode, typeof payload === 'string' ? payload : JSON.stringify(payload))
    return payload
  })

  // a request that ended without an answer (the client went away) frees its key
  app.addHook('onResponse', async (req) => {
    const claimed = claims.get(req)
    if (claimed && !claimed.settled) await store.release(claimed.owner, claimed.key)
  })
}
