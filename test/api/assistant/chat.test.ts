// POST /api/chat and /api/execute through a real Atrium, with local servers speaking the OpenAI and Anthropic
// protocols behind the official SDKs: SQL extracted, parsed, checked against the schema, held to the
// connection's write setting, corrected on errors, run, and the provider's tokens added up.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startTestAtrium } from '../../helpers/atrium.js'
import { asUser, connectionConfig, JWT_SECRET, sessionToken } from '../../helpers/assistant.js'
import { createMysqlDatabase, createPgDatabase } from '../../helpers/databases.js'
import { startAnthropicServer, startOpenAiServer } from '../../helpers/model-servers.js'

const sql = (text: string) => `Here it is:\n\`\`\`sql\n${text}\n\`\`\``

test('the Assistant chat and execute routes', async (t) => {
  const pg = await createPgDatabase(t)
  await pg.load('shop')
  const my = await createMysqlDatabase(t)
  await my.load('shop')
  const openai = await startOpenAiServer(t)
  const anthropic = await startAnthropicServer(t)
  const atrium = await startTestAtrium(t, {
    env: {
      ATRIUM_JWT_SECRET: JWT_SECRET, ATRIUM_ASSISTANT_ALLOW_PRIVATE: 'true',
      OPENAI_API_KEY: 'sk-test-openai', OPENAI_BASE_URL: openai.baseUrl,
      ANTHROPIC_API_KEY: 'sk-ant-test', ANTHROPIC_BASE_URL: anthropic.baseUrl,
    },
  })
  const ada = asUser(atrium, await sessionToken('ada'))
  const bob = asUser(atrium, await sessionToken('bob'))
  assert.equal((await ada('POST', '/api/connections', { name: 'shop', ...connectionConfig(pg) })).status, 201)
  assert.equal((await ada('POST', '/api/connections', { name: 'rw', allow_writes: true, ...connectionConfig(pg) })).status, 201)
  assert.equal((await ada('POST', '/api/connections', { name: 'myshop', ...connectionConfig(my) })).status, 201)

  await t.test('every route wants a session token: 401 without one or with a bad one', async () => {
    const none = asUser(atrium, null)
    for (const [method, path] of [['GET', '/api/providers'], ['POST', '/api/chat'], ['POST', '/api/execute'], ['GET', '/api/auth/me']]) {
      const res = await none(method, path, method === 'POST' ? { connection_id: 'shop', prompt: 'x', sql: 'x' } : undefined)
      assert.equal(res.status, 401, `${method} ${path}: ${res.text}`)
      assert.equal(res.body.code, 'missing_session_token')
      assert.equal(typeof res.body.detail, 'string')
    }
    const forged = asUser(atrium, `${(await sessionToken('ada')).slice(0, -4)}AAAA`)
    const res = await forged('GET', '/api/providers')
    assert.equal(res.status, 401)
    assert.equal(res.body.code, 'invalid_session_token')
  })

  await t.test('GET /api/providers lists the configured providers', async () => {
    const res = await ada('GET', '/api/providers')
    assert.equal(res.status, 200, res.text)
    assert.deepEqual(res.body, { providers: ['openai', 'anthropic', 'builtin'] })
  })

  await t.test('openai: the SQL in the answer is run and the tokens are the provider\'s', async () => {
    openai.script({ text: sql('SELECT name, tier FROM customers ORDER BY id;'), prompt: 321, completion: 45 })
    const before = openai.received.length
    const res = await ada('POST', '/api/chat', { connection_id: 'shop', prompt: 'the names and tiers of all customers', provider: 'openai', auto_execute: true, dialect: 'postgresql' })
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.sql, 'SELECT name, tier FROM customers ORDER BY id')
    assert.equal(res.body.provider, 'openai')
    assert.equal(res.body.model, 'gpt-4o-mini')
    assert.deepEqual(res.body.tokens, { prompt: 321, completion: 45, total: 366 })
    assert.equal(res.body.corrections, 0)
    assert.deepEqual(res.body.results.columns, ['name', 'tier'])
    assert.deepEqual(res.body.results.rows, [['Ada', 'gold'], ['Grace', null], ['Linus', 'silver']])
    assert.equal(res.body.results.row_count, 3)
    // what the provider was sent: the key, the schema of the tables (names and types), no row data
    const sent = openai.received.slice(before)
    assert.equal(sent.length, 1)
    assert.equal(sent[0].headers.authorization, 'Bearer sk-test-openai')
    const system = sent[0].body.messages[0]
    assert.equal(system.role, 'system')
    assert.match(system.content, /PostgreSQL/)
    assert.match(system.content, /public\.customers\(id bigint, name text/)
    assert.doesNotMatch(system.content, /Ada|grace@example/)
    assert.deepEqual(sent[0].body.messages[1], { role: 'user', content: 'the names and tiers of all customers' })
  })

  await t.test('without auto_execute the SQL is checked but not run', async () => {
    openai.script({ text: 'SELECT count(*) FROM orders' })
    const res = await ada('POST', '/api/chat', { connection_id: 'shop', prompt: 'how many orders', provider: 'openai' })
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.sql, 'SELECT count(*) FROM orders')
    assert.equal(res.body.results, null)
  })

  await t.test('unknown tables and columns go back to the model, twice at most; tokens add up over the rounds', async () => {
    openai.script(
      { text: sql('SELECT name FROM clients'), prompt: 100, completion: 10 },
      { text: sql('SELECT fullname FROM customers'), prompt: 150, completion: 11 },
      { text: sql('SELECT name FROM customers WHERE tier = \'gold\''), prompt: 200, completion: 12 },
    )
    const before = openai.received.length
    const res = await ada('POST', '/api/chat', { connection_id: 'shop', prompt: 'gold customers', provider: 'openai', auto_execute: true })
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.corrections, 2)
    assert.deepEqual(res.body.tokens, { prompt: 450, completion: 33, total: 483 })
    assert.deepEqual(res.body.results.rows, [['Ada']])
    const sent = openai.received.slice(before)
    assert.equal(sent.length, 3)
    // each correction carries the model's answer and the error it caused
    const second = sent[1].body.messages
    assert.equal(second.at(-2).role, 'assistant')
    assert.match(second.at(-1).content, /table "clients" does not exist/)
    assert.match(sent[2].body.messages.at(-1).content, /column "fullname" does not exist/)
  })

  await t.test('a database error is sent back too; three failures answer 400 with the last SQL', async () => {
    openai.script({ text: sql('SELECT total / 0 AS x FROM orders') }, { text: sql('SELECT max(total) AS top FROM orders') })
    const fixed = await ada('POST', '/api/chat', { connection_id: 'shop', prompt: 'largest order', provider: 'openai', auto_execute: true })
    assert.equal(fixed.status, 200, fixed.text)
    assert.equal(fixed.body.corrections, 1)
    assert.deepEqual(fixed.body.results.rows, [['149.50']].map((r) => r.map(Number)))

    openai.script({ text: sql('SELEC 1') }, { text: sql('SELECT nope FROM orders') }, { text: sql('SELECT * FROM nowhere') })
    const res = await ada('POST', '/api/chat', { connection_id: 'shop', prompt: 'something', provider: 'openai', auto_execute: true })
    assert.equal(res.status, 400, res.text)
    assert.equal(res.body.code, 'assistant_sql_invalid')
    assert.equal(res.body.data.sql, 'SELECT * FROM nowhere')
    assert.equal(res.body.data.corrections, 2)
    assert.equal(res.body.data.error.code, 'unknown_table')
  })

  await t.test('writes are refused on a connection without allow_writes, with no correction round', async () => {
    const attempts = [
      'DELETE FROM orders',
      'UPDATE customers SET tier = \'x\'',
      'WITH gone AS (DELETE FROM orders RETURNING id) SELECT * FROM gone',
      'SELECT nextval(\'products_id_seq\')',
      'SELECT * FROM customers FOR UPDATE',
    ]
    for (const attempt of attempts) {
      openai.script({ text: sql(attempt) })
      const before = openai.received.length
      const res = await ada('POST', '/api/chat', { connection_id: 'shop', prompt: 'do it', provider: 'openai', auto_execute: true })
      assert.equal(res.status, 403, `${attempt}: ${res.text}`)
      assert.equal(res.body.code, 'assistant_sql_refused')
      assert.equal(openai.received.length - before, 1, `${attempt}: no correction round`)
    }
    assert.equal((await pg.query('SELECT count(*)::int AS n FROM orders'))[0].n, 4, 'nothing was deleted')
    // system catalogues are not among the connection's tables
    const catalogue = 'SELECT pg_terminate_backend(pid) FROM pg_stat_activity'
    openai.script({ text: sql(catalogue) }, { text: sql(catalogue) }, { text: sql(catalogue) })
    const res = await ada('POST', '/api/chat', { connection_id: 'shop', prompt: 'do it', provider: 'openai', auto_execute: true })
    assert.equal(res.status, 400, res.text)
    assert.equal(res.body.data.error.code, 'unknown_table')
  })

  await t.test('a side-effecting function is refused even in a read that names only known tables', async () => {
    const res = await ada('POST', '/api/execute', { connection_id: 'shop', sql: 'SELECT pg_advisory_lock(id) FROM customers' })
    assert.equal(res.status, 403, res.text)
    assert.equal(res.body.code, 'assistant_sql_refused')
  })

  await t.test('allow_writes lets a write run; DDL is never run', async () => {
    const res = await ada('POST', '/api/execute', { connection_id: 'rw', sql: 'UPDATE customers SET tier = \'bronze\' WHERE id = 2' })
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.results.affected_rows, 1)
    assert.equal((await pg.query('SELECT tier FROM customers WHERE id = 2'))[0].tier, 'bronze')
    for (const ddl of ['DROP TABLE sentinel', 'CREATE TABLE x (id int)', 'TRUNCATE orders', 'ALTER TABLE customers ADD COLUMN y int']) {
      const refused = await ada('POST', '/api/execute', { connection_id: 'rw', sql: ddl })
      assert.ok([400, 403].includes(refused.status), `${ddl}: ${refused.text}`)
    }
    assert.equal((await pg.query('SELECT count(*)::int AS n FROM sentinel'))[0].n, 1, 'the sentinel table survives')
  })

  await t.test('anthropic: the Messages API, its usage reported as prompt/completion tokens', async () => {
    anthropic.script({ text: sql('SELECT status, count(*) AS n FROM orders GROUP BY status ORDER BY status'), prompt: 222, completion: 33 })
    const res = await ada('POST', '/api/chat', { connection_id: 'shop', prompt: 'orders per status', provider: 'anthropic', auto_execute: true })
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.provider, 'anthropic')
    assert.equal(res.body.model, 'claude-3-5-haiku-latest')
    assert.deepEqual(res.body.tokens, { prompt: 222, completion: 33, total: 255 })
    assert.deepEqual(res.body.results.rows, [['cancelled', 1], ['paid', 2], ['pending', 1]])
    const sent = anthropic.received.at(-1)!
    assert.equal(sent.path, '/v1/messages')
    // the SDK sends the key as x-api-key or as a bearer token, by version
    assert.ok(sent.headers['x-api-key'] === 'sk-ant-test' || sent.headers.authorization === 'Bearer sk-ant-test', JSON.stringify(sent.headers))
    assert.match(sent.body.system, /orders\(/)
  })

  await t.test('a failing provider is a 502 that says so; an unknown one a 400', async () => {
    openai.script({ status: 500, message: 'model overloaded' })
    const res = await ada('POST', '/api/chat', { connection_id: 'shop', prompt: 'x', provider: 'openai' })
    assert.equal(res.status, 502, res.text)
    assert.equal(res.body.code, 'assistant_provider_failed')
    assert.match(res.body.detail, /openai provider failed: it answered HTTP 500/)
    assert.ok(!res.text.includes('sk-test-openai'))
    const unknown = await ada('POST', '/api/chat', { connection_id: 'shop', prompt: 'x', provider: 'gemini' })
    assert.equal(unknown.status, 400)
    assert.equal(unknown.body.code, 'assistant_provider_not_configured')
  })

  await t.test('builtin: the documented grammar, offline, on both dialects', async () => {
    const cases: Array<[string, string, unknown[][]]> = [
      ['shop', 'count orders', [[4]]],
      ['shop', 'how many orders where status is paid', [[2]]],
      ['shop', 'count orders by status', [['paid', 2], ['cancelled', 1], ['pending', 1]]],
      ['shop', 'top 2 orders by total', [[2], [1]]],
      ['myshop', 'count customers', [[3]]],
      ['myshop', 'list customers where name is \'Linus\'', [[3]]],
      ['myshop', 'top 1 products by price', [['Desk']]],
    ]
    for (const [connection, prompt, expected] of cases) {
      const res = await ada('POST', '/api/chat', { connection_id: connection, prompt, provider: 'builtin', auto_execute: true })
      assert.equal(res.status, 200, `${prompt}: ${res.text}`)
      assert.deepEqual(res.body.tokens, { prompt: 0, completion: 0, total: 0 })
      const rows = res.body.results.rows.map((r: unknown[]) => (prompt.startsWith('top') || prompt.startsWith('list') ? [r[prompt.includes('products') ? 1 : 0]] : r))
      assert.deepEqual(rows.map((r: unknown[]) => r.map((v) => (typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v))), expected, prompt)
    }
    const off = await ada('POST', '/api/chat', { connection_id: 'shop', prompt: 'what is the meaning of life', provider: 'builtin' })
    assert.equal(off.status, 400)
    assert.equal(off.body.code, 'assistant_question_not_understood')
    assert.match(off.body.hint, /count <table>/)
    const injection = await ada('POST', '/api/chat', { connection_id: 'shop', prompt: 'list customers where name is "x\'; DROP TABLE sentinel; --"', provider: 'builtin', auto_execute: true })
    assert.equal(injection.status, 200, injection.text)
    assert.equal(injection.body.results.row_count, 0)
    assert.equal((await pg.query('SELECT count(*)::int AS n FROM sentinel'))[0].n, 1)
  })

  await t.test('execute: the same checks for hand-written SQL; 404 for unknown and other users\' connections', async () => {
    const ok = await ada('POST', '/api/execute', { connection_id: 'myshop', sql: 'SELECT COUNT(*) AS count FROM orders' })
    assert.equal(ok.status, 200, ok.text)
    assert.deepEqual(ok.body.results.columns, ['count'])
    assert.deepEqual(ok.body.results.rows, [[4]])
    const column = await ada('POST', '/api/execute', { connection_id: 'myshop', sql: 'SELECT o.nope FROM orders o' })
    assert.equal(column.status, 400)
    assert.equal(column.body.code, 'unknown_column')
    const mysqlWrite = await ada('POST', '/api/execute', { connection_id: 'myshop', sql: 'DELETE FROM orders' })
    assert.equal(mysqlWrite.status, 403)
    for (const res of [
      await ada('POST', '/api/execute', { connection_id: 'nowhere', sql: 'SELECT 1' }),
      await bob('POST', '/api/execute', { connection_id: 'shop', sql: 'SELECT 1' }),
      await bob('POST', '/api/chat', { connection_id: 'shop', prompt: 'count orders', provider: 'builtin' }),
    ]) {
      assert.equal(res.status, 404, res.text)
      assert.equal(res.body.code, 'assistant_connection_not_found')
    }
    const series = await ada('POST', '/api/execute', { connection_id: 'shop', sql: 'SELECT x FROM generate_series(1, 2) x' })
    assert.deepEqual(series.body.results?.rows, [[1], [2]], series.text)
    const limited = await ada('POST', '/api/execute', { connection_id: 'shop', sql: 'SELECT id FROM orders ORDER BY id', max_rows: 2 })
    assert.deepEqual(limited.body.results.rows, [[1], [2]])
    assert.equal(limited.body.results.truncated, true)
  })
})

test('the prompt: the most relevant tables within the token budget, and sample rows only when allowed', async (t) => {
  const pg = await createPgDatabase(t)
  await pg.load('shop')
  // ten wide tables that have nothing to do with the question, each about 100 tokens to describe
  for (let i = 0; i < 10; i++) {
    await pg.query(`CREATE TABLE unrelated_${i} (${Array.from({ length: 15 }, (_, c) => `attribute_number_${c} text`).join(', ')})`)
  }
  const openai = await startOpenAiServer(t)
  const atrium = await startTestAtrium(t, {
    env: { ATRIUM_JWT_SECRET: JWT_SECRET, ATRIUM_ASSISTANT_ALLOW_PRIVATE: 'true', OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: openai.baseUrl, ATRIUM_ASSISTANT_PROMPT_TOKEN_BUDGET: '1000', ATRIUM_ASSISTANT_SAMPLE_ROWS: '2' },
  })
  const ada = asUser(atrium, await sessionToken('ada'))
  assert.equal((await ada('POST', '/api/connections', { name: 'shop', ...connectionConfig(pg) })).status, 201)
  openai.script({ text: 'SELECT body FROM messages' })
  const res = await ada('POST', '/api/chat', { connection_id: 'shop', prompt: 'show the body of every message', provider: 'openai' })
  assert.equal(res.status, 200, res.text)
  const system: string = openai.received[0].body.messages[0].content
  // the asked-about table comes first; the budget (4 characters a token) leaves some of the 17 tables out
  const described = [...system.matchAll(/^- public\.(\w+)\(/gm)].map((m) => m[1])
  assert.equal(described[0], 'messages')
  assert.ok(described.length < 17 && described.length > 3, `only some tables fit: ${described.join(', ')}`)
  const tablesText = system.slice(system.indexOf('Tables:'))
  assert.ok(tablesText.length <= 4000, `${tablesText.length} characters of tables and rows`)
  // assistant.sampleRows = 2: two rows of each described table
  assert.match(system, /sample rows: \[\{"id":1,"sender_id":1,"receiver_id":2,"body":"hello"\},\{"id":2/)
})
