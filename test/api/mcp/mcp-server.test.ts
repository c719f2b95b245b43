// Atrium as an MCP server, through the official MCP client (Client + StreamableHTTPClientTransport) against a real
// Atrium on PostgreSQL and MariaDB: the rights grid (a read key lists and reads but cannot write, by SQL or DDL; a
// write key writes; a key bound to one client cannot see or read another; the admin key; a session JWT), the
// credential checked before any MCP work (none, bad or revoked: 401), the key's rate limit, resources, and a
// route's refusal coming back as a tool error.
import assert from 'node:assert/strict'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { SignJWT } from 'jose'
import { ADMIN_KEY, startTestAtrium, type TestAtrium } from '../../helpers/atrium.js'
import { createKey } from '../../helpers/auth-grid.js'
import { createDatabase } from '../../helpers/databases.js'
import { forEachDialect } from '../../helpers/dialects.js'

const JWT_SECRET = 'test-jwt-secret-0123456789abcdef-0123456789'
const READ_RIGHTS = ['gateway.read', 'sql.read', 'schema.read']

function signToken(role: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({ sub: 'mcp-user-1', role, iat: now, exp: now + 300 }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(JWT_SECRET))
}

async function connect(atrium: TestAtrium, headers: Record<string, string>): Promise<Client> {
  const client = new Client({ name: 'atrium-mcp-test', version: '1.0.0' })
  await client.connect(new StreamableHTTPClientTransport(new URL(`${atrium.url}/mcp`), { requestInit: { headers } }))
  return client
}

/** a tool's JSON answer; fails the test when the tool answered an error */
async function callOk(client: Client, name: string, args: Record<string, unknown> = {}): Promise<any> {
  const res = await client.callTool({ name, arguments: args }) as CallToolResult
  const text = (res.content[0] as { text: string }).text
  assert.ok(!res.isError, `${name} failed: ${text}`)
  return JSON.parse(text)
}

/** the text of a tool error; fails the test when the tool succeeded */
async function callRefused(client: Client, name: string, args: Record<string, unknown>): Promise<string> {
  const res = await client.callTool({ name, arguments: args }) as CallToolResult
  const text = (res.content[0] as { text: string }).text
  assert.equal(res.isError, true, `${name} should have been refused: ${text}`)
  return text
}

/** an initialize request as a raw POST, to see the endpoint's own HTTP answer */
const initialize = (atrium: TestAtrium, headers: Record<string, string>) => fetch(`${atrium.url}/mcp`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
  body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }),
})

forEachDialect('MCP endpoint', async (t, db) => {
  await db.load('shop')
  const other = await createDatabase(t, db.dialect)
  await other.load('shop')
  const atrium = await startTestAtrium(t, {
    sources: { shop: db.url, other: other.url },
    env: { ATRIUM_JWT_SECRET: JWT_SECRET },
    // a one-minute window, so the rate-limit case sees its key's limit within the test
    // trusting the loopback proxy lets a test present another caller address with X-Forwarded-For
    settings: { 'sessions.roleRights': { reader: READ_RIGHTS }, 'rateLimits.windowSeconds': 60, 'server.trustProxy': ['127.0.0.1'] },
  })
  const clients: Client[] = []
  t.after(async () => { for (const c of clients) await c.close().catch(() => {}) })
  const open = async (headers: Record<string, string>) => {
    const c = await connect(atrium, headers)
    clients.push(c)
    return c
  }

  await t.test('no credential, a bad one or a revoked key: 401 before any MCP work', async () => {
    const none = await initialize(atrium, {})
    assert.equal(none.status, 401)
    const body = await none.json() as any
    assert.equal(body.jsonrpc, '2.0')
    assert.equal(body.error.data.code, 'missing_api_key')
    // the official client sees the HTTP status (StreamableHTTPError.code)
    await assert.rejects(connect(atrium, {}), (err: { code?: number }) => err.code === 401)

    const bad = await initialize(atrium, { apikey: 'ath_nope.not-a-real-secret' })
    assert.equal(bad.status, 401)
    assert.equal((await bad.json() as any).error.data.code, 'invalid_api_key')

    // a revoked (deleted) key is unknown: 401; a deactivated one is 403 inactive_api_key, as on every HTTP route
    const revoked = await createKey(atrium, { rights: READ_RIGHTS })
    assert.equal((await initialize(atrium, { 'x-api-key': revoked.key })).status, 200)
    const deleted = await atrium.request('DELETE', `/admin/api-keys/${revoked.id}`)
    assert.equal(deleted.status, 200, deleted.text)
    const afterDelete = await initialize(atrium, { 'x-api-key': revoked.key })
    assert.equal(afterDelete.status, 401)
    assert.equal((await afterDelete.json() as any).error.data.code, 'invalid_api_key')
    await assert.rejects(connect(atrium, { 'x-api-key': revoked.key }), (err: { code?: number }) => err.code === 401)

    const deactivated = await createKey(atrium, { rights: READ_RIGHTS })
    const off = await atrium.request('PATCH', `/admin/api-keys/${deactivated.id}`, { body: { is_active: false } })
    assert.equal(off.status, 200, off.text)
    const afterOff = await initialize(atrium, { apikey: deactivated.key })
    assert.equal(afterOff.status, 403)
    assert.equal((await afterOff.json() as any).error.data.code, 'inactive_api_key')
  })

  await t.test('stateless: one POST answers a tools/call without a session, as JSON', async () => {
    const res = await fetch(`${atrium.url}/mcp`, {
      method: 'POST',
      headers: { apikey: ADMIN_KEY, 'content-type': 'application/json', accept: 'application/json, text/event-stream', origin: 'http://agent.example.test', 'x-request-id': 'mcp-req-7' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'read_rows', arguments: { client: 'shop', table: 'customers', columns: ['name'], limit: 1, order: { column: 'id' } } } }),
    })
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /application\/json/)
    assert.equal(res.headers.get('mcp-session-id'), null)
    // what every response carries is on this one too, though the MCP transport writes it: CORS and the request id
    assert.equal(res.headers.get('access-control-allow-origin'), 'http://agent.example.test')
    assert.equal(res.headers.get('x-request-id'), 'mcp-req-7')
    const body = await res.json() as any
    assert.equal(body.id, 7)
    assert.deepEqual(JSON.parse(body.result.content[0].text).rows, [{ name: 'Ada' }])
  })

  await t.test('GET and DELETE /mcp are 405: the endpoint is stateless', async () => {
    const res = await fetch(`${atrium.url}/mcp`, { headers: { apikey: ADMIN_KEY, accept: 'text/event-stream' } })
    assert.equal(res.status, 405)
    assert.equal(res.headers.get('allow'), 'POST')
    assert.equal((await res.json() as any).error.data.code, 'mcp_method_not_allowed')
    const unauthenticated = await fetch(`${atrium.url}/mcp`, { method: 'DELETE' })
    assert.equal(unauthenticated.status, 401)
    // a body that is not JSON is JSON-RPC's parse error, a 400
    const garbled = await fetch(`${atrium.url}/mcp`, { method: 'POST', headers: { apikey: ADMIN_KEY, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{"jsonrpc":' })
    assert.equal(garbled.status, 400)
    const parseError = await garbled.json() as any
    assert.equal(parseError.error.code, -32700)
    assert.equal(parseError.error.data.code, 'invalid_json')
  })

  await t.test('a read key lists and reads, but cannot write by SQL or DDL', async () => {
    const { key } = await createKey(atrium, { rights: READ_RIGHTS })
    const mcp = await open({ Authorization: `Bearer ${key}` })
    const tools = (await mcp.listTools()).tools.map((tool) => tool.name).sort()
    assert.deepEqual(tools, ['describe_table', 'list_data_sources', 'list_tables', 'read_rows', 'run_sql'])
    const readRows = (await mcp.listTools()).tools.find((tool) => tool.name === 'read_rows')!
    assert.equal((readRows.inputSchema.properties as any).limit.maximum, 1000)

    assert.deepEqual((await callOk(mcp, 'list_data_sources')).data_sources.map((s: { name: string }) => s.name), ['other', 'shop'])
    const tables = (await callOk(mcp, 'list_tables', { client: 'shop' })).tables.map((x: { name: string }) => x.name)
    for (const name of ['customers', 'orders', 'sentinel']) assert.ok(tables.includes(name), `${name} in ${tables}`)

    const orders = await callOk(mcp, 'describe_table', { client: 'shop', table: 'orders' })
    assert.deepEqual(orders.primary_key, ['id'])
    assert.ok(orders.columns.some((c: { name: string; nullable: boolean }) => c.name === 'customer_id' && c.nullable === false))
    assert.deepEqual(orders.foreign_keys.map((fk: any) => [fk.columns, fk.references.table, fk.references.columns]), [[['customer_id'], 'customers', ['id']]])

    const read = await callOk(mcp, 'read_rows', {
      client: 'shop', table: 'orders', columns: ['id', 'status'],
      filters: [{ column: 'customer_id', operator: 'eq', value: 1 }], order: { column: 'id', direction: 'desc' }, limit: 5,
    })
    assert.deepEqual(read.rows, [{ id: 2, status: 'pending' }, { id: 1, status: 'paid' }])
    const limited = await callOk(mcp, 'read_rows', { client: 'shop', table: 'customers', limit: 2, order: { column: 'id' } })
    assert.deepEqual(limited.rows.map((r: { id: number }) => r.id), [1, 2])

    const sql = await callOk(mcp, 'run_sql', { client: 'shop', sql: 'SELECT count(*) AS n FROM customers' })
    assert.equal(Number(sql.rows[0].n), 3)
    assert.equal(sql.sql_class, 'read')

    const insert = await callRefused(mcp, 'run_sql', { client: 'shop', sql: "INSERT INTO sentinel (id, label) VALUES (500, 'written by a read key')" })
    assert.match(insert, /^403 missing_right/)
    const ddl = await callRefused(mcp, 'run_sql', { client: 'shop', sql: 'CREATE TABLE mcp_intruder (id integer)' })
    assert.match(ddl, /^403 missing_right/)
    assert.deepEqual(await db.query('SELECT id FROM sentinel ORDER BY id'), [{ id: 1 }])
    assert.equal((await db.query("SELECT table_name FROM information_schema.tables WHERE table_name = 'mcp_intruder'")).length, 0)
  })

  await t.test("a route's refusal is a tool error with its code and message, not a protocol error", async () => {
    const mcp = await open({ apikey: ADMIN_KEY })
    assert.match(await callRefused(mcp, 'read_rows', { client: 'shop', table: 'no_such_table' }), /^400 unknown_table.*no_such_table/)
    assert.match(await callRefused(mcp, 'list_tables', { client: 'nowhere' }), /^400 unknown_client/)
    // bad arguments are refused by the tool's schema, also as a tool error
    const res = await mcp.callTool({ name: 'read_rows', arguments: { client: 'shop', table: 'orders', limit: 5000 } }) as CallToolResult
    assert.equal(res.isError, true)
  })

  await t.test('a write key writes through run_sql', async () => {
    const { key, id } = await createKey(atrium, { rights: [...READ_RIGHTS, 'sql.write'] })
    const mcp = await open({ apikey: key })
    const out = await callOk(mcp, 'run_sql', { client: 'shop', sql: "INSERT INTO sentinel (id, label) VALUES (501, 'by the write key')" })
    assert.equal(out.sql_class, 'write')
    assert.deepEqual(await db.query('SELECT label FROM sentinel WHERE id = 501'), [{ label: 'by the write key' }])
    // the tool call is in the request log as its route, with the key and the SQL's class (written off the request path)
    let logged: Array<{ sql_class: string }> = []
    for (let i = 0; i < 50 && logged.length === 0; i++) {
      logged = await atrium.catalog.query<{ sql_class: string }>("SELECT sql_class FROM atrium.request_log WHERE path = '/gateway/query' AND api_key_id = $1 AND client_name = 'shop'", [id])
      if (logged.length === 0) await new Promise((resolve) => setTimeout(resolve, 100))
    }
    assert.deepEqual(logged.map((r) => r.sql_class), ['write'])
    // writing is not DDL
    assert.match(await callRefused(mcp, 'run_sql', { client: 'shop', sql: 'DROP TABLE sentinel' }), /^403 missing_right/)
  })

  await t.test('a key bound to one client neither sees nor reads another', async () => {
    const { key } = await createKey(atrium, { rights: READ_RIGHTS, client_name: 'shop' })
    const mcp = await open({ apikey: key })
    assert.deepEqual((await callOk(mcp, 'list_data_sources')).data_sources, [{ name: 'shop' }])
    assert.equal((await callOk(mcp, 'read_rows', { client: 'shop', table: 'customers', limit: 1 })).rows.length, 1)
    assert.match(await callRefused(mcp, 'read_rows', { client: 'other', table: 'customers', limit: 1 }), /^403 /)
    assert.match(await callRefused(mcp, 'list_tables', { client: 'other' }), /^403 /)
    assert.match(await callRefused(mcp, 'run_sql', { client: 'other', sql: 'SELECT 1 AS one' }), /^403 /)
    const resources = (await mcp.listResources()).resources.map((r) => r.uri)
    assert.ok(resources.includes('atrium://shop/tables/customers'), resources.join(' '))
    assert.ok(!resources.some((uri) => uri.startsWith('atrium://other/')), resources.join(' '))
    await assert.rejects(mcp.readResource({ uri: 'atrium://other/tables/customers' }), (err: { code?: number; data?: { status?: number } }) => err.code === -32602 && err.data?.status === 403)
  })

  await t.test('the admin key sees every client; table schemas are resources', async () => {
    const mcp = await open({ apikey: ADMIN_KEY })
    const tools = (await mcp.listTools()).tools.map((tool) => tool.name)
    assert.ok(tools.includes('run_saved_query') && tools.includes('get_query_job'), tools.join(' '))
    const templates = (await mcp.listResourceTemplates()).resourceTemplates.map((r) => r.uriTemplate)
    assert.deepEqual(templates, ['atrium://{client}/tables/{table}'])
    const uris = (await mcp.listResources()).resources.map((r) => r.uri)
    assert.ok(uris.includes('atrium://other/tables/orders') && uris.includes('atrium://shop/tables/orders'), uris.join(' '))
    const read = await mcp.readResource({ uri: 'atrium://shop/tables/customers' })
    const schema = JSON.parse((read.contents[0] as { text: string }).text)
    assert.deepEqual(schema.primary_key, ['id'])
    assert.ok(schema.columns.some((c: { name: string }) => c.name === 'email'))
    assert.equal((await callOk(mcp, 'read_rows', { client: 'other', table: 'customers', filters: [{ column: 'name', operator: 'eq', value: 'Grace' }] })).rows[0].id, 2)
  })

  await t.test("tool calls carry the caller's address: the key's IP policy applies to them", async () => {
    const { key } = await createKey(atrium, { rights: READ_RIGHTS, allowed_ips: ['10.20.30.40'] })
    // allowed at the door and in each tool's route: a tool call made from the server's own address would be refused
    const allowed = await open({ apikey: key, 'x-forwarded-for': '10.20.30.40' })
    assert.equal((await callOk(allowed, 'read_rows', { client: 'shop', table: 'customers', limit: 1 })).rows.length, 1)
    assert.equal((await callOk(allowed, 'run_sql', { client: 'shop', sql: 'SELECT 1 AS one' })).rows.length, 1)
    const elsewhere = await initialize(atrium, { apikey: key, 'x-forwarded-for': '10.9.9.9' })
    assert.equal(elsewhere.status, 403)
    assert.equal((await elsewhere.json() as any).error.data.code, 'ip_not_allowed')
  })

  await t.test('a session JWT has its role\'s rights: it reads, and cannot write', async () => {
    const mcp = await open({ Authorization: `Bearer ${await signToken('reader')}` })
    assert.equal((await callOk(mcp, 'read_rows', { client: 'shop', table: 'customers', limit: 3 })).rows.length, 3)
    assert.match(await callRefused(mcp, 'run_sql', { client: 'shop', sql: "INSERT INTO sentinel (id, label) VALUES (502, 'no')" }), /^403 missing_right/)
  })

  await t.test("the key's rate limit applies to its tool calls", async () => {
    const { key } = await createKey(atrium, { rights: READ_RIGHTS, rate_limit: 2 })
    const mcp = await open({ apikey: key })
    let refusal: string | undefined
    let succeeded = 0
    // bounded: 2 per window plus a burst of as many again, so the refusal comes well within 12 calls
    for (let i = 0; i < 12 && !refusal; i++) {
      const res = await mcp.callTool({ name: 'read_rows', arguments: { client: 'shop', table: 'customers', limit: 1 } }) as CallToolResult
      if (res.isError) refusal = (res.content[0] as { text: string }).text
      else succeeded++
    }
    assert.ok(refusal, 'the rate limit refused a call')
    assert.match(refusal, /^429 rate_limited/)
    assert.ok(succeeded >= 2 && succeeded <= 4, `succeeded ${succeeded} times`)
  })
})
