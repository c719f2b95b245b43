import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { DeleteQuery, InsertQuery, ReadQuery } from '../../src/query/ast.js'
import { MYSQL, POSTGRES } from '../../src/query/dialect.js'
import { deepFreeze } from '../../src/query/freeze.js'
import { planDelete, planInsert, planLocation } from '../../src/query/plan/plan-mutation.js'
import { planRead } from '../../src/query/plan/plan-read.js'
import type { PlanContext } from '../../src/query/plan/types.js'
import { argumentNamesOf } from '../../src/query/plan/plan-rpc.js'
import { resolveResourceId, resolveUpstreamResourceId } from '../../src/query/plan/resolve-resource-id.js'
import { DbSchema, categorize, type ColumnInfo, type FunctionInfo, type RawTable } from '../../src/sources/schema.js'

// Planner steps on hand-built schemas: pure functions, no database.

const column = (name: string, type: string, position: number): ColumnInfo => ({
  name, type, baseType: type, category: categorize(type), nullable: true, default: null, position, generated: false,
})
const table = (schema: string, name: string, columns: string[], primaryKey: string[], kind: RawTable['kind'] = 'table'): RawTable => ({
  schema, name, kind, insertable: kind === 'table', columns: columns.map((c, i) => column(c, c === 'id' ? 'integer' : 'text', i + 1)),
  primaryKey, uniques: [], foreignKeys: [],
})
const fn = (name: string, args: string[]): FunctionInfo => ({
  schema: 'public', name, args: args.map((a) => ({ name: a, type: 'text', hasDefault: false })), returnType: 'integer', returnsSet: false,
  returnsRelation: null, returnsRows: false, outputColumns: [], volatility: 'stable',
})

const schema = new DbSchema(['public'], [
  table('public', 'customers', ['id', 'name'], ['id']),
  table('public', 'tickets', ['code', 'resource_id', 'title'], ['code']),
  table('public', 'pairs', ['a', 'b'], ['a', 'b']),
  table('public', 'legacy', ['id', 'a'], []),
  table('public', 'customer_names', ['name'], [], 'view'),
], [fn('search', ['q', 'tier']), fn('search', ['q', 'lang'])])
const pg: PlanContext = { schema, caps: POSTGRES, source: 'shop' }

const del = (name: string, extra: Partial<DeleteQuery> = {}): DeleteQuery =>
  deepFreeze({ kind: 'delete', relation: { name }, where: [], returning: null, ...extra })
const cond = (col: string, value: unknown) => ({ kind: 'cond' as const, field: { column: col, json: [] }, op: 'eq' as const, negated: false, value: { kind: 'scalar' as const, value } })
const plain = (v: unknown) => JSON.parse(JSON.stringify(v))
const refuses = (fn: () => unknown, code: string) => assert.throws(fn, (err: { code?: string }) => err.code === code, `expected ${code}`)

test('resolveResourceId: resource_id becomes a condition on the key, in a new query', () => {
  const customers = schema.findTable('customers')!
  const byId = del('customers', { resourceId: 20 })
  const resolved = resolveResourceId(byId, customers)
  assert.deepEqual(plain(resolved.where), [cond('id', 20)])
  assert.equal('resourceId' in resolved, false)
  // the frozen input is left as it was
  assert.equal(byId.where.length, 0)
  assert.equal(byId.resourceId, 20)
  // the SDK's form: a condition on resource_id, on a table without such a column
  assert.deepEqual(plain(resolveResourceId(del('customers', { where: [cond('resource_id', 30)] }), customers).where), [cond('id', 30)])
  // a table with a real resource_id column keeps that condition; resource_id still means its key
  const tickets = schema.findTable('tickets')!
  assert.deepEqual(plain(resolveResourceId(del('tickets', { where: [cond('resource_id', 'r1')], resourceId: 'T-1' }), tickets).where), [cond('resource_id', 'r1'), cond('code', 'T-1')])
  // no key to use: refused only when resource_id is used
  const pairs = schema.findTable('pairs')!
  refuses(() => resolveResourceId(del('pairs', { resourceId: 1 }), pairs), 'invalid_request')
  const untouched = del('pairs', { where: [cond('a', 1)] })
  assert.equal(resolveResourceId(untouched, pairs), untouched)
  // without a key but with an id column, id is the key
  assert.deepEqual(plain(resolveResourceId(del('legacy', { resourceId: 5 }), schema.findTable('legacy')!).where), [cond('id', 5)])
})

test('resolveUpstreamResourceId: an upstream has no schema here, so resource_id means id', () => {
  const resolved = resolveUpstreamResourceId(del('anything', { where: [cond('resource_id', 1), cond('kind', 'x')], resourceId: 2 }))
  assert.deepEqual(plain(resolved.where), [cond('id', 1), cond('kind', 'x'), cond('id', 2)])
})

test('planDelete runs the resource_id step before the writable check and the filter requirement', () => {
  const planned = planDelete(pg, del('customers', { resourceId: 3 }))
  assert.equal(planned.where.length, 1)
  assert.equal(planned.where[0].kind === 'cond' && planned.where[0].column.name, 'id')
  refuses(() => planDelete(pg, del('customers')), 'missing_filter')
  refuses(() => planDelete(pg, del('customer_names', { resourceId: 3 })), 'invalid_request')
  refuses(() => planDelete(pg, del('customer_names', { where: [cond('name', 'A')] })), 'read_only_relation')
})

test('planLocation / planInsert: a Location asks for the key columns when nothing else is returned', () => {
  const insert = (name: string, extra: Partial<InsertQuery> = {}): InsertQuery =>
    deepFreeze({ kind: 'insert', relation: { name }, rows: [{ id: 1, name: 'A' }], missing: 'null', returning: null, location: true, ...extra })
  const customers = schema.findTable('customers')!
  assert.deepEqual(plain(planLocation(customers, insert('customers'))), { returning: [{ kind: 'column', field: { column: 'id', json: [] } }], location: ['id'] })
  assert.deepEqual(planLocation(customers, insert('customers', { location: undefined })), { returning: null })
  assert.deepEqual(planLocation(schema.findTable('legacy')!, insert('legacy')), { returning: null })
  const planned = planInsert(pg, insert('customers'))
  assert.deepEqual(planned.location, ['id'])
  assert.deepEqual(planned.returning?.select.map((s) => s.kind === 'column' && s.column.name), ['id'])
  // with rows asked for (X-Publish-Event asks for every column), the key is read from them
  const all = planInsert(pg, insert('customers', { returning: [{ kind: 'star' }] }))
  assert.deepEqual(all.location, ['id'])
  assert.equal(all.returning?.select[0].kind, 'star')
  assert.equal(planInsert(pg, insert('legacy', { rows: [{ id: 1 }] })).location, undefined)
})

test('a profile naming public means the one database on MySQL; a schema written in the name keeps its meaning', () => {
  const mysqlSchema = new DbSchema(['shop'], [table('shop', 'customers', ['id', 'name'], ['id'])], [])
  const mysql: PlanContext = { schema: mysqlSchema, caps: MYSQL, source: 'shop' }
  const read = (relation: ReadQuery['relation']): ReadQuery => deepFreeze({ kind: 'read', relation, select: [{ kind: 'star' }], where: [], order: [] })
  assert.equal(planRead(mysql, read({ schema: 'public', name: 'customers', fromProfile: true })).table.name, 'customers')
  refuses(() => planRead(mysql, read({ schema: 'public', name: 'customers' })), 'unknown_table')
  refuses(() => planRead(mysql, read({ schema: 'sales', name: 'customers', fromProfile: true })), 'unknown_table')
  // on PostgreSQL a profile is a schema like any other: it must be exposed
  assert.equal(planRead(pg, read({ schema: 'public', name: 'customers', fromProfile: true })).table.schema, 'public')
  refuses(() => planRead(pg, read({ schema: 'pg_catalog', name: 'pg_class', fromProfile: true })), 'unknown_table')
})

test('argumentNamesOf: every overload\'s argument names', () => {
  assert.deepEqual([...argumentNamesOf(schema, 'search')].sort(), ['lang', 'q', 'tier'])
  assert.equal(argumentNamesOf(schema, 'nothing').size, 0)
})

test('deepFreeze freezes every level and leaves binary values alone', () => {
  const value = deepFreeze({ a: [{ b: { c: 1 } }], buf: Buffer.from('xy') })
  assert.ok(Object.isFrozen(value.a[0].b))
  assert.throws(() => { (value.a[0].b as { c: number }).c = 2 }, TypeError)
  assert.equal(Object.isFrozen(value.buf), false)
})

test('aggregates inside embeds: group columns beside them need a dialect that forms groups per parent row', () => {
  const orders = table('shop', 'orders', ['id', 'customer_id', 'status'], ['id'])
  orders.foreignKeys = [{ name: 'orders_customer_id_fkey', schema: 'shop', table: 'orders', columns: ['customer_id'], refSchema: 'shop', refTable: 'customers', refColumns: ['id'] }]
  const shop = new DbSchema(['shop'], [table('shop', 'customers', ['id', 'name'], ['id']), orders], [])
  const read = (select: ReadQuery['select'], order: ReadQuery['order'] = []): ReadQuery => deepFreeze({ kind: 'read', relation: { name: 'customers' }, select, where: [], order })
  const embed = (select: ReadQuery['select'], order: ReadQuery['order'] = []) => [{ kind: 'column' as const, field: { column: 'id', json: [] } },
    { kind: 'embed' as const, name: 'orders', select, where: [], order, inner: false }] as ReadQuery['select']
  const count = { kind: 'aggregate' as const, fn: 'count' as const }
  const status = { kind: 'column' as const, field: { column: 'status', json: [] } }
  for (const caps of [POSTGRES, MYSQL]) {
    const ctx: PlanContext = { schema: shop, caps, source: 'shop' }
    const planned = planRead(ctx, read(embed([count])))
    assert.equal(planned.select[1].kind === 'embed' && planned.select[1].child.select[0].kind, 'aggregate', `${caps.name}: aggregates alone plan everywhere`)
  }
  assert.equal(planRead({ schema: shop, caps: POSTGRES, source: 'shop' }, read(embed([status, count]))).select.length, 2)
  refuses(() => planRead({ schema: shop, caps: MYSQL, source: 'shop' }, read(embed([status, count]))), 'unsupported_feature')
  // grouped rows are ordered by their group columns only
  const byName = [{ field: { column: 'name', json: [] }, direction: 'asc' as const }]
  refuses(() => planRead({ schema: shop, caps: POSTGRES, source: 'shop' }, read(embed([status, count], [{ field: { column: 'id', json: [] }, direction: 'asc' }]))), 'invalid_order')
  refuses(() => planRead({ schema: shop, caps: POSTGRES, source: 'shop' }, deepFreeze({ kind: 'read', relation: { name: 'customers' }, select: [count], where: [], order: byName })), 'invalid_order')
})
