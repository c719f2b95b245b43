// Agent endpoints on loopback or private addresses are refused when ATRIUM_AGENTS_ALLOW_PRIVATE is unset: on
// save (422 agent_url_not_allowed), and by every connection Atrium opens (a name that resolves inward later).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { guardedFetch } from '../../../src/agents/guarded-fetch.js'
import { startMcpAgent } from '../../helpers/agent-servers.js'
import { as, startWorkspace } from './workspace-helpers.js'

test('agent endpoints on internal addresses are refused unless allowed', async (t) => {
  const { call, tenants: [a] } = await startWorkspace(t)
  const orgAdmin = as(a, 'Org admin')
  const mcp = await startMcpAgent(t)
  const project = await call(orgAdmin, 'POST', '/api/v1/projects', { name: 'private' })
  assert.equal(project.status, 201, project.text)
  const body = { name: 'inside', protocol: 'MCP', project_id: project.body.id }

  await t.test('create and update refuse loopback, private and link-local hosts', async () => {
    for (const url of [mcp.url, 'http://localhost:9/mcp', 'http://[::1]:9/mcp', 'http://10.1.2.3/mcp', 'http://169.254.169.254/latest', 'http://192.168.0.10/a2a']) {
      const res = await call(orgAdmin, 'POST', '/api/v1/agents', { ...body, endpoint_url: url })
      assert.equal(res.status, 422, `${url}: ${res.text}`)
      assert.deepEqual(res.body.detail[0].loc, ['body', 'endpoint_url'])
      assert.equal(res.body.detail[0].type, 'agent_url_not_allowed')
      assert.match(res.body.detail[0].msg, /loopback, private or link-local/)
    }
    const unresolvable = await call(orgAdmin, 'POST', '/api/v1/agents', { ...body, endpoint_url: 'http://no-such-host.invalid/mcp' })
    assert.equal(unresolvable.status, 422)
    assert.match(unresolvable.body.detail[0].msg, /does not resolve/)
    assert.deepEqual((await call(orgAdmin, 'GET', '/api/v1/agents')).body.agents, [], 'nothing was saved')
  })

  await t.test('the connection itself refuses a name resolving to an internal address (no DNS rebinding)', async () => {
    const viaName = mcp.url.replace('127.0.0.1', 'localhost')
    await assert.rejects(guardedFetch(false)(viaName, { method: 'POST', body: '{}' }), (err: NodeJS.ErrnoException) => err.code === 'EINTERNALADDRESS')
    await assert.rejects(guardedFetch(false)(mcp.url, { method: 'POST', body: '{}' }), (err: NodeJS.ErrnoException) => err.code === 'EINTERNALADDRESS')
    const calls = mcp.calls
    assert.equal(calls, 0, 'the agent was never reached')
    // allowed: the same request reaches the agent (which answers its protocol's error for an empty body)
    const allowed = await guardedFetch(true)(mcp.url, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' } })
    assert.ok(allowed.status >= 400 && allowed.status < 500, String(allowed.status))
    assert.equal(mcp.calls, 1)
  })
})
