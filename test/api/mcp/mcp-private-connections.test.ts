// An Assistant connection (a private client) is not reachable through MCP either: no credential lists it, and
// every tool and resource naming it answers as for an unknown client — its owner's session included, since the
// owner reaches it only through /api.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { ADMIN_KEY, startTestAtrium } from '../../helpers/atrium.js'
import { asUser, connectionConfig, JWT_SECRET, sessionToken } from '../../helpers/assistant.js'
import { createKey } from '../../helpers/auth-grid.js'
import { createPgDatabase } from '../../helpers/databases.js'

test('MCP endpoint: a private Assistant connection stays private', async (t) => {
  const pg = await createPgDatabase(t)
  await pg.load('shop')
  const atrium = await startTestAtrium(t, {
    // the same database as a public client too: listed, where the private one is not
    sources: { open: pg.url },
    env: { ATRIUM_JWT_SECRET: JWT_SECRET, ATRIUM_ASSISTANT_ALLOW_PRIVATE: 'true' },
    settings: { 'sessions.roleRights': { authenticated: ['gateway.read', 'sql.read', 'schema.read'] } },
  })
  const adaToken = await sessionToken('ada')
  assert.equal((await asUser(atrium, adaToken)('POST', '/api/connections', { name: 'shop', ...connectionConfig(pg) })).status, 201)
  const [{ client_name: client }] = await atrium.catalog.query<{ client_name: string }>('SELECT client_name FROM atrium.assistant_connections WHERE name = $1', ['shop'])
  const { key } = await createKey(atrium, { rights: ['*'] })

  const clients: Client[] = []
  t.after(async () => { for (const c of clients) await c.close().catch(() => {}) })
  for (const [who, headers] of [['an unbound key with every right', { apikey: key }], ['the admin key', { apikey: ADMIN_KEY }], ["the owner's session", { Authorization: `Bearer ${adaToken}` }]] as const) {
    await t.test(who, async () => {
      const mcp = new Client({ name: 'atrium-mcp-test', version: '1.0.0' })
      await mcp.connect(new StreamableHTTPClientTransport(new URL(`${atrium.url}/mcp`), { requestInit: { headers } }))
      clients.push(mcp)
      const listed = await mcp.callTool({ name: 'list_data_sources', arguments: {} }) as CallToolResult
      assert.ok(!listed.isError, JSON.stringify(listed))
      const names = JSON.parse((listed.content[0] as { text: string }).text).data_sources.map((s: { name: string }) => s.name)
      assert.ok(names.includes('open') && !names.includes(client), names.join(' '))
      assert.ok(!(await mcp.listResources()).resources.some((r) => r.uri.startsWith(`atrium://${client}/`)))
      for (const [name, args] of [
        ['read_rows', { client, table: 'customers', limit: 1 }],
        ['run_sql', { client, sql: 'SELECT name FROM customers' }],
        ['describe_table', { client, table: 'customers' }],
        ['list_tables', { client }],
      ] as const) {
        const res = await mcp.callTool({ name, arguments: args }) as CallToolResult
        const text = (res.content[0] as { text: string }).text
        assert.equal(res.isError, true, `${name}: ${text}`)
        assert.match(text, /^400 unknown_client/, name)
        assert.ok(!text.includes('Ada'), 'no row of the connection is returned')
      }
      await assert.rejects(mcp.readResource({ uri: `atrium://${client}/tables/customers` }), /unknown_client/)
    })
  }
})
