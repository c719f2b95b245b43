// A2A agents with the official SDK's client: the agent card (at the endpoint's /.well-known/agent-card.json),
// then message/send (SendMessage in A2A 1.0) over the transport the card offers. v0.3 agents are understood
// too (the SDK's compatibility layer). Results are turned into plain JSON: kind, ids, role, parts.
import { randomUUID } from 'node:crypto'
import { Role, taskStateToJSON, type Part } from '@a2a-js/sdk'
import { ClientFactory, ClientFactoryOptions, DefaultAgentCardResolver, JsonRpcTransportFactory, RestTransportFactory } from '@a2a-js/sdk/client'
import { AppError } from '../errors/app-error.js'
import { callError, type AgentProtocol, type AgentTool, type CallTarget } from './agent-protocol.js'

type Card = Awaited<ReturnType<DefaultAgentCardResolver['resolve']>>

/** every request of one operation carries its deadline */
function boundFetch(target: CallTarget): typeof fetch {
  return ((input: string | URL | Request, init?: RequestInit) => target.fetch(input instanceof Request ? input.url : input, { ...init, signal: target.signal })) as typeof fetch
}

const compat = { enabled: true }

async function card(target: CallTarget): Promise<Card> {
  return new DefaultAgentCardResolver({ fetchImpl: boundFetch(target), legacyCompat: compat }).resolve(target.url.href)
}

/** the most agent cards one process keeps */
const CARD_CACHE_ENTRIES = 10_000

function skills(c: Card): AgentTool[] {
  return (c.skills ?? []).map((s) => ({
    id: s.id, name: s.name, description: s.description || null, input_schema: null,
    tags: s.tags ?? [], examples: s.examples ?? [], input_modes: s.inputModes ?? [], output_modes: s.outputModes ?? [],
  }))
}

async function sendMessage(target: CallTarget, c: Card, message: Record<string, unknown>): Promise<unknown> {
  const fetchImpl = boundFetch(target)
  const factory = new ClientFactory(ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
    transports: [new JsonRpcTransportFactory({ fetchImpl, legacyCompat: compat }), new RestTransportFactory({ fetchImpl, legacyCompat: compat })],
  }))
  const client = await factory.createFromAgentCard(c)
  const answer = await client.sendMessage({
    tenant: '',
    message: {
      messageId: randomUUID(),
      contextId: typeof message.context_id === 'string' ? message.context_id : '',
      taskId: typeof message.task_id === 'string' ? message.task_id : '',
      role: Role.ROLE_USER,
      parts: partsOf(message),
      metadata: isObject(message.metadata) ? message.metadata : undefined,
      extensions: [],
      referenceTaskIds: [],
    },
    configuration: undefined,
    metadata: undefined,
  }, { signal: target.signal })
  return plain(answer)
}

/**
 * The A2A protocol. A routed message reuses the agent's card for `cardTtlMs` (the tools cache TTL), so a
 * call is one round trip, not two; a handshake and a tools listing always read the card afresh (and refresh it).
 */
export function createA2aAgent(cardTtlMs: number): AgentProtocol {
  const cards = new Map<string, { card: Card; expires: number }>()
  const fresh = async (target: CallTarget): Promise<Card> => {
    const c = await card(target)
    if (cardTtlMs > 0) {
      if (cards.size >= CARD_CACHE_ENTRIES) cards.delete(cards.keys().next().value!)
      cards.set(target.cacheKey, { card: c, expires: Date.now() + cardTtlMs })
    }
    return c
  }
  const cached = async (target: CallTarget): Promise<Card> => {
    const hit = cards.get(target.cacheKey)
    return hit && hit.expires > Date.now() ? hit.card : fresh(target)
  }
  return {
    async handshake(target) {
      const c = await fresh(target)
      const ping = await sendMessage(target, c, { text: 'ping' })
      return {
        protocol_version: c.supportedInterfaces?.[0]?.protocolVersion || null,
        agent: { name: c.name, version: c.version || null },
        tools: skills(c),
        ping,
      }
    },

    async tools(target) {
      return skills(await fresh(target))
    },

    check(message) {
      if (message.parts !== undefined && (!Array.isArray(message.parts) || message.parts.length === 0 || !message.parts.every(isPart))) {
        throw new AppError('agent_message_invalid', 'message.parts must be a non-empty list of {"text": "..."}, {"data": {...}} or {"url": "..."}', { data: { loc: ['body', 'message', 'parts'] } })
      }
      if (message.text !== undefined && typeof message.text !== 'string') {
        throw new AppError('agent_message_invalid', 'message.text must be a string', { data: { loc: ['body', 'message', 'text'] } })
      }
    },

    async send(target, message) {
      try {
        return { result: await sendMessage(target, await cached(target), message), error: null }
      } catch (err) {
        // a stale card (the agent moved its interface) is dropped: the next call reads it again
        cards.delete(target.cacheKey)
        return { result: null, error: callError(err, target.signal) }
      }
    },
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

const isPart = (p: unknown): boolean => isObject(p) && (typeof p.text === 'string' || isObject(p.data) || typeof p.url === 'string')

const part = (content: Part['content'], mediaType = ''): Part => ({ content, metadata: undefined, filename: '', mediaType })

/**
 * The message's parts: `parts` as given, else `text` and/or `data`; a message with none of them (e.g. a
 * tool call meant for MCP agents, fanned out to A2A ones too) is sent whole as one data part.
 */
function partsOf(message: Record<string, unknown>): Part[] {
  if (Array.isArray(message.parts)) {
    return message.parts.map((p: Record<string, unknown>) => typeof p.text === 'string' ? part({ $case: 'text', value: p.text }, 'text/plain')
      : isObject(p.data) ? part({ $case: 'data', value: p.data }, 'application/json')
      : part({ $case: 'url', value: p.url as string }, typeof p.media_type === 'string' ? p.media_type : ''))
  }
  const parts: Part[] = []
  if (typeof message.text === 'string') parts.push(part({ $case: 'text', value: message.text }, 'text/plain'))
  if (isObject(message.data)) parts.push(part({ $case: 'data', value: message.data }, 'application/json'))
  if (parts.length === 0) parts.push(part({ $case: 'data', value: message }, 'application/json'))
  return parts
}

function plainParts(parts: Part[] | undefined): unknown[] {
  return (parts ?? []).map((p) => {
    const c = p.content
    const out: Record<string, unknown> = c?.$case === 'text' ? { text: c.value } : c?.$case === 'data' ? { data: c.value }
      : c?.$case === 'url' ? { url: c.value } : c?.$case === 'raw' ? { raw: Buffer.from(c.value).toString('base64') } : {}
    if (p.mediaType) out.media_type = p.mediaType
    if (p.filename) out.filename = p.filename
    return out
  })
}

/** an SDK Message or Task as JSON with snake_case names and readable enums */
function plain(answer: unknown): unknown {
  const a = answer as Record<string, any>
  if (typeof a.messageId === 'string') {
    return { kind: 'message', message_id: a.messageId, context_id: a.contextId || null, task_id: a.taskId || null, role: a.role === Role.ROLE_AGENT ? 'agent' : 'user', parts: plainParts(a.parts), metadata: a.metadata ?? null }
  }
  return {
    kind: 'task',
    id: a.id,
    context_id: a.contextId || null,
    status: { state: a.status ? taskStateToJSON(a.status.state).replace(/^TASK_STATE_/, '').toLowerCase() : null, message: a.status?.message ? plain(a.status.message) : null },
    artifacts: (a.artifacts ?? []).map((x: Record<string, any>) => ({ artifact_id: x.artifactId, name: x.name || null, parts: plainParts(x.parts) })),
    metadata: a.metadata ?? null,
  }
}
