// Calls one of the app's own routes for a caller who reached Atrium another way (a WebSocket message, an MCP tool
// call): through the router, with the caller's credential and address, so the route's every check (rights, client
// binding, IP policy, rate limits, raw-SQL classification) and its request log apply unchanged. It must never add
// a credential or an address of its own: what the route decides is what the caller may do.
import type { FastifyInstance } from 'fastify'
import type { Credential } from './access-control.js'

export interface CallerRouteCall {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  /** the path and query string, e.g. /schema/columns?table_name=orders */
  url: string
  credential: Credential
  /** the caller's address as the outer request saw it (trusted proxies already applied) */
  ip: string
  /** X-Athena-Client */
  client?: string
  /** further request headers the route reads (never credentials: those are the caller's) */
  headers?: Record<string, string>
  /** the JSON body */
  payload?: unknown
}

export interface CallerRouteAnswer {
  status: number
  /** the body as the route sent it */
  text: string
  isJson: boolean
}

export async function injectAsCaller(app: FastifyInstance, call: CallerRouteCall): Promise<CallerRouteAnswer> {
  const headers: Record<string, string> = { ...call.headers, 'content-type': 'application/json' }
  // the caller's headers may not name a credential or a forwarded address: only the ones below reach the route
  for (const name of ['authorization', 'apikey', 'x-api-key', 'x-athena-key', 'x-forwarded-for', 'forwarded', 'x-real-ip']) delete headers[name]
  if (call.client) headers['x-athena-client'] = call.client
  const cred = call.credential
  if (cred.session) headers.authorization = `Bearer ${cred.session}`
  if (cred.key && cred.key !== cred.session) headers.apikey = cred.key
  const res = await app.inject({
    method: call.method,
    url: call.url,
    headers,
    payload: call.payload === undefined ? undefined : JSON.stringify(call.payload),
    remoteAddress: call.ip,
  })
  return { status: res.statusCode, text: res.body, isJson: String(res.headers['content-type'] ?? '').includes('json') && res.body !== '' }
}
