// What the OpenAPI document says of each route beyond its own schema, derived from the route's config so the two
// cannot drift: the security it needs (so "Try it out" in /docs sends the key), and the error responses of its
// family's shape. Only the document changes: a response schema on the route itself would also change how
// Fastify serializes the reply.
import type { RouteOptions } from 'fastify'
import type { Config } from '../config/schema.js'
import type { Access } from './fastify-types.js'

export const SECURITY_SCHEMES = {
  apikey: { type: 'apiKey', in: 'header', name: 'apikey', description: 'the admin key (ATHENA_KEY_12) or an API key ath_…; X-API-Key and X-Athena-Key are read too' },
  bearer: { type: 'http', scheme: 'bearer', description: 'an API key, the admin key or a session token (JWT) as a bearer token' },
  platformKey: { type: 'http', scheme: 'bearer', bearerFormat: 'pk_live_…', description: 'a platform key of the Databases API (/api/v1)' },
} as const

/** the error body of each family (docs/errors.md lists the codes) */
const ATHENA_ERROR = {
  type: 'object',
  required: ['status', 'code', 'message'],
  properties: {
    status: { type: 'string', enum: ['error'] },
    code: { type: 'string', description: 'a code of docs/errors.md' },
    message: { type: 'string' },
    error: { type: 'string' },
    hint: { type: 'string' },
    data: { type: 'object', additionalProperties: true },
  },
}
const POSTGREST_ERROR = {
  type: 'object',
  required: ['code', 'message'],
  properties: {
    code: { type: 'string', description: 'PostgREST\'s code (PGRST…) or the SQLSTATE' },
    message: { type: 'string' },
    details: { type: 'string', nullable: true },
    hint: { type: 'string', nullable: true },
  },
}
const POLYKOMOS_ERROR = {
  type: 'object',
  required: ['error'],
  properties: {
    error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} } },
    request_id: { type: 'string' },
  },
}
/** the MCP endpoint's own errors: JSON-RPC error objects carrying Atrium's code */
const JSONRPC_ERROR = {
  type: 'object',
  required: ['jsonrpc', 'error'],
  properties: {
    jsonrpc: { type: 'string', enum: ['2.0'] },
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'integer' }, message: { type: 'string' }, data: { type: 'object', properties: { code: { type: 'string', description: 'a code of docs/errors.md' }, hint: { type: 'string' } } } },
    },
    id: { nullable: true },
  },
}
/** what a route of a family that declared no success body answers, for the document */
const ATHENA_SUCCESS = {
  type: 'object',
  description: 'the Athena success envelope',
  properties: { status: { type: 'string', enum: ['success'] }, message: { type: 'string' }, data: {} },
}
const POSTGREST_ROWS = {
  description: 'the rows (an array; one object with Accept: application/vnd.pgrst.object+json; CSV with Accept: text/csv)',
  type: 'array',
  items: { type: 'object', additionalProperties: true },
}

type Family = 'athena' | 'rest' | 'databases' | 'realtime' | 'mcp'
const familyOf = (url: string): Family =>
  url.startsWith('/rest/v1') ? 'rest' : url.startsWith('/api/v1') ? 'databases' : url.startsWith('/wss/') ? 'realtime' : url === '/mcp' ? 'mcp' : 'athena'

/** the schemes that open a route; [] for a public one */
export function securityOf(url: string, access: Access | undefined, protect: Config['security']['protect']): Array<Record<string, string[]>> {
  if (familyOf(url) === 'databases') return [{ platformKey: [] }]
  if (familyOf(url) === 'mcp') return [{ apikey: [] }, { bearer: [] }, { platformKey: [] }]
  if (access === 'public') return []
  if (typeof access === 'object' && protect[access.protect] === 'public' && !access.client) return []
  return [{ apikey: [] }, { bearer: [] }]
}

const ERROR_TEXT: Record<number, string> = {
  400: 'the request is invalid (its code and message say which part)',
  401: 'no credential, or one that is not valid',
  403: 'the credential lacks the right, scope or client binding the operation needs',
  404: 'the named thing does not exist (or belongs to another tenant)',
  429: 'a rate limit refused the request (Retry-After says when to retry)',
  500: 'an unexpected error (the message carries the request id)',
}

/** the transform @fastify/swagger applies to each route's schema before it documents it */
export function documentRoute(protect: Config['security']['protect']) {
  return ({ schema, url, route }: { schema: Record<string, unknown> | undefined; url: string; route: RouteOptions }) => {
    const access = route.config?.access as Access | undefined
    const family = familyOf(url)
    const security = securityOf(url, access, protect)
    const declared = (schema?.response ?? {}) as Record<string, unknown>
    const response: Record<string, unknown> = { ...declared }
    const errorBody = family === 'rest' ? POSTGREST_ERROR : family === 'databases' ? POLYKOMOS_ERROR : family === 'mcp' ? JSONRPC_ERROR : ATHENA_ERROR
    const hasSuccess = Object.keys(declared).some((code) => /^2/.test(code))
    if (!hasSuccess && family !== 'realtime' && family !== 'mcp') {
      if (family === 'rest') response[restSuccessCode(url, String(route.method))] = POSTGREST_ROWS
      else if (family === 'athena' && !isDocumentOrText(url)) response[200] = ATHENA_SUCCESS
    }
    const errors = [400, 500, ...(security.length ? [401, 403, 429] : []), ...(/[:{]/.test(url) || access === 'client' ? [404] : [])]
    for (const code of errors) {
      if (response[code] === undefined) response[code] = { description: ERROR_TEXT[code], ...errorBody }
    }
    return { schema: { ...schema, security, response }, url }
  }
}

/** an insert answers 201 (its rows with Prefer: return=representation); reads, updates, deletes and calls 200 */
const restSuccessCode = (url: string, method: string) => (method === 'POST' && !url.includes('/rpc/') ? 201 : 200)

/** routes whose success body is a document or text (YAML, HTML, Prometheus text, pong, the console), not JSON */
const isDocumentOrText = (url: string) => /^\/(openapi|docs|metrics|ping|console)/.test(url)
