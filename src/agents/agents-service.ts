// Workspace agents (atrium.ws_agents, ws_agent_rate_limits, ws_project_agents): registration, the test
// handshake, their tools, their rate limits and their project assignments. Framework-free; every read and
// write is scoped to the actor's tenant, so another tenant's agent is not found (404), never forbidden.
import type { Catalog } from '../catalog/catalog.js'
import type { Config } from '../config/schema.js'
import { AppError } from '../errors/app-error.js'
import { isUuid, type Window } from '../tenancy/paging.js'
import { requireRole, type WorkspaceActor } from '../tenancy/roles.js'
import { createA2aAgent } from './a2a-agent.js'
import { checkAuthHeaders, headerNames, sealHeaders, withAuthHeaders, type SealedHeaders } from './agent-auth.js'
import { callError, type AgentProtocol, type AgentTool, type CallTarget } from './agent-protocol.js'
import { assertAgentUrlAllowed, parseAgentUrl } from './agent-url.js'
import { guardedFetch } from './guarded-fetch.js'
import { mcpAgent } from './mcp-agent.js'

export type Protocol = 'MCP' | 'A2A'

export interface Agent {
  id: string
  tenant_id: string
  name: string
  description: string | null
  protocol: Protocol
  endpoint_url: string
  capabilities: Record<string, unknown> | null
  agent_metadata: Record<string, unknown> | null
  status: 'active' | 'inactive'
  created_at: Date
  archived_at: Date | null
  /** the names of the headers sent to the agent (an Atrium extension); their values are never shown */
  auth_headers: string[] | null
}

/** an agent as stored: its auth headers' values sealed */
export type AgentRow = Omit<Agent, 'auth_headers'> & { auth_headers: SealedHeaders | null }

export interface AgentInput {
  name: string
  description?: string | null
  protocol: Protocol
  endpoint_url: string
  capabilities?: Record<string, unknown> | null
  agent_metadata?: Record<string, unknown> | null
  project_id: string
  role?: string | null
  /** header name → value; checked by checkAuthHeaders */
  auth_headers?: unknown
}

export type AgentUpdate = Partial<Record<'name' | 'protocol' | 'endpoint_url' | 'status', string | null>> & {
  description?: string | null
  capabilities?: Record<string, unknown> | null
  agent_metadata?: Record<string, unknown> | null
  /** left out: kept; null: removed; an object: replaces them all */
  auth_headers?: unknown
}

export interface RateLimit {
  perSecond: number
  perMinute: number
  perHour: number
  /** left out: the agent's current one (or the default) stays */
  concurrency?: number
}

export interface Assignment {
  project_id: string
  agent_id: string
  role: string | null
  created_at: Date
  archived_at: Date | null
}

export interface AgentsDeps {
  catalog: Catalog
  settings: Config['agents']
  /** seals the agents' auth headers (the secret box key) */
  secretKey: Buffer
}

const AGENT_COLUMNS = 'id, tenant_id, name, description, protocol, endpoint_url, capabilities, agent_metadata, status, created_at, archived_at, auth_headers'
/** the most agents whose tools one process keeps in memory */
const TOOLS_CACHE_ENTRIES = 10_000

export class Agents {
  private readonly toolsCache = new Map<string, { expires: number; tools: AgentTool[]; fetched_at: Date }>()
  /** each protocol's client; A2A keeps agent cards for the tools TTL */
  readonly protocols: Record<Protocol, AgentProtocol>

  constructor(private readonly deps: AgentsDeps) {
    this.protocols = { MCP: mcpAgent, A2A: createA2aAgent(deps.settings.toolsCacheTtlSeconds * 1000) }
  }

  // ---- registration ----

  async createAgent(actor: WorkspaceActor, input: AgentInput): Promise<Agent> {
    requireRole(actor, 'agents.write')
    const authHeaders = sealHeaders(this.deps.secretKey, checkAuthHeaders(input.auth_headers ?? null))
    await this.checkUrl(input.endpoint_url)
    await this.project(actor.tenantId, input.project_id, ['body', 'project_id'])
    // the agent and its first assignment together: an agent never exists without a project
    return this.deps.catalog.transaction(async (tx) => {
      const agent = (await tx.query({
        sql: `INSERT INTO atrium.ws_agents (tenant_id, name, description, protocol, endpoint_url, capabilities, agent_metadata, auth_headers)
              VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8::jsonb) RETURNING ${AGENT_COLUMNS}`,
        params: [actor.tenantId, input.name, input.description ?? null, input.protocol, input.endpoint_url, json(input.capabilities), json(input.agent_metadata), json(authHeaders)],
      })).rows[0] as unknown as AgentRow
      await tx.query({
        sql: 'INSERT INTO atrium.ws_project_agents (tenant_id, project_id, agent_id, role) VALUES ($1, $2, $3, $4)',
        params: [actor.tenantId, input.project_id, agent.id, input.role ?? null],
      })
      return shown(agent)
    })
  }

  async listAgents(actor: WorkspaceActor, w: Window): Promise<Agent[]> {
    requireRole(actor, 'agents.read')
    return (await this.deps.catalog.rows<AgentRow>(
      `SELECT ${AGENT_COLUMNS} FROM atrium.ws_agents WHERE tenant_id = $1 AND archived_at IS NULL ORDER BY created_at, id OFFSET $2 LIMIT $3`,
      [actor.tenantId, w.skip, w.limit],
    )).map(shown)
  }

  async getAgent(actor: WorkspaceActor, id: string): Promise<Agent> {
    requireRole(actor, 'agents.read')
    return shown(await this.agent(actor.tenantId, id))
  }

  async updateAgent(actor: WorkspaceActor, id: string, input: AgentUpdate): Promise<Agent> {
    requireRole(actor, 'agents.write')
    const has = (k: keyof AgentUpdate) => Object.prototype.hasOwnProperty.call(input, k)
    await this.agent(actor.tenantId, id)
    const authHeaders = has('auth_headers') ? sealHeaders(this.deps.secretKey, checkAuthHeaders(input.auth_headers)) : null
    if (input.endpoint_url) await this.checkUrl(input.endpoint_url)
    const [row] = await this.deps.catalog.rows<AgentRow>(
      `UPDATE atrium.ws_agents SET name = coalesce($3, name), protocol = coalesce($4, protocol), endpoint_url = coalesce($5, endpoint_url),
              status = coalesce($6, status),
              description = CASE WHEN $7 THEN $8 ELSE description END,
              capabilities = CASE WHEN $9 THEN $10::jsonb ELSE capabilities END,
              agent_metadata = CASE WHEN $11 THEN $12::jsonb ELSE agent_metadata END,
              auth_headers = CASE WHEN $13 THEN $14::jsonb ELSE auth_headers END
        WHERE tenant_id = $1 AND id = $2 AND archived_at IS NULL RETURNING ${AGENT_COLUMNS}`,
      [actor.tenantId, id, input.name ?? null, input.protocol ?? null, input.endpoint_url ?? null, input.status ?? null,
        has('description'), input.description ?? null, has('capabilities'), json(input.capabilities), has('agent_metadata'), json(input.agent_metadata),
        has('auth_headers'), json(authHeaders)],
    )
    if (!row) throw agentNotFound(id)
    return shown(row)
  }

  /** soft delete: the agent and its assignments leave every list, and nothing routes to it any more */
  async archiveAgent(actor: WorkspaceActor, id: string): Promise<void> {
    requireRole(actor, 'agents.write')
    await this.agent(actor.tenantId, id)
    await this.deps.catalog.transaction(async (tx) => {
      await tx.query({ sql: 'UPDATE atrium.ws_agents SET archived_at = now() WHERE tenant_id = $1 AND id = $2 AND archived_at IS NULL', params: [actor.tenantId, id] })
      await tx.query({ sql: 'UPDATE atrium.ws_project_agents SET archived_at = now() WHERE agent_id = $1 AND archived_at IS NULL', params: [id] })
    })
  }

  // ---- the agent itself ----

  /** a real handshake; a failure is reported in the answer (ok: false), it is not an error of this request */
  async testAgent(actor: WorkspaceActor, id: string): Promise<Record<string, unknown>> {
    requireRole(actor, 'agents.write')
    const agent = await this.agent(actor.tenantId, id)
    const started = performance.now()
    const target = this.target(agent)
    try {
      const shake = await this.protocols[agent.protocol].handshake(target)
      this.remember(agent, shake.tools)
      return {
        agent_id: agent.id, protocol: agent.protocol, ok: true, latency_ms: elapsed(started),
        protocol_version: shake.protocol_version, agent: shake.agent, tools_count: shake.tools.length,
        ...(shake.ping !== undefined ? { ping: shake.ping } : {}), error: null,
      }
    } catch (err) {
      return { agent_id: agent.id, protocol: agent.protocol, ok: false, latency_ms: elapsed(started), protocol_version: null, agent: null, tools_count: null, error: callError(err, target.signal) }
    }
  }

  /** MCP tools or A2A skills, from memory for agents.toolsCacheTtlSeconds */
  async tools(actor: WorkspaceActor, id: string): Promise<{ agent_id: string; protocol: Protocol; tools: AgentTool[]; fetched_at: Date; cached: boolean }> {
    requireRole(actor, 'agents.read')
    const agent = await this.agent(actor.tenantId, id)
    const hit = this.toolsCache.get(cacheKey(agent))
    if (hit && hit.expires > Date.now()) return { agent_id: agent.id, protocol: agent.protocol, tools: hit.tools, fetched_at: hit.fetched_at, cached: true }
    const target = this.target(agent)
    let tools: AgentTool[]
    try {
      tools = await this.protocols[agent.protocol].tools(target)
    } catch (err) {
      const e = callError(err, target.signal)
      throw new AppError('agent_unreachable', `the agent's tools could not be listed: ${e.code}: ${e.message}`, { hint: 'POST /api/v1/agents/{agent_id}/test shows the handshake in detail' })
    }
    const fetched = this.remember(agent, tools)
    return { agent_id: agent.id, protocol: agent.protocol, tools, fetched_at: fetched, cached: false }
  }

  // ---- rate limits ----

  async getRateLimit(actor: WorkspaceActor, id: string): Promise<Record<string, unknown>> {
    requireRole(actor, 'agents.read')
    await this.agent(actor.tenantId, id)
    return this.rateLimitOf(id)
  }

  async setRateLimit(actor: WorkspaceActor, id: string, limit: RateLimit): Promise<Record<string, unknown>> {
    requireRole(actor, 'agents.write')
    await this.agent(actor.tenantId, id)
    await this.deps.catalog.rows(
      `INSERT INTO atrium.ws_agent_rate_limits (agent_id, per_second, per_minute, per_hour, max_concurrency) VALUES ($1, $2, $3, $4, coalesce($5::int, $6::int))
       ON CONFLICT (agent_id) DO UPDATE SET per_second = $2, per_minute = $3, per_hour = $4,
         max_concurrency = coalesce($5::int, atrium.ws_agent_rate_limits.max_concurrency), updated_at = now()`,
      [id, limit.perSecond, limit.perMinute, limit.perHour, limit.concurrency ?? null, this.deps.settings.defaultConcurrency],
    )
    return this.rateLimitOf(id)
  }

  /** the agent's own limits, or the configured defaults */
  private async rateLimitOf(agentId: string): Promise<Record<string, unknown>> {
    const [row] = await this.deps.catalog.rows<{ id: string; per_second: number; per_minute: number; per_hour: number; max_concurrency: number }>(
      'SELECT id, per_second, per_minute, per_hour, max_concurrency FROM atrium.ws_agent_rate_limits WHERE agent_id = $1', [agentId])
    const s = this.deps.settings
    const limit = row ? { perSecond: row.per_second, perMinute: row.per_minute, perHour: row.per_hour, concurrency: row.max_concurrency }
      : { perSecond: s.defaultPerSecond, perMinute: s.defaultPerMinute, perHour: s.defaultPerHour, concurrency: s.defaultConcurrency }
    // the DataCovey shape sends the three rates as decimal strings
    return {
      id: row?.id ?? null, agent_id: agentId,
      max_requests_per_second: String(limit.perSecond), max_requests_per_minute: String(limit.perMinute), max_requests_per_hour: String(limit.perHour),
      max_concurrency: limit.concurrency, is_default: !row,
    }
  }

  // ---- project assignments ----

  async assign(actor: WorkspaceActor, projectId: string, agentId: string, role: string | null): Promise<Assignment> {
    requireRole(actor, 'agents.write')
    await this.project(actor.tenantId, projectId)
    await this.agent(actor.tenantId, agentId, ['body', 'agent_id'])
    const [row] = await this.deps.catalog.rows<Assignment>(
      `INSERT INTO atrium.ws_project_agents (tenant_id, project_id, agent_id, role) VALUES ($1, $2, $3, $4)
       RETURNING project_id, agent_id, role, created_at, archived_at`,
      [actor.tenantId, projectId, agentId, role],
    ).catch((err: unknown) => {
      if (err instanceof AppError && err.code === 'unique_violation') throw new AppError('agent_already_assigned', `agent ${agentId} is already assigned to project ${projectId}`)
      throw err
    })
    return row!
  }

  async listProjectAgents(actor: WorkspaceActor, projectId: string, w: Window): Promise<Array<Agent & { project_role: string | null; assigned_at: Date }>> {
    requireRole(actor, 'agents.read')
    await this.project(actor.tenantId, projectId)
    const rows = await this.deps.catalog.rows<AgentRow & { project_role: string | null; assigned_at: Date }>(
      `SELECT ${AGENT_COLUMNS.split(', ').map((c) => `a.${c}`).join(', ')}, pa.role AS project_role, pa.created_at AS assigned_at
         FROM atrium.ws_project_agents pa JOIN atrium.ws_agents a ON a.id = pa.agent_id AND a.archived_at IS NULL
        WHERE pa.tenant_id = $1 AND pa.project_id = $2 AND pa.archived_at IS NULL ORDER BY pa.created_at, a.id OFFSET $3 LIMIT $4`,
      [actor.tenantId, projectId, w.skip, w.limit],
    )
    return rows.map((r) => ({ ...shown(r), project_role: r.project_role, assigned_at: r.assigned_at }))
  }

  async unassign(actor: WorkspaceActor, projectId: string, agentId: string): Promise<void> {
    requireRole(actor, 'agents.write')
    await this.project(actor.tenantId, projectId)
    await this.agent(actor.tenantId, agentId)
    await this.deps.catalog.transaction(async (tx) => {
      // the agent's live assignments, locked: two removals at once cannot leave it with none
      const live = (await tx.query({
        sql: 'SELECT project_id FROM atrium.ws_project_agents WHERE agent_id = $1 AND archived_at IS NULL FOR UPDATE',
        params: [agentId],
      })).rows as Array<{ project_id: string }>
      if (!live.some((r) => r.project_id === projectId)) throw new AppError('agent_not_found', `agent ${agentId} is not assigned to project ${projectId}`)
      if (live.length === 1) {
        throw new AppError('agent_last_project', 'this is the agent\'s only project; an agent always has one', { hint: 'assign it to another project first, or delete the agent' })
      }
      await tx.query({ sql: 'UPDATE atrium.ws_project_agents SET archived_at = now() WHERE agent_id = $1 AND project_id = $2 AND archived_at IS NULL', params: [agentId, projectId] })
    })
  }

  // ---- shared with the gateway ----

  /** how a call reaches the agent: its URL, the guarded fetch carrying its auth headers, and a deadline */
  target(agent: Pick<AgentRow, 'id' | 'protocol' | 'endpoint_url' | 'auth_headers'>, timeoutMs = this.deps.settings.callTimeoutMs, signal?: AbortSignal): CallTarget {
    const deadline = AbortSignal.timeout(timeoutMs)
    const url = new URL(agent.endpoint_url)
    const fetch = withAuthHeaders(guardedFetch(this.deps.settings.allowPrivate), url, this.deps.secretKey, agent.auth_headers)
    return { url, cacheKey: cacheKey(agent), fetch, signal: signal ? AbortSignal.any([deadline, signal]) : deadline, timeoutMs }
  }

  async project(tenantId: string, id: string, loc?: string[]): Promise<void> {
    const [row] = isUuid(id) ? await this.deps.catalog.rows('SELECT 1 FROM atrium.ws_projects WHERE tenant_id = $1 AND id = $2 AND archived_at IS NULL', [tenantId, id]) : []
    if (!row) throw new AppError('project_not_found', `no project ${id} in your tenant`, loc ? { data: { loc } } : {})
  }

  private async agent(tenantId: string, id: string, loc?: string[]): Promise<AgentRow> {
    const [row] = isUuid(id) ? await this.deps.catalog.rows<AgentRow>(`SELECT ${AGENT_COLUMNS} FROM atrium.ws_agents WHERE tenant_id = $1 AND id = $2 AND archived_at IS NULL`, [tenantId, id]) : []
    if (!row) throw agentNotFound(id, loc)
    return row
  }

  private async checkUrl(raw: string): Promise<void> {
    await assertAgentUrlAllowed(parseAgentUrl(raw), this.deps.settings.allowPrivate)
  }

  private remember(agent: AgentRow, tools: AgentTool[]): Date {
    const fetched = new Date()
    if (this.deps.settings.toolsCacheTtlSeconds === 0) return fetched
    if (this.toolsCache.size >= TOOLS_CACHE_ENTRIES) this.toolsCache.delete(this.toolsCache.keys().next().value!)
    this.toolsCache.set(cacheKey(agent), { expires: Date.now() + this.deps.settings.toolsCacheTtlSeconds * 1000, tools, fetched_at: fetched })
    return fetched
  }
}

/**
 * What a cached tools list or A2A card belongs to: one agent as it is now. A changed endpoint, protocol or set of
 * auth headers is another entry, so an update never serves the old agent's tools, and two agents on one URL with
 * different credentials never share a card (the sealed values change with every update that sets them; only
 * ciphertext is in the key).
 */
const cacheKey = (a: Pick<AgentRow, 'id' | 'protocol' | 'endpoint_url' | 'auth_headers'>) => `${a.id}|${a.protocol}|${a.endpoint_url}|${a.auth_headers ? JSON.stringify(a.auth_headers) : ''}`

/** an agent as answers show it: the auth headers' names, never their values */
const shown = (row: AgentRow): Agent => ({ ...row, auth_headers: headerNames(row.auth_headers) })

const json = (v: unknown) => (v === undefined || v === null ? null : JSON.stringify(v))

const elapsed = (started: number) => Math.round((performance.now() - started) * 10) / 10

export const agentNotFound = (id: string, loc?: string[]) => new AppError('agent_not_found', `no agent ${id} in your tenant`, loc ? { data: { loc } } : {})
