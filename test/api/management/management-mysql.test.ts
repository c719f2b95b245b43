import assert from 'node:assert/strict'
import { test } from 'node:test'
import { assertMatchesSpec } from '../../helpers/athena-contract.js'
import { startTestAtrium } from '../../helpers/atrium.js'
import { createMysqlDatabase } from '../../helpers/databases.js'

interface AuditRow { id: number; actor: string; operation: string; object_schema: string; object_name: string; statement: string; details: unknown }

// Management DDL on MariaDB: the supported subset, one ALTER per request, the audit row right after it.
test('management DDL on MySQL/MariaDB', async (t) => {
  const db = await createMysqlDatabase(t)
  await db.load('shop')
  const atrium = await startTestAtrium(t, { sources: { shop: db.url } })
  const call = (method: string, path: string, body?: unknown) => atrium.request(method, path, { client: 'shop', body })
  const audit = () => db.query<AuditRow>('SELECT * FROM database_audit_log ORDER BY id')
  const auditCount = async () => (await audit()).length
  const columns = async (table: string) => db.query<{ name: string; type: string; nullable: string; def: string | null }>(
    'SELECT column_name AS name, column_type AS type, is_nullable AS nullable, column_default AS def FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? ORDER BY ordinal_position',
    [table],
  )
  const tableExists = async (table: string) =>
    (await db.query<{ n: number }>('SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?', [table]))[0].n > 0

  await t.test('changes are refused with 503 until database_audit_log exists', async () => {
    const res = await call('POST', '/management/tables', { table_name: 'widgets' })
    assert.equal(res.status, 503)
    assert.equal(res.body.code, 'audit_log_missing')
    assert.equal(await tableExists('widgets'), false)
    assert.equal((await atrium.post('/admin/clients/shop/audit-log')).status, 200)
    assert.equal(await tableExists('database_audit_log'), true)
  })

  await t.test('capabilities say what MySQL supports and why the rest is not', async () => {
    const res = await call('GET', '/management/capabilities')
    assert.equal(res.status, 200, res.text)
    await assertMatchesSpec('GET', '/management/capabilities', 200, res.body)
    const c = res.body.data
    assert.equal(c.backend, 'mysql')
    assert.equal(c.transactional_ddl, false)
    assert.equal(c.audit_log_installed, true)
    assert.deepEqual(c.allowed_index_methods, ['btree'])
    assert.deepEqual(c.unsupported_operations.map((u: { operation: string }) => u.operation), ['set_not_null', 'drop_not_null', 'install_extension'])
    assert.ok(!c.supported_operations.includes('set_not_null'))
    assert.ok(c.supported_operations.includes('rename_column'))
  })

  await t.test('create table: id and created_at first, defaults rendered for MySQL, audited', async () => {
    const res = await call('POST', '/management/tables', {
      table_name: 'widgets',
      columns: [
        { name: 'name', data_type: 'varchar(80)', nullable: false },
        { name: 'price', data_type: 'decimal(10,2)', default_expression: '0' },
        { name: 'label', data_type: 'varchar(40)', default_expression: "'it''s new'" },
        { name: 'seen_at', data_type: 'datetime', default_expression: 'now()' },
        { name: 'token', data_type: 'char(36)', default_expression: 'uuid()' },
      ],
    })
    assert.equal(res.status, 201, res.text)
    assert.deepEqual((await columns('widgets')).map((c) => [c.name, c.nullable]), [
      ['id', 'NO'], ['created_at', 'NO'], ['name', 'NO'], ['price', 'YES'], ['label', 'YES'], ['seen_at', 'YES'], ['token', 'YES'],
    ])
    const row = (await audit()).at(-1)!
    assert.deepEqual([row.actor, row.operation, row.object_name], ['admin', 'management.tables.create', 'widgets'])
    assert.match(row.statement, /^CREATE TABLE `widgets` \(`id` BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY/)
    const inserted = await atrium.request('PUT', '/gateway/insert', { client: 'shop', body: { table_name: 'widgets', insert_body: { name: 'gear' } } })
    assert.equal(inserted.status, 200, inserted.text)
    const [gear] = await db.query<{ label: string; token: string }>('SELECT label, token FROM widgets')
    assert.equal(gear.label, "it's new")
    assert.match(gear.token, /^[0-9a-f-]{36}$/)
  })

  await t.test('PATCH runs every clause in one ALTER TABLE and writes one audit row', async () => {
    const res = await call('PATCH', '/management/tables/widgets', {
      operations: [
        { type: 'add_column', column: { name: 'color', data_type: 'varchar(20)', default_expression: "'blue'" } },
        { type: 'rename_column', from: 'label', to: 'caption' },
        { type: 'set_default', column_name: 'price', default_expression: '1.5' },
        { type: 'drop_default', column_name: 'name' },
      ],
    })
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.data.statements.length, 1)
    const cols = new Map((await columns('widgets')).map((c) => [c.name, c]))
    assert.ok(cols.has('color') && cols.has('caption') && !cols.has('label'))
    assert.equal(cols.get('price')?.def, '1.50')
    assert.equal((await audit()).at(-1)!.statement, res.body.data.statements[0])
  })

  await t.test('a statement MySQL rejects leaves no audit row', async () => {
    await db.query("INSERT INTO widgets (name, price) VALUES ('a', 1), ('b', 2)")
    const before = await auditCount()
    // a unique index over duplicate values fails inside MySQL, after Atrium's own checks passed
    await db.query("UPDATE widgets SET color = 'same'")
    const res = await call('POST', '/management/indexes', { table_name: 'widgets', columns: ['color'], unique: true })
    assert.equal(res.status, 409, res.text)
    assert.equal(await auditCount(), before)
  })

  await t.test('unsupported operations are 400 with the reason, before anything runs', async () => {
    const before = await auditCount()
    for (const type of ['set_not_null', 'drop_not_null']) {
      const res = await call('PATCH', '/management/tables/widgets', { operations: [{ type: 'add_column', column: { name: 'zz', data_type: 'int' } }, { type, column_name: 'color' }] })
      assert.equal(res.status, 400, type)
      assert.equal(res.body.code, 'unsupported_feature')
      assert.match(res.body.message, /MODIFY COLUMN/)
    }
    const ext = await call('POST', '/management/extensions/install', { extension_name: 'pgcrypto' })
    assert.equal(ext.status, 400)
    assert.equal(ext.body.code, 'unsupported_feature')
    for (const [body, code] of [
      [{ table_name: 'w2', columns: [{ name: 'a', data_type: 'jsonb' }] }, 'data_type_not_allowed'],
      [{ table_name: 'w2', columns: [{ name: 'a', data_type: 'int[]' }] }, 'data_type_not_allowed'],
      [{ table_name: 'w2', columns: [{ name: 'a', data_type: 'varchar' }] }, 'data_type_not_allowed'],
      [{ table_name: 'w2', columns: [{ name: 'a', data_type: 'text', default_expression: "'{}'::json" }] }, 'invalid_default_expression'],
      [{ table_name: 'w2', columns: [{ name: 'a', data_type: 'char(36)', default_expression: 'gen_random_uuid()' }] }, 'invalid_default_expression'],
      [{ table_name: 'w2', columns: [{ name: 'a', data_type: 'text', default_expression: "'x'); DROP TABLE sentinel; --" }] }, 'invalid_default_expression'],
      [{ table_name: 'w2', schema_name: 'mysql' }, 'invalid_request'],
    ] as const) {
      const res = await call('POST', '/management/tables', body)
      assert.equal(res.status, 400, JSON.stringify(body))
      assert.equal(res.body.code, code, JSON.stringify(body))
    }
    assert.ok(!(await columns('widgets')).some((c) => c.name === 'zz'))
    assert.equal(await tableExists('w2'), false)
    assert.equal(await tableExists('sentinel'), true)
    assert.equal(await auditCount(), before)
  })

  await t.test('404, 409 and reserved columns as on PostgreSQL (column names ignore case here)', async () => {
    const cases: Array<[string, string, unknown, number, string]> = [
      ['POST', '/management/tables', { table_name: 'widgets' }, 409, 'table_exists'],
      ['PATCH', '/management/tables/nope', { operations: [{ type: 'drop_default', column_name: 'x' }] }, 404, 'table_not_found'],
      ['PATCH', '/management/tables/widgets', { operations: [{ type: 'drop_default', column_name: 'nope' }] }, 404, 'column_not_found'],
      ['PATCH', '/management/tables/widgets', { operations: [{ type: 'add_column', column: { name: 'COLOR', data_type: 'int' } }] }, 409, 'column_exists'],
      ['PATCH', '/management/tables/widgets', { operations: [{ type: 'rename_column', from: 'created_at', to: 'made' }] }, 400, 'reserved_column'],
      ['DELETE', '/management/tables/widgets/columns/id', {}, 400, 'reserved_column'],
      ['DELETE', '/management/tables/widgets/columns/nope', {}, 404, 'column_not_found'],
      ['POST', '/management/indexes', { table_name: 'widgets', columns: ['name'], method: 'hash' }, 400, 'index_method_not_allowed'],
      ['POST', '/management/indexes', { table_name: 'widgets', columns: ['nope'] }, 404, 'column_not_found'],
      ['DELETE', '/management/indexes/nope_idx', {}, 404, 'index_not_found'],
      ['DELETE', '/management/indexes/PRIMARY', {}, 400, 'invalid_request'],
      ['DELETE', '/management/tables/nope', {}, 404, 'table_not_found'],
    ]
    for (const [method, path, body, status, code] of cases) {
      const res = await call(method, path, body)
      assert.equal(res.status, status, `${method} ${path} ${JSON.stringify(body)}: ${res.text}`)
      assert.equal(res.body.code, code, `${method} ${path}`)
    }
  })

  await t.test('indexes, columns and tables are created and dropped, each audited', async () => {
    const idx = await call('POST', '/management/indexes', { table_name: 'widgets', columns: ['name', 'price'] })
    assert.equal(idx.status, 201, idx.text)
    assert.equal(idx.body.data.index_name, 'widgets_name_price_idx')
    const taken = await call('POST', '/management/indexes', { table_name: 'customers', columns: ['name'], index_name: 'widgets_name_price_idx' })
    assert.equal(taken.status, 409, 'index names are kept unique in the database so DELETE by name is unambiguous')
    assert.equal((await call('DELETE', '/management/indexes/widgets_name_price_idx')).status, 200)
    assert.equal((await call('DELETE', '/management/tables/widgets/columns/caption')).status, 200)
    assert.ok(!(await columns('widgets')).some((c) => c.name === 'caption'))
    assert.equal((await call('DELETE', '/management/tables/widgets')).status, 200)
    assert.equal(await tableExists('widgets'), false)
    const ops = (await audit()).map((r) => r.operation).slice(-4)
    assert.deepEqual(ops, ['management.indexes.create', 'management.indexes.drop', 'management.columns.drop', 'management.tables.drop'])
    assert.equal((await call('DELETE', '/management/tables/database_audit_log')).status, 400)
  })
})
