// The OpenAPI document (/openapi.json) names, for every operation, the security it needs (so "Try it out" in
// /docs sends the key) and, for gateway and /rest/v1 operations, the success body and the error responses in
// the family's shape.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startTestAtrium } from '../../helpers/atrium.js'

type Operation = { security?: Array<Record<string, string[]>>; responses: Record<string, { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> }> }

const GATEWAY_PREFIXES = ['/gateway', '/data', '/query', '/public/', '/admin', '/management', '/pipelines']

test('every operation declares its security; gateway and /rest/v1 operations their bodies and errors', async (t) => {
  const atrium = await startTestAtrium(t)
  const doc = (await atrium.get('/openapi.json', { key: null })).body
  const schemes = doc.components.securitySchemes as Record<string, unknown>
  assert.ok(schemes.apikey && schemes.bearer && schemes.platformKey)
  const entries = (await atrium.get('/registry')).body as Array<{ method: string; path: string; access: string }>
  assert.ok(entries.length > 100)
  let checkedGateway = 0
  let checkedRest = 0
  for (const e of entries) {
    const item = doc.paths[e.path]
    const op: Operation | undefined = item?.[e.method.toLowerCase()] ?? (e.method === 'HEAD' ? item?.get : undefined)
    assert.ok(op, `${e.method} ${e.path} is documented`)
    const where = `${e.method} ${e.path} (${e.access})`
    assert.ok(Array.isArray(op.security), `${where} declares its security`)
    for (const requirement of op.security!) for (const name of Object.keys(requirement)) assert.ok(schemes[name], `${where}: scheme ${name} exists`)
    const isPublic = e.access === 'public' || e.access === 'protect:openapi'
    if (e.path.startsWith('/api/v1')) assert.deepEqual(op.security, [{ platformKey: [] }], where)
    else if (e.path === '/mcp') {
      // the MCP endpoint takes every credential; its own errors are JSON-RPC error objects
      assert.deepEqual(op.security, [{ apikey: [] }, { bearer: [] }, { platformKey: [] }], where)
      const unauthorized = op.responses['401']?.content?.['application/json']?.schema?.properties
      assert.ok(unauthorized && 'jsonrpc' in unauthorized && 'error' in unauthorized, `${where}: 401 is a JSON-RPC error`)
    }
    else if (isPublic) assert.deepEqual(op.security, [], `${where} is open`)
    else assert.deepEqual(op.security, [{ apikey: [] }, { bearer: [] }], `${where} needs a key`)

    const rest = e.path.startsWith('/rest/v1')
    if (!rest && !GATEWAY_PREFIXES.some((p) => e.path.startsWith(p))) continue
    if (rest) checkedRest++
    else checkedGateway++
    const success = Object.entries(op.responses).find(([code]) => /^2/.test(code))
    assert.ok(success && success[1].content, `${where} documents its success body`)
    const errorCodes = ['400', '500', ...(isPublic ? [] : ['401', '403'])]
    for (const code of errorCodes) {
      const props = op.responses[code]?.content?.['application/json']?.schema?.properties
      assert.ok(props, `${where} documents ${code}`)
      assert.ok('code' in props && 'message' in props, `${where}: ${code} has code and message`)
      if (rest) assert.ok('details' in props && 'hint' in props, `${where}: ${code} in PostgREST's shape`)
      else assert.ok('status' in props, `${where}: ${code} in the Athena envelope`)
    }
  }
  assert.ok(checkedGateway > 40 && checkedRest >= 5, `${checkedGateway} gateway and ${checkedRest} rest operations checked`)
})
