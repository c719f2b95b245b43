// The agent gateway: one message to one agent (route), or to every agent of a project — a few at a time, under
// one deadline (route-project). Each call passes the agent's rate limits first, and is logged and counted — agent, project,
// user, duration, outcome; never the message or the answer, which may carry secrets.
import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import type { RateLimits } from '../auth/rate-limits.js'
import type { Catalog } from '../catalog/catalog.js'
import type { Config } from '../config/schema.js'
import { AppError } from '../errors/app-error.js'
import type { Metrics } from '../observability/metrics.js'
import { isUuid } from '../tenancy/paging.js'
import { requireRole, type WorkspaceActor } from '../tenancy/roles.js'
import type { SealedHeaders } from './agent-auth.js'
import type { CallError } from './agent-protocol.js'
import { agentNotFound, type Agents, type Protocol } from './agents-service.js'

export interface AgentGatewayDeps {
  catalog: Catalog
  agents: Agents
  rateLimits: RateLimits
  metrics: Metrics
  logger: Logger
  settings: Config['agents']
}

export interface RouteAnswer {
  id: string
  result: unknown
  error: (CallError & { retry_after?: number }) | null
}

export interface FanOutEntry extends RouteAnswer {
  agent_id: string
  agent_name: string
  protocol: Protocol
  duration_ms: number
}

interface RoutableAgent {
  id: string
  name: string
  protocol: Protocol
  endpoint_url: string
  status: string
  per_second: number | null
  per_minute: number | null
  per_hour: number | null
  max_concurrency: number | null
  /** sealed; opened only by the call's fetch */
  auth_headers: SealedHeaders | null
}

const ROUTABLE = `a.id, a.name, a.protocol, a.endpoint_url, a.auth_headers, a.status, rl.per_second, rl.per_minute, rl.per_hour, rl.max_concurrency
  FROM atrium.ws_agents a LEFT JOIN atrium.ws_agent_rate_limits rl ON rl.agent_id = a.id`

export class AgentGateway {
  constructor(private readonly deps: AgentGatewayDeps) {}

  /**
   * One message to one agent. With a project, the agent must be assigned to it (else 404, as for an unknown
   * agent). Rate limits and an inactive agent refuse the request (429, 409); what the agent answers — or its
   * failure to answer — is the 200 answer's `result` and `error`.
   */
  async route(actor: WorkspaceActor, input: { agent_id: string; message: Record<string, unknown>; project_id?: string | null }): Promise<RouteAnswer> {
    requireRole(actor, 'agents.route')
    const projectId = input.project_id ?? null
    if (projectId) await this.deps.agents.project(actor.tenantId, projectId, ['body', 'project_id'])
    const [agent] = isUuid(input.agent_id) ? await this.deps.catalog.rows<RoutableAgent>(
      projectId
        ? `SELECT ${ROUTABLE} JOIN atrium.ws_project_agents pa ON pa.agent_id = a.id AND pa.project_id = $3 AND pa.archived_at IS NULL
            WHERE a.tenant_id = $1 AND a.id = $2 AND a.archived_at IS NULL`
        : `SELECT ${ROUTABLE} WHERE a.tenant_id = $1 AND a.id = $2 AND a.archived_at IS NULL`,
      projectId ? [actor.tenantId, input.agent_id, projectId] : [actor.tenantId, input.agent_id],
    ) : []
    if (!agent) throw projectId ? new AppError('agent_not_found', `agent ${input.agent_id} is not assigned to project ${projectId}`, { hint: 'GET /api/v1/projects/{project_id}/agents lists the project\'s agents' }) : agentNotFound(input.agent_id)
    if (agent.status !== 'active') throw new AppError('agent_inactive', `agent ${agent.id} is inactive`, { hint: 'an Org admin can set its status to "active" with PUT /api/v1/agents/{agent_id}' })
    this.deps.agents.protocols[agent.protocol].check(input.message)
    return this.call(actor, agent, projectId, input.message, this.deps.settings.callTimeoutMs)
  }

  /**
   * The message to every active agent of the project, at most agents.fanOutConcurrency calls at a time. Every
   * agent gets an entry, in the project's order: its answer, its error, a rate-limit refusal or — past
   * agents.fanOutDeadlineMs, counted from the start of the whole fan-out — a timeout; an agent whose turn
   * comes after the deadline is not called at all. One slow agent delays nobody past the deadline.
   */
  async routeProject(actor: WorkspaceActor, input: { project_id: string; message: Record<string, unknown> }): Promise<FanOutEntry[]> {
    requireRole(actor, 'agents.route')
    await this.deps.agents.project(actor.tenantId, input.project_id, ['body', 'project_id'])
    const agents = await this.deps.catalog.rows<RoutableAgent>(
      `SELECT ${ROUTABLE} JOIN atrium.ws_project_agents pa ON pa.agent_id = a.id AND pa.project_id = $2 AND pa.archived_at IS NULL
        WHERE a.tenant_id = $1 AND a.archived_at IS NULL AND a.status = 'active' ORDER BY pa.created_at, a.id`,
      [actor.tenantId, input.project_id],
    )
    const deadlineAt = performance.now() + this.deps.settings.fanOutDeadlineMs
    const entries: FanOutEntry[] = new Array(agents.length)
    // a few workers take the next agent in turn: each index is taken once, so the loops end after agents.length turns
    let next = 0
    const worker = async () => {
      while (next < agents.length) {
        const i = next++
        entries[i] = await this.fanOutEntry(actor, agents[i]!, input, deadlineAt)
      }
    }
    await Promise.all(Array.from({ length: Math.min(this.deps.settings.fanOutConcurrency, agents.length) }, worker))
    return entries
  }

  private async fanOutEntry(actor: WorkspaceActor, agent: RoutableAgent, input: { project_id: string; message: Record<string, unknown> }, deadlineAt: number): Promise<FanOutEntry> {
    const started = performance.now()
    // what is left of the fan-out's deadline; an agent reached after it gets its timeout without a call
    const remaining = Math.ceil(deadlineAt - started)
    let answer: RouteAnswer
    if (remaining <= 0) {
      answer = { id: randomUUID(), result: null, error: { code: 'timeout', message: 'the fan-out deadline passed before this agent\'s turn (agents.fanOutConcurrency calls run at a time)' } }
    } else {
      try {
        this.deps.agents.protocols[agent.protocol].check(input.message)
        answer = await this.call(actor, agent, input.project_id, input.message, remaining)
      } catch (err) {
        // a refusal of this one agent (its rate limit, a message its protocol cannot carry) is its entry
        if (!(err instanceof AppError)) throw err
        answer = { id: randomUUID(), result: null, error: { code: err.code, message: err.message, ...(err.extra.retryAfter ? { retry_after: err.extra.retryAfter } : {}) } }
      }
    }
    return { agent_id: agent.id, agent_name: agent.name, protocol: agent.protocol, duration_ms: Math.round(performance.now() - started), ...answer }
  }

  private async call(actor: WorkspaceActor, agent: RoutableAgent, projectId: string | null, message: Record<string, unknown>, timeoutMs: number): Promise<RouteAnswer> {
    const id = randomUUID()
    const started = performance.now()
    const log = (outcome: string, error: string | null) => {
      const seconds = (performance.now() - started) / 1000
      this.deps.metrics.agentCalls.inc({ protocol: agent.protocol, outcome })
      if (outcome !== 'rate_limited') this.deps.metrics.agentCallSeconds.observe({ protocol: agent.protocol }, seconds)
      this.deps.logger.info({
        call_id: id, agent_id: agent.id, project_id: projectId, tenant_id: actor.tenantId,
        user: actor.kind === 'user' ? actor.userId : 'platform-admin', protocol: agent.protocol,
        duration_ms: Math.round(seconds * 1000), outcome, error,
      }, 'agent call')
    }
    const s = this.deps.settings
    let release: () => void
    try {
      await this.deps.rateLimits.checkAgent(agent.id, { perSecond: agent.per_second ?? s.defaultPerSecond, perMinute: agent.per_minute ?? s.defaultPerMinute, perHour: agent.per_hour ?? s.defaultPerHour })
      // one hold for every call (routed or fanned out): the slots of one agent live in one counter
      const holdSeconds = Math.ceil(Math.max(s.callTimeoutMs, s.fanOutDeadlineMs) / 1000) + 5
      release = await this.deps.rateLimits.acquireAgentSlot(agent.id, agent.max_concurrency ?? s.defaultConcurrency, holdSeconds)
    } catch (err) {
      if (err instanceof AppError && err.code === 'rate_limited') log('rate_limited', null)
      throw err
    }
    try {
      const target = this.deps.agents.target(agent, timeoutMs)
      // the deadline holds even if an SDK ignores the signal somewhere: the answer does not wait past it
      const { result, error } = await Promise.race([this.deps.agents.protocols[agent.protocol].send(target, message), timedOut(target.signal)])
      log(error ? (error.code === 'timeout' ? 'timeout' : 'error') : 'ok', error?.code ?? null)
      return { id, result, error }
    } finally {
      release()
    }
  }
}

/** settles with a timeout answer when the signal aborts */
function timedOut(signal: AbortSignal): Promise<{ result: null; error: CallError }> {
  return new Promise((resolve) => {
    const answer = () => resolve({ result: null, error: { code: 'timeout', message: 'the agent did not answer in time' } })
    if (signal.aborted) answer()
    else signal.addEventListener('abort', answer, { once: true })
  })
}
