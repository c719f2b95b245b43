// The outbox: events written in the caller's catalog transaction, then dispatched after commit to this
// process's subscribers (exactly once per process, in id order) and announced to the other processes.
//
// The table is the truth; announcements only wake readers. NOTIFY on the catalog is sent in the writing
// transaction, so only committed events are announced. With REDIS_URL, a process that commits events
// also publishes the newest id on a Redis channel after its commit (a second, independent wake-up path for
// when a catalog listener is reconnecting). Every process also looks on its own every events.pollMs, and
// after its catalog listener or Redis reconnects; it always reads by id from the table, so a lost
// announcement delays an event but never loses it.
//
// In-process subscribers are live delivery: best-effort (an event committed while no process runs, or
// before a process started, is not replayed to them). Anything that must see every event reads the table
// through a durable cursor (`consume`).
import { createRequire } from 'node:module'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import type { Catalog } from '../catalog/catalog.js'
import type { Config } from '../config/schema.js'
import type { Executor } from '../sources/driver.js'
import type { PostgresExecutor } from '../sources/drivers/postgres-driver.js'
import type { SourceRegistry } from '../sources/registry.js'
import { cursorBatch, eventsAfter, EVENTS_CHANNEL, insertEvent, insertEvents, lastEventId } from './event-store.js'
import type { AtriumEvent, NewEvent } from './events.js'
import { SourceEvents, type Failpoint } from './source-events.js'

export type EventHandler = (event: AtriumEvent) => void

/** events read per query while catching up */
const BATCH = 200

export interface OutboxOptions {
  catalog: Catalog
  settings: Config['events']
  redisUrl?: string
  logger: Logger
  /** this process among those sharing the catalog */
  instanceId: string
  /** the data sources whose writes publish events (recovery asks them about pending ones) */
  registry: SourceRegistry
  /** test-only crash points (StartOptions), never from configuration */
  failpoint?: (point: Failpoint) => void
}

export class Outbox {
  private readonly subscribers = new Map<string, Set<EventHandler>>()
  /** the id of the last event handed to this process's subscribers */
  private cursor = 0
  private pumping: Promise<void> | undefined
  private again = false
  private started = false
  private poll: NodeJS.Timeout | undefined
  private redisPub: Redis | undefined
  private redisSub: Redis | undefined
  /** events of writes to data sources (X-Publish-Event), published only when the source commits */
  readonly sourceWrites: SourceEvents

  constructor(private readonly opts: OutboxOptions) {
    this.sourceWrites = new SourceEvents({ ...opts, outbox: this })
  }

  get instanceId(): string {
    return this.opts.instanceId
  }

  /** starts dispatching: events committed from now on reach this process's subscribers */
  async start(): Promise<void> {
    const { catalog, settings, redisUrl, logger } = this.opts
    this.cursor = await lastEventId(catalog)
    await catalog.listen(EVENTS_CHANNEL, () => this.pump())
    // notifications sent while the listener was away are lost: read from the table now
    catalog.onListenerReconnect(() => this.pump())
    if (redisUrl) {
      const { Redis: RedisClient } = createRequire(import.meta.url)('ioredis') as typeof import('ioredis')
      this.redisPub = new RedisClient(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 })
      this.redisSub = new RedisClient(redisUrl, { maxRetriesPerRequest: null })
      const warn = (err: Error) => logger.warn({ err: err.message }, 'redis error (events still travel through the catalog)')
      this.redisPub.on('error', warn)
      this.redisSub.on('error', warn)
      this.redisSub.on('message', () => this.pump())
      // (re)subscribed: messages published in between are lost, the table is not
      this.redisSub.on('ready', () => this.pump())
      // not awaited: with Redis down the command waits for a connection, and start-up must not
      void this.redisSub.subscribe(settings.redisChannel).catch(warn)
    }
    this.poll = setInterval(() => this.pump(), settings.pollMs)
    this.poll.unref()
    this.started = true
    this.sourceWrites.start()
  }

  async stop(): Promise<void> {
    this.started = false
    if (this.poll) clearInterval(this.poll)
    await this.sourceWrites.stop()
    await this.pumping
    this.redisSub?.disconnect()
    this.redisPub?.disconnect()
  }

  /** `type` is an event type (e.g. "row.inserted") or "*" for every event; returns the unsubscribe */
  subscribe(type: string, handler: EventHandler): () => void {
    const set = this.subscribers.get(type) ?? new Set()
    set.add(handler)
    this.subscribers.set(type, set)
    return () => { set.delete(handler) }
  }

  /**
   * Writes an event inside the caller's catalog transaction: it commits or rolls back with the caller's
   * change, and is announced on commit. Write it last: from here to the commit the transaction holds the
   * lock that keeps event ids in commit order. Call `committed()` after the commit for the quickest delivery.
   */
  write(tx: Executor, event: NewEvent): Promise<number> {
    return insertEvent(tx, event, this.opts.instanceId)
  }

  /** writes several events in the caller's catalog transaction, in one statement (ids in array order), as `write` does one */
  writeMany(tx: Executor, events: readonly NewEvent[]): Promise<number> {
    return insertEvents(tx, events, this.opts.instanceId)
  }

  /** writes an event in a transaction of its own */
  async publish(event: NewEvent): Promise<number> {
    const id = await this.opts.catalog.transaction((tx) => this.write(tx, event))
    this.committed()
    return id
  }

  /** events were just committed by this process: deliver them here and wake the others through Redis */
  committed(): void {
    this.pump()
    this.redisPub?.publish(this.opts.settings.redisChannel, 'events').catch(() => {})
  }

  /**
   * One batch for durable consumer `consumer` (at-least-once): the events after its cursor, at most
   * `limit`, handed to `handle` inside a catalog transaction that holds the consumer's cursor row; the cursor
   * moves past them when `handle` returns, and does not when it throws (the batch comes again). The same
   * consumer on several processes takes turns. A new consumer starts at the oldest retained event, or with
   * `fromNow` at the newest. For slow effects (HTTP calls), enqueue a job per event with `{ tx }` inside
   * `handle`: the jobs and the cursor move commit together, so each event is handed on exactly once.
   * Returns the number of events handled (0: nothing new).
   */
  consume(consumer: string, handle: (events: AtriumEvent[], tx: PostgresExecutor) => Promise<void>, opts: { limit?: number; fromNow?: boolean } = {}): Promise<number> {
    return this.opts.catalog.transaction(async (tx) => {
      const batch = await cursorBatch(tx, consumer, Math.min(Math.max(opts.limit ?? 100, 1), 1_000), opts.fromNow ?? false)
      if (!batch.events.length) return 0
      await handle(batch.events, tx)
      await batch.advance()
      return batch.events.length
    })
  }

  /** reads new events and hands them to subscribers; one pass at a time, so each event once and in id order */
  pump(): void {
    if (!this.started) return
    if (this.pumping) {
      this.again = true
      return
    }
    this.pumping = this.drain().finally(() => {
      this.pumping = undefined
      if (this.again) {
        this.again = false
        this.pump()
      }
    })
  }

  private async drain(): Promise<void> {
    try {
      for (;;) {
        const events = await eventsAfter(this.opts.catalog, this.cursor, BATCH)
        for (const event of events) {
          this.cursor = event.id
          this.deliver(event)
        }
        if (events.length < BATCH) return
      }
    } catch (err) {
      // the next announcement or poll tries again from the same cursor
      this.opts.logger.debug({ err: (err as Error).message }, 'could not read new events')
    }
  }

  private deliver(event: AtriumEvent): void {
    for (const key of [event.type, '*']) {
      for (const handler of this.subscribers.get(key) ?? []) {
        try {
          handler(event)
        } catch (err) {
          // a failing subscriber must not keep the event from the others
          this.opts.logger.warn({ err: (err as Error).message, event: event.id, type: event.type }, 'event subscriber failed')
        }
      }
    }
  }
}
