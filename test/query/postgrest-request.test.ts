import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseAccept } from '../../src/query/parse/accept.js'
import { parseAthenaDelete, parseAthenaFetch } from '../../src/query/parse/athena.js'
import { parsePrefer } from '../../src/query/parse/prefer.js'
import {
  parsePostgrestDelete, parsePostgrestInsert, parsePostgrestRead, parsePostgrestRpc, parsePostgrestUpdate, relationOf,
} from '../../src/query/parse/postgrest-request.js'
import { requestWindow } from '../../src/query/parse/range.js'
import { splitRpcArguments } from '../../src/query/parse/rpc.js'
import { queryPairs } from '../../src/query/parse/postgrest.js'

// The PostgREST request parse: plain header records in, AST and request options out, no server needed.

/** without the keys a parser leaves undefined */
const plain = (v: unknown) => JSON.parse(JSON.stringify(v))
const refuses = (fn: () => unknown, code: string) => assert.throws(fn, (err: { code?: string }) => err.code === code, `expected ${code}`)

test('Prefer: understood preferences, Preference-Applied, lenient and strict handling', () => {
  assert.deepEqual(parsePrefer(undefined), { applied: [] })
  assert.deepEqual(parsePrefer('return=representation, count=exact,resolution=merge-duplicates'), {
    return: 'representation', count: 'exact', resolution: 'merge-duplicates',
    applied: ['return=representation', 'count=exact', 'resolution=merge-duplicates'],
  })
  // several Prefer headers read as one list
  assert.deepEqual(parsePrefer(['missing=default', 'return=minimal']), { missing: 'default', return: 'minimal', applied: ['missing=default', 'return=minimal'] })
  // lenient (the default) ignores what it does not know; strict refuses it, but not preferences Atrium knows to ignore
  assert.deepEqual(parsePrefer('return=everything, count=exact'), { count: 'exact', applied: ['count=exact'] })
  refuses(() => parsePrefer('handling=strict, return=everything'), 'invalid_preference')
  assert.deepEqual(parsePrefer('handling=strict, tx=commit, timezone=UTC').applied, ['handling=strict'])
})

test('Range: the header, limit/offset parameters (which win) and rest.maxRows make one window', () => {
  assert.deepEqual(requestWindow({}, {}), { offset: 0, limit: undefined, explicit: false })
  assert.deepEqual(requestWindow({ range: 'items=10-19' }, {}), { offset: 10, limit: 10, explicit: true })
  assert.deepEqual(requestWindow({ range: '5-' }, {}), { offset: 5, limit: undefined, explicit: true })
  assert.deepEqual(requestWindow({ range: '10-19' }, { offset: 2, limit: 4 }), { offset: 2, limit: 4, explicit: true })
  assert.deepEqual(requestWindow({}, { limit: 500 }, 100), { offset: 0, limit: 100, explicit: true })
  assert.deepEqual(requestWindow({}, {}, 100), { offset: 0, limit: 100, explicit: false })
  refuses(() => requestWindow({ range: '0-9', 'range-unit': 'bytes' }, {}), 'invalid_range')
  refuses(() => requestWindow({ range: 'rows=1-2' }, {}), 'invalid_range')
  refuses(() => requestWindow({ range: '9-3' }, {}), 'invalid_range')
})

test('Accept: the first producible type by q-value; nulls=stripped; 406 when none fits', () => {
  assert.deepEqual(parseAccept(undefined), { format: 'json', stripNulls: false })
  assert.deepEqual(parseAccept('text/csv;q=0.5, application/vnd.pgrst.object+json'), { format: 'object', stripNulls: false })
  assert.deepEqual(parseAccept('application/json;nulls=stripped'), { format: 'json', stripNulls: true })
  assert.deepEqual(parseAccept('image/png, text/csv'), { format: 'csv', stripNulls: false })
  refuses(() => parseAccept('image/png'), 'not_acceptable')
  refuses(() => parseAccept('application/json;q=0'), 'not_acceptable')
})

test('profiles: Accept-Profile names the schema of reads, Content-Profile that of writes', () => {
  const headers = { 'accept-profile': 'sales', 'content-profile': ' hr ' }
  assert.deepEqual(relationOf('GET', 'orders', headers), { schema: 'sales', name: 'orders', fromProfile: true })
  assert.deepEqual(relationOf('HEAD', 'orders', headers), { schema: 'sales', name: 'orders', fromProfile: true })
  assert.deepEqual(relationOf('POST', 'orders', headers), { schema: 'hr', name: 'orders', fromProfile: true })
  assert.deepEqual(relationOf('DELETE', 'orders', { 'accept-profile': 'sales' }), { name: 'orders' })
  assert.deepEqual(relationOf('GET', 'orders', { 'accept-profile': '  ' }), { name: 'orders' })
})

test('a read: query string, Prefer, Range, Accept and profile in one call, frozen', () => {
  const parsed = parsePostgrestRead({
    method: 'GET', target: 'orders', url: '/orders?select=id,status&status=eq.paid&order=id.desc',
    headers: { prefer: 'count=exact', range: '0-9', accept: 'application/json;nulls=stripped', 'accept-profile': 'public' },
  }, { maxRows: 5 })
  assert.deepEqual(plain(parsed.ast), {
    kind: 'read', relation: { schema: 'public', name: 'orders', fromProfile: true },
    select: [{ kind: 'column', field: { column: 'id', json: [] } }, { kind: 'column', field: { column: 'status', json: [] } }],
    where: [{ kind: 'cond', field: { column: 'status', json: [] }, op: 'eq', negated: false, value: { kind: 'scalar', value: 'paid' } }],
    order: [{ field: { column: 'id', json: [] }, direction: 'desc' }],
    limit: 5, count: 'exact', stripNulls: true,
  })
  assert.deepEqual(parsed.window, { offset: 0, limit: 5, explicit: true })
  assert.deepEqual(parsed.prefs.applied, ['count=exact'])
  // deep: nothing reachable from the result can change
  assert.ok(Object.isFrozen(parsed) && Object.isFrozen(parsed.ast.where[0]) && Object.isFrozen(parsed.ast.select) && Object.isFrozen(parsed.prefs.applied))
  assert.throws(() => { (parsed.ast.where as unknown[]).push({}) }, TypeError)
  assert.throws(() => { (parsed.ast as { limit?: number }).limit = 1000 }, TypeError)
  // HEAD never strips nulls (there is no body) but still refuses an Accept it could not answer
  const head = parsePostgrestRead({ method: 'HEAD', target: 'orders', url: '/orders', headers: { accept: 'application/json;nulls=stripped' } })
  assert.equal(head.ast.stripNulls, false)
  refuses(() => parsePostgrestRead({ method: 'HEAD', target: 'orders', url: '/orders', headers: { accept: 'image/png' } }), 'not_acceptable')
})

test('an insert: rows from JSON or CSV, upsert from Prefer, headers-only asks for the location, representation reads Accept first', () => {
  const headersOnly = parsePostgrestInsert({ target: 'customers', url: '/customers', headers: { prefer: 'return=headers-only' }, body: { id: 1, name: 'A' } })
  assert.equal(headersOnly.ast.location, true)
  assert.equal(headersOnly.ast.returning, null)
  assert.equal(headersOnly.output, undefined)
  const upsert = parsePostgrestInsert({
    target: 'customers', url: '/customers?on_conflict=email&select=id', body: [{ email: 'a@x' }],
    headers: { prefer: 'resolution=ignore-duplicates,return=representation,missing=default', accept: 'application/vnd.pgrst.object+json', 'content-profile': 'crm' },
  })
  assert.deepEqual(upsert.ast.onConflict, { columns: ['email'], action: 'ignore' })
  assert.equal(upsert.ast.missing, 'default')
  assert.equal(upsert.ast.location, undefined)
  assert.deepEqual(plain(upsert.ast.returning), [{ kind: 'column', field: { column: 'id', json: [] } }])
  assert.deepEqual(upsert.ast.relation, { schema: 'crm', name: 'customers', fromProfile: true })
  assert.equal(upsert.output?.format, 'object')
  const csv = parsePostgrestInsert({ target: 'customers', url: '/customers', headers: {}, body: 'id,name,tier\n7,Ada,\n' })
  assert.deepEqual(csv.ast.rows, [{ id: '7', name: 'Ada', tier: null }])
  // the list of rows is frozen; the rows themselves are the client's values, left as parsed (a bulk insert's cost)
  assert.ok(Object.isFrozen(csv.ast.rows))
  assert.ok(Object.isFrozen(csv.ast))
  refuses(() => parsePostgrestInsert({ target: 'customers', url: '/customers', headers: {}, body: 42 }), 'invalid_request')
  refuses(() => parsePostgrestInsert({ target: 'customers', url: '/customers', headers: {}, body: 'a,b\n1,2,3\n' }), 'invalid_request')
  // an Accept that cannot be produced refuses the write before anything is written
  refuses(() => parsePostgrestInsert({ target: 'customers', url: '/customers', headers: { prefer: 'return=representation', accept: 'image/png' }, body: {} }), 'not_acceptable')
})

test('an update needs a JSON object body; a delete takes its rows from the filters', () => {
  const update = parsePostgrestUpdate({ target: 'orders', url: '/orders?id=eq.3', headers: {}, body: { status: 'paid' } })
  assert.deepEqual(update.ast.set, { status: 'paid' })
  assert.equal(update.ast.where.length, 1)
  assert.equal(update.ast.returning, null)
  refuses(() => parsePostgrestUpdate({ target: 'orders', url: '/orders?id=eq.3', headers: {}, body: [{ status: 'paid' }] }), 'invalid_request')
  const del = parsePostgrestDelete({ target: 'orders', url: '/orders?id=in.(1,2)', headers: { prefer: 'return=representation' } })
  assert.deepEqual(plain(del.ast.where[0]), { kind: 'cond', field: { column: 'id', json: [] }, op: 'in', negated: false, value: { kind: 'list', values: ['1', '2'] } })
  assert.deepEqual(plain(del.ast.returning), [{ kind: 'star' }])
  assert.equal(del.output?.format, 'json')
})

test('RPC: parameters naming an argument are arguments on GET; with a body every parameter shapes the rows', () => {
  const names = new Set(['tier', 'since'])
  const split = splitRpcArguments(queryPairs('/f?tier=gold&id=gt.1&select=id'), undefined, names)
  assert.deepEqual(split.args, { tier: 'gold' })
  assert.deepEqual(split.query.where.map((f) => f.kind === 'cond' && f.field.column), ['id'])
  assert.deepEqual(plain(split.query.select), [{ kind: 'column', field: { column: 'id', json: [] } }])
  // with a body a parameter named like an argument is a filter again
  const withBody = splitRpcArguments(queryPairs('/f?tier=eq.gold'), { since: '2020-01-01' }, names)
  assert.deepEqual(withBody.args, { since: '2020-01-01' })
  assert.equal(withBody.query.where.length, 1)

  const get = parsePostgrestRpc({ method: 'GET', target: 'top_customers', url: '/rpc/top_customers?tier=gold&limit=3', headers: { range: '2-9', prefer: 'count=exact' }, argumentNames: names }, { maxRows: 50 })
  assert.deepEqual(get.ast.args, { tier: 'gold' })
  assert.equal(get.ast.readOnly, true)
  assert.equal(get.ast.limit, 3)
  assert.equal(get.ast.offset, 2)
  assert.equal(get.ast.maxRows, 50)
  assert.equal(get.ast.count, 'exact')
  assert.ok(Object.isFrozen(get.ast.args))
  const post = parsePostgrestRpc({ method: 'POST', target: 'top_customers', url: '/rpc/top_customers', headers: {}, body: undefined, argumentNames: names })
  assert.deepEqual(post.ast.args, {})
  assert.equal(post.ast.readOnly, false)
})

test('Athena parses are frozen too; resource_id stays for the planner', () => {
  const del = parseAthenaDelete({ table_name: 'customers', resource_id: 20, conditions: [{ eq_column: 'tier', eq_value: 'gold' }] })
  assert.equal(del.resourceId, 20)
  assert.ok(Object.isFrozen(del) && Object.isFrozen(del.where[0]))
  assert.equal('resourceId' in parseAthenaDelete({ table_name: 'customers', conditions: [] }), false)
  refuses(() => parseAthenaDelete(undefined), 'invalid_request')
  const paged = parseAthenaFetch({ table_name: 'orders', page_size: 10, current_page: 3 })
  assert.deepEqual([paged.limit, paged.offset, paged.count], [10, 20, 'exact'])
  assert.ok(Object.isFrozen(paged))
})
