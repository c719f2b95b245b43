import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startTestAtrium } from '../helpers/atrium.js'
import { createKey } from '../helpers/auth-grid.js'
import { createPgDatabase } from '../helpers/databases.js'

// X-Athena-Client: custom_supabase names no data source: it forwards to a PostgREST upstream, and only the
// structured gateway routes can do that. Every other client route must refuse it with a 400 in its own
// family's error shape, whoever calls — never reach a handler without a source (a 500).
const FORWARDING = new Set(['POST /gateway/fetch', 'POST /gateway/data', 'GET /data', 'PUT /gateway/insert', 'POST /gateway/update', 'DELETE /gateway/delete'])
/** valid requests for the forwarding routes, so they get as far as choosing the upstream */
const FORWARDED: Record<string, { url?: string; body?: unknown }> = {
  'GET /data': { url: '/data?view=customers' },
  'PUT /gateway/insert': { body: { table_name: 'customers', insert_body: { id: 1 } } },
  'POST /gateway/update': { body: { table_name: 'customers', conditions: [{ eq_column: 'id', eq_value: '1' }], update_body: { name: 'x' } } },
  'DELETE /gateway/delete': { body: { table_name: 'customers', resource_id: 1 } },
}

test('custom_supabase is refused with a 400 on every client route that cannot forward it', async (t) => {
  const db = await createPgDatabase(t)
  await db.load('shop')
  const atrium = await startTestAtrium(t, { sources: { shop: db.url } })
  const everything = await createKey(atrium, { rights: ['*'] })

  // every client route the server really has, from the registry (path parameters filled with a placeholder)
  const registry = await atrium.get('/router/registry')
  assert.equal(registry.status, 200, registry.text)
  const routes: Array<{ method: string; path: string; url: string; access: string }> = registry.body
    .filter((r: { access: string }) => r.access === 'client' || r.access.startsWith('client+'))
    .flatMap((r: { path: string; methods: string[]; access: string }) => r.methods.map((method) => ({ method, path: r.path, access: r.access, url: r.path.replace(/\{[^}]+\}/g, 'customers') })))
  const listed = new Set(routes.map((r) => `${r.method} ${r.path}`))
  for (const expected of [...FORWARDING, 'POST /query/count', 'POST /gateway/query', 'POST /gateway/sql', 'POST /gateway/rpc', 'GET /rpc/{function_name}',
    'GET /schema/tables', 'POST /schema/refresh', 'POST /management/tables', 'GET /management/capabilities', 'GET /rest/v1/{table}', 'POST /rest/v1/rpc/{function}']) {
    assert.ok(listed.has(expected), `${expected} is a client route in the registry`)
  }

  const callers: Array<[string, string | null]> = [['the admin key', null], ['an API key with every right', everything.key], ['an anonymous caller (enforcement off)', null]]
  for (const [who, apiKey] of callers) {
    await t.test(who, async () => {
      const anonymous = who.startsWith('an anonymous')
      if (anonymous) await atrium.request('PUT', '/admin/api-key-config', { body: { enforce_api_keys: false } })
      try {
        for (const route of routes) {
          const label = `${route.method} ${route.path}`
          const key = anonymous ? null : (apiKey ?? undefined)
          const given = FORWARDED[label] ?? {}
          const body = given.body ?? (['GET', 'HEAD'].includes(route.method) ? undefined : { table_name: 'customers' })
          const res = await atrium.request(route.method, given.url ?? route.url, { client: 'custom_supabase', key, body })
          assert.ok(res.status >= 400 && res.status < 500, `${label}: ${res.status} ${res.text}`)
          if (anonymous && route.access !== 'client') {
            // /schema/* need a key under security.protect.schema: key, whatever the enforcement
            assert.equal(res.status, 401, label)
            if (route.method !== 'HEAD') assert.equal(res.body.code, 'missing_api_key', `${label}: ${res.text}`)
            continue
          }
          if (FORWARDING.has(label)) {
            // these forward; without x-supabase-url / x-supabase-key they say so
            assert.equal(res.body.code, 'invalid_upstream', `${label}: ${res.text}`)
            continue
          }
          assert.equal(res.status, 400, `${label}: ${res.text}`)
          if (route.method === 'HEAD') continue
          if (route.path.startsWith('/rest/v1/')) {
            assert.deepEqual(Object.keys(res.body).sort(), ['code', 'details', 'hint', 'message'], label)
            assert.equal(res.body.code, 'PGRST000', label)
          } else {
            assert.equal(res.body.status, 'error', label)
            assert.equal(res.body.code, 'upstream_not_supported', label)
          }
          assert.match(res.body.message, /custom_supabase can only be used with the structured gateway routes/, label)
          assert.match(res.body.hint, /POST \/gateway\/fetch/, label)
        }
      } finally {
        if (anonymous) await atrium.request('PUT', '/admin/api-key-config', { body: { enforce_api_keys: true } })
      }
    })
  }

  await t.test('without a key on an enforced server the key is asked for first', async () => {
    const res = await atrium.post('/gateway/query', { client: 'custom_supabase', key: null, body: { query: 'SELECT 1' } })
    assert.equal(res.status, 401)
    assert.equal(res.body.code, 'missing_api_key')
  })
})
