// The WebSocket gateway's side of one process: its connections, and the subscriptions that row events from the
// outbox are matched against. Every process reads every committed event from the catalog (outbox.ts), so a write
// through any node reaches the subscribers of all of them; delivery is live and best effort, like the outbox's
// in-process subscribers (a connection that was down when an event committed does not get it later).
import type { Logger } from 'pino'
import { AppError } from '../errors/app-error.js'
import type { AtriumEvent, RowEventV1 } from '../outbox/events.js'
import type { Outbox } from '../outbox/outbox.js'
import { CLOSE, type RealtimeConnection, type RealtimeSettings, type Subscription } from './connection.js'
import { CHANGE_EVENTS, type ChangeEvent } from './protocol.js'

const EVENT_NAMES = Object.fromEntries(Object.entries(CHANGE_EVENTS).map(([name, type]) => [type, name])) as Record<string, ChangeEvent>

/** client names are case-insensitive everywhere; table names are as the schema spells them */
const tableKey = (client: string, table: string) => `${client.toLowerCase()}\u0000${table}`

export interface HubOptions {
  outbox: Outbox
  settings: RealtimeSettings
  logger: Logger
}

export class RealtimeHub {
  private readonly connections = new Set<RealtimeConnection>()
  private readonly byTable = new Map<string, Set<Subscription>>()
  private readonly stopOutbox: Array<() => void> = []
  private timers: NodeJS.Timeout[] = []
  /** events handed to subscribers, and slow consumers dropped, since start (for /wss/info) */
  private delivered = 0
  private slowConsumers = 0

  constructor(private readonly opts: HubOptions) {}

  get settings(): RealtimeSettings {
    return this.opts.settings
  }

  start(): void {
    for (const type of Object.values(CHANGE_EVENTS)) this.stopOutbox.push(this.opts.outbox.subscribe(type, (e) => this.deliver(e as AtriumEvent<RowEventV1>)))
    const every = (ms: number, fn: () => void) => {
      const timer = setInterval(fn, ms)
      timer.unref()
      this.timers.push(timer)
    }
    every(this.settings.heartbeatMs, () => { for (const c of this.connections) c.heartbeat() })
    every(this.settings.recheckMs, () => {
      for (const c of this.connections) {
        c.recheck?.().catch((err: unknown) => this.opts.logger.warn({ err: (err as Error).message }, 'realtime re-check failed'))
      }
    })
  }

  stop(): void {
    for (const stop of this.stopOutbox.splice(0)) stop()
    for (const timer of this.timers.splice(0)) clearInterval(timer)
    for (const c of this.connections) c.close(CLOSE.goingAway, 'server shutting down')
  }

  /** what /wss/info reports about this process; a connection being closed is no longer counted */
  stats(): { connections: number; subscriptions: number; events_delivered: number; slow_consumers_dropped: number } {
    let subscriptions = 0
    for (const set of this.byTable.values()) subscriptions += set.size
    let open = 0
    for (const c of this.connections) if (!c.closed) open++
    return { connections: open, subscriptions, events_delivered: this.delivered, slow_consumers_dropped: this.slowConsumers }
  }

  /** takes a new connection, or closes it when the process holds realtime.maxConnections */
  admit(connection: RealtimeConnection): boolean {
    if (this.connections.size >= this.settings.maxConnections) {
      connection.close(CLOSE.tooManyConnections, 'too many connections', {
        code: 'too_many_connections',
        message: `this server holds ${this.settings.maxConnections} WebSocket connections, its limit; retry later or on another node`,
      })
      return false
    }
    this.connections.add(connection)
    connection.onSlowConsumer = () => { this.slowConsumers++ }
    return true
  }

  remove(connection: RealtimeConnection): void {
    connection.ended()
    this.connections.delete(connection)
    for (const s of connection.subscriptions.values()) this.byTable.get(tableKey(s.client, s.table))?.delete(s)
    connection.subscriptions.clear()
  }

  /** adds a subscription the caller was allowed; throws too_many_subscriptions past the connection's limit */
  subscribe(connection: RealtimeConnection, sub: Omit<Subscription, 'id' | 'connection'>): Subscription {
    if (connection.subscriptions.size >= this.settings.maxSubscriptions) {
      throw new AppError('too_many_subscriptions', `a connection may hold ${this.settings.maxSubscriptions} subscriptions`, { hint: 'unsubscribe from one first, or open another connection' })
    }
    const subscription: Subscription = { ...sub, id: connection.newSubscriptionId(), connection }
    connection.subscriptions.set(subscription.id, subscription)
    const key = tableKey(sub.client, sub.table)
    const set = this.byTable.get(key) ?? new Set()
    set.add(subscription)
    this.byTable.set(key, set)
    return subscription
  }

  unsubscribe(connection: RealtimeConnection, id: string): Subscription {
    const subscription = connection.subscriptions.get(id)
    if (!subscription) throw new AppError('subscription_not_found', `this connection has no subscription "${id.slice(0, 64)}"`, { hint: 'subscribe answers with the subscription id' })
    connection.subscriptions.delete(id)
    this.byTable.get(tableKey(subscription.client, subscription.table))?.delete(subscription)
    return subscription
  }

  private deliver(event: AtriumEvent<RowEventV1>): void {
    const { payload } = event
    const subs = this.byTable.get(tableKey(payload.source, payload.table))
    if (!subs?.size) return
    const name = EVENT_NAMES[event.type]
    // the parts every subscriber shares, serialised once
    const head = `,"event":"${name}","client":${JSON.stringify(payload.source)},"table":${JSON.stringify(payload.table)},"name":${JSON.stringify(payload.name)}`
    const tail = `,"event_id":${event.id},"committed_at":${JSON.stringify(event.at)},"request_id":${JSON.stringify(payload.request_id)}}`
    let allRows: string | undefined
    for (const sub of subs) {
      if (!sub.types.has(event.type)) continue
      let rows: string
      if (sub.matchesAll) {
        rows = allRows ??= JSON.stringify(payload.rows)
      } else {
        const matching = (payload.rows as Array<Record<string, unknown>>).filter((r) => r !== null && typeof r === 'object' && sub.matches(r))
        if (!matching.length) continue
        rows = JSON.stringify(matching)
      }
      if (sub.connection.send(`{"type":"event","subscription":${JSON.stringify(sub.id)}${head},"rows":${rows}${tail}`)) this.delivered++
    }
  }
}
