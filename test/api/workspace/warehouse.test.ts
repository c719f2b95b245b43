// Projects → datasets → tables through HTTP, each table a real DuckDB table in its tenant's own database file:
// schema changes applied (add, rename, drop, nullability) or refused with a 422, soft deletes, another tenant's
// ids as 404s, and the DuckDB sandbox (no file access, ATTACH, COPY … TO, extension loading, or SET of it).
import assert from 'node:assert/strict'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import type { DuckDbEngine } from '../../../src/warehouse/duckdb-engine.js'
import { tableNameOf } from '../../../src/warehouse/duckdb-engine.js'
import { as, startWorkspace } from './workspace-helpers.js'

const SCHEMA = { columns: [
  { name: 'id', type: 'INTEGER', nullable: false },
  { name: 'email', type: 'varchar', private: true },
  { name: 'amount', type: 'DECIMAL(10,2)' },
] }

test('Workspace projects, datasets and tables', async (t) => {
  const { call, atrium, tenants: [a, b] } = await startWorkspace(t)
  const engine = atrium.handle.platform.warehouseEngine as DuckDbEngine
  const admin = as(a, 'Org admin')
  const editor = as(a, 'Dataset editor')
  const reader = as(a, 'Dataset user')

  /** the engine's columns of a table: name, type, nullable */
  const columnsOf = (datasetId: string, tableId: string) => engine.withConnection(a.id, async (c) => {
    const reader = await c.runAndReadAll(`SELECT column_name, data_type, is_nullable FROM information_schema.columns
      WHERE table_schema = 'ds_${datasetId.replaceAll('-', '')}' AND table_name = 't_${tableId.replaceAll('-', '')}' ORDER BY ordinal_position`)
    return reader.getRows().map((r) => `${r[0]} ${r[1]}${r[2] === 'NO' ? ' NOT NULL' : ''}`)
  })

  const project = await call(admin, 'POST', '/api/v1/projects', { name: 'Analytics', description: 'numbers' })
  assert.equal(project.status, 201, project.text)
  assert.equal(project.body.tenant_id, a.id)
  assert.equal((await call(editor, 'POST', '/api/v1/projects', { name: 'nope' })).status, 403)

  const dataset = await call(editor, 'POST', '/api/v1/datasets', { name: 'sales', project_id: project.body.id })
  assert.equal(dataset.status, 201, dataset.text)

  await t.test('datasets: names are SQL identifiers unique in the tenant; a project of another tenant is 404', async () => {
    const bad = await call(editor, 'POST', '/api/v1/datasets', { name: 'no spaces', project_id: project.body.id })
    assert.equal(bad.status, 422)
    assert.deepEqual(bad.body.detail[0].loc, ['body', 'name'])
    assert.equal((await call(editor, 'POST', '/api/v1/datasets', { name: 'sales', project_id: project.body.id })).status, 409)
    assert.equal((await call(reader, 'POST', '/api/v1/datasets', { name: 'x', project_id: project.body.id })).status, 403)
    const foreign = await call(as(b, 'Org admin'), 'POST', '/api/v1/datasets', { name: 'steal', project_id: project.body.id })
    assert.equal(foreign.status, 404, foreign.text)
    const listed = await call(reader, 'GET', `/api/v1/projects/${project.body.id}/datasets`)
    assert.deepEqual(listed.body.datasets.map((d: { id: string }) => d.id), [dataset.body.id])
    const updated = await call(editor, 'PUT', `/api/v1/datasets/${dataset.body.id}`, { description: 'all sales' })
    assert.equal(updated.status, 200)
    assert.equal(updated.body.description, 'all sales')
    assert.equal(updated.body.name, 'sales')
  })

  await t.test('tables: the declared schema is the DuckDB table', async () => {
    const table = await call(editor, 'POST', '/api/v1/tables', { name: 'orders', schema: SCHEMA, dataset_id: dataset.body.id })
    assert.equal(table.status, 201, table.text)
    assert.deepEqual(table.body.schema.columns[1], { name: 'email', type: 'VARCHAR', nullable: true, private: true })
    assert.deepEqual(await columnsOf(dataset.body.id, table.body.id), ['id INTEGER NOT NULL', 'email VARCHAR', 'amount DECIMAL(10,2)'])
    const files = readdirSync(join(atrium.handle.platform.config.dataDir, 'warehouse'))
    assert.deepEqual(files.filter((f) => f.endsWith('.duckdb')), [`${a.id.replaceAll('-', '')}.duckdb`], 'one database file, of tenant a only')

    const byDataset = await call(reader, 'GET', `/api/v1/datasets/${dataset.body.id}/tables`)
    assert.deepEqual(byDataset.body.tables.map((x: { name: string }) => x.name), ['orders'])
    assert.equal((await call(reader, 'GET', `/api/v1/tables/${table.body.id}`)).body.name, 'orders')
  })

  await t.test('bad schemas are 422s that name the column', async () => {
    const cases: Array<[unknown, RegExp, unknown[]]> = [
      [{ columns: [] }, /at least one column/, ['body', 'schema', 'columns']],
      [{ columns: [{ name: 'a', type: 'NOT_A_TYPE' }] }, /not a DuckDB type/, ['body', 'schema', 'columns', 0, 'type']],
      [{ columns: [{ name: 'a', type: 'INTEGER); DROP TABLE x; --' }] }, /not a DuckDB type/, ['body', 'schema', 'columns', 0, 'type']],
      [{ columns: [{ name: 'a"b', type: 'INTEGER' }] }, /column name/, ['body', 'schema', 'columns', 0, 'name']],
      [{ columns: [{ name: 'a', type: 'INTEGER' }, { name: 'A', type: 'INTEGER' }] }, /declared twice/, ['body', 'schema', 'columns', 1, 'name']],
      ['columns', /must be an object/, ['body', 'schema']],
    ]
    for (const [schema, msg, loc] of cases) {
      const res = await call(editor, 'POST', '/api/v1/tables', { name: 'bad', schema, dataset_id: dataset.body.id })
      assert.equal(res.status, 422, `${JSON.stringify(schema)}: ${res.text}`)
      assert.match(res.body.detail[0].msg, msg)
      assert.deepEqual(res.body.detail[0].loc, loc)
    }
    assert.equal((await call(editor, 'POST', '/api/v1/tables', { name: 'x', dataset_id: dataset.body.id })).status, 422, 'schema is required')
  })

  await t.test('PUT applies add, rename and drop; refuses a type change and a new NOT NULL column', async () => {
    const table = await call(editor, 'POST', '/api/v1/tables', { name: 'customers', schema: SCHEMA, dataset_id: dataset.body.id })
    const ref = { tenantId: a.id, datasetId: dataset.body.id, tableId: table.body.id }
    await engine.withConnection(a.id, (c) => c.run(`INSERT INTO ${tableNameOf(ref)} VALUES (1, 'ada@example.test', 9.5), (2, NULL, 1)`))

    const changed = await call(editor, 'PUT', `/api/v1/tables/${table.body.id}`, { schema: { columns: [
      { name: 'id', type: 'INTEGER', nullable: false },
      { name: 'contact', old_name: 'email', type: 'VARCHAR', private: true },
      { name: 'country', type: 'VARCHAR' },
    ] } })
    assert.equal(changed.status, 200, changed.text)
    assert.deepEqual(changed.body.schema.columns.map((c: { name: string }) => c.name), ['id', 'contact', 'country'])
    assert.ok(!('old_name' in changed.body.schema.columns[1]), 'old_name is an instruction, not stored')
    assert.deepEqual(await columnsOf(dataset.body.id, table.body.id), ['id INTEGER NOT NULL', 'contact VARCHAR', 'country VARCHAR'])
    const kept = await engine.withConnection(a.id, async (c) => (await c.runAndReadAll(`SELECT contact FROM ${tableNameOf(ref)} ORDER BY id`)).getRows())
    assert.deepEqual(kept, [['ada@example.test'], [null]], 'a rename keeps the values')

    const refusals: Array<[unknown, RegExp]> = [
      [{ columns: [{ name: 'id', type: 'BIGINT', nullable: false }] }, /cannot change type/],
      [{ columns: [{ name: 'id', type: 'INTEGER', nullable: false }, { name: 'required', type: 'INTEGER', nullable: false }] }, /must be nullable/],
      [{ columns: [{ name: 'x', old_name: 'missing', type: 'INTEGER' }] }, /does not exist/],
      // the engine refuses: row 2 has no contact
      [{ columns: [{ name: 'id', type: 'INTEGER', nullable: false }, { name: 'contact', type: 'VARCHAR', nullable: false }, { name: 'country', type: 'VARCHAR' }] }, /cannot be applied/],
    ]
    for (const [schema, msg] of refusals) {
      const res = await call(editor, 'PUT', `/api/v1/tables/${table.body.id}`, { schema })
      assert.equal(res.status, 422, `${JSON.stringify(schema)}: ${res.text}`)
      assert.match(res.body.detail[0].msg, msg)
    }
    assert.deepEqual(await columnsOf(dataset.body.id, table.body.id), ['id INTEGER NOT NULL', 'contact VARCHAR', 'country VARCHAR'], 'a refused change changes nothing')
    assert.deepEqual((await call(reader, 'GET', `/api/v1/tables/${table.body.id}`)).body.schema.columns.map((c: { name: string }) => c.name), ['id', 'contact', 'country'])
    const moved = await call(editor, 'PUT', `/api/v1/tables/${table.body.id}`, { dataset_id: '00000000-0000-4000-8000-000000000000' })
    assert.equal(moved.status, 422)
    assert.equal((await call(reader, 'PUT', `/api/v1/tables/${table.body.id}`, { name: 'x' })).status, 403)
    const renamed = await call(editor, 'PATCH', `/api/v1/tables/${table.body.id}`, { name: 'clients' })
    assert.equal(renamed.status, 200)
    assert.equal(renamed.body.name, 'clients')
    assert.equal(await engine.countRows(ref), 2, 'renaming a table is the catalog\'s business only')
  })

  await t.test('another tenant sees none of it: lists are empty, ids are 404', async () => {
    const other = as(b, 'Org admin')
    for (const path of ['/api/v1/projects', '/api/v1/datasets', '/api/v1/tables']) {
      const res = await call(other, 'GET', path)
      assert.equal(res.status, 200)
      assert.equal(Object.values(res.body)[0] instanceof Array && (Object.values(res.body)[0] as unknown[]).length, 0, path)
    }
    const tables = (await call(reader, 'GET', '/api/v1/tables')).body.tables as Array<{ id: string }>
    const probes: Array<[string, string, unknown]> = [
      ['GET', `/api/v1/projects/${project.body.id}`, undefined],
      ['PUT', `/api/v1/projects/${project.body.id}`, { name: 'x' }],
      ['DELETE', `/api/v1/projects/${project.body.id}`, undefined],
      ['GET', `/api/v1/projects/${project.body.id}/datasets`, undefined],
      ['GET', `/api/v1/datasets/${dataset.body.id}`, undefined],
      ['PUT', `/api/v1/datasets/${dataset.body.id}`, { name: 'x' }],
      ['DELETE', `/api/v1/datasets/${dataset.body.id}`, undefined],
      ['GET', `/api/v1/datasets/${dataset.body.id}/tables`, undefined],
      ['POST', '/api/v1/tables', { name: 't', schema: SCHEMA, dataset_id: dataset.body.id }],
      ['GET', `/api/v1/tables/${tables[0]!.id}`, undefined],
      ['PUT', `/api/v1/tables/${tables[0]!.id}`, { name: 'x' }],
      ['DELETE', `/api/v1/tables/${tables[0]!.id}`, undefined],
    ]
    for (const [method, path, body] of probes) {
      const res = await call(other, method, path, body)
      assert.equal(res.status, 404, `${method} ${path}: ${res.text}`)
      assert.equal(typeof res.body.detail, 'string')
    }
    assert.equal((await call(reader, 'GET', `/api/v1/projects/${project.body.id}`)).status, 200, 'still there for its own tenant')
  })

  await t.test('soft deletes: not while something is inside; then gone from lists and 404', async () => {
    assert.equal((await call(admin, 'DELETE', `/api/v1/projects/${project.body.id}`)).status, 409)
    assert.equal((await call(editor, 'DELETE', `/api/v1/datasets/${dataset.body.id}`)).status, 409)
    const tables = (await call(reader, 'GET', `/api/v1/datasets/${dataset.body.id}/tables`)).body.tables as Array<{ id: string }>
    for (const table of tables) {
      assert.equal((await call(reader, 'DELETE', `/api/v1/tables/${table.id}`)).status, 403)
      assert.equal((await call(editor, 'DELETE', `/api/v1/tables/${table.id}`)).status, 204)
      assert.equal((await call(reader, 'GET', `/api/v1/tables/${table.id}`)).status, 404)
      await assert.rejects(engine.countRows({ tenantId: a.id, datasetId: dataset.body.id, tableId: table.id }), /does not exist/, 'the engine table is dropped')
    }
    assert.equal((await call(editor, 'DELETE', `/api/v1/datasets/${dataset.body.id}`)).status, 204)
    assert.equal((await call(admin, 'DELETE', `/api/v1/projects/${project.body.id}`)).status, 204)
    assert.equal((await call(admin, 'GET', `/api/v1/projects/${project.body.id}`)).status, 404)
    assert.equal((await call(admin, 'GET', '/api/v1/projects')).body.projects.length, 0)
    // the name is free again once the dataset is deleted
    const p2 = await call(admin, 'POST', '/api/v1/projects', { name: 'again' })
    assert.equal((await call(editor, 'POST', '/api/v1/datasets', { name: 'sales', project_id: p2.body.id })).status, 201)
  })

  await t.test('GET /health checks DuckDB beside the catalog', async () => {
    const health = await atrium.get('/health', { key: null })
    assert.equal(health.status, 200, health.text)
    assert.equal(health.body.checks.warehouse.status, 'ok')
    assert.equal(health.body.checks.catalog.status, 'ok')
  })

  await t.test('the DuckDB sandbox: SQL cannot reach files, other databases, extensions or its own settings', async () => {
    const outside = join(atrium.handle.platform.config.dataDir, 'escape.csv')
    const attempts: Array<[string, RegExp]> = [
      [`COPY (SELECT 1) TO '${outside}'`, /Permission Error/],
      [`ATTACH '${join(atrium.handle.platform.config.dataDir, 'other.duckdb')}' AS other`, /Permission Error/],
      ["SELECT * FROM read_csv('/etc/passwd')", /Permission Error/],
      ["SELECT * FROM read_text('/etc/hostname')", /Permission Error/],
      ['INSTALL httpfs', /Permission Error|disabled/],
      ['LOAD httpfs', /disabled|Permission Error/],
      ['SET enable_external_access = true', /Cannot change configuration option/],
      ['SET lock_configuration = false', /Cannot change configuration option/],
      ["PRAGMA enable_external_access", /./],
    ]
    for (const [sql, error] of attempts) {
      await assert.rejects(engine.withConnection(a.id, (c) => c.run(sql)), error, sql)
    }
    assert.ok(!existsSync(outside), 'COPY wrote nothing')
  })
})
