// Answers the messages of one WebSocket gateway connection. Data actions are the HTTP gateway routes themselves:
// each is dispatched through the app's router with the connection's credential, so its body schema, rights,
// limits, request log and envelope are exactly those of HTTP. Subscriptions are checked here with the same
// access rules (the client, the key's binding, the rows.read right) and handed to the node's hub.
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { renderGatewayError } from '../gateway/envelope.js'
import { AppError } from '../../errors/app-error.js'
import { authenticateCredential, authorizeClientCall, type Credential } from '../../http/access-control.js'
import { injectAsCaller } from '../../http/inject-as-caller.js'
import { normalizeError } from '../../http/normalize-error.js'
import { resolveTable } from '../../query/plan/plan-read.js'
import { planContextFor } from '../../query/pipeline.js'
import { CLOSE, type RealtimeConnection } from '../../realtime/connection.js'
import { CHANGE_EVENTS, GATEWAY_ACTIONS, MessageError, parseClientMessage, replyText, type ChangeEvent, type ClientMessage, type GatewayAction } from '../../realtime/protocol.js'
import { parseRowFilter } from '../../realtime/row-filter.js'
import type { RealtimeDeps } from './deps.js'

const success = (message: string, data: unknown) => JSON.stringify({ status: 'success', message, data })

export class Dispatcher {
  /** settles once the credential presented at the upgrade has been checked (or at once when there was none) */
  private authenticating: Promise<void> = Promise.resolve()

  constructor(
    private readonly app: FastifyInstance,
    private readonly deps: RealtimeDeps,
    private readonly isAdminKey: (key: string) => boolean,
    private readonly conn: RealtimeConnection,
    private readonly log: FastifyBaseLogger,
  ) {
    conn.recheck = () => this.recheck()
  }

  /** checks a credential; a bad one is told and closes the connection */
  authenticate(cred: Credential): Promise<void> {
    this.authenticating = this.authenticateNow(cred).catch((err: unknown) => {
      const e = normalizeError(err, this.log)
      this.conn.close(CLOSE.unauthenticated, 'authentication failed', { code: e.code, message: e.message })
    })
    return this.authenticating
  }

  private async authenticateNow(cred: Credential): Promise<void> {
    const principal = await authenticateCredential(this.deps, this.isAdminKey, cred, this.conn.ip)
    this.conn.credential = cred
    this.conn.isAdmin = principal.kind === 'admin'
    this.conn.principal = principal
  }

  /** one message from the client: its text, or undefined for a binary message (never valid) */
  onMessage(text: string | undefined): void {
    if (this.conn.closed) return
    let msg: ClientMessage
    try {
      msg = parseClientMessage(text)
    } catch (err) {
      if (err instanceof MessageError) this.conn.send(this.errorReply(err.id, null, err.error))
      return
    }
    if (this.conn.inFlight >= this.conn.settings.maxInFlight) {
      this.conn.send(this.errorReply(msg.id, msg.action, new AppError('too_many_in_flight', `a connection may have ${this.conn.settings.maxInFlight} messages being answered at once`, {
        hint: 'wait for replies before sending more',
      })))
      return
    }
    this.conn.inFlight++
    this.answer(msg)
      .then((reply) => { if (reply) this.conn.send(reply) }, (err: unknown) => { this.conn.send(this.errorReply(msg.id, msg.action, err)) })
      .finally(() => { this.conn.inFlight-- })
  }

  private errorReply(id: ClientMessage['id'], action: string | null, err: unknown): string {
    const e = normalizeError(err, this.log)
    return replyText(id, action, e.status, JSON.stringify(renderGatewayError(e, action ?? undefined, this.conn.isAdmin)))
  }

  private async answer(msg: ClientMessage): Promise<string | undefined> {
    await this.authenticating
    if (this.conn.closed) return undefined
    if (msg.action === 'auth.hello') return this.hello(msg)
    if (!this.conn.authenticated) {
      throw new AppError('authentication_required', 'send auth.hello with a key or a session token first', { hint: '{"action":"auth.hello","payload":{"key":"…"}}' })
    }
    switch (msg.action) {
      case 'ping':
        return JSON.stringify({ type: 'pong', id: msg.id, server_time: new Date().toISOString() })
      case 'subscribe':
        return this.subscribe(msg)
      case 'unsubscribe':
        return this.unsubscribe(msg)
      default:
        return this.gateway(msg, msg.action)
    }
  }

  private async hello(msg: ClientMessage): Promise<string | undefined> {
    if (this.conn.authenticated) throw new AppError('invalid_message', 'this connection is already authenticated')
    const p = (msg.payload ?? {}) as { key?: unknown; token?: unknown }
    const key = typeof p.key === 'string' && p.key.trim() ? p.key.trim() : undefined
    const session = typeof p.token === 'string' && p.token.trim() ? p.token.trim() : undefined
    if (!key && !session) throw new AppError('missing_api_key', 'auth.hello needs payload.key (an API key) or payload.token (a session JWT)')
    try {
      await this.authenticateNow({ key, session })
    } catch (err) {
      const e = normalizeError(err, this.log)
      // told in the reply, then closed: a connection never stays open on a refused credential
      this.conn.send(this.errorReply(msg.id, msg.action, e))
      this.conn.close(CLOSE.unauthenticated, 'authentication failed')
      return undefined
    }
    return replyText(msg.id, msg.action, 200, success('Authenticated', { principal: this.conn.principal!.kind }))
  }

  private clientOf(msg: ClientMessage): string | undefined {
    return msg.client ?? msg.headers['x-athena-client'] ?? this.conn.defaultClient
  }

  /** the HTTP route of the action, called through the router with the connection's credential */
  private async gateway(msg: ClientMessage, action: GatewayAction): Promise<string> {
    this.checkReadBound(action, msg.payload)
    const route = GATEWAY_ACTIONS[action]
    const res = await injectAsCaller(this.app, {
      method: route.method,
      url: route.url,
      credential: this.conn.credential!,
      ip: this.conn.ip,
      client: this.clientOf(msg),
      headers: msg.headers,
      payload: msg.payload,
    })
    return replyText(msg.id, action, res.status, res.isJson ? res.text : JSON.stringify(res.text))
  }

  /**
   * A reply is one message, held whole in memory until sent, where HTTP streams a large read from a cursor: so
   * a read over the socket names its size (limit or page_size, at most realtime.maxFetchRows). Raw SQL results
   * are already capped (gateway.rawSql.maxRows / maxBytes).
   */
  private checkReadBound(action: GatewayAction, payload: unknown): void {
    const body = (payload ?? {}) as { limit?: unknown; page_size?: unknown; update_body?: unknown }
    const isRead = action === 'gateway.fetch' || (action === 'gateway.update' && body.update_body === undefined)
    if (!isRead || typeof payload !== 'object' || payload === null) return
    const max = this.conn.settings.maxFetchRows
    const rows = body.page_size ?? body.limit
    if (typeof rows === 'number' && rows <= max) return
    throw new AppError('invalid_message', rows === undefined
      ? `a read over the WebSocket gateway must set payload.limit or payload.page_size (at most ${max})`
      : `a read over the WebSocket gateway may ask for at most ${max} rows`, {
      hint: 'page through larger results with page_size and current_page, or read them over HTTP, which streams',
    })
  }

  /** with `since`, the reply is sent first, then the replayed events, then live ones: so nothing is answered here */
  private async subscribe(msg: ClientMessage): Promise<string | undefined> {
    const p = msg.payload as { table?: unknown; event?: unknown; filter?: unknown; since?: unknown } | undefined
    if (!p || typeof p !== 'object' || typeof p.table !== 'string' || !p.table.trim()) {
      throw new AppError('invalid_message', 'subscribe needs payload.table', { hint: '{"action":"subscribe","client":"shop","payload":{"table":"orders","event":"INSERT","filter":"id=eq.3"}}' })
    }
    const event = p.event ?? '*'
    if (typeof event !== 'string' || (event !== '*' && !(event in CHANGE_EVENTS))) {
      throw new AppError('invalid_message', 'payload.event must be *, INSERT, UPDATE or DELETE')
    }
    if (p.filter !== undefined && typeof p.filter !== 'string') throw new AppError('invalid_message', 'payload.filter must be a string of PostgREST filters, e.g. "id=eq.3"')
    const since = p.since ?? undefined
    if (since !== undefined && !(typeof since === 'number' && Number.isSafeInteger(since) && since >= 0)) {
      throw new AppError('invalid_message', 'payload.since must be the event_id of the last event this client received (an integer ≥ 0)')
    }
    const client = this.clientOf(msg)
    const { source } = await authorizeClientCall(this.deps, this.conn.isAdmin, this.conn.credential!, client, this.conn.ip, { needs: 'rows.read' })
    const table = resolveTable(await planContextFor(source), { name: p.table.trim() })
    const filter = p.filter?.trim() || null
    const matches = parseRowFilter(filter ?? undefined, new Set(table.columns.map((c) => c.name)))
    const names = event === '*' ? (Object.keys(CHANGE_EVENTS) as ChangeEvent[]) : [event as ChangeEvent]
    const hub = this.deps.realtime
    const sub = await hub.subscribe(this.conn, {
      client: source.name,
      table: table.name,
      types: new Set(names.map((n) => CHANGE_EVENTS[n])),
      filter,
      matches,
      matchesAll: filter === null,
    }, since)
    let replayed: Awaited<ReturnType<typeof hub.replay>> = []
    if (since !== undefined) {
      try {
        replayed = await hub.replay(sub)
      } catch (err) {
        hub.unsubscribe(this.conn, sub.id)
        throw err
      }
    }
    this.conn.send(replyText(msg.id, msg.action, 200, success(`Subscribed to ${names.join(', ')} on ${table.name}`, {
      subscription: sub.id, client: source.name, table: table.name, event, filter, ...(since === undefined ? {} : { since }),
    })))
    hub.goLive(sub, replayed)
    return undefined
  }

  private async unsubscribe(msg: ClientMessage): Promise<string> {
    const id = (msg.payload as { subscription?: unknown } | undefined)?.subscription
    if (typeof id !== 'string') throw new AppError('invalid_message', 'unsubscribe needs payload.subscription, the id subscribe answered with')
    const sub = this.deps.realtime.unsubscribe(this.conn, id)
    return replyText(msg.id, msg.action, 200, success(`Unsubscribed from ${sub.table}`, { subscription: sub.id }))
  }

  /**
   * The standing grant, checked again: the credential (a revoked key or an expired session closes the
   * connection with 4401) and each subscription's right to read its table (a lost right closes it with 4403).
   * Re-checks do not spend the caller's rate limits.
   */
  private async recheck(): Promise<void> {
    const cred = this.conn.credential
    if (!cred || this.conn.isAdmin || this.conn.closed) return
    try {
      this.conn.principal = await authenticateCredential(this.deps, this.isAdminKey, cred, this.conn.ip)
    } catch (err) {
      const e = normalizeError(err, this.log)
      if (e.spec.stage !== 'auth' || e.code === 'rate_limited') return
      this.conn.close(CLOSE.unauthenticated, 'credential no longer valid', { code: e.code, message: e.message })
      return
    }
    for (const sub of this.conn.subscriptions.values()) {
      try {
        await authorizeClientCall(this.deps, false, cred, sub.client, this.conn.ip, { needs: 'rows.read', countCall: false })
      } catch (err) {
        const e = normalizeError(err, this.log)
        if (e.spec.stage !== 'auth') continue
        this.conn.close(e.status === 401 ? CLOSE.unauthenticated : CLOSE.forbidden, 'subscription no longer allowed', { code: e.code, message: `subscription ${sub.id} (${sub.table}): ${e.message}` })
        return
      }
    }
  }
}
