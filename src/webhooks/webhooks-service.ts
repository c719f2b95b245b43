// Webhooks: endpoint administration, and the durable outbox consumer that turns each committed event into one
// delivery (record + job) per matching enabled endpoint. The HTTP call itself is the delivery job's.
import { randomBytes } from 'node:crypto'
import type { Logger } from 'pino'
import { seal } from '../auth/secret-box.js'
import type { Catalog } from '../catalog/catalog.js'
import type { Config } from '../config/schema.js'
import { AppError } from '../errors/app-error.js'
import type { JobQueue } from '../jobs/job-queue.js'
import type { AtriumEvent, WebhookDisabledEventV1 } from '../outbox/events.js'
import type { Outbox } from '../outbox/outbox.js'
import type { Executor } from '../sources/driver.js'
import { DELIVERY_RETRIES, MAX_ATTEMPTS, WEBHOOK_DELIVERY_JOB, webhookDeliveryHandler } from './webhook-delivery-job.js'
import { WebhookStore, type DeliveryPage, type EndpointChanges, type WebhookDelivery, type WebhookEndpoint, type WebhookFilter } from './webhook-store.js'
import { assertPublicUrl, parseWebhookUrl } from './webhook-url.js'

export type { WebhookDelivery, WebhookEndpoint, WebhookFilter } from './webhook-store.js'

export interface WebhooksDeps {
  catalog: Catalog
  jobs: JobQueue
  outbox: Outbox
  secretKey: Buffer
  config: Config
  logger: Logger
}

/** the outbox consumer's name in atrium.event_cursors */
const CONSUMER = 'webhooks'
/** events handed on per consumer transaction, and passes per wake-up (so one wake-up is bounded) */
const BATCH = 100
const PASSES = 50
/** a safety net: the outbox's dispatch wakes the consumer on every event; this catches a pass that failed */
const SWEEP_MS = 5_000

export class Webhooks {
  readonly store: WebhookStore
  private timer: NodeJS.Timeout | undefined
  private unsubscribe: (() => void) | undefined
  private running: Promise<void> | undefined
  private again = false
  private started = false

  /** the delivery job's handler: one attempt of one delivery */
  readonly deliver: ReturnType<typeof webhookDeliveryHandler>

  constructor(private readonly deps: WebhooksDeps) {
    this.store = new WebhookStore(deps.catalog)
    this.deliver = webhookDeliveryHandler({
      store: this.store,
      secretKey: deps.secretKey,
      allowPrivate: deps.config.webhooks.allowPrivate,
      onFinalFailure: (endpointId, deliveryId) => this.disableIfFailingLong(endpointId, deliveryId),
    })
  }

  /** every process defines the delivery job (enqueueing needs it) and runs the consumer; the consumer's row lock makes them take turns */
  async start(): Promise<void> {
    const { jobs, outbox } = this.deps
    await jobs.define(WEBHOOK_DELIVERY_JOB, this.deliver, DELIVERY_RETRIES)
    this.started = true
    this.unsubscribe = outbox.subscribe('*', () => this.wake())
    this.timer = setInterval(() => this.wake(), SWEEP_MS)
    this.timer.unref()
    this.wake()
  }

  async stop(): Promise<void> {
    this.started = false
    this.unsubscribe?.()
    if (this.timer) clearInterval(this.timer)
    await this.running
  }

  /** `owner` ("team:<id>") makes an endpoint that receives only that tenant's events */
  async create(input: { url: string; description?: string | null; events?: Partial<WebhookFilter>; enabled?: boolean; owner?: string | null }): Promise<{ webhook: WebhookEndpoint; secret: string }> {
    const url = await this.checkedUrl(input.url)
    const secret = `whsec_${randomBytes(32).toString('base64')}`
    const webhook = await this.store.createEndpoint({
      url,
      description: input.description ?? null,
      events: normalizeFilter(input.events),
      enabled: input.enabled ?? true,
      secretSealed: seal(this.deps.secretKey, secret),
      owner: input.owner ?? null,
    })
    return { webhook, secret }
  }

  list(): Promise<WebhookEndpoint[]> {
    return this.store.listEndpoints()
  }

  async get(id: string): Promise<WebhookEndpoint> {
    return (await this.store.getEndpoint(id)) ?? notFound(id)
  }

  async update(id: string, changes: EndpointChanges): Promise<WebhookEndpoint> {
    await this.get(id)
    const c: EndpointChanges = { ...changes }
    if (c.url !== undefined) c.url = await this.checkedUrl(c.url)
    if (c.events) c.events = Object.fromEntries(Object.entries(c.events).map(([k, v]) => [k, uniqueList(v ?? [])]))
    return (await this.store.updateEndpoint(id, c)) ?? notFound(id)
  }

  async remove(id: string): Promise<void> {
    if (!(await this.store.deleteEndpoint(id))) notFound(id)
  }

  async deliveries(id: string, page: { limit?: number; cursor?: string }): Promise<DeliveryPage> {
    await this.get(id)
    return this.store.listDeliveries(id, page)
  }

  /** a webhook.test event for this endpoint alone (not written to the outbox: no one else is told of it) */
  async sendTest(id: string): Promise<WebhookDelivery> {
    const endpoint = await this.get(id)
    const body = JSON.stringify({ type: 'webhook.test', timestamp: new Date().toISOString(), data: { webhook_id: endpoint.id, message: 'a test delivery from Atrium' } })
    const deliveryId = await this.deps.catalog.transaction(async (tx) => {
      const created = (await this.store.createDelivery(tx, { endpointId: id, eventId: null, eventType: 'webhook.test', body }))!
      await this.enqueue(tx, created)
      return created
    })
    return (await this.store.getDelivery(id, deliveryId))!
  }

  /** sends a finished delivery again, with the same webhook-id and body */
  async replay(endpointId: string, deliveryId: string): Promise<WebhookDelivery> {
    await this.deps.catalog.transaction(async (tx) => {
      const delivery = await this.store.getDelivery(endpointId, deliveryId, tx)
      if (!delivery) throw new AppError('webhook_delivery_not_found', `webhook ${endpointId} has no delivery ${deliveryId}`)
      if (delivery.status === 'pending' || delivery.status === 'retrying') {
        throw new AppError('webhook_delivery_pending', `delivery ${deliveryId} is still ${delivery.status}; only a succeeded or failed delivery is replayed`, { hint: 'wait for it to finish (GET …/deliveries shows its status)' })
      }
      await this.store.resetDelivery(tx, deliveryId)
      await this.enqueue(tx, deliveryId)
    })
    return (await this.store.getDelivery(endpointId, deliveryId))!
  }

  /** an endpoint nothing reached for about a day is disabled, told as a webhook.disabled event (to the other endpoints) */
  private async disableIfFailingLong(endpointId: string, deliveryId: string): Promise<void> {
    const disabled = await this.deps.catalog.transaction(async (tx) => {
      const endpoint = await this.store.disableIfFailingSince(tx, endpointId, deliveryId)
      if (!endpoint) return null
      const payload: WebhookDisabledEventV1 = {
        type: 'webhook.disabled',
        version: 1,
        webhook_id: endpoint.id,
        url: endpoint.url,
        reason: `delivery ${deliveryId} failed after ${MAX_ATTEMPTS} attempts and nothing was delivered since ${endpoint.since}`,
      }
      await this.deps.outbox.write(tx, { payload })
      return endpoint
    })
    if (!disabled) return
    this.deps.outbox.committed()
    this.deps.logger.warn({ webhook: disabled.id }, 'webhook endpoint disabled: its deliveries have failed for about a day')
  }

  private async checkedUrl(raw: string): Promise<string> {
    const url = parseWebhookUrl(raw)
    await assertPublicUrl(url, this.deps.config.webhooks.allowPrivate)
    return url.toString()
  }

  private async enqueue(tx: Executor, deliveryId: string): Promise<void> {
    const jobId = await this.deps.jobs.enqueue(WEBHOOK_DELIVERY_JOB, { delivery_id: deliveryId }, { tx })
    await this.store.setDeliveryJob(tx, deliveryId, jobId)
  }

  /** runs consumer passes until the outbox has nothing new; a wake-up during a pass runs another */
  private wake(): void {
    if (!this.started) return
    if (this.running) {
      this.again = true
      return
    }
    this.running = this.drain().finally(() => {
      this.running = undefined
      if (this.again) {
        this.again = false
        this.wake()
      }
    })
  }

  private async drain(): Promise<void> {
    try {
      for (let pass = 0; pass < PASSES && this.started; pass++) {
        const handled = await this.deps.outbox.consume(CONSUMER, (events, tx) => this.handOn(events, tx), { limit: BATCH, fromNow: true })
        if (handled < BATCH) return
      }
      this.again = true
    } catch (err) {
      // the batch stays behind the cursor; the next wake-up or sweep hands it on
      this.deps.logger.warn({ err: (err as Error).message }, 'webhooks could not hand events on')
    }
  }

  /** inside the consumer's transaction: one delivery record and job per (event, matching endpoint) */
  private async handOn(events: AtriumEvent[], tx: Executor): Promise<void> {
    const endpoints = (await this.store.listEndpoints(tx)).filter((e) => e.enabled)
    if (!endpoints.length) return
    for (const event of events) {
      // a delivery's own outcome must not become another delivery
      if (event.type.startsWith('job.') && event.payload.kind === WEBHOOK_DELIVERY_JOB) continue
      // a change event of a write through Atrium exists only because someone subscribed over the WebSocket
      // gateway: webhooks get X-Publish-Event row events and the database's captured changes, never these
      if (event.type.startsWith('change.') && event.payload.origin === 'atrium') continue
      const at = Date.parse(event.at)
      const body = JSON.stringify(eventBody(event))
      for (const endpoint of endpoints) {
        // an endpoint receives the events committed after it was created; a team's, only that team's
        if (!matches(endpoint.events, event) || Date.parse(endpoint.created_at) > at) continue
        if (endpoint.owner !== null && event.tenant !== endpoint.owner) continue
        const deliveryId = await this.store.createDelivery(tx, { endpointId: endpoint.id, eventId: event.id, eventType: event.type, body })
        if (deliveryId) await this.enqueue(tx, deliveryId)
      }
    }
  }
}

/** the JSON a receiver gets, shaped as Standard Webhooks suggests: { type, timestamp, data } */
function eventBody(event: AtriumEvent): Record<string, unknown> {
  const at = Date.parse(event.at)
  return {
    type: event.type,
    timestamp: Number.isNaN(at) ? event.at : new Date(at).toISOString(),
    event_id: event.id,
    source: event.source,
    data: event.payload,
  }
}

/** every non-empty dimension of the filter must name the event's value */
export function matches(filter: WebhookFilter, event: AtriumEvent): boolean {
  const table = typeof event.payload.table === 'string' ? event.payload.table : null
  if (filter.types.length && !filter.types.includes(event.type)) return false
  if (filter.clients.length && (event.source === null || !filter.clients.includes(event.source))) return false
  if (filter.tables.length && (table === null || !filter.tables.includes(table))) return false
  return true
}

function normalizeFilter(f: Partial<WebhookFilter> = {}): WebhookFilter {
  return { clients: uniqueList(f.clients ?? []), tables: uniqueList(f.tables ?? []), types: uniqueList(f.types ?? []) }
}

function uniqueList(values: string[]): string[] {
  return [...new Set(values.map((v) => v.trim()).filter(Boolean))]
}

function notFound(id: string): never {
  throw new AppError('webhook_not_found', `no webhook ${id}`, { hint: 'GET /admin/webhooks lists them' })
}
