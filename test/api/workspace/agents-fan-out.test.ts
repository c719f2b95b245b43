// route-project through HTTP against a real MCP agent: at most agents.fanOutConcurrency calls run at once,
// every agent keeps its entry in assignment order, and the deadline covers the whole fan-out (an agent whose
// turn comes after it is not called).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startMcpAgent } from '../../helpers/agent-servers.js'
import { as, startWorkspace } from './workspace-helpers.js'

test('route-project runs at most agents.fanOutConcurrency calls at a time', async (t) => {
  const { call, tenants: [a] } = await startWorkspace(t, {
    env: { ATRIUM_AGENTS_ALLOW_PRIVATE: 'true', ATRIUM_AGENTS_FAN_OUT_CONCURRENCY: '2', ATRIUM_AGENTS_FAN_OUT_DEADLINE_MS: '3000' },
  })
  const orgAdmin = as(a, 'Org admin')
  const user = as(a, 'Dataset user')
  // one server behind every agent: its in-flight count is the fan-out's
  const mcp = await startMcpAgent(t)
  const projectWithAgents = async (name: string, count: number) => {
    const project = await call(orgAdmin, 'POST', '/api/v1/projects', { name })
    assert.equal(project.status, 201, project.text)
    const ids: string[] = []
    for (let i = 0; i < count; i++) {
      const agent = await call(orgAdmin, 'POST', '/api/v1/agents', { name: `${name} ${i}`, protocol: 'MCP', endpoint_url: mcp.url, project_id: project.body.id })
      assert.equal(agent.status, 201, agent.text)
      ids.push(agent.body.id)
    }
    return { project: project.body.id as string, ids }
  }

  await t.test('five agents, cap 2: two calls at a time, five entries in assignment order', async () => {
    const { project, ids } = await projectWithAgents('capped', 5)
    const res = await call(user, 'POST', '/api/v1/agent-gateway/route-project', { project_id: project, message: { tool: 'sleep', arguments: { ms: 300 } } })
    assert.equal(res.status, 200, res.text)
    assert.deepEqual(res.body.map((e: { agent_id: string }) => e.agent_id), ids)
    for (const e of res.body) assert.equal(e.error, null, JSON.stringify(e.error))
    for (const e of res.body) assert.equal(e.result.content[0].text, 'slept 300')
    assert.equal(mcp.toolCalls, 5)
    assert.equal(mcp.peakInFlight, 2, 'never more than agents.fanOutConcurrency calls at once')
  })

  await t.test('the deadline covers the whole fan-out: agents whose turn comes after it are not called', async () => {
    const { project, ids } = await projectWithAgents('late', 5)
    const before = mcp.toolCalls
    const started = Date.now()
    // each call outlasts the 3 s deadline: the first two time out, the other three never start
    const res = await call(user, 'POST', '/api/v1/agent-gateway/route-project', { project_id: project, message: { tool: 'sleep', arguments: { ms: 5000 } } })
    const took = Date.now() - started
    assert.equal(res.status, 200, res.text)
    assert.deepEqual(res.body.map((e: { agent_id: string }) => e.agent_id), ids)
    for (const e of res.body) {
      assert.equal(e.result, null)
      assert.equal(e.error.code, 'timeout')
    }
    assert.match(res.body[4].error.message, /deadline passed before this agent's turn/)
    assert.ok(took < 4500, `answered by the deadline, not after one deadline per turn (${took} ms)`)
    assert.equal(mcp.toolCalls - before, 2, 'only the first two agents were called')
  })
})
