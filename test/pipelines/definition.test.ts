import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ConfigError, loadConfig } from '../../src/config/load.js'
import { definePipeline } from '../../src/pipelines/definition.js'

const template = { source: { client: 'shop', table_name: 'orders', cursor_column: 'id' }, transforms: [{ filter: 'total > 0' }], sink: { client: 'dw', table_name: 'orders' } }
const withTemplate = (t: unknown) => () => loadConfig({}, { 'pipelines.templates': { nightly: t } })

test('templates are checked when the configuration loads, naming the template', () => {
  assert.doesNotThrow(withTemplate(template))
  const cases: Array<[unknown, RegExp]> = [
    [{ ...template, transforms: [{ filter: 'total >' }] }, /^invalid setting pipelines\.templates\.nightly: transforms\[0\]\.filter: the expression ends too early \(at position 7\)$/],
    [{ ...template, source: { table_name: 'orders', query: 'SELECT 1' } }, /pipelines\.templates\.nightly: source takes table_name \(or view_name\) or query, not both/],
    [{ ...template, source: { table_name: 'orders', columns: 'total', cursor_column: 'id' } }, /pipelines\.templates\.nightly: source\.columns must include the cursor_column "id"/],
    [{ ...template, sink: { table_name: 'orders', key: ['id'] } }, /sink\.key is the conflict target of an upsert/],
    [{ ...template, transforms: [{ explode: 'x' }] }, /invalid setting pipelines\.templates\.nightly\.transforms/],
  ]
  for (const [bad, message] of cases) assert.throws(withTemplate(bad), (err: unknown) => err instanceof ConfigError && message.test(err.message), String(message))
})

test('a request overrides its template field by field; column_aliases rename last', () => {
  const templates = { nightly: template }
  const def = definePipeline({ pipeline: 'nightly', source: { limit: 10 }, sink: { mode: 'upsert' }, transform: { column_aliases: { total: 'amount' } } }, { client: 'x', templates, defaultBatchSize: 7 })
  assert.deepEqual(def.source, { client: 'shop', table_name: 'orders', cursor_column: 'id', limit: 10 })
  assert.deepEqual(def.sink, { client: 'dw', table_name: 'orders', mode: 'upsert' })
  assert.deepEqual(def.transforms, [{ filter: 'total > 0' }, { rename: { total: 'amount' } }])
  assert.deepEqual([def.name, def.template, def.batchSize], ['nightly', 'nightly', 7])
  const plain = definePipeline({ source: { table_name: 'a' }, sink: { table_name: 'b' } }, { client: 'x', templates, defaultBatchSize: 7 })
  assert.deepEqual([plain.source.client, plain.sink.client, plain.name, plain.sink.mode], ['x', 'x', null, 'insert'])
  assert.throws(() => definePipeline({ pipeline: 'constructor' }, { client: 'x', templates, defaultBatchSize: 1 }), /no pipeline template "constructor"/)
})
