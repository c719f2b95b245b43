import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { assertMatchesSpec } from '../../helpers/athena-contract.js'
import { startTestAtrium } from '../../helpers/atrium.js'
import { createPgDatabase } from '../../helpers/databases.js'

interface AuditRow { id: number; actor: string; client_name: string; operation: string; object_schema: string; object_name: string; statement: string; request_id: string; details: Record<string, unknown> }

// Management DDL on PostgreSQL: every change and its audit row commit or roll back together.
test('management DDL on PostgreSQL', async (t) => {
  const db = await createPgDatabase(t)
  await db.load('shop')
  const atrium = await startTestAtrium(t, { sources: { shop: db.url } })
  const call = (method: string, path: string, body?: unknown) => atrium.request(method, path, { client: 'shop', body })
  const audit = () => db.query<AuditRow>('SELECT * FROM public.database_audit_log ORDER BY id')
  const auditCount = async () => (await audit()).length
  const columns = async (table: string) =>
    db.query<{ column_name: string; data_type: string; is_nullable: string; column_default: string | null }>(
      "SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
      [table],
    )
  const exists = async (table: string) => (await db.query<{ r: string | null }>('SELECT to_regclass($1)::text AS r', [`public.${table}`]))[0].r !== null
  const sentinelSurvives = async () => assert.equal((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM sentinel'))[0].n, 1)

  await t.test('without public.database_audit_log every change is refused with 503 and nothing changes', async () => {
    const attempts: Array<[string, string, unknown]> = [
      ['POST', '/management/tables', { table_name: 'widgets' }],
      ['PATCH', '/management/tables/customers', { operations: [{ type: 'add_column', column: { name: 'nickname', data_type: 'text' } }] }],
      ['DELETE', '/management/tables/sentinel', {}],
      ['DELETE', '/management/tables/customers/columns/tier', {}],
      ['POST', '/management/indexes', { table_name: 'customers', columns: ['name'] }],
      ['DELETE', '/management/indexes/customers_email_key', {}],
      ['POST', '/management/extensions/install', { extension_name: 'pgcrypto' }],
    ]
    for (const [method, path, body] of attempts) {
      const res = await call(method, path, body)
      assert.equal(res.status, 503, `${method} ${path}: ${res.text}`)
      assert.equal(res.body.code, 'audit_log_missing')
      assert.match(res.body.hint, /audit-log/)
    }
    assert.equal(await exists('widgets'), false)
    assert.equal(await exists('sentinel'), true)
    assert.ok((await columns('customers')).some((c) => c.column_name === 'tier'))
  })

  await t.test('capabilities list operations, rights and allow-lists, and say the audit log is missing', async () => {
    const res = await call('GET', '/management/capabilities')
    assert.equal(res.status, 200, res.text)
    await assertMatchesSpec('GET', '/management/capabilities', 200, res.body)
    const c = res.body.data
    assert.equal(c.backend, 'postgresql')
    assert.equal(c.audit_log_installed, false)
    assert.equal(c.transactional_ddl, true)
    assert.ok(c.supported_operations.includes('set_not_null') && c.supported_operations.includes('install_extension'))
    assert.deepEqual(c.required_rights.find((r: { operation: string }) => r.operation === 'drop_column'), { operation: 'drop_column', required_right: 'management.columns.drop' })
    assert.deepEqual(c.allowed_index_methods, ['btree', 'hash', 'gin', 'gist', 'brin'])
    assert.ok(c.allowed_column_data_types.includes('jsonb'))
    assert.deepEqual(c.reserved_columns, ['id', 'created_at'])
  })

  await t.test('the admin route installs the audit log (idempotently) and records that', async () => {
    const first = await atrium.post('/admin/clients/shop/audit-log')
    assert.equal(first.status, 200, first.text)
    assert.equal((await atrium.post('/admin/clients/shop/audit-log')).status, 200)
    const rows = await audit()
    assert.deepEqual(rows.map((r) => r.operation), ['management.audit_log.install', 'management.audit_log.install'])
    assert.equal((await call('GET', '/management/capabilities')).body.data.audit_log_installed, true)
  })

  await t.test('POST /management/tables creates the table with id and created_at, audited in the same transaction', async () => {
    const res = await call('POST', '/management/tables', {
      table_name: 'widgets',
      columns: [
        { name: 'name', data_type: 'text', nullable: false },
        { name: 'price', data_type: 'NUMERIC(10, 2)', default_expression: '0' },
        { name: 'label', data_type: 'varchar(40)', default_expression: "'it''s new'" },
        { name: 'attrs', data_type: 'jsonb', default_expression: "'{}'::jsonb" },
        { name: 'token', data_type: 'uuid', default_expression: 'gen_random_uuid()' },
        { name: 'tags', data_type: 'text[]' },
      ],
    })
    assert.equal(res.status, 201, res.text)
    await assertMatchesSpec('POST', '/management/tables', 201, res.body)
    assert.equal(res.body.status, 'success')
    assert.equal(res.body.data.table_name, 'widgets')
    assert.deepEqual((await columns('widgets')).map((c) => [c.column_name, c.data_type, c.is_nullable]), [
      ['id', 'bigint', 'NO'], ['created_at', 'timestamp with time zone', 'NO'], ['name', 'text', 'NO'], ['price', 'numeric', 'YES'],
      ['label', 'character varying', 'YES'], ['attrs', 'jsonb', 'YES'], ['token', 'uuid', 'YES'], ['tags', 'ARRAY', 'YES'],
    ])
    const row = (await audit()).at(-1)!
    assert.equal(Number(row.id), res.body.data.audit_log_id)
    assert.deepEqual([row.actor, row.client_name, row.operation, row.object_schema, row.object_name], ['admin', 'shop', 'management.tables.create', 'public', 'widgets'])
    assert.equal(row.statement, res.body.data.statements[0])
    assert.match(row.statement, /^CREATE TABLE "public"."widgets" \("id" bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY/)
    assert.equal(row.request_id, res.headers.get('x-request-id'))
    // the schema cache was refreshed: the gateway writes the new table at once, defaults applied
    const inserted = await atrium.request('PUT', '/gateway/insert', { client: 'shop', body: { table_name: 'widgets', insert_body: { name: 'gear' } } })
    assert.equal(inserted.status, 200, inserted.text)
    assert.equal(inserted.body.data[0].label, "it's new")
    assert.deepEqual(inserted.body.data[0].attrs, {})
  })

  await t.test('create: existing table 409, bad identifiers, types and reserved columns 400, no audit rows', async () => {
    const before = await auditCount()
    const cases: Array<[unknown, number, string]> = [
      [{ table_name: 'widgets' }, 409, 'table_exists'],
      [{ table_name: 'paid_orders' }, 409, 'table_exists'],
      [{ table_name: 'bad-name' }, 400, 'invalid_identifier'],
      [{ table_name: 'x"; DROP TABLE sentinel; --' }, 400, 'invalid_identifier'],
      [{ table_name: '' }, 400, 'invalid_identifier'],
      [{ table_name: 'a'.repeat(64) }, 400, 'invalid_identifier'],
      [{ table_name: 'ok_table', columns: [{ name: 'id', data_type: 'text' }] }, 400, 'reserved_column'],
      [{ table_name: 'ok_table', columns: [{ name: 'CREATED_AT', data_type: 'text' }] }, 400, 'reserved_column'],
      [{ table_name: 'ok_table', columns: [{ name: 'a', data_type: 'text); DROP TABLE sentinel; --' }] }, 400, 'data_type_not_allowed'],
      [{ table_name: 'ok_table', columns: [{ name: 'a', data_type: 'money' }] }, 400, 'data_type_not_allowed'],
      [{ table_name: 'ok_table', columns: [{ name: 'a', data_type: 'varchar(0)' }] }, 400, 'data_type_not_allowed'],
      [{ table_name: 'ok_table', columns: [{ name: 'a', data_type: 'text' }, { name: 'a', data_type: 'text' }] }, 400, 'invalid_request'],
      [{ table_name: 'ok_table', columns: [{ name: 'a b', data_type: 'text' }] }, 400, 'invalid_identifier'],
      [{ table_name: 'ok_table', schema_name: 'pg_catalog' }, 400, 'invalid_request'],
      [{ table_name: 'database_audit_log' }, 400, 'invalid_request'],
      [{ columns: [] }, 400, 'invalid_request'],
      [{ table_name: 'ok_table', extra: true }, 400, 'invalid_request'],
    ]
    for (const [body, status, code] of cases) {
      const res = await call('POST', '/management/tables', body)
      assert.equal(res.status, status, `${JSON.stringify(body)}: ${res.text}`)
      assert.equal(res.body.code, code, JSON.stringify(body))
    }
    assert.equal(await exists('ok_table'), false)
    assert.equal(await auditCount(), before)
    await sentinelSurvives()
  })

  await t.test('default expressions outside the grammar are refused; injection attempts change nothing', async () => {
    const attempts = [
      "'x'); DROP TABLE sentinel; --",
      "now(); DROP TABLE sentinel",
      "(SELECT label FROM sentinel)",
      "pg_sleep(5)",
      "'a' || 'b'",
      "'back\\slash'",
      "1::text); DROP TABLE sentinel; --",
      "now()::text",
      "E'\\x41'",
      '',
    ]
    for (const expression of attempts) {
      const res = await call('POST', '/management/tables', { table_name: 'inj', columns: [{ name: 'v', data_type: 'text', default_expression: expression }] })
      assert.equal(res.status, 400, `${expression}: ${res.text}`)
      assert.equal(res.body.code, 'invalid_default_expression', expression)
      const alter = await call('PATCH', '/management/tables/widgets', { operations: [{ type: 'set_default', column_name: 'name', default_expression: expression }] })
      assert.equal(alter.status, 400, expression)
    }
    // a quote inside a literal stays inside it
    const quoted = await call('POST', '/management/tables', { table_name: 'inj', columns: [{ name: 'v', data_type: 'text', default_expression: "'x''); DROP TABLE sentinel; --'" }] })
    assert.equal(quoted.status, 201, quoted.text)
    await db.query('INSERT INTO inj DEFAULT VALUES')
    assert.deepEqual(await db.query('SELECT v FROM inj'), [{ v: "x'); DROP TABLE sentinel; --" }])
    assert.equal(await exists('sentinel'), true)
    await sentinelSurvives()
  })

  await t.test('PATCH applies each operation, all in one transaction with one audit row', async () => {
    const res = await call('PATCH', '/management/tables/widgets', {
      operations: [
        { type: 'add_column', column: { name: 'color', data_type: 'text', default_expression: "'blue'" } },
        { type: 'set_default', column_name: 'color', default_expression: "'red'" },
        { type: 'rename_column', from: 'label', to: 'caption' },
        { type: 'drop_default', column_name: 'price' },
        { type: 'set_not_null', column_name: 'color' },
        { type: 'drop_not_null', column_name: 'name' },
      ],
    })
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.data.statements.length, 6)
    const cols = new Map((await columns('widgets')).map((c) => [c.column_name, c]))
    assert.equal(cols.get('color')?.column_default, "'red'::text")
    assert.equal(cols.get('color')?.is_nullable, 'NO')
    assert.equal(cols.get('name')?.is_nullable, 'YES')
    assert.equal(cols.get('price')?.column_default, null)
    assert.ok(cols.has('caption') && !cols.has('label'))
    assert.deepEqual(await db.query('SELECT color FROM widgets'), [{ color: 'blue' }], 'the existing row got the default it was added with')
    const row = (await audit()).at(-1)!
    assert.equal(row.operation, 'management.tables.alter')
    assert.equal(row.statement, res.body.data.statements.join(';\n'))
    assert.deepEqual((row.details as { operations: unknown[] }).operations.length, 6)
  })

  await t.test('a failing operation rolls back the earlier ones and the audit row with them', async () => {
    await db.query("INSERT INTO widgets (name, price) VALUES ('no price yet', NULL)")
    const before = await auditCount()
    const res = await call('PATCH', '/management/tables/widgets', {
      operations: [
        { type: 'add_column', column: { name: 'weight', data_type: 'integer' } },
        { type: 'set_not_null', column_name: 'price' },
      ],
    })
    assert.equal(res.status, 400, res.text)
    assert.equal(res.body.code, 'not_null_violation')
    assert.ok(!(await columns('widgets')).some((c) => c.column_name === 'weight'), 'the added column was rolled back')
    assert.equal(await auditCount(), before, 'no audit row for a change that did not happen')
  })

  await t.test('when the audit row cannot be written, the DDL is rolled back too', async () => {
    await db.query("ALTER TABLE public.database_audit_log ADD CONSTRAINT refuse_one CHECK (object_name <> 'refused_by_audit')")
    const res = await call('POST', '/management/tables', { table_name: 'refused_by_audit' })
    assert.equal(res.status, 400, res.text)
    assert.equal(res.body.code, 'check_violation')
    assert.equal(await exists('refused_by_audit'), false)
    await db.query('ALTER TABLE public.database_audit_log DROP CONSTRAINT refuse_one')
  })

  await t.test('PATCH: unknown table 404, unknown column 404, existing column 409, reserved column 400, bad operation 400', async () => {
    const before = await auditCount()
    const cases: Array<[string, unknown, number, string]> = [
      ['nope', { operations: [{ type: 'drop_default', column_name: 'x' }] }, 404, 'table_not_found'],
      ['paid_orders', { operations: [{ type: 'drop_default', column_name: 'total' }] }, 404, 'table_not_found'],
      ['widgets', { operations: [{ type: 'drop_default', column_name: 'nope' }] }, 404, 'column_not_found'],
      ['widgets', { operations: [{ type: 'rename_column', from: 'nope', to: 'other' }] }, 404, 'column_not_found'],
      ['widgets', { operations: [{ type: 'add_column', column: { name: 'color', data_type: 'text' } }] }, 409, 'column_exists'],
      ['widgets', { operations: [{ type: 'rename_column', from: 'caption', to: 'color' }] }, 409, 'column_exists'],
      ['widgets', { operations: [{ type: 'rename_column', from: 'id', to: 'ident' }] }, 400, 'reserved_column'],
      ['widgets', { operations: [{ type: 'set_default', column_name: 'created_at', default_expression: 'now()' }] }, 400, 'reserved_column'],
      ['widgets', { operations: [{ type: 'drop_not_null', column_name: 'id' }] }, 400, 'reserved_column'],
      ['widgets', { operations: [{ type: 'add_column', column: { name: 'id', data_type: 'text' } }] }, 400, 'reserved_column'],
      ['widgets', { operations: [{ type: 'drop_table' }] }, 400, 'invalid_request'],
      ['widgets', { operations: [] }, 400, 'invalid_request'],
      ['widgets', { operations: [{ type: 'add_column' }] }, 400, 'invalid_request'],
      ['widgets', { operations: [{ type: 'rename_column', from: 'caption', to: 'bad name' }] }, 400, 'invalid_identifier'],
      ['bad%20name', { operations: [{ type: 'drop_default', column_name: 'x' }] }, 400, 'invalid_identifier'],
      ['database_audit_log', { operations: [{ type: 'drop_default', column_name: 'details' }] }, 400, 'invalid_request'],
    ]
    for (const [table, body, status, code] of cases) {
      const res = await call('PATCH', `/management/tables/${table}`, body)
      assert.equal(res.status, status, `${table} ${JSON.stringify(body)}: ${res.text}`)
      assert.equal(res.body.code, code, `${table} ${JSON.stringify(body)}`)
    }
    assert.equal(await auditCount(), before)
  })

  await t.test('DELETE a column: success is audited; missing 404; reserved 400', async () => {
    const res = await call('DELETE', '/management/tables/widgets/columns/caption')
    assert.equal(res.status, 200, res.text)
    assert.ok(!(await columns('widgets')).some((c) => c.column_name === 'caption'))
    assert.equal((await audit()).at(-1)!.operation, 'management.columns.drop')
    const before = await auditCount()
    assert.equal((await call('DELETE', '/management/tables/widgets/columns/caption')).body.code, 'column_not_found')
    assert.equal((await call('DELETE', '/management/tables/nope/columns/x')).body.code, 'table_not_found')
    const reserved = await call('DELETE', '/management/tables/widgets/columns/id', { cascade: true })
    assert.equal(reserved.status, 400)
    assert.equal(reserved.body.code, 'reserved_column')
    assert.equal((await call('DELETE', '/management/tables/widgets/columns/x;y')).body.code, 'invalid_identifier')
    assert.equal(await auditCount(), before)
  })

  await t.test('indexes: create (named or generated), unique, allow-listed methods, 404 and 409; drop by name', async () => {
    const named = await call('POST', '/management/indexes', { table_name: 'widgets', columns: ['name', 'color'], index_name: 'widgets_name_color' })
    assert.equal(named.status, 201, named.text)
    const generated = await call('POST', '/management/indexes', { table_name: 'widgets', columns: ['token'], unique: true })
    assert.equal(generated.status, 201, generated.text)
    assert.equal(generated.body.data.index_name, 'widgets_token_idx')
    const gin = await call('POST', '/management/indexes', { table_name: 'widgets', columns: ['attrs'], method: 'GIN' })
    assert.equal(gin.status, 201, gin.text)
    const indexes = await db.query<{ indexname: string; indexdef: string }>("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'widgets' ORDER BY indexname")
    assert.ok(indexes.some((i) => i.indexname === 'widgets_token_idx' && i.indexdef.startsWith('CREATE UNIQUE INDEX')))
    assert.ok(indexes.some((i) => i.indexname === 'widgets_attrs_idx' && i.indexdef.includes('USING gin')))
    const before = await auditCount()
    const cases: Array<[unknown, number, string]> = [
      [{ table_name: 'widgets', columns: ['name'], index_name: 'widgets_name_color' }, 409, 'index_exists'],
      [{ table_name: 'widgets', columns: ['name'], index_name: 'sentinel' }, 409, 'index_exists'],
      [{ table_name: 'nope', columns: ['name'] }, 404, 'table_not_found'],
      [{ table_name: 'widgets', columns: ['nope'] }, 404, 'column_not_found'],
      [{ table_name: 'widgets', columns: ['name'], method: 'spgist' }, 400, 'index_method_not_allowed'],
      [{ table_name: 'widgets', columns: ['name'], method: 'btree; DROP TABLE sentinel' }, 400, 'index_method_not_allowed'],
      [{ table_name: 'widgets', columns: ['name'], unique: true, method: 'hash' }, 400, 'invalid_request'],
      [{ table_name: 'widgets', columns: [] }, 400, 'invalid_request'],
      [{ table_name: 'widgets', columns: ['name', 'name'] }, 400, 'invalid_request'],
      [{ table_name: 'widgets', columns: ['name); DROP TABLE sentinel; --'] }, 400, 'invalid_identifier'],
      [{ table_name: 'widgets', columns: ['name'], index_name: 'bad name' }, 400, 'invalid_identifier'],
    ]
    for (const [body, status, code] of cases) {
      const res = await call('POST', '/management/indexes', body)
      assert.equal(res.status, status, `${JSON.stringify(body)}: ${res.text}`)
      assert.equal(res.body.code, code, JSON.stringify(body))
    }
    assert.equal(await auditCount(), before)
    await sentinelSurvives()

    const dropped = await call('DELETE', '/management/indexes/widgets_name_color')
    assert.equal(dropped.status, 200, dropped.text)
    assert.equal(dropped.body.data.table_name, 'widgets')
    assert.equal((await audit()).at(-1)!.operation, 'management.indexes.drop')
    assert.equal((await call('DELETE', '/management/indexes/widgets_name_color')).status, 404)
    const constraint = await call('DELETE', '/management/indexes/customers_pkey')
    assert.equal(constraint.status, 400)
    assert.match(constraint.body.message, /constraint/)
    assert.equal((await call('DELETE', '/management/indexes/bad;name')).body.code, 'invalid_identifier')
  })

  await t.test('extensions: allow-listed ones install (409 when present, unless if_not_exists); others are 400', async () => {
    const res = await call('POST', '/management/extensions/install', { extension_name: 'pgcrypto' })
    assert.equal(res.status, 200, res.text)
    assert.equal((await db.query("SELECT count(*)::int AS n FROM pg_extension WHERE extname = 'pgcrypto'"))[0].n, 1)
    assert.equal((await audit()).at(-1)!.operation, 'management.extensions.install')
    const again = await call('POST', '/management/extensions/install', { extension_name: 'pgcrypto' })
    assert.equal(again.status, 409)
    assert.equal(again.body.code, 'extension_exists')
    assert.equal((await call('POST', '/management/extensions/install', { extension_name: 'pgcrypto', if_not_exists: true })).status, 200)
    for (const name of ['plpython3u', 'adminpack', 'pgcrypto; DROP TABLE sentinel', '']) {
      const refused = await call('POST', '/management/extensions/install', { extension_name: name })
      assert.equal(refused.status, 400, name)
      assert.equal(refused.body.code, 'extension_not_allowed')
    }
    await sentinelSurvives()
  })

  await t.test('another process sharing the catalog sees the new schema within seconds', async () => {
    const other = await startTestAtrium(t, { catalog: atrium.catalog, sources: { shop: db.url } })
    const fetchGadgets = () => other.post('/gateway/fetch', { client: 'shop', body: { table_name: 'gadgets', columns: 'id' } })
    assert.equal((await fetchGadgets()).body.code, 'unknown_table', 'the other process has the table missing from its cache')
    assert.equal((await call('POST', '/management/tables', { table_name: 'gadgets' })).status, 201)
    let status = 0
    for (let i = 0; i < 100 && status !== 200; i++) {
      await sleep(50)
      status = (await fetchGadgets()).status
    }
    assert.equal(status, 200)
  })

  await t.test('DELETE a table: success is audited; missing and views 404; the audit log cannot be dropped', async () => {
    const res = await call('DELETE', '/management/tables/inj', { cascade: false })
    assert.equal(res.status, 200, res.text)
    assert.equal(await exists('inj'), false)
    const row = (await audit()).at(-1)!
    assert.deepEqual([row.operation, row.object_name, row.statement], ['management.tables.drop', 'inj', 'DROP TABLE "public"."inj"'])
    assert.equal((await call('DELETE', '/management/tables/inj')).status, 404)
    assert.equal((await call('DELETE', '/management/tables/paid_orders')).status, 404)
    const refused = await call('DELETE', '/management/tables/database_audit_log', { cascade: true })
    assert.equal(refused.status, 400)
    assert.equal(await exists('database_audit_log'), true)
    // customers is referenced by orders: without cascade PostgreSQL refuses and nothing is audited
    const before = await auditCount()
    const referenced = await call('DELETE', '/management/tables/customers')
    assert.equal(referenced.status, 400)
    assert.equal(await exists('customers'), true)
    assert.equal(await auditCount(), before)
  })

  await t.test('management routes need a key: anonymous callers get 401, unknown clients 400', async () => {
    const anonymous = await atrium.request('POST', '/management/tables', { client: 'shop', key: null, body: { table_name: 'anon' } })
    assert.equal(anonymous.status, 401)
    assert.equal((await atrium.request('GET', '/management/capabilities', { client: 'nobody' })).body.code, 'unknown_client')
    assert.equal((await atrium.request('GET', '/management/capabilities')).body.code, 'missing_client_header')
    assert.equal(await exists('anon'), false)
  })

  await t.test('outcomes are counted in athena_management_mutations_total', async () => {
    const metrics = await atrium.get('/metrics')
    assert.match(metrics.text, /athena_management_mutations_total\{operation="management.tables.create",status="success"\} [1-9]/)
    assert.match(metrics.text, /athena_management_mutations_total\{operation="management.tables.alter",status="error"\} [1-9]/)
  })
})
