// Agents behind a credential, through HTTP against real agents that answer 401 without it: auth_headers are
// validated, sealed in the catalog, shown by name only, sent on every connection (test, tools, route,
// route-project; MCP and A2A), kept, replaced or removed by PUT, and never logged — and only to the endpoint's
// own origin, not to another host an A2A card may name.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { sealHeaders, withAuthHeaders } from '../../../src/agents/agent-auth.js'
import { guardedFetch } from '../../../src/agents/guarded-fetch.js'
import { startA2aAgent, startMcpAgent } from '../../helpers/agent-servers.js'
import { as, startWorkspace } from './workspace-helpers.js'

const MCP_TOKEN = 'mcp-token-sentinel-4c1e9b'
const A2A_KEY = 'a2a-key-sentinel-88d0f2'

test('agents with auth headers', async (t) => {
  const { call, atrium, tenants: [a, b] } = await startWorkspace(t, { env: { ATRIUM_AGENTS_ALLOW_PRIVATE: 'true' } })
  const orgAdmin = as(a, 'Org admin')
  const user = as(a, 'Dataset user')
  const [mcp, echo] = await Promise.all([
    startMcpAgent(t, { requireHeader: { name: 'Authorization', value: `Bearer ${MCP_TOKEN}` } }),
    startA2aAgent(t, { requireHeader: { name: 'X-API-Key', value: A2A_KEY } }),
  ])
  const project = await call(orgAdmin, 'POST', '/api/v1/projects', { name: 'guarded agents' })
  assert.equal(project.status, 201, project.text)
  const p = project.body.id as string
  const mcpBody = { name: 'guarded calculator', protocol: 'MCP', endpoint_url: mcp.url, project_id: p }

  let mcpAgent: any
  let a2aAgent: any
  await t.test('without the header the test handshake fails with a clear error; after a PUT adding it, it succeeds', async () => {
    const created = await call(orgAdmin, 'POST', '/api/v1/agents', mcpBody)
    assert.equal(created.status, 201, created.text)
    mcpAgent = created.body
    assert.equal(mcpAgent.auth_headers, null)
    const refused = await call(orgAdmin, 'POST', `/api/v1/agents/${mcpAgent.id}/test`)
    assert.equal(refused.status, 200, refused.text)
    assert.equal(refused.body.ok, false)
    assert.equal(refused.body.error.code, 'unauthorized')
    assert.match(refused.body.error.message, /HTTP 401.*auth_headers/)

    const put = await call(orgAdmin, 'PUT', `/api/v1/agents/${mcpAgent.id}`, { auth_headers: { Authorization: `Bearer ${MCP_TOKEN}` } })
    assert.equal(put.status, 200, put.text)
    assert.deepEqual(put.body.auth_headers, ['Authorization'])
    assert.ok(!put.text.includes(MCP_TOKEN), 'the value is never answered')
    const ok = await call(orgAdmin, 'POST', `/api/v1/agents/${mcpAgent.id}/test`)
    assert.equal(ok.body.ok, true, JSON.stringify(ok.body.error))
    assert.equal(ok.body.tools_count, 3)
  })

  await t.test('A2A: headers given at creation reach the card and the messages', async () => {
    const created = await call(orgAdmin, 'POST', '/api/v1/agents', { name: 'guarded echo', protocol: 'A2A', endpoint_url: echo.url, project_id: p, auth_headers: { 'X-API-Key': A2A_KEY } })
    assert.equal(created.status, 201, created.text)
    a2aAgent = created.body
    assert.deepEqual(a2aAgent.auth_headers, ['X-API-Key'])
    const ok = await call(orgAdmin, 'POST', `/api/v1/agents/${a2aAgent.id}/test`)
    assert.equal(ok.body.ok, true, JSON.stringify(ok.body.error))
    assert.equal(ok.body.ping.parts[0].text, 'echo: ping')
    const bare = await call(orgAdmin, 'POST', '/api/v1/agents', { name: 'bare echo', protocol: 'A2A', endpoint_url: echo.url, project_id: p })
    const refused = await call(orgAdmin, 'POST', `/api/v1/agents/${bare.body.id}/test`)
    assert.equal(refused.body.ok, false)
    assert.equal(refused.body.error.code, 'unauthorized', JSON.stringify(refused.body.error))
    assert.equal((await call(orgAdmin, 'DELETE', `/api/v1/agents/${bare.body.id}`)).status, 204)
  })

  await t.test('tools, route and route-project carry the headers', async () => {
    const tools = await call(user, 'GET', `/api/v1/agents/${mcpAgent.id}/tools`)
    assert.equal(tools.status, 200, tools.text)
    assert.equal(tools.body.tools.length, 3)
    const skills = await call(user, 'GET', `/api/v1/agents/${a2aAgent.id}/tools`)
    assert.equal(skills.status, 200, skills.text)
    const sum = await call(user, 'POST', '/api/v1/agent-gateway/route', { agent_id: mcpAgent.id, message: { tool: 'add', arguments: { a: 2, b: 40 } } })
    assert.equal(sum.status, 200, sum.text)
    assert.equal(sum.body.error, null, JSON.stringify(sum.body.error))
    assert.deepEqual(sum.body.result.structuredContent, { sum: 42 })
    const fan = await call(user, 'POST', '/api/v1/agent-gateway/route-project', { project_id: p, message: { tool: 'add', arguments: { a: 1, b: 2 }, text: 'hi' } })
    assert.equal(fan.status, 200, fan.text)
    assert.deepEqual(fan.body.map((e: { agent_id: string }) => e.agent_id), [mcpAgent.id, a2aAgent.id])
    for (const e of fan.body) assert.equal(e.error, null, JSON.stringify(e.error))
    assert.equal(fan.body[1].result.parts[0].text, 'echo: hi')
  })

  await t.test('reads show the names only; the catalog holds the values sealed', async () => {
    const one = await call(user, 'GET', `/api/v1/agents/${mcpAgent.id}`)
    assert.deepEqual(one.body.auth_headers, ['Authorization'])
    const list = await call(user, 'GET', '/api/v1/agents')
    assert.deepEqual(list.body.agents.map((x: { auth_headers: unknown }) => x.auth_headers), [['Authorization'], ['X-API-Key']])
    const inProject = await call(user, 'GET', `/api/v1/projects/${p}/agents`)
    assert.deepEqual(inProject.body.agents.map((x: { auth_headers: unknown }) => x.auth_headers), [['Authorization'], ['X-API-Key']])
    for (const res of [one, list, inProject]) assert.ok(!res.text.includes(MCP_TOKEN) && !res.text.includes(A2A_KEY))
    const rows = await atrium.catalog.query<{ stored: string }>('SELECT auth_headers::text AS stored FROM atrium.ws_agents WHERE id = ANY($1::uuid[])', [[mcpAgent.id, a2aAgent.id]])
    assert.equal(rows.length, 2)
    for (const { stored } of rows) {
      assert.ok(!stored.includes(MCP_TOKEN) && !stored.includes(A2A_KEY) && !stored.includes('Bearer'), 'no plaintext in the catalog')
      assert.match(stored, /"v1\.[\w-]+\.[\w-]+\.[\w-]+"/, 'a sealed value')
    }
  })

  await t.test('PUT: omitted keeps them, null removes them', async () => {
    const renamed = await call(orgAdmin, 'PUT', `/api/v1/agents/${mcpAgent.id}`, { name: 'calculator behind a gateway' })
    assert.equal(renamed.status, 200, renamed.text)
    assert.deepEqual(renamed.body.auth_headers, ['Authorization'])
    assert.equal((await call(orgAdmin, 'POST', `/api/v1/agents/${mcpAgent.id}/test`)).body.ok, true)
    const removed = await call(orgAdmin, 'PUT', `/api/v1/agents/${mcpAgent.id}`, { auth_headers: null })
    assert.equal(removed.status, 200, removed.text)
    assert.equal(removed.body.auth_headers, null)
    const [row] = await atrium.catalog.query<{ auth_headers: unknown }>('SELECT auth_headers FROM atrium.ws_agents WHERE id = $1', [mcpAgent.id])
    assert.equal(row!.auth_headers, null)
    const refused = await call(user, 'POST', '/api/v1/agent-gateway/route', { agent_id: mcpAgent.id, message: { tool: 'add', arguments: { a: 1, b: 1 } } })
    assert.equal(refused.body.error.code, 'unauthorized')
    // put back for the checks below
    assert.equal((await call(orgAdmin, 'PATCH', `/api/v1/agents/${mcpAgent.id}`, { auth_headers: { Authorization: `Bearer ${MCP_TOKEN}` } })).status, 200)
  })

  await t.test('bad auth_headers are a 422 naming the header and what to fix, never repeating a value', async () => {
    const cases: Array<[unknown, RegExp, string[]]> = [
      [Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`X-Key-${i}`, 'v'])), /at most 8 headers/, ['body', 'auth_headers']],
      [{ 'Bad Header': MCP_TOKEN }, /not a valid header name/, ['body', 'auth_headers', 'Bad Header']],
      [{ Host: MCP_TOKEN }, /connection header/, ['body', 'auth_headers', 'Host']],
      [{ 'Transfer-Encoding': 'chunked' }, /connection header/, ['body', 'auth_headers', 'Transfer-Encoding']],
      [{ 'Content-Length': '1' }, /connection header/, ['body', 'auth_headers', 'Content-Length']],
      [{ 'Content-Type': 'text/plain' }, /set by the agent's protocol client/, ['body', 'auth_headers', 'Content-Type']],
      [{ Authorization: `Bearer ${MCP_TOKEN}\r\nX-Injected: 1` }, /line break/, ['body', 'auth_headers', 'Authorization']],
      [{ Authorization: `Bearer ${'x'.repeat(4097)}` }, /longer than 4096 bytes/, ['body', 'auth_headers', 'Authorization']],
      [{ Authorization: 42 }, /non-empty string/, ['body', 'auth_headers', 'Authorization']],
      [{ authorization: 'a', Authorization: 'b' }, /given twice/, ['body', 'auth_headers', 'Authorization']],
    ]
    for (const [authHeaders, msg, loc] of cases) {
      for (const [method, path, body] of [
        ['PUT', `/api/v1/agents/${a2aAgent.id}`, { auth_headers: authHeaders }],
        ['POST', '/api/v1/agents', { ...mcpBody, name: 'refused', auth_headers: authHeaders }],
      ] as const) {
        const res = await call(orgAdmin, method, path, body)
        assert.equal(res.status, 422, `${method} ${JSON.stringify(authHeaders).slice(0, 80)}: ${res.text.slice(0, 300)}`)
        assert.equal(res.body.detail[0].type, 'agent_auth_headers_invalid')
        assert.match(res.body.detail[0].msg, msg)
        assert.deepEqual(res.body.detail[0].loc, loc)
        assert.ok(!res.text.includes(MCP_TOKEN), 'the value is not repeated')
      }
    }
    const notAnObject = await call(orgAdmin, 'PUT', `/api/v1/agents/${a2aAgent.id}`, { auth_headers: ['Authorization'] })
    assert.equal(notAnObject.status, 422)
    assert.deepEqual(notAnObject.body.detail[0].loc.slice(0, 2), ['body', 'auth_headers'])
    assert.equal((await call(orgAdmin, 'GET', '/api/v1/agents')).body.agents.length, 2, 'nothing refused was saved')
    assert.deepEqual((await call(orgAdmin, 'GET', `/api/v1/agents/${a2aAgent.id}`)).body.auth_headers, ['X-API-Key'], 'a refused PUT changed nothing')
  })

  await t.test('rights are unchanged: Org admin only to set them; another tenant\'s agent is 404', async () => {
    assert.equal((await call(user, 'PUT', `/api/v1/agents/${mcpAgent.id}`, { auth_headers: null })).status, 403)
    assert.equal((await call(as(a, 'Dataset editor'), 'PUT', `/api/v1/agents/${mcpAgent.id}`, { auth_headers: { 'X-Key': 'v' } })).status, 403)
    const other = as(b, 'Org admin')
    for (const [method, path, body] of [
      ['GET', `/api/v1/agents/${mcpAgent.id}`, undefined],
      ['PUT', `/api/v1/agents/${mcpAgent.id}`, { auth_headers: null }],
      ['PUT', `/api/v1/agents/${mcpAgent.id}`, { auth_headers: { 'X-Key': 'v' } }],
      ['POST', `/api/v1/agents/${mcpAgent.id}/test`, undefined],
    ] as const) {
      assert.equal((await call(other, method, path, body)).status, 404, `${method} ${path}`)
    }
    assert.deepEqual((await call(user, 'GET', `/api/v1/agents/${mcpAgent.id}`)).body.auth_headers, ['Authorization'], 'untouched')
    assert.equal((await call(user, 'POST', '/api/v1/agent-gateway/route', { agent_id: mcpAgent.id, message: { tool: 'add', arguments: { a: 1, b: 1 } } })).body.error, null)
  })

  await t.test('values sealed under another secret key: reads still answer, calls fail with a clear error', async () => {
    const bare = await call(orgAdmin, 'POST', '/api/v1/agents', { ...mcpBody, name: 'key changed' })
    assert.equal(bare.status, 201, bare.text)
    // what the column holds after ATRIUM_SECRET_KEY changed: a sealed value this server cannot open
    await atrium.catalog.query(`UPDATE atrium.ws_agents SET auth_headers = '{"Authorization": "v1.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA.AAAA"}' WHERE id = $1`, [bare.body.id])
    assert.deepEqual((await call(user, 'GET', `/api/v1/agents/${bare.body.id}`)).body.auth_headers, ['Authorization'])
    const res = await call(orgAdmin, 'POST', `/api/v1/agents/${bare.body.id}/test`)
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.ok, false)
    assert.equal(res.body.error.code, 'auth_headers_unreadable', JSON.stringify(res.body.error))
    assert.match(res.body.error.message, /set them again with PUT/)
    const routed = await call(user, 'POST', '/api/v1/agent-gateway/route', { agent_id: bare.body.id, message: { tool: 'add', arguments: { a: 1, b: 1 } } })
    assert.equal(routed.status, 200, routed.text)
    assert.equal(routed.body.error.code, 'auth_headers_unreadable')
    assert.equal((await call(orgAdmin, 'DELETE', `/api/v1/agents/${bare.body.id}`)).status, 204)
  })

  await t.test('the values are never logged', async () => {
    const logs = atrium.logs()
    assert.match(logs, /"msg":"agent call"/, 'the calls were logged')
    assert.ok(!logs.includes(MCP_TOKEN), 'the MCP token is not in the logs')
    assert.ok(!logs.includes(A2A_KEY), 'the A2A key is not in the logs')
  })
})

test('auth headers go to the endpoint\'s origin only', async (t) => {
  // two servers on 127.0.0.1 (two ports: two origins), each keeping the headers it received
  const seen: IncomingHttpHeaders[][] = [[], []]
  const urls = await Promise.all(seen.map(async (log) => {
    const server = createServer((req, res) => {
      log.push(req.headers)
      res.end('ok')
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    t.after(() => new Promise<void>((r) => server.close(() => r())))
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  }))
  const key = randomBytes(32)
  const fetch = withAuthHeaders(guardedFetch(true), new URL(`${urls[0]}/a2a`), key, sealHeaders(key, { 'X-API-Key': A2A_KEY }))
  assert.equal((await fetch(`${urls[0]}/.well-known/agent-card.json`, { headers: { accept: 'application/json' } })).status, 200)
  assert.equal((await fetch(`${urls[1]}/a2a/jsonrpc`, { method: 'POST', body: '{}' })).status, 200)
  assert.equal(seen[0]![0]!['x-api-key'], A2A_KEY, 'the endpoint\'s origin gets the header')
  assert.equal(seen[0]![0]!.accept, 'application/json', 'next to the request\'s own headers')
  assert.equal(seen[1]![0]!['x-api-key'], undefined, 'another origin does not')
})
