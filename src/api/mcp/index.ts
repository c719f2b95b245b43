// The MCP family: Atrium as a Model Context Protocol server at /mcp (streamable HTTP). Its errors, those of the
// endpoint itself (a missing or bad credential, a wrong method), are JSON-RPC error objects, as MCP clients read
// them, carrying Atrium's code; a tool that a route refused answers a tool result with isError instead.
import type { Family } from '../family.js'
import { installMcpAccess } from './access.js'
import type { McpDeps } from './deps.js'
import { mcpEndpoint } from './endpoint.js'

/** JSON-RPC's "server error" range: what went wrong is in data.code, one of docs/errors.md */
const SERVER_ERROR = -32000
/** JSON-RPC's own code for a body that is not JSON */
const PARSE_ERROR = -32700

export const mcpFamily: Family<McpDeps> = {
  name: 'mcp',
  prefix: '/mcp',
  readCredentials: (scope, deps) => installMcpAccess(scope, deps),
  renderError: (err) => ({
    status: err.status,
    body: {
      jsonrpc: '2.0',
      error: {
        code: err.code === 'invalid_json' ? PARSE_ERROR : SERVER_ERROR,
        message: err.message,
        data: { code: err.code, ...(err.extra.hint ? { hint: err.extra.hint } : {}) },
      },
      id: null,
    },
  }),
  async routes(app, deps) {
    mcpEndpoint(app, deps)
  },
}
