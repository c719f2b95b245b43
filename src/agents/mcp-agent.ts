// MCP agents over streamable HTTP, with the official SDK's client: initialize, tools/list, tools/call.
// Each operation opens its own short session: routed calls are independent, and nothing is held open
// between requests (any process may serve the next one).
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { AppError } from '../errors/app-error.js'
import { VERSION } from '../version.js'
import { callError, type AgentProtocol, type AgentTool, type CallTarget } from './agent-protocol.js'

/** tools/list pages read at most: a misbehaving server cannot keep a request busy forever */
const MAX_TOOL_PAGES = 20

async function session<T>(target: CallTarget, fn: (client: Client, transport: StreamableHTTPClientTransport) => Promise<T>): Promise<T> {
  const client = new Client({ name: 'atrium', version: VERSION })
  const transport = new StreamableHTTPClientTransport(target.url, { fetch: target.fetch, requestInit: { redirect: 'manual' } })
  try {
    await client.connect(transport, { signal: target.signal, timeout: target.timeoutMs })
    return await fn(client, transport)
  } finally {
    await client.close().catch(() => {})
  }
}

async function listTools(client: Client, target: CallTarget): Promise<AgentTool[]> {
  const tools: AgentTool[] = []
  let cursor: string | undefined
  for (let page = 0; page < MAX_TOOL_PAGES; page++) {
    const answer = await client.listTools(cursor ? { cursor } : undefined, { signal: target.signal, timeout: target.timeoutMs })
    for (const t of answer.tools) tools.push({ name: t.name, description: t.description ?? null, input_schema: t.inputSchema as Record<string, unknown> })
    cursor = answer.nextCursor
    if (!cursor) break
  }
  return tools
}

export const mcpAgent: AgentProtocol = {
  async handshake(target) {
    return session(target, async (client, transport) => {
      const server = client.getServerVersion()
      return {
        protocol_version: transport.protocolVersion ?? null,
        agent: server ? { name: server.name, version: server.version ?? null } : null,
        tools: await listTools(client, target),
      }
    })
  },

  async tools(target) {
    return session(target, (client) => listTools(client, target))
  },

  check(message) {
    if (typeof message.tool !== 'string' || message.tool.length === 0) {
      throw new AppError('agent_message_invalid', 'an MCP agent is sent tools/call: the message must name a tool ({"tool": "<name>", "arguments": {...}})', {
        hint: 'GET /api/v1/agents/{agent_id}/tools lists the agent\'s tools', data: { loc: ['body', 'message', 'tool'] },
      })
    }
    const args = message.arguments
    if (args !== undefined && (args === null || typeof args !== 'object' || Array.isArray(args))) {
      throw new AppError('agent_message_invalid', 'message.arguments must be an object of the tool\'s arguments', { data: { loc: ['body', 'message', 'arguments'] } })
    }
  },

  async send(target, message) {
    try {
      const result = await session(target, (client) => client.callTool(
        { name: message.tool as string, arguments: (message.arguments ?? {}) as Record<string, unknown> },
        undefined,
        { signal: target.signal, timeout: target.timeoutMs },
      ))
      // a tool that failed answers isError with its explanation in content: an error of the call, with the result kept
      if (result.isError) {
        const text = (result.content as Array<{ type: string; text?: string }> | undefined)?.filter((c) => c.type === 'text').map((c) => c.text).join('\n')
        return { result, error: { code: 'tool_error', message: (text || 'the tool reported an error').slice(0, 1000) } }
      }
      return { result, error: null }
    } catch (err) {
      return { result: null, error: callError(err, target.signal) }
    }
  },
}
