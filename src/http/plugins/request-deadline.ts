// The request deadline: a request still unanswered after deadlines.requestTimeoutMs gets a coded 504 in its
// family's shape and the work it registered (raw SQL) is cancelled. It never touches a response already started.
import fp from 'fastify-plugin'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { AppError } from '../../errors/app-error.js'

interface InFlight {
  reply: FastifyReply
  startedAt: number
}

/**
 * One sweeping interval for the whole process instead of a timer per request: the hot path only adds and
 * deletes a map entry. Every request has the same timeout, so the map's insertion order is deadline order and a
 * sweep stops at the first request that still has time. The price is resolution: a request is answered up to
 * one sweep interval (a quarter of the timeout, at most a second) after its deadline.
 */
export const requestDeadline = fp<{ timeoutMs: number }>(async (app, { timeoutMs }) => {
  const controllers = new WeakMap<FastifyRequest, AbortController>()
  app.decorateRequest('deadlineSignal', function (this: FastifyRequest): AbortSignal | undefined {
    if (timeoutMs <= 0) return undefined
    let controller = controllers.get(this)
    if (!controller) {
      controller = new AbortController()
      controllers.set(this, controller)
    }
    return controller.signal
  })
  if (timeoutMs <= 0) return

  const inFlight = new Map<FastifyRequest, InFlight>()
  app.addHook('onRequest', (req, reply, done) => {
    inFlight.set(req, { reply, startedAt: Date.now() })
    done()
  })
  app.addHook('onResponse', (req, _reply, done) => {
    inFlight.delete(req)
    done()
  })
  // No onRequestAbort hook: it would add a 'close' listener to every request. A request whose client went away
  // (and so gets no onResponse) stays in the map until its deadline, when the sweep cancels its SQL and drops it.

  const sweep = () => {
    const expiredBefore = Date.now() - timeoutMs
    for (const [req, { reply, startedAt }] of inFlight) {
      if (startedAt > expiredBefore) break
      inFlight.delete(req)
      controllers.get(req)?.abort()
      // a streamed response has started: its status is on the wire and it ends by itself. (req.raw.destroyed
      // says nothing here: a request is destroyed as soon as its body has been read.)
      if (reply.sent || reply.raw.headersSent || reply.raw.destroyed) continue
      reply.send(new AppError('request_timeout', `the request was not answered within ${timeoutMs} ms and was stopped`, {
        hint: 'ask for less (fewer rows, a narrower filter, a cheaper query) and retry',
      }))
    }
  }
  const timer = setInterval(sweep, Math.min(1_000, Math.max(25, Math.floor(timeoutMs / 4))))
  timer.unref()
  app.addHook('onClose', (_app, done) => {
    clearInterval(timer)
    done()
  })
})
