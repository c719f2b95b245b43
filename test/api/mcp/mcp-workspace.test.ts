// The MCP endpoint's Workspace tools, through the official MCP client: a Workspace user's session JWT runs a saved
// query as a query job and reads its result through the Workspace routes (role and tenant checks included); another
// tenant's job is the route's 404; the admin key acts in the tenant it names; a platform key sees its databases only.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { ADMIN_KEY } from '../../helpers/atrium.js'
import { as, startWorkspace } from '../workspace/workspace-helpers.js'

test('MCP endpoint: Workspace tools', async (t) => {
  const { atrium, call, tenants: [a, b] } = await startWorkspace(t)
  const clients: Client[] = []
  t.after(async () => { for (const c of clients) await c.close().catch(() => {}) })
  const open = async (headers: Record<string, string>) => {
    const client = new Client({ name: 'atrium-mcp-test', version: '1.0.0' })
    await client.connect(new StreamableHTTPClientTransport(new URL(`${atrium.url}/mcp`), { requestInit: { headers } }))
    clients.push(client)
    return client
  }
  const tool = async (client: Client, name: string, args: Record<string, unknown>) => {
    const res = await client.callTool({ name, arguments: args }) as CallToolResult
    const text = (res.content[0] as { text: string }).text
    return { isError: res.isError === true, text, body: res.isError ? undefined : JSON.parse(text) }
  }

  const project = (await call(as(a, 'Org admin'), 'POST', '/api/v1/projects', { name: 'Agents' })).body
  const saved = await call(as(a, 'Dataset editor'), 'POST', '/api/v1/queries', { query_text: 'SELECT 6 * 7 AS answer', project_id: project.id })
  assert.equal(saved.status, 201, saved.text)
  const editor = await open({ Authorization: `Bearer ${a.users['Dataset editor'].token}` })

  await t.test('a Workspace user runs a saved query and reads its result', async () => {
    const tools = (await editor.listTools()).tools.map((x) => x.name)
    assert.ok(tools.includes('run_saved_query') && tools.includes('get_query_job'), tools.join(' '))
    const run = await tool(editor, 'run_saved_query', { query_id: saved.body.id })
    assert.ok(!run.isError, run.text)
    const jobId = run.body.job_id as string
    assert.ok(jobId)
    // bounded: each call waits at most 20 s for the job; the machine may be slow, so no timing is asserted
    let job: any
    for (let i = 0; i < 10; i++) {
      job = await tool(editor, 'get_query_job', { job_id: jobId, wait_seconds: 20 })
      assert.ok(!job.isError, job.text)
      if (!['pending', 'running'].includes(job.body.status)) break
    }
    assert.equal(job.body.status, 'done', job.text)
    assert.deepEqual(job.body.result.rows, [{ answer: 42 }])

    const other = await tool(editor, 'run_saved_query', { query_id: saved.body.id, query_text: 'SELECT 1 + 1 AS two' })
    assert.ok(!other.isError, other.text)
    const asQuery = await call(as(a, 'Dataset editor'), 'GET', `/api/v1/query_jobs/${other.body.job_id}`)
    assert.equal(asQuery.body.query_text, 'SELECT 1 + 1 AS two')

    // another tenant's user: the route's 404, as a tool error
    const stranger = await open({ Authorization: `Bearer ${b.users['Org admin'].token}` })
    const refused = await tool(stranger, 'get_query_job', { job_id: jobId })
    assert.equal(refused.isError, true)
    // the Workspace family's {detail} carries no code: the text is the status and the route's message
    assert.match(refused.text, /^404: no query job/)
    assert.match((await tool(stranger, 'run_saved_query', { query_id: saved.body.id })).text, /^404: /)
  })

  await t.test('the admin key acts in the tenant it names, and must name one', async () => {
    const admin = await open({ apikey: ADMIN_KEY })
    const without = await tool(admin, 'run_saved_query', { query_id: saved.body.id })
    assert.equal(without.isError, true)
    assert.match(without.text, /^400: .*X-Tenant-Id/)
    const inTenant = await tool(admin, 'run_saved_query', { query_id: saved.body.id, tenant_id: a.id })
    assert.ok(!inTenant.isError, inTenant.text)
    assert.ok(inTenant.body.job_id)
  })

  await t.test('a platform key sees its teams\' databases and no data tools', async () => {
    const created = await atrium.post('/admin/platform-keys', { body: { email: 'mcp-owner@example.test', scopes: ['databases:read'] } })
    assert.equal(created.status, 201, created.text)
    const platform = await open({ Authorization: `Bearer ${created.body.data.key}` })
    assert.deepEqual((await platform.listTools()).tools.map((x) => x.name), ['list_data_sources'])
    const listed = await tool(platform, 'list_data_sources', {})
    assert.ok(!listed.isError, listed.text)
    assert.deepEqual(listed.body.data_sources, [])
    assert.equal((await platform.listResources()).resources.length, 0)
  })
})
