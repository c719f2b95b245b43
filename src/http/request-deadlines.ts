// The request deadline: a request still unanswered after deadlines.requestTimeoutMs gets a coded 504 in its
// family's shape and the work it registered (raw SQL) is cancelled. It never touches a response already started.
// It adds no hook of its own: request-accounting's onRequest and onResponse call track and untrack, since each
// hook is a step on every request.
import type { FastifyReply, FastifyRequest } from 'fastify'
import { AppError } from '../errors/app-error.js'

/**
 * One sweeping interval for the whole process instead of a timer per request: the hot path only adds and
 * deletes a map entry. Every request has the same timeout, so the map's insertion order is deadline order and a
 * sweep stops at the first request that still has time. The price is resolution: a request is answered up to
 * one sweep interval (a quarter of the timeout, at most a second) after its deadline.
 */
export class RequestDeadlines {
  private readonly inFlight = new Map<FastifyRequest, { reply: FastifyReply; startedAt: number }>()
  private readonly controllers = new WeakMap<FastifyRequest, AbortController>()
  private timer: NodeJS.Timeout | undefined

  constructor(private readonly timeoutMs: number) {}

  get enabled(): boolean {
    return this.timeoutMs > 0
  }

  start(): void {
    if (!this.enabled || this.timer) return
    this.timer = setInterval(() => this.sweep(), Math.min(1_000, Math.max(25, Math.floor(this.timeoutMs / 4))))
    this.timer.unref()
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
  }

  track(req: FastifyRequest, reply: FastifyReply): void {
    this.inFlight.set(req, { reply, startedAt: Date.now() })
  }

  // A request whose client went away (and so gets no onResponse) stays until its deadline, when the sweep
  // cancels its SQL and drops it: an onRequestAbort hook would add a 'close' listener to every request.
  untrack(req: FastifyRequest): void {
    this.inFlight.delete(req)
  }

  /** aborts when the request's deadline passes; work that can be cancelled (raw SQL) listens to it */
  signalFor(req: FastifyRequest): AbortSignal | undefined {
    if (!this.enabled) return undefined
    let controller = this.controllers.get(req)
    if (!controller) {
      controller = new AbortController()
      this.controllers.set(req, controller)
    }
    return controller.signal
  }

  private sweep(): void {
    const expiredBefore = Date.now() - this.timeoutMs
    for (const [req, { reply, startedAt }] of this.inFlight) {
      if (startedAt > expiredBefore) break
      this.inFlight.delete(req)
      this.controllers.get(req)?.abort()
      // a streamed response has started: its status is on the wire and it ends by itself. (req.raw.destroyed
      // says nothing here: a request is destroyed as soon as its body has been read.)
      if (reply.sent || reply.raw.headersSent || reply.raw.destroyed) continue
      reply.send(new AppError('request_timeout', `the request was not answered within ${this.timeoutMs} ms and was stopped`, {
        hint: 'ask for less (fewer rows, a narrower filter, a cheaper query) and retry',
      }))
    }
  }
}
