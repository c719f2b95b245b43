// POST /mcp: one streamable-HTTP MCP request, answered statelessly. Each request builds its own MCP server for the
// caller and a transport without sessions, so any node answers any request and nothing is kept between them (the
// protocol's session id is not used; there is no server-to-client stream, so GET and DELETE are 405). Each tool
// calls Atrium's own routes through the router with the caller's credential and address (http/inject-as-caller.ts).
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
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
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true })
    // the transport writes to the raw response: headers set so far (CORS, the request id) go onto it first
    for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) reply.raw.setHeader(name, value as string | number | string[])
    reply.hijack()
    reply.raw.on('close', () => {
      void transport.close()
      void server.close()
    })
    try {
      await server.connect(transport)
      await transport.handleRequest(req.raw, reply.raw, req.body)
    } catch (err) {
      // the reply is hijacked, so the family's error handler cannot answer: say it here rather than leave it hanging
      req.log.error({ err }, 'MCP request failed')
      if (!reply.raw.headersSent) {
        reply.raw.writeHead(500, { 'content-type': 'application/json' })
        reply.raw.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32603, message: `internal error (request ${req.id})`, data: { code: 'internal_error' } }, id: null }))
      } else reply.raw.end()
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
