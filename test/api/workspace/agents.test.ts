// Workspace agents through HTTP against real agents: MCP (official SDK McpServer, streamable HTTP) and A2A
// (official SDK server under express), registered, tested, asked for their tools, routed to one by one and
// all at once, held to their rate limits (counted in Redis), assigned and removed per project, logged and
// counted in /metrics — and refused to callers without the role or of another tenant.
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { test } from 'node:test'
import { startTestAtrium } from '../../helpers/atrium.js'
import { startA2aAgent, startMcpAgent } from '../../helpers/agent-servers.js'
import { as, JWT_SECRET, startWorkspace, type Caller } from './workspace-helpers.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** a port nothing listens on: taken, then released */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as { port: number }
  await new Promise((r) => server.close(r))
  return port
}

test('Workspace agents over MCP and A2A', async (t) => {
  const env = {
    ATRIUM_AGENTS_ALLOW_PRIVATE: 'true',
    ATRIUM_AGENTS_FAN_OUT_DEADLINE_MS: '1500',
    REDIS_URL: 'redis://127.0.0.1:6379',
    ATRIUM_RATE_LIMIT_PREFIX: `atrium-agents-test-${process.pid}-${Date.now()}`,
  }
  const bed = await startWorkspace(t, { env })
  const { call, admin, atrium, tenants: [a, b] } = bed
  const orgAdmin = as(a, 'Org admin')
  const user = as(a, 'Dataset user')
  const [mcp, echo, slow] = await Promise.all([startMcpAgent(t), startA2aAgent(t), startA2aAgent(t, { name: 'slow agent', delayMs: 4000 })])

  const project = async (who: Caller, name: string) => {
    const res = await call(who, 'POST', '/api/v1/projects', { name })
    assert.equal(res.status, 201, res.text)
    return res.body.id as string
  }
  const [p1, p2, fan] = [await project(orgAdmin, 'agents p1'), await project(orgAdmin, 'agents p2'), await project(orgAdmin, 'fan-out')]
  const otherProject = await project(as(b, 'Org admin'), 'b project')
  const register = async (body: Record<string, unknown>) => {
    const res = await call(orgAdmin, 'POST', '/api/v1/agents', body)
    assert.equal(res.status, 201, res.text)
    return res.body
  }

  let mcpAgent: any
  let a2aAgent: any
  await t.test('create: Org admin only, validated, with a project of the tenant, and a gateway_url', async () => {
    const body = { name: 'calculator', protocol: 'MCP', endpoint_url: mcp.url, project_id: p1, capabilities: { tools: true }, agent_metadata: { team: 'finance' } }
    assert.equal((await call(as(a, 'Dataset editor'), 'POST', '/api/v1/agents', body)).status, 403)
    const noProject = await call(orgAdmin, 'POST', '/api/v1/agents', { ...body, project_id: undefined })
    assert.equal(noProject.status, 422)
    assert.deepEqual(noProject.body.detail[0].loc, ['body', 'project_id'])
    const soap = await call(orgAdmin, 'POST', '/api/v1/agents', { ...body, protocol: 'SOAP' })
    assert.equal(soap.status, 422)
    assert.deepEqual(soap.body.detail[0].loc, ['body', 'protocol'])
    const badUrl = await call(orgAdmin, 'POST', '/api/v1/agents', { ...body, endpoint_url: 'ftp://agents.example.com/x' })
    assert.equal(badUrl.status, 422, badUrl.text)
    assert.deepEqual(badUrl.body.detail[0].loc, ['body', 'endpoint_url'])
    assert.match(badUrl.body.detail[0].msg, /scheme must be http or https/)
    const withCredentials = await call(orgAdmin, 'POST', '/api/v1/agents', { ...body, endpoint_url: 'http://me:secret@127.0.0.1/mcp' })
    assert.equal(withCredentials.status, 422)
    assert.equal((await call(orgAdmin, 'POST', '/api/v1/agents', { ...body, project_id: otherProject })).status, 404, 'another tenant\'s project')

    mcpAgent = await register(body)
    assert.match(mcpAgent.id, UUID)
    assert.equal(mcpAgent.tenant_id, a.id)
    assert.equal(mcpAgent.status, 'active')
    assert.equal(mcpAgent.archived_at, null)
    assert.deepEqual(mcpAgent.agent_metadata, { team: 'finance' })
    assert.equal(mcpAgent.gateway_url, `${atrium.url}/api/v1/agent-gateway/route`)
    a2aAgent = await register({ name: 'echo', protocol: 'A2A', endpoint_url: echo.url, project_id: p1, role: 'assistant' })
    const listed = await call(user, 'GET', '/api/v1/agents')
    assert.equal(listed.status, 200)
    assert.deepEqual(listed.body.agents.map((x: { id: string }) => x.id), [mcpAgent.id, a2aAgent.id])
    assert.deepEqual((await call(user, 'GET', '/api/v1/agents?skip=1&limit=1')).body.agents.map((x: { id: string }) => x.id), [a2aAgent.id])
  })

  await t.test('update: fields left out keep their value; null clears metadata; status is active or inactive', async () => {
    const renamed = await call(orgAdmin, 'PUT', `/api/v1/agents/${a2aAgent.id}`, { name: 'echo agent', agent_metadata: null })
    assert.equal(renamed.status, 200, renamed.text)
    assert.equal(renamed.body.name, 'echo agent')
    assert.equal(renamed.body.endpoint_url, echo.url)
    assert.equal(renamed.body.agent_metadata, null)
    assert.equal((await call(orgAdmin, 'PUT', `/api/v1/agents/${a2aAgent.id}`, { status: 'sleeping' })).status, 422)
    assert.equal((await call(as(a, 'Dataset editor'), 'PUT', `/api/v1/agents/${a2aAgent.id}`, { name: 'x' })).status, 403)
  })

  await t.test('test: a real handshake with each protocol; a dead endpoint is ok:false with the error', async () => {
    const m = await call(orgAdmin, 'POST', `/api/v1/agents/${mcpAgent.id}/test`)
    assert.equal(m.status, 200, m.text)
    assert.equal(m.body.ok, true, JSON.stringify(m.body.error))
    assert.match(m.body.protocol_version, /^\d{4}-\d{2}-\d{2}$/, 'the MCP protocol version negotiated at initialize')
    assert.deepEqual(m.body.agent, { name: 'calculator', version: '2.1.0' })
    assert.equal(m.body.tools_count, 3)
    assert.equal(typeof m.body.latency_ms, 'number')

    const e = await call(orgAdmin, 'POST', `/api/v1/agents/${a2aAgent.id}/test`)
    assert.equal(e.body.ok, true, JSON.stringify(e.body.error))
    assert.equal(e.body.protocol_version, '1.0')
    assert.deepEqual(e.body.agent, { name: 'echo agent', version: '1.4.0' })
    assert.equal(e.body.ping.parts[0].text, 'echo: ping', 'the ping message was sent and answered')

    const dead = await register({ name: 'dead', protocol: 'MCP', endpoint_url: `http://127.0.0.1:${await closedPort()}/mcp`, project_id: p2 })
    const d = await call(orgAdmin, 'POST', `/api/v1/agents/${dead.id}/test`)
    assert.equal(d.status, 200, d.text)
    assert.equal(d.body.ok, false)
    assert.equal(d.body.error.code, 'unreachable')
    const wrong = await register({ name: 'not an agent', protocol: 'A2A', endpoint_url: `${atrium.url}/nothing/`, project_id: p2 })
    const w = await call(orgAdmin, 'POST', `/api/v1/agents/${wrong.id}/test`)
    assert.equal(w.body.ok, false)
    assert.equal(w.body.error.code, 'protocol_error')
    assert.match(w.body.error.message, /Agent Card|404/)
    assert.equal((await call(user, 'POST', `/api/v1/agents/${mcpAgent.id}/test`)).status, 403)
    for (const x of [dead, wrong]) assert.equal((await call(orgAdmin, 'DELETE', `/api/v1/agents/${x.id}`)).status, 204)
  })

  await t.test('tools: MCP tools with their input schema, A2A skills, served from the cache within the TTL', async () => {
    const before = mcp.calls
    const first = await call(user, 'GET', `/api/v1/agents/${mcpAgent.id}/tools`)
    assert.equal(first.status, 200, first.text)
    const names = first.body.tools.map((x: { name: string }) => x.name).sort()
    assert.deepEqual(names, ['add', 'fail', 'sleep'])
    const add = first.body.tools.find((x: { name: string }) => x.name === 'add')
    assert.equal(add.description, 'Adds two numbers')
    assert.deepEqual(Object.keys(add.input_schema.properties).sort(), ['a', 'b'])
    const again = await call(user, 'GET', `/api/v1/agents/${mcpAgent.id}/tools`)
    assert.equal(again.body.cached, true)
    assert.deepEqual(again.body.tools, first.body.tools)
    assert.ok(mcp.calls > before || first.body.cached, 'the first listing asked the agent (or the handshake just did)')
    const callsAfter = mcp.calls
    await call(user, 'GET', `/api/v1/agents/${mcpAgent.id}/tools`)
    assert.equal(mcp.calls, callsAfter, 'a cached listing does not reach the agent')

    const skills = await call(user, 'GET', `/api/v1/agents/${a2aAgent.id}/tools`)
    assert.equal(skills.status, 200, skills.text)
    assert.deepEqual(skills.body.tools.map((x: { id: string; name: string }) => [x.id, x.name]), [['echo', 'Echo']])
    assert.deepEqual(skills.body.tools[0].examples, ['hello'])
  })

  await t.test('route: MCP tools/call when the message names a tool, A2A message/send otherwise', async () => {
    const sum = await call(user, 'POST', '/api/v1/agent-gateway/route', { agent_id: mcpAgent.id, message: { tool: 'add', arguments: { a: 2, b: 3 } } })
    assert.equal(sum.status, 200, sum.text)
    assert.match(sum.body.id, UUID)
    assert.equal(sum.body.error, null)
    assert.deepEqual(sum.body.result.structuredContent, { sum: 5 })
    assert.equal(sum.body.result.content[0].text, '5')

    const failed = await call(user, 'POST', '/api/v1/agent-gateway/route', { agent_id: mcpAgent.id, message: { tool: 'fail' } })
    assert.equal(failed.status, 200)
    assert.equal(failed.body.error.code, 'tool_error')
    assert.match(failed.body.error.message, /the tool broke/)
    const noTool = await call(user, 'POST', '/api/v1/agent-gateway/route', { agent_id: mcpAgent.id, message: { text: 'hello' } })
    assert.equal(noTool.status, 422)
    assert.deepEqual(noTool.body.detail[0].loc, ['body', 'message', 'tool'])

    const said = await call(user, 'POST', '/api/v1/agent-gateway/route', { agent_id: a2aAgent.id, project_id: p1, message: { text: 'hello secret-sentinel-7f3a' } })
    assert.equal(said.status, 200, said.text)
    assert.equal(said.body.error, null)
    assert.equal(said.body.result.kind, 'message')
    assert.equal(said.body.result.role, 'agent')
    assert.equal(said.body.result.parts[0].text, 'echo: hello secret-sentinel-7f3a')
    assert.equal(echo.lastText, 'hello secret-sentinel-7f3a')
    const cardReads = echo.cardReads
    assert.equal((await call(user, 'POST', '/api/v1/agent-gateway/route', { agent_id: a2aAgent.id, message: { data: { n: 1 } } })).body.result.parts[0].text, 'echo: {"n":1}')
    assert.equal(echo.cardReads, cardReads, 'routed calls reuse the agent card read by the handshake (within the TTL)')

    assert.equal((await call(user, 'POST', '/api/v1/agent-gateway/route', { agent_id: a2aAgent.id, project_id: p2, message: { text: 'x' } })).status, 404, 'not assigned to p2')
    assert.equal((await call(user, 'POST', '/api/v1/agent-gateway/route', { agent_id: '00000000-0000-4000-8000-000000000000', message: { text: 'x' } })).status, 404)
    assert.equal((await call(user, 'POST', '/api/v1/agent-gateway/route', { agent_id: a2aAgent.id })).status, 422)
  })

  await t.test('an inactive agent is not routed to', async () => {
    assert.equal((await call(orgAdmin, 'PUT', `/api/v1/agents/${a2aAgent.id}`, { status: 'inactive' })).status, 200)
    const refused = await call(user, 'POST', '/api/v1/agent-gateway/route', { agent_id: a2aAgent.id, message: { text: 'x' } })
    assert.equal(refused.status, 409)
    assert.match(refused.body.detail, /inactive/)
    assert.equal((await call(orgAdmin, 'PUT', `/api/v1/agents/${a2aAgent.id}`, { status: 'active' })).status, 200)
  })

  await t.test('projects: assign, list, remove; a removed agent cannot be routed to from that project', async () => {
    assert.equal((await call(as(a, 'Dataset editor'), 'POST', `/api/v1/projects/${p2}/agents`, { agent_id: a2aAgent.id })).status, 403)
    const assigned = await call(orgAdmin, 'POST', `/api/v1/projects/${p2}/agents`, { agent_id: a2aAgent.id, role: 'reviewer' })
    assert.equal(assigned.status, 201, assigned.text)
    assert.deepEqual({ p: assigned.body.project_id, a: assigned.body.agent_id, r: assigned.body.role, x: assigned.body.archived_at }, { p: p2, a: a2aAgent.id, r: 'reviewer', x: null })
    assert.equal((await call(orgAdmin, 'POST', `/api/v1/projects/${p2}/agents`, { agent_id: a2aAgent.id })).status, 409)
    assert.equal((await call(orgAdmin, 'POST', `/api/v1/projects/${p2}/agents`, { agent_id: '00000000-0000-4000-8000-000000000000' })).status, 404)
    const listed = await call(user, 'GET', `/api/v1/projects/${p2}/agents`)
    assert.equal(listed.status, 200)
    assert.deepEqual(listed.body.agents.map((x: { id: string; project_role: string }) => [x.id, x.project_role]), [[a2aAgent.id, 'reviewer']])
    assert.equal((await call(user, 'POST', '/api/v1/agent-gateway/route', { agent_id: a2aAgent.id, project_id: p2, message: { text: 'from p2' } })).status, 200)

    assert.equal((await call(user, 'DELETE', `/api/v1/projects/${p2}/agents/${a2aAgent.id}`)).status, 403)
    assert.equal((await call(orgAdmin, 'DELETE', `/api/v1/projects/${p2}/agents/${a2aAgent.id}`)).status, 204)
    const after = await call(user, 'POST', '/api/v1/agent-gateway/route', { agent_id: a2aAgent.id, project_id: p2, message: { text: 'from p2' } })
    assert.equal(after.status, 404)
    assert.match(after.body.detail, /not assigned/)
    assert.deepEqual((await call(user, 'GET', `/api/v1/projects/${p2}/agents`)).body.agents, [])
    assert.equal((await call(orgAdmin, 'DELETE', `/api/v1/projects/${p2}/agents/${a2aAgent.id}`)).status, 404, 'already removed')
    const last = await call(orgAdmin, 'DELETE', `/api/v1/projects/${p1}/agents/${a2aAgent.id}`)
    assert.equal(last.status, 409, 'an agent keeps at least one project')
    assert.match(last.body.detail, /only project/)
  })

  await t.test('route-project: every agent at once, one entry each; a slow agent times out, the others answer', async () => {
    const slowAgent = await register({ name: 'slow', protocol: 'A2A', endpoint_url: slow.url, project_id: fan })
    for (const agent of [mcpAgent, a2aAgent]) assert.equal((await call(orgAdmin, 'POST', `/api/v1/projects/${fan}/agents`, { agent_id: agent.id })).status, 201)
    const res = await call(user, 'POST', '/api/v1/agent-gateway/route-project', { project_id: fan, message: { tool: 'add', arguments: { a: 20, b: 22 }, text: 'to everyone' } })
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.length, 3)
    const by = Object.fromEntries(res.body.map((e: { agent_id: string }) => [e.agent_id, e]))
    assert.deepEqual(by[mcpAgent.id].result.structuredContent, { sum: 42 })
    assert.equal(by[mcpAgent.id].error, null)
    assert.equal(by[a2aAgent.id].result.parts[0].text, 'echo: to everyone')
    assert.equal(by[slowAgent.id].result, null)
    assert.equal(by[slowAgent.id].error.code, 'timeout')
    assert.equal(by[slowAgent.id].protocol, 'A2A')
    for (const e of res.body) assert.match(e.id, UUID)
    assert.equal((await call(user, 'POST', '/api/v1/agent-gateway/route-project', { project_id: otherProject, message: { text: 'x' } })).status, 404)
  })

  await t.test('rate limits: defaults, then the agent\'s own per-minute limit answers 429 with detail and Retry-After', async () => {
    const defaults = await call(user, 'GET', `/api/v1/agents/${a2aAgent.id}/rate-limit`)
    assert.equal(defaults.status, 200, defaults.text)
    assert.deepEqual([defaults.body.max_requests_per_second, defaults.body.max_requests_per_minute, defaults.body.max_requests_per_hour, defaults.body.is_default], ['10', '120', '3600', true])
    assert.equal((await call(user, 'PUT', `/api/v1/agents/${a2aAgent.id}/rate-limit`, { max_requests_per_second: 5, max_requests_per_minute: 2, max_requests_per_hour: 100 })).status, 403)
    assert.equal((await call(orgAdmin, 'PUT', `/api/v1/agents/${a2aAgent.id}/rate-limit`, { max_requests_per_second: -1, max_requests_per_minute: 2, max_requests_per_hour: 100 })).status, 422)
    const set = await call(orgAdmin, 'PUT', `/api/v1/agents/${a2aAgent.id}/rate-limit`, { max_requests_per_second: 5, max_requests_per_minute: '2', max_requests_per_hour: 100 })
    assert.equal(set.status, 200, set.text)
    assert.equal(set.body.agent_id, a2aAgent.id)
    assert.match(set.body.id, UUID)
    assert.deepEqual([set.body.max_requests_per_minute, set.body.is_default], ['2', false])
    const send = () => call(user, 'POST', '/api/v1/agent-gateway/route', { agent_id: a2aAgent.id, message: { text: 'counted' } })
    assert.equal((await send()).status, 200)
    assert.equal((await send()).status, 200)
    const limited = await send()
    assert.equal(limited.status, 429, limited.text)
    assert.match(limited.body.detail, /this agent: 2 requests per 60 s/)
    assert.ok(Number(limited.headers.get('retry-after')) >= 1)

    // a second process on the same catalog and Redis counts the same calls: the limit holds across nodes
    const second = await startTestAtrium(t, { catalog: atrium.catalog, env: { ATRIUM_JWT_SECRET: JWT_SECRET, ...env } })
    const elsewhere = await second.request('POST', '/api/v1/agent-gateway/route', {
      key: null, headers: { authorization: `Bearer ${a.users['Dataset user'].token}` }, body: { agent_id: a2aAgent.id, message: { text: 'counted' } },
    })
    assert.equal(elsewhere.status, 429, elsewhere.text)

    // in a fan-out, the limited agent gets its own entry and the others still answer
    const fanned = await call(user, 'POST', '/api/v1/agent-gateway/route-project', { project_id: fan, message: { tool: 'add', arguments: { a: 1, b: 1 }, text: 'again' } })
    const entry = fanned.body.find((e: { agent_id: string }) => e.agent_id === a2aAgent.id)
    assert.equal(entry.error.code, 'rate_limited')
    assert.ok(entry.error.retry_after >= 1)
    assert.deepEqual(fanned.body.find((e: { agent_id: string }) => e.agent_id === mcpAgent.id).result.structuredContent, { sum: 2 })
  })

  await t.test('rate limits: concurrency — a call while the agent\'s only slot is busy is a 429', async () => {
    assert.equal((await call(orgAdmin, 'PUT', `/api/v1/agents/${mcpAgent.id}/rate-limit`, { max_requests_per_second: 100, max_requests_per_minute: 1000, max_requests_per_hour: 10000, max_concurrency: 1 })).status, 200)
    const busy = call(user, 'POST', '/api/v1/agent-gateway/route', { agent_id: mcpAgent.id, message: { tool: 'sleep', arguments: { ms: 1500 } } })
    await new Promise((r) => setTimeout(r, 400))
    const refused = await call(user, 'POST', '/api/v1/agent-gateway/route', { agent_id: mcpAgent.id, message: { tool: 'add', arguments: { a: 1, b: 1 } } })
    assert.equal(refused.status, 429, refused.text)
    assert.match(refused.body.detail, /concurrency/)
    assert.equal((await busy).status, 200)
    const freed = await call(user, 'POST', '/api/v1/agent-gateway/route', { agent_id: mcpAgent.id, message: { tool: 'add', arguments: { a: 1, b: 1 } } })
    assert.equal(freed.status, 200, 'the slot is given back when the call ends')
    const kept = await call(orgAdmin, 'PUT', `/api/v1/agents/${mcpAgent.id}/rate-limit`, { max_requests_per_second: 100, max_requests_per_minute: 1000, max_requests_per_hour: 10000 })
    assert.equal(kept.body.max_concurrency, 1, 'a PUT without max_concurrency keeps the agent\'s own')
  })

  await t.test('every routed call is logged without the message, and counted in /metrics', async () => {
    const logs = atrium.logs()
    assert.match(logs, new RegExp(`"agent_id":"${a2aAgent.id}"[^\\n]*"outcome":"ok"`))
    assert.match(logs, new RegExp(`"user":"${a.users['Dataset user'].id}"`))
    assert.match(logs, /"outcome":"rate_limited"/)
    assert.match(logs, /"outcome":"timeout"/)
    assert.ok(!logs.includes('secret-sentinel-7f3a'), 'the message text is never logged')
    const metrics = await call(admin(), 'GET', '/metrics')
    assert.equal(metrics.status, 200)
    assert.match(metrics.text, /athena_agent_calls_total\{protocol="MCP",outcome="ok"\} [1-9]/)
    assert.match(metrics.text, /athena_agent_calls_total\{protocol="A2A",outcome="rate_limited"\} [1-9]/)
    assert.match(metrics.text, /athena_agent_calls_total\{protocol="A2A",outcome="timeout"\} [1-9]/)
    assert.match(metrics.text, /athena_agent_call_duration_seconds_count\{protocol="MCP"\} [1-9]/)
  })

  await t.test('credentials and roles: 401 without a token, 403 below the role, on every route', async () => {
    const id = mcpAgent.id
    const routes: Array<[string, string, unknown, 'read' | 'write' | 'route']> = [
      ['POST', '/api/v1/agents', { name: 'x', protocol: 'MCP', endpoint_url: mcp.url, project_id: p1 }, 'write'],
      ['GET', '/api/v1/agents', undefined, 'read'],
      ['GET', `/api/v1/agents/${id}`, undefined, 'read'],
      ['PUT', `/api/v1/agents/${id}`, { name: 'calculator' }, 'write'],
      ['DELETE', `/api/v1/agents/${id}`, undefined, 'write'],
      ['POST', `/api/v1/agents/${id}/test`, undefined, 'write'],
      ['GET', `/api/v1/agents/${id}/tools`, undefined, 'read'],
      ['GET', `/api/v1/agents/${id}/rate-limit`, undefined, 'read'],
      ['PUT', `/api/v1/agents/${id}/rate-limit`, { max_requests_per_second: 1, max_requests_per_minute: 1, max_requests_per_hour: 1 }, 'write'],
      ['POST', `/api/v1/projects/${p2}/agents`, { agent_id: id }, 'write'],
      ['GET', `/api/v1/projects/${p1}/agents`, undefined, 'read'],
      ['DELETE', `/api/v1/projects/${p1}/agents/${id}`, undefined, 'write'],
      ['POST', '/api/v1/agent-gateway/route', { agent_id: id, message: { tool: 'add', arguments: { a: 1, b: 1 } } }, 'route'],
      ['POST', '/api/v1/agent-gateway/route-project', { project_id: p1, message: { text: 'x' } }, 'route'],
    ]
    for (const [method, path, body, kind] of routes) {
      const none = await call({ token: null }, method, path, body)
      assert.equal(none.status, 401, `${method} ${path} without a token`)
      assert.equal(typeof none.body.detail, 'string')
      if (kind === 'write') {
        for (const role of ['Dataset user', 'Dataset editor'] as const) {
          const res = await call(as(a, role), method, path, body)
          assert.equal(res.status, 403, `${method} ${path} as ${role}: ${res.text}`)
          assert.equal(res.body.detail, 'this operation needs the "Org admin" role (yours is "' + role + '")')
        }
      } else {
        const res = await call(user, method, path, body)
        assert.ok(res.status < 400, `${method} ${path} as Dataset user: ${res.status} ${res.text}`)
      }
    }
  })

  await t.test('another tenant\'s agent is 404 on every route, even for its Org admin', async () => {
    const other = as(b, 'Org admin')
    const id = mcpAgent.id
    for (const [method, path, body] of [
      ['GET', `/api/v1/agents/${id}`], ['PUT', `/api/v1/agents/${id}`, { name: 'stolen' }], ['DELETE', `/api/v1/agents/${id}`],
      ['POST', `/api/v1/agents/${id}/test`], ['GET', `/api/v1/agents/${id}/tools`], ['GET', `/api/v1/agents/${id}/rate-limit`],
      ['PUT', `/api/v1/agents/${id}/rate-limit`, { max_requests_per_second: 1, max_requests_per_minute: 1, max_requests_per_hour: 1 }],
      ['POST', `/api/v1/projects/${otherProject}/agents`, { agent_id: id }],
      ['GET', `/api/v1/projects/${p1}/agents`],
      ['DELETE', `/api/v1/projects/${p1}/agents/${id}`],
      ['POST', '/api/v1/agent-gateway/route', { agent_id: id, message: { tool: 'add', arguments: { a: 1, b: 1 } } }],
      ['POST', '/api/v1/agent-gateway/route-project', { project_id: p1, message: { text: 'x' } }],
    ] as Array<[string, string, unknown?]>) {
      const res = await call(other, method, path, body)
      assert.equal(res.status, 404, `${method} ${path}: ${res.text}`)
    }
    assert.deepEqual((await call(other, 'GET', '/api/v1/agents')).body.agents, [])
    // the admin key acts inside the tenant it names
    assert.equal((await call(admin(b.id), 'GET', `/api/v1/agents/${id}`)).status, 404)
    assert.equal((await call(admin(a.id), 'GET', `/api/v1/agents/${id}`)).status, 200)
  })

  await t.test('delete is soft: the agent leaves lists and answers 404, and nothing routes to it', async () => {
    assert.equal((await call(orgAdmin, 'DELETE', `/api/v1/agents/${a2aAgent.id}`)).status, 204)
    assert.equal((await call(user, 'GET', `/api/v1/agents/${a2aAgent.id}`)).status, 404)
    assert.ok(!(await call(user, 'GET', '/api/v1/agents')).body.agents.some((x: { id: string }) => x.id === a2aAgent.id))
    assert.ok(!(await call(user, 'GET', `/api/v1/projects/${fan}/agents`)).body.agents.some((x: { id: string }) => x.id === a2aAgent.id))
    assert.equal((await call(user, 'POST', '/api/v1/agent-gateway/route', { agent_id: a2aAgent.id, message: { text: 'x' } })).status, 404)
    const [row] = await atrium.catalog.query<{ archived_at: Date | null }>('SELECT archived_at FROM atrium.ws_agents WHERE id = $1', [a2aAgent.id])
    assert.ok(row?.archived_at, 'the row stays, archived')
    assert.equal((await call(orgAdmin, 'DELETE', `/api/v1/agents/${a2aAgent.id}`)).status, 404)
  })
})
