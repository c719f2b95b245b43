// A Databases API team's own webhook endpoints, on the one webhooks engine (webhooks-service.ts): an endpoint
// owned by "team:<id>" receives only the Databases API events of that team, signed and retried like every
// Atrium webhook. The Polykomos protocol names endpoints and deliveries by integers (their `number`); an
// endpoint of a team the caller is not in is as absent as one that never existed. Revoking keeps the record.
import type { Catalog } from '../catalog/catalog.js'
import { AppError } from '../errors/app-error.js'
import type { Row } from '../sources/driver.js'
import type { WebhookDelivery, Webhooks } from './webhooks-service.js'

/** the events a team endpoint can subscribe to (all of them when it names none) */
export const TEAM_EVENT_TYPES = ['database.provisioned', 'database.deleted', 'database.paused', 'database.resumed', 'database.quota_warning', 'blueprint.applied'] as const

export interface TeamEndpoint {
  number: number
  id: string
  owner: string
  url: string
  events: string[]
  revoked_at: string | null
  last_success_at: string | null
  last_failure_at: string | null
  created_at: string
}

export interface TeamDelivery {
  number: number
  endpoint_number: number
  event_type: string
  status: 'pending' | 'retrying' | 'succeeded' | 'failed'
  response_status: number | null
  last_error: string | null
  attempts: number
  created_at: string
}

const ENDPOINT = `SELECT e.number, e.id, e.owner, e.url, e.filter_types AS events, e.revoked_at, e.created_at,
    (SELECT max(d.delivered_at) FROM atrium.webhook_deliveries d WHERE d.endpoint_id = e.id AND d.status = 'succeeded') AS last_success_at,
    (SELECT max(d.updated_at) FROM atrium.webhook_deliveries d WHERE d.endpoint_id = e.id AND d.status IN ('retrying', 'failed')) AS last_failure_at
  FROM atrium.webhook_endpoints e`

const DELIVERY = `SELECT d.number, e.number AS endpoint_number, d.event_type, d.status, d.response_status, d.last_error, d.attempts, d.created_at
  FROM atrium.webhook_deliveries d JOIN atrium.webhook_endpoints e ON e.id = d.endpoint_id`

const toEndpoint = (row: Row): TeamEndpoint => ({ ...(row as unknown as TeamEndpoint), number: Number(row.number) })
const toDelivery = (row: Row): TeamDelivery => ({ ...(row as unknown as TeamDelivery), number: Number(row.number), endpoint_number: Number(row.endpoint_number), attempts: Number(row.attempts) })
const notFound = (n: number): never => {
  throw new AppError('webhook_not_found', `no webhook endpoint ${n}`, { hint: "GET /api/v1/webhook_endpoints lists your teams' endpoints" })
}

export class TeamWebhookEndpoints {
  constructor(private readonly deps: { catalog: Catalog; webhooks: Webhooks }) {}

  /** a new endpoint of the team; its signing secret is in this answer only */
  async create(teamId: number, input: { url: string; events?: string[] }): Promise<{ endpoint: TeamEndpoint; secret: string }> {
    const unknown = (input.events ?? []).find((e) => !(TEAM_EVENT_TYPES as readonly string[]).includes(e))
    if (unknown) throw new AppError('validation_failed', `events: "${unknown}" is not an event of this API (${TEAM_EVENT_TYPES.join(', ')})`, { data: { field: 'events' } })
    const types = input.events?.length ? input.events : [...TEAM_EVENT_TYPES]
    const { webhook, secret } = await this.deps.webhooks.create({ url: input.url, events: { types }, owner: `team:${teamId}` })
    return { endpoint: (await this.byId(webhook.id))!, secret }
  }

  /** the teams' endpoints, newest first, after the endpoint numbered `startingAfter` */
  async list(teamIds: readonly number[], limit: number, startingAfter?: number): Promise<{ data: TeamEndpoint[]; hasMore: boolean }> {
    const params: unknown[] = [owners(teamIds), limit + 1]
    if (startingAfter !== undefined) params.push(startingAfter)
    const rows = await this.deps.catalog.rows(`${ENDPOINT} WHERE e.owner = ANY($1::text[]) ${startingAfter !== undefined ? 'AND e.number < $3' : ''} ORDER BY e.number DESC LIMIT $2`, params)
    return { data: rows.slice(0, limit).map(toEndpoint), hasMore: rows.length > limit }
  }

  async get(teamIds: readonly number[], n: number): Promise<TeamEndpoint> {
    const rows = await this.deps.catalog.rows(`${ENDPOINT} WHERE e.number = $1 AND e.owner = ANY($2::text[])`, [n, owners(teamIds)])
    return rows[0] ? toEndpoint(rows[0]) : notFound(n)
  }

  /** disables the endpoint for good (nothing more is delivered to it); revoking twice is the same as once */
  async revoke(teamIds: readonly number[], n: number): Promise<TeamEndpoint> {
    const endpoint = await this.get(teamIds, n)
    await this.deps.catalog.query({
      sql: 'UPDATE atrium.webhook_endpoints SET enabled = false, revoked_at = coalesce(revoked_at, now()), updated_at = now() WHERE id = $1',
      params: [endpoint.id],
    })
    return (await this.byId(endpoint.id))!
  }

  async deliveries(teamIds: readonly number[], n: number, limit: number, startingAfter?: number): Promise<{ data: TeamDelivery[]; hasMore: boolean }> {
    const endpoint = await this.get(teamIds, n)
    const params: unknown[] = [endpoint.id, limit + 1]
    if (startingAfter !== undefined) params.push(startingAfter)
    const rows = await this.deps.catalog.rows(`${DELIVERY} WHERE d.endpoint_id = $1 ${startingAfter !== undefined ? 'AND d.number < $3' : ''} ORDER BY d.number DESC LIMIT $2`, params)
    return { data: rows.slice(0, limit).map(toDelivery), hasMore: rows.length > limit }
  }

  async delivery(teamIds: readonly number[], n: number, deliveryNumber: number): Promise<TeamDelivery> {
    const endpoint = await this.get(teamIds, n)
    const rows = await this.deps.catalog.rows(`${DELIVERY} WHERE d.endpoint_id = $1 AND d.number = $2`, [endpoint.id, deliveryNumber])
    if (!rows[0]) throw new AppError('webhook_delivery_not_found', `webhook endpoint ${n} has no delivery ${deliveryNumber}`)
    return toDelivery(rows[0])
  }

  /** a signed webhook.test delivery to this endpoint alone */
  async sendTest(teamIds: readonly number[], n: number): Promise<TeamDelivery> {
    const endpoint = await this.get(teamIds, n)
    if (endpoint.revoked_at) throw new AppError('validation_failed', `webhook endpoint ${n} is revoked; create a new one`, { data: { field: 'id' } })
    const delivery: WebhookDelivery = await this.deps.webhooks.sendTest(endpoint.id)
    return toDelivery((await this.deps.catalog.rows(`${DELIVERY} WHERE d.id = $1`, [delivery.id]))[0]!)
  }

  private async byId(id: string): Promise<TeamEndpoint | undefined> {
    const rows = await this.deps.catalog.rows(`${ENDPOINT} WHERE e.id = $1`, [id])
    return rows[0] ? toEndpoint(rows[0]) : undefined
  }
}

const owners = (teamIds: readonly number[]) => teamIds.map((id) => `team:${id}`)
