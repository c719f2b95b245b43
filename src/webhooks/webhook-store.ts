// The catalog tables of webhooks: endpoints (secret sealed, never read back by listings) and delivery records.
import { randomUUID } from 'node:crypto'
import type { Executor, Row } from '../sources/driver.js'
import { encodePageCursor, ListConditions } from '../catalog/page-cursor.js'

export interface WebhookFilter {
  /** data sources (X-Athena-Client names); empty = all */
  clients: string[]
  /** tables; empty = all */
  tables: string[]
  /** event types such as row.inserted; empty = all */
  types: string[]
}

export interface WebhookEndpoint {
  id: string
  url: string
  description: string | null
  events: WebhookFilter
  enabled: boolean
  /** "team:<id>" for a Databases API team's endpoint (it receives only that team's events); null: the administrator's */
  owner: string | null
  created_at: string
  updated_at: string
}

export type DeliveryStatus = 'pending' | 'retrying' | 'succeeded' | 'failed'

export interface WebhookDelivery {
  id: string
  endpoint_id: string
  event_id: number | null
  event_type: string
  status: DeliveryStatus
  attempts: number
  response_status: number | null
  last_error: string | null
  job_id: string | null
  created_at: string
  updated_at: string
  delivered_at: string | null
}

export interface EndpointChanges {
  url?: string
  description?: string | null
  events?: Partial<WebhookFilter>
  enabled?: boolean
}

export interface DeliveryPage {
  deliveries: WebhookDelivery[]
  next_cursor: string | null
}

const ENDPOINT_COLUMNS = 'id, url, description, filter_clients, filter_tables, filter_types, enabled, owner, created_at, updated_at'
const DELIVERY_COLUMNS = 'id, endpoint_id, event_id, event_type, status, attempts, response_status, last_error, job_id, created_at, updated_at, delivered_at'
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const MAX_PAGE = 100

/** whether `id` can name a row (a malformed id is "not found", not a database error) */
export const isUuid = (id: string): boolean => UUID.test(id)

export class WebhookStore {
  constructor(private readonly db: Executor) {}

  async createEndpoint(e: { url: string; description: string | null; events: WebhookFilter; enabled: boolean; secretSealed: string; owner?: string | null }): Promise<WebhookEndpoint> {
    const res = await this.db.query({
      sql: `INSERT INTO atrium.webhook_endpoints (id, url, description, filter_clients, filter_tables, filter_types, enabled, secret_sealed, owner)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${ENDPOINT_COLUMNS}`,
      params: [randomUUID(), e.url, e.description, e.events.clients, e.events.tables, e.events.types, e.enabled, e.secretSealed, e.owner ?? null],
    })
    return toEndpoint(res.rows[0]!)
  }

  async listEndpoints(db: Executor = this.db): Promise<WebhookEndpoint[]> {
    const res = await db.query({ sql: `SELECT ${ENDPOINT_COLUMNS} FROM atrium.webhook_endpoints ORDER BY created_at, id`, params: [] })
    return res.rows.map(toEndpoint)
  }

  async getEndpoint(id: string, db: Executor = this.db): Promise<WebhookEndpoint | null> {
    if (!isUuid(id)) return null
    const res = await db.query({ sql: `SELECT ${ENDPOINT_COLUMNS} FROM atrium.webhook_endpoints WHERE id = $1`, params: [id] })
    return res.rows.length ? toEndpoint(res.rows[0]!) : null
  }

  /** the sealed secret, for signing only */
  async sealedSecret(id: string, db: Executor = this.db): Promise<string | null> {
    const res = await db.query({ sql: 'SELECT secret_sealed FROM atrium.webhook_endpoints WHERE id = $1', params: [id] })
    return (res.rows[0]?.secret_sealed as string | undefined) ?? null
  }

  async updateEndpoint(id: string, c: EndpointChanges): Promise<WebhookEndpoint | null> {
    const current = await this.getEndpoint(id)
    if (!current) return null
    const events = { ...current.events, ...(c.events ?? {}) }
    const res = await this.db.query({
      sql: `UPDATE atrium.webhook_endpoints SET url = $2, description = $3, filter_clients = $4, filter_tables = $5, filter_types = $6,
              enabled = $7, updated_at = now() WHERE id = $1 RETURNING ${ENDPOINT_COLUMNS}`,
      params: [id, c.url ?? current.url, c.description === undefined ? current.description : c.description, events.clients, events.tables, events.types, c.enabled ?? current.enabled],
    })
    return res.rows.length ? toEndpoint(res.rows[0]!) : null
  }

  async deleteEndpoint(id: string): Promise<boolean> {
    if (!isUuid(id)) return false
    const res = await this.db.query({ sql: 'DELETE FROM atrium.webhook_endpoints WHERE id = $1 RETURNING id', params: [id] })
    return res.rows.length === 1
  }

  /** a new delivery; null when this (event, endpoint) already has one (the event was handed on before) */
  async createDelivery(tx: Executor, d: { endpointId: string; eventId: number | null; eventType: string; body: string }): Promise<string | null> {
    const res = await tx.query({
      sql: `INSERT INTO atrium.webhook_deliveries (id, endpoint_id, event_id, event_type, body) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (endpoint_id, event_id) DO NOTHING RETURNING id`,
      params: [randomUUID(), d.endpointId, d.eventId, d.eventType, d.body],
    })
    return (res.rows[0]?.id as string | undefined) ?? null
  }

  async setDeliveryJob(tx: Executor, id: string, jobId: string): Promise<void> {
    await tx.query({ sql: 'UPDATE atrium.webhook_deliveries SET job_id = $2, updated_at = now() WHERE id = $1', params: [id, jobId] })
  }

  async getDelivery(endpointId: string, id: string, db: Executor = this.db): Promise<WebhookDelivery | null> {
    if (!isUuid(endpointId) || !isUuid(id)) return null
    const res = await db.query({ sql: `SELECT ${DELIVERY_COLUMNS} FROM atrium.webhook_deliveries WHERE endpoint_id = $1 AND id = $2`, params: [endpointId, id] })
    return res.rows.length ? toDelivery(res.rows[0]!) : null
  }

  /** what an attempt needs: the delivery's body and endpoint id */
  async deliveryForSending(id: string): Promise<{ endpointId: string; body: string; status: DeliveryStatus } | null> {
    const res = await this.db.query({ sql: 'SELECT endpoint_id, body, status FROM atrium.webhook_deliveries WHERE id = $1', params: [id] })
    const row = res.rows[0]
    return row ? { endpointId: row.endpoint_id as string, body: row.body as string, status: row.status as DeliveryStatus } : null
  }

  /** records one attempt's outcome */
  async recordAttempt(id: string, a: { attempt: number; status: DeliveryStatus; responseStatus: number | null; error: string | null }): Promise<void> {
    await this.db.query({
      sql: `UPDATE atrium.webhook_deliveries SET status = $2, attempts = GREATEST(attempts, $3), response_status = $4, last_error = $5,
              updated_at = now(), delivered_at = CASE WHEN $2 = 'succeeded' THEN now() ELSE delivered_at END WHERE id = $1`,
      params: [id, a.status, a.attempt, a.responseStatus, a.error],
    })
  }

  /**
   * Disables the endpoint when no delivery to it has succeeded since delivery `failedId` was created: that
   * delivery was retried for about a day, so nothing has reached the endpoint for at least that long.
   * Returns the endpoint when this call disabled it.
   */
  async disableIfFailingSince(tx: Executor, endpointId: string, failedId: string): Promise<{ id: string; url: string; since: string } | null> {
    const res = await tx.query({
      sql: `WITH failed AS (SELECT created_at FROM atrium.webhook_deliveries WHERE id = $2 AND endpoint_id = $1 AND status = 'failed')
            UPDATE atrium.webhook_endpoints e SET enabled = false, updated_at = now() FROM failed
            WHERE e.id = $1 AND e.enabled AND NOT EXISTS (
              SELECT 1 FROM atrium.webhook_deliveries d WHERE d.endpoint_id = $1 AND d.status = 'succeeded' AND d.delivered_at >= failed.created_at)
            RETURNING e.id, e.url, failed.created_at AS since`,
      params: [endpointId, failedId],
    })
    const row = res.rows[0]
    return row ? { id: row.id as string, url: row.url as string, since: row.since as string } : null
  }

  /** a replay starts the delivery over: pending, no attempts (the same id, so receivers see the same webhook-id) */
  async resetDelivery(tx: Executor, id: string): Promise<void> {
    await tx.query({
      sql: `UPDATE atrium.webhook_deliveries SET status = 'pending', attempts = 0, response_status = NULL, last_error = NULL,
              delivered_at = NULL, updated_at = now() WHERE id = $1`,
      params: [id],
    })
  }

  /** newest first, `limit` per page (default 20, at most 100), paged by an opaque cursor */
  async listDeliveries(endpointId: string, opts: { limit?: number; cursor?: string }): Promise<DeliveryPage> {
    const limit = Math.min(Math.max(opts.limit ?? 20, 1), MAX_PAGE)
    const c = new ListConditions()
    c.add('endpoint_id = ?', endpointId)
    c.afterCursor(opts.cursor)
    const res = await this.db.query({
      sql: `SELECT ${DELIVERY_COLUMNS} FROM atrium.webhook_deliveries ${c.where} ORDER BY created_at DESC, id DESC LIMIT ${limit + 1}`,
      params: c.params,
    })
    const deliveries = res.rows.slice(0, limit).map(toDelivery)
    const last = deliveries[deliveries.length - 1]
    return { deliveries, next_cursor: res.rows.length > limit && last ? encodePageCursor(last) : null }
  }
}

function toEndpoint(row: Row): WebhookEndpoint {
  return {
    id: row.id as string,
    url: row.url as string,
    description: (row.description as string | null) ?? null,
    events: { clients: row.filter_clients as string[], tables: row.filter_tables as string[], types: row.filter_types as string[] },
    enabled: row.enabled as boolean,
    owner: (row.owner as string | null) ?? null,
    created_at: row.created_at as string,
    updated_at: row.updated_at as string,
  }
}

function toDelivery(row: Row): WebhookDelivery {
  return {
    id: row.id as string,
    endpoint_id: row.endpoint_id as string,
    event_id: row.event_id === null ? null : Number(row.event_id),
    event_type: row.event_type as string,
    status: row.status as DeliveryStatus,
    attempts: Number(row.attempts),
    response_status: row.response_status === null ? null : Number(row.response_status),
    last_error: (row.last_error as string | null) ?? null,
    job_id: (row.job_id as string | null) ?? null,
    created_at: row.created_at as string,
    updated_at: row.updated_at as string,
    delivered_at: (row.delivered_at as string | null) ?? null,
  }
}

