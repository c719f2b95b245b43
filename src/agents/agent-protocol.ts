// What the agent gateway asks of an agent, whatever its protocol: a handshake, its tools (or skills), and one
// message. Each protocol (mcp-agent.ts, a2a-agent.ts) implements it with its official SDK; failures come back
// as a CallError, never as an exception the caller must classify.
import type { FetchLike } from './guarded-fetch.js'

export interface AgentTool {
  name: string
  description: string | null
  /** MCP: the tool's JSON Schema; A2A: null */
  input_schema: Record<string, unknown> | null
  /** A2A skills only: the skill's id, tags, examples and modes */
  id?: string
  tags?: string[]
  examples?: string[]
  input_modes?: string[]
  output_modes?: string[]
}

export interface Handshake {
  protocol_version: string | null
  /** the name and version the agent announces (MCP serverInfo, A2A card) */
  agent: { name: string; version: string | null } | null
  tools: AgentTool[]
  /** A2A: what the ping message/send answered */
  ping?: unknown
}

export interface CallError {
  /** unreachable, address_not_allowed, unauthorized, auth_headers_unreadable, timeout, http_error, protocol_error, agent_error, tool_error */
  code: string
  message: string
}

export interface CallTarget {
  url: URL
  /** what a cached card belongs to: the agent, its endpoint and credentials (agents sharing a URL may send different ones) */
  cacheKey: string
  /** guarded by the internal-address rule (or not, when agents.allowPrivate is set) */
  fetch: FetchLike
  signal: AbortSignal
  timeoutMs: number
}

export interface AgentProtocol {
  handshake(target: CallTarget): Promise<Handshake>
  tools(target: CallTarget): Promise<AgentTool[]>
  /** the message is already checked by `check` */
  send(target: CallTarget, message: Record<string, unknown>): Promise<{ result: unknown; error: CallError | null }>
  /** throws 422 agent_message_invalid when the message cannot be sent with this protocol */
  check(message: Record<string, unknown>): void
}

/** an SDK or network failure as a CallError; a deadline that passed is a timeout whatever the SDK threw */
export function callError(err: unknown, signal: AbortSignal): CallError {
  if (signal.aborted) return { code: 'timeout', message: 'the agent did not answer in time' }
  const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException }
  const code = e?.code ?? e?.cause?.code
  if (code === 'EAUTHHEADERS') return { code: 'auth_headers_unreadable', message: (e.code === code ? e : e.cause)?.message ?? 'the agent\'s auth_headers cannot be opened' }
  // the endpoint refused the request's credentials (MCP: the transport error's status; A2A: the status in its message)
  const status = typeof e?.code === 'number' ? e.code : /\b(?:Status: |HTTP |: )(401|403)\b/.exec(e instanceof Error ? e.message : '')?.[1]
  if (status !== undefined && (Number(status) === 401 || Number(status) === 403)) {
    return { code: 'unauthorized', message: `the agent refused the request (HTTP ${status}): it needs a credential Atrium did not send, or refused the one sent; give it in auth_headers with PUT /api/v1/agents/{agent_id}` }
  }
  if (code === 'EINTERNALADDRESS') return { code: 'address_not_allowed', message: `${e.message ?? e.cause?.message}; set ATRIUM_AGENTS_ALLOW_PRIVATE=true to allow agents inside your network` }
  if (code && /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|EPIPE)$/.test(code)) {
    return { code: 'unreachable', message: `the agent's endpoint cannot be reached (${code})` }
  }
  const message = e instanceof Error ? e.message : String(err)
  return { code: 'protocol_error', message: message.slice(0, 1000) }
}
