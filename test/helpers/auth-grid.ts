// Helpers for security tests: create API keys through the admin API, and the list of protected data routes.
import type { TestAtrium } from './atrium.js'

export interface KeyOptions {
  name?: string
  client_name?: string | null
  rights?: string[]
  expires_at?: string | null
  allowed_ips?: string[]
  lock_in?: boolean
  rate_limit?: number | null
}

export async function createKey(atrium: TestAtrium, opts: KeyOptions = {}): Promise<{ key: string; id: string; publicId: string }> {
  const res = await atrium.post('/admin/api-keys', { body: { name: opts.name ?? 'test key', ...opts } })
  if (res.status !== 201) throw new Error(`creating a key failed: ${res.status} ${res.text}`)
  return { key: res.body.api_key, id: res.body.record.id, publicId: res.body.record.public_id }
}

export interface ProtectedRoute {
  method: string
  path: string
  /** the right a key needs */
  right: string
  body?: unknown
  /** statuses a successful call may answer */
  ok?: number[]
  /** the error envelope the route answers with */
  family?: 'gateway' | 'rest'
}

/** data-plane routes on the shop fixture, each with the right it needs; other surfaces append theirs */
export const GATEWAY_ROUTES: ProtectedRoute[] = [
  { method: 'POST', path: '/gateway/fetch', right: 'gateway.read', body: { table_name: 'customers', columns: 'id' } },
  { method: 'POST', path: '/gateway/data', right: 'gateway.read', body: { table_name: 'customers', columns: 'id' } },
  { method: 'GET', path: '/data?view=customers&eq_column=id&eq_value=1', right: 'gateway.read' },
  { method: 'POST', path: '/query/count', right: 'gateway.read', body: { table_name: 'customers' } },
  { method: 'PUT', path: '/gateway/insert', right: 'gateway.insert', body: { table_name: 'sentinel', insert_body: { id: 900, label: 'x' } } },
  { method: 'POST', path: '/gateway/update', right: 'gateway.update', body: { table_name: 'sentinel', conditions: [{ eq_column: 'id', eq_value: '1' }], update_body: { label: 'still here' } } },
  { method: 'DELETE', path: '/gateway/delete', right: 'gateway.delete', body: { table_name: 'sentinel', resource_id: 12345 } },
  { method: 'POST', path: '/gateway/query', right: 'sql.read', body: { query: 'SELECT 1 AS one' } },
  { method: 'POST', path: '/gateway/sql', right: 'sql.read', body: { query: 'SELECT 1 AS one' } },
  { method: 'GET', path: '/schema/tables', right: 'schema.read' },
  { method: 'GET', path: '/schema/columns?table_name=customers', right: 'schema.read' },
  { method: 'POST', path: '/gateway/rpc', right: 'gateway.rpc', body: { function_name: 'order_total', args: { customer: 1 } } },
  { method: 'GET', path: '/rpc/order_total?customer=1', right: 'gateway.rpc' },
  { method: 'POST', path: '/pipelines/simulate', right: 'gateway.read', body: { source: { table_name: 'sentinel' }, sink: { table_name: 'sentinel' } } },
  { method: 'GET', path: '/pipelines/templates', right: 'schema.read' },
]

export const REST_ROUTES: ProtectedRoute[] = [
  { method: 'GET', path: '/rest/v1/customers?select=id', right: 'gateway.read', family: 'rest' },
  { method: 'POST', path: '/rest/v1/sentinel', right: 'gateway.insert', body: { id: 901, label: 'x' }, ok: [201], family: 'rest' },
  { method: 'PATCH', path: '/rest/v1/sentinel?id=eq.1', right: 'gateway.update', body: { label: 'still here' }, ok: [204], family: 'rest' },
  { method: 'DELETE', path: '/rest/v1/sentinel?id=eq.12345', right: 'gateway.delete', ok: [204], family: 'rest' },
  { method: 'POST', path: '/rest/v1/rpc/order_total', right: 'gateway.rpc', body: { customer: 1 }, family: 'rest' },
  { method: 'GET', path: '/rest/v1/rpc/order_total?customer=1', right: 'gateway.rpc', family: 'rest' },
]
