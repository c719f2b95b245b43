// POST /mcp: one streamable-HTTP MCP request, answered statelessly. Each request builds its own MCP server for the
// caller and a transport without sessions, so any node answers any request and nothing is kept between them (the
// protocol's session id is not used; there is no server-to-client stream, so GET and DELETE are 405). Each tool
// calls Atrium's own routes through the router with the caller's credential and address (http/inject-as-caller.ts).
// The SDK's web-standard transport answers in JSON (no SSE), so its Response becomes an ordinary Fastify reply:
// headers, hooks and the request log stay the route's, and the body Fastify already parsed is handed over as is.
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { AppError } from '../../errors/app-error.js'
import { injectAsCaller } from '../../http/inject-as-caller.js'
import { buildAtriumMcpServer, type McpCaller, type TableKeys } from '../../mcp/atrium-mcp-server.js'
import { credentialOf } from './access.js'
import type { McpDeps } from './deps.js'

const OPERATION = 'mcp.call'

function callerOf(req: FastifyRequest): McpCaller {
  const p = req.principal
  if (p.kind === 'key') return { kind: 'key', boundClient: p.clientName }
  if (p.kind === 'user' || p.kind === 'platform' || p.kind === 'admin') return { kind: p.kind, boundClient: null }
  // the access hook never lets an anonymous caller through; refuse rather than serve one
  throw new AppError('missing_api_key', 'an API key is required')
}

export function mcpEndpoint(app: FastifyInstance, deps: McpDeps): void {
  // app.inject on this scope still enters the whole server's router: tools reach every family's routes
  app.post('', {
    config: { operation: OPERATION, access: 'client-in-body' },
    schema: { summary: 'The MCP endpoint (streamable HTTP, stateless): tools and resources over the data sources this credential may use', tags: ['mcp'] },
  }, async (req, reply) => {
    const cred = credentialOf(deps, req)!
    const caller = callerOf(req)
    const server = buildAtriumMcpServer({
      caller,
      version: deps.version,
      callRoute: (call) => injectAsCaller(app, { ...call, credential: cred, ip: req.ip }),
      keysOf: async (client, table, schema): Promise<TableKeys | undefined> => {
        // asked only after the caller's own /schema/columns call for this table has passed
        const found = (await deps.registry.resolve(client).schema()).findTable(table, schema)
        return found && {
          primary_key: found.primaryKey,
          foreign_keys: found.foreignKeys.map((fk) => ({ columns: fk.columns, references: { schema: fk.refSchema, table: fk.refTable, columns: fk.refColumns } })),
        }
      },
    })
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true })
    // a caller that goes away before its answer ends the transport, which aborts the tool calls still running
    const onGone = () => { if (!reply.raw.writableEnded) void transport.close() }
    reply.raw.once('close', onGone)
    try {
      await server.connect(transport)
      const res = await transport.handleRequest(webRequestOf(req), { parsedBody: req.body })
      reply.status(res.status)
      res.headers.forEach((value, name) => { reply.header(name, value) })
      return reply.send(res.body ? await res.text() : undefined)
    } finally {
      reply.raw.off('close', onGone)
      await transport.close()
      await server.close()
    }
  })

  for (const method of ['GET', 'DELETE'] as const) {
    app.route({
      method,
      url: '',
      config: { operation: OPERATION, access: 'client-in-body' },
      schema: { summary: method === 'GET' ? 'No server-to-client stream: the endpoint is stateless (405)' : 'No session to end: the endpoint is stateless (405)', tags: ['mcp'] },
      handler: async (_req, reply) => {
        reply.header('allow', 'POST')
        throw new AppError('mcp_method_not_allowed', `${method} /mcp is not served: this MCP endpoint is stateless, without sessions or a server-to-client stream`, {
          hint: 'send each JSON-RPC message as POST /mcp (Accept: application/json, text/event-stream)',
        })
      },
    })
  }
}

/**
 * What the transport reads of the request: its method and headers (the body is passed parsed). The URL's origin is
 * a fixed one: the transport does not look at it, and a Host header a client made up must not make this throw.
 */
function webRequestOf(req: FastifyRequest): Request {
  const headers = new Headers()
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === 'string') headers.set(name, value)
    else if (Array.isArray(value)) for (const v of value) headers.append(name, v)
  }
  return new Request(new URL(req.url, 'http://localhost'), { method: req.method, headers })
}
