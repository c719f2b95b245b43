// One WebSocket gateway connection, framework-free: who it authenticated as, its subscriptions, how many of its
// messages are being answered, and the one way anything is sent to it. Sending never queues without bound: when
// the bytes the peer has not read pass realtime.maxBufferedBytes, the connection is a slow consumer, told so
// and dropped.
import type { Principal } from '../auth/principal.js'
import type { Config } from '../config/schema.js'
import type { AtriumEvent } from '../outbox/events.js'
import type { Credential } from '../http/access-control.js'
import { noticeText } from './protocol.js'
import type { RowPredicate } from './row-filter.js'

/** what a connection needs of its socket (a `ws` WebSocket has all of it) */
export interface Transport {
  send(text: string): void
  /** bytes handed to send() that have not reached the kernel yet */
  readonly bufferedAmount: number
  close(code: number, reason: string): void
  terminate(): void
  ping(): void
}

export type RealtimeSettings = Config['realtime']

/** close codes besides the standard ones; documented in docs/realtime.md */
export const CLOSE = {
  unauthenticated: 4401,
  forbidden: 4403,
  slowConsumer: 4008,
  tooManyConnections: 4429,
  goingAway: 1001,
} as const

export interface Subscription {
  id: string
  connection: RealtimeConnection
  /** the source's name, as row events carry it */
  client: string
  table: string
  /** outbox event types (row.inserted, …) the subscription receives */
  types: ReadonlySet<string>
  /** the filter text as sent, for the reply and re-checks */
  filter: string | null
  matches: RowPredicate
  matchesAll: boolean
  /** the id of the last event handed to it (or its `since`): an event is never sent twice */
  lastId: number
  /** while a replay is being read: the live events that came meanwhile, sent after it */
  held: AtriumEvent[] | undefined
}

export class RealtimeConnection {
  credential: Credential | undefined
  principal: Principal | undefined
  isAdmin = false
  /** messages being answered now */
  inFlight = 0
  readonly subscriptions = new Map<string, Subscription>()
  /** a ping was sent and its pong has not come back */
  awaitingPong = false
  /** set by the surface: checks the credential and each subscription's right again (realtime.recheckMs) */
  recheck: (() => Promise<void>) | undefined
  /** set by the hub: counts the drop */
  onSlowConsumer: (() => void) | undefined
  private nextSubscription = 1
  private closedState = false
  private cut: NodeJS.Timeout | undefined

  constructor(
    private readonly transport: Transport,
    readonly settings: RealtimeSettings,
    /** the caller's address, for rate limits and IP policies */
    readonly ip: string,
    /** X-Athena-Client (or ?client=) at the upgrade: the client of messages that name none */
    readonly defaultClient: string | undefined,
  ) {}

  get authenticated(): boolean {
    return this.principal !== undefined
  }

  get closed(): boolean {
    return this.closedState
  }

  newSubscriptionId(): string {
    return `s${this.nextSubscription++}`
  }

  /**
   * Sends one message unless the connection is closing. A peer that has left more than maxBufferedBytes unread
   * is dropped instead (one message may be larger than the limit: it is the backlog that is bounded).
   */
  send(text: string): boolean {
    if (this.closedState) return false
    if (this.transport.bufferedAmount > this.settings.maxBufferedBytes) {
      this.dropSlowConsumer()
      return false
    }
    this.transport.send(text)
    return true
  }

  /** closes with a notice sent first (behind whatever is queued); `code` is one of CLOSE */
  close(code: number, reason: string, notice?: { code: string; message: string }): void {
    if (this.closedState) return
    this.closedState = true
    if (notice) this.transport.send(noticeText(notice.code, notice.message))
    this.transport.close(code, reason)
  }

  /** the socket went away: stop timers */
  ended(): void {
    this.closedState = true
    if (this.cut) clearTimeout(this.cut)
  }

  heartbeat(): void {
    if (this.closedState) return
    if (this.awaitingPong) {
      this.closedState = true
      this.transport.terminate()
      return
    }
    this.awaitingPong = true
    this.transport.ping()
  }

  private dropSlowConsumer(): void {
    const unread = this.transport.bufferedAmount
    this.onSlowConsumer?.()
    this.close(CLOSE.slowConsumer, 'slow consumer', {
      code: 'slow_consumer',
      message: `this connection left ${unread} bytes unread (the limit is ${this.settings.maxBufferedBytes}) and is closed; reconnect and read faster, or subscribe to fewer changes`,
    })
    // the notice waits behind the backlog: a peer that does not read it in time is cut
    this.cut = setTimeout(() => this.transport.terminate(), this.settings.slowConsumerGraceMs)
    this.cut.unref()
  }
}
