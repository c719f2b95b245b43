// The WebSocket gateway's side of one process: its connections, and the subscriptions that events from the outbox
// are matched against. Every process reads every committed event from the catalog (outbox.ts), so a write through
// any node reaches the subscribers of all of them. Live delivery is best effort; a client that reconnects asks for
// what it missed with `since` (replay.ts), read from the same table.
import type { Logger } from 'pino'
import type { Catalog } from '../catalog/catalog.js'
import { AppError } from '../errors/app-error.js'
import type { AtriumEvent, ChangeEventV1, RowEventV1 } from '../outbox/events.js'
import type { Outbox } from '../outbox/outbox.js'
import { watchKey as tableKey, type ChangeWatch } from './change-watch.js'
import { CLOSE, type RealtimeConnection, type RealtimeSettings, type Subscription } from './connection.js'
import { CHANGE_EVENTS, CHANGE_TYPES, type ChangeEvent } from './protocol.js'
import { readReplay } from './replay.js'

/** the subscription's event name (INSERT, …) of both kinds of outbox events: named row events and change events */
const EVENT_NAMES = Object.fromEntries([
  ...Object.entries(CHANGE_EVENTS).map(([name, type]) => [type, name]),
  ...Object.entries(CHANGE_TYPES).map(([name, type]) => [type, name]),
]) as Record<string, ChangeEvent>

type TableEvent = AtriumEvent<RowEventV1 | ChangeEventV1>

export interface HubOptions {
  outbox: Outbox
  catalog: Catalog
  /** where this node registers the tables its connections subscribe to */
  watch: ChangeWatch
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
    for (const type of Object.keys(EVENT_NAMES)) this.stopOutbox.push(this.opts.outbox.subscribe(type, (e) => this.deliver(e as TableEvent)))
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
  stats(): { connections: number; subscriptions: number; events_delivered: number; slow_consumers_dropped: number; watched_tables: number } {
    let subscriptions = 0
    for (const set of this.byTable.values()) subscriptions += set.size
    let open = 0
    for (const c of this.connections) if (!c.closed) open++
    return { connections: open, subscriptions, events_delivered: this.delivered, slow_consumers_dropped: this.slowConsumers, watched_tables: this.opts.watch.watchedTables() }
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
    for (const s of connection.subscriptions.values()) this.drop(s)
    connection.subscriptions.clear()
  }

  /**
   * Adds a subscription the caller was allowed (throws too_many_subscriptions past the connection's limit) and
   * registers its table for every node, so that writes anywhere publish its changes. With `since`, events are held
   * back until `goLive` has sent the replay.
   */
  async subscribe(connection: RealtimeConnection, sub: Omit<Subscription, 'id' | 'connection' | 'names' | 'held' | 'lastId'>, since?: number): Promise<Subscription> {
    if (connection.subscriptions.size >= this.settings.maxSubscriptions) {
      throw new AppError('too_many_subscriptions', `a connection may hold ${this.settings.maxSubscriptions} subscriptions`, { hint: 'unsubscribe from one first, or open another connection' })
    }
    const subscription: Subscription = { ...sub, id: connection.newSubscriptionId(), connection, held: since === undefined ? undefined : [], lastId: since ?? 0 }
    connection.subscriptions.set(subscription.id, subscription)
    const key = tableKey(sub.client, sub.table)
    const set = this.byTable.get(key) ?? new Set()
    set.add(subscription)
    this.byTable.set(key, set)
    // live events of this node reach it already; the registration is for writes through the other nodes
    await this.opts.watch.add(sub.client, sub.table).catch((err: Error) => this.opts.logger.warn({ err: err.message }, 'could not register a watched table'))
    return subscription
  }

  /** the retained events the subscription missed after its `since` (410 replay_unavailable when too old or too many) */
  replay(sub: Subscription): Promise<AtriumEvent[]> {
    const types = Object.entries(EVENT_NAMES).filter(([, name]) => sub.types.has(CHANGE_EVENTS[name])).map(([type]) => type)
    return readReplay(this.opts.catalog, {
      client: sub.client, table: sub.table, types, since: sub.lastId, windowSeconds: this.settings.replayWindowSeconds, maxEvents: this.settings.maxReplayEvents,
    })
  }

  /** sends the replayed events, then those held back meanwhile (each once, in id order), and goes live */
  goLive(sub: Subscription, replayed: readonly AtriumEvent[]): void {
    const held = sub.held ?? []
    sub.held = undefined
    for (const event of [...replayed, ...held]) this.deliverTo(sub, event as TableEvent)
  }

  unsubscribe(connection: RealtimeConnection, id: string): Subscription {
    const subscription = connection.subscriptions.get(id)
    if (!subscription) throw new AppError('subscription_not_found', `this connection has no subscription "${id.slice(0, 64)}"`, { hint: 'subscribe answers with the subscription id' })
    connection.subscriptions.delete(id)
    this.drop(subscription)
    return subscription
  }

  private drop(sub: Subscription): void {
    if (this.byTable.get(tableKey(sub.client, sub.table))?.delete(sub)) this.opts.watch.remove(sub.client, sub.table)
  }

  private deliver(event: TableEvent): void {
    const { payload } = event
    // the table is captured by the database: its subscribers get the change event the trigger recorded instead
    if (payload.captured) return
    const subs = this.byTable.get(tableKey(payload.source, payload.table))
    if (!subs?.size) return
    const shared = { event, allRows: undefined as string | undefined }
    for (const sub of subs) this.deliverTo(sub, event, shared)
  }

  /** one event to one subscription, filtered; `shared` keeps what every unfiltered subscriber gets, serialised once */
  private deliverTo(sub: Subscription, event: TableEvent, shared: { allRows?: string } = {}): void {
    if (sub.held) {
      sub.held.push(event)
      return
    }
    if (event.id <= sub.lastId) return
    sub.lastId = event.id
    const name = EVENT_NAMES[event.type]
    if (!sub.types.has(CHANGE_EVENTS[name])) return
    const { payload } = event
    const oldRows = (payload as ChangeEventV1).old_rows ?? null
    let rows: string
    let old = ''
    if (sub.matchesAll) {
      rows = shared.allRows ??= JSON.stringify(payload.rows)
      if (oldRows) old = `,"old_rows":${JSON.stringify(oldRows)}`
    } else {
      // an UPDATE or DELETE is kept when its row as it is now (a DELETE: as it was) matches; old rows follow it
      const keep = (payload.rows as Array<Record<string, unknown> | null>).map((r) => r !== null && typeof r === 'object' && sub.matches(r))
      if (!keep.includes(true)) return
      rows = JSON.stringify(payload.rows.filter((_, i) => keep[i]))
      if (oldRows) old = `,"old_rows":${JSON.stringify(oldRows.filter((_, i) => keep[i]))}`
    }
    const named = (payload as RowEventV1).name ?? null
    const origin = (payload as ChangeEventV1).origin ?? 'atrium'
    const text = `{"type":"event","subscription":${JSON.stringify(sub.id)},"event":"${name}","client":${JSON.stringify(payload.source)},"table":${JSON.stringify(payload.table)}`
      + `,"name":${JSON.stringify(named)},"origin":"${origin}","rows":${rows}${old},"event_id":${event.id},"committed_at":${JSON.stringify(event.at)},"request_id":${JSON.stringify(payload.request_id)}}`
    if (sub.connection.send(text)) this.delivered++
  }
}
