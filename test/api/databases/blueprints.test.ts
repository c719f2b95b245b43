// /api/v1/blueprints*, /api/v1/blueprint_validations and blueprint applications end to end: versions, the
// engines' real parsers, typed variables bound as quoted values, applications as jobs on real PostgreSQL and
// MariaDB databases, dry runs and rollback, and a database created with a blueprint.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { startDatabasesAtrium, type DatabasesAtrium } from './helpers.js'

async function createDb(atrium: DatabasesAtrium, key: string, body: Record<string, unknown>) {
  const res = await atrium.api('POST', '/api/v1/databases?wait=true&timeout=60', key, { body })
  if (res.body?.data?.db_name) atrium.track(res.body.data)
  assert.equal(res.status, 201, res.text)
  return res.body.data as Record<string, any>
}

async function runAs(url: string, sql: string): Promise<any[]> {
  if (url.startsWith('postgresql:')) {
    const c = new pg.Client({ connectionString: url })
    c.on('error', () => {})
    await c.connect()
    try { return (await c.query(sql)).rows } finally { await c.end() }
  }
  const c = await mysql.createConnection({ uri: url })
  try { return (await c.query(sql))[0] as any[] } finally { await c.end() }
}

const tableNames = async (db: Record<string, any>) => db.db_type === 'postgres'
  ? (await runAs(db.connection_string, "SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")).map((r) => r.t)
  : (await runAs(db.connection_string, 'SHOW TABLES')).map((r) => Object.values(r)[0])

test('blueprints: CRUD with versions, validation by the real parsers, scopes and teams', async (t) => {
  const atrium = await startDatabasesAtrium(t)
  const { key } = await atrium.createPlatformKey()
  const { key: otherTeam } = await atrium.createPlatformKey()
  const { key: readOnly } = await atrium.createPlatformKey({ scopes: ['blueprints:read'] })
  const { key: noBlueprints } = await atrium.createPlatformKey({ scopes: ['databases:read'] })

  const created = await atrium.api('POST', '/api/v1/blueprints', key, {
    body: { name: 'Seed Contacts', sql_content: 'CREATE TABLE {{table}} (id int, name text);\nINSERT INTO {{table}} VALUES (1, {{first}});', variables: { table: 'identifier', first: { type: 'string', default: 'ada' } } },
  })
  assert.equal(created.status, 201, created.text)
  const bp = created.body.data
  assert.equal(bp.object, 'blueprint')
  assert.equal(bp.slug, 'seed-contacts')
  assert.equal(bp.version, 1)
  assert.equal(bp.db_type, 'postgres')
  assert.deepEqual(bp.variables.first, { type: 'string', required: false, default: 'ada' })

  await t.test('each update is a new version; earlier versions stay readable', async () => {
    const updated = await atrium.api('PATCH', `/api/v1/blueprints/${bp.uuid}`, key, { body: { sql_content: 'CREATE TABLE {{table}} (id int);', description: 'v2' } })
    assert.equal(updated.status, 200, updated.text)
    assert.equal(updated.body.data.version, 2)
    assert.equal(updated.body.data.sql_content, 'CREATE TABLE {{table}} (id int);')
    const renamed = await atrium.api('PATCH', `/api/v1/blueprints/${bp.uuid}`, key, { body: { name: 'contacts' } })
    assert.equal(renamed.body.data.version, 3)
    assert.equal(renamed.body.data.description, 'v2')
    const v1 = await atrium.api('GET', `/api/v1/blueprints/${bp.uuid}?version=1`, key)
    assert.equal(v1.status, 200, v1.text)
    assert.match(v1.body.data.sql_content, /INSERT INTO/)
    const none = await atrium.api('GET', `/api/v1/blueprints/${bp.uuid}?version=9`, key)
    assert.equal(none.status, 422)
    assert.equal(none.body.error.details.field, 'version')
  })

  await t.test('an update with invalid SQL is refused and makes no version', async () => {
    const bad = await atrium.api('PATCH', `/api/v1/blueprints/${bp.uuid}`, key, { body: { sql_content: 'CREATE TABLE x (id int);\nCREAT TABLE y ();' } })
    assert.equal(bad.status, 422)
    assert.equal(bad.body.error.code, 'blueprint_invalid')
    assert.equal(bad.body.error.details.errors[0].line, 2)
    assert.equal((await atrium.api('GET', `/api/v1/blueprints/${bp.uuid}`, key)).body.data.version, 3)
  })

  await t.test('list pages, without sql_content', async () => {
    const second = await atrium.api('POST', '/api/v1/blueprints', key, { body: { name: 'two', sql_content: 'SELECT 1' } })
    assert.equal(second.status, 201)
    const page1 = await atrium.api('GET', '/api/v1/blueprints?limit=1', key)
    assert.equal(page1.status, 200)
    assert.equal(page1.body.has_more, true)
    assert.equal(page1.body.data[0].uuid, second.body.data.uuid)
    assert.equal(page1.body.data[0].sql_content, undefined)
    const page2 = await atrium.api('GET', `/api/v1/blueprints?limit=1&starting_after=${second.body.data.uuid}`, key)
    assert.deepEqual(page2.body.data.map((b: any) => b.uuid), [bp.uuid])
    assert.equal(page2.body.has_more, false)
  })

  await t.test('validations: statements, errors with line and column, forbidden statements, both engines', async () => {
    const good = await atrium.api('POST', '/api/v1/blueprint_validations', readOnly, { body: { sql_content: "CREATE TABLE t (id int);\nINSERT INTO t VALUES ({{n}});\n-- {{ignored}}\nSELECT 'a;b'", variables: { n: 'number' } } })
    assert.equal(good.status, 200, good.text)
    assert.equal(good.body.data.valid, true)
    assert.equal(good.body.data.statement_count, 3)
    assert.deepEqual(good.body.data.manifest.statements.map((s: any) => s.kind), ['CreateStmt', 'InsertStmt', 'SelectStmt'])
    assert.match(good.body.data.warnings[0], /ignored/)
    const syntax = await atrium.api('POST', '/api/v1/blueprint_validations', key, { body: { sql_content: 'SELECT 1;\n  SELEC 2;' } })
    assert.equal(syntax.body.data.valid, false)
    assert.deepEqual(syntax.body.data.error_details[0], { message: 'syntax error at or near "SELEC"', line: 2, column: 3 })
    assert.equal(syntax.body.data.errors[0], 'line 2, column 3: syntax error at or near "SELEC"')
    const forbidden = await atrium.api('POST', '/api/v1/blueprint_validations', key, { body: { sql_content: 'CREATE ROLE x;\nALTER DATABASE postgres SET work_mem = 1;\nCOMMIT;\nSET ROLE postgres;\nCOPY t FROM PROGRAM $$id$$' } })
    assert.equal(forbidden.body.data.valid, false)
    assert.deepEqual(forbidden.body.data.error_details.map((e: any) => e.line), [1, 2, 3, 4, 5])
    const undeclared = await atrium.api('POST', '/api/v1/blueprint_validations', key, { body: { sql_content: 'SELECT {{who}}' } })
    assert.equal(undeclared.body.data.valid, false)
    assert.match(undeclared.body.data.errors[0], /\{\{who\}\} is not a declared variable/)
    const my = await atrium.api('POST', '/api/v1/blueprint_validations', key, { body: { db_type: 'mysql', sql_content: 'create table t (id int);\n# c\ninsert into t values (1);\ndrop database other;\nselec 1' } })
    assert.equal(my.body.data.valid, false)
    assert.equal(my.body.data.statement_count, 3)
    assert.deepEqual(my.body.data.error_details.map((e: any) => e.line), [4, 5])
    const badType = await atrium.api('POST', '/api/v1/blueprint_validations', key, { body: { sql_content: 'SELECT {{x}}', variables: { x: 'date' } } })
    assert.equal(badType.status, 422)
    assert.equal(badType.body.error.details.field, 'variables.x.type')
  })

  await t.test('another team sees none of it; scopes are required', async () => {
    assert.equal((await atrium.api('GET', `/api/v1/blueprints/${bp.uuid}`, otherTeam)).status, 404)
    assert.equal((await atrium.api('PATCH', `/api/v1/blueprints/${bp.uuid}`, otherTeam, { body: { name: 'x' } })).status, 404)
    assert.equal((await atrium.api('DELETE', `/api/v1/blueprints/${bp.uuid}`, otherTeam)).body.error.code, 'blueprint_not_found')
    assert.deepEqual((await atrium.api('GET', '/api/v1/blueprints', otherTeam)).body.data, [])
    assert.equal((await atrium.api('GET', '/api/v1/blueprints', null)).status, 401)
    const denied = await atrium.api('GET', '/api/v1/blueprints', noBlueprints)
    assert.equal(denied.status, 403)
    assert.equal(denied.body.error.code, 'missing_scope')
    const write = await atrium.api('POST', '/api/v1/blueprints', readOnly, { body: { name: 'x', sql_content: 'SELECT 1' } })
    assert.equal(write.status, 403)
    assert.equal((await atrium.api('GET', '/api/v1/blueprint_applications/1', noBlueprints)).status, 403)
  })

  await t.test('delete', async () => {
    const res = await atrium.api('DELETE', `/api/v1/blueprints/${bp.uuid}`, key)
    assert.equal(res.status, 200, res.text)
    assert.deepEqual(res.body.data, { object: 'blueprint', uuid: bp.uuid, deleted: true })
    assert.equal((await atrium.api('GET', `/api/v1/blueprints/${bp.uuid}`, key)).status, 404)
  })
})

test('applications on PostgreSQL: values bound quoted, dry run, rollback of a failure, blueprint at create', async (t) => {
  const atrium = await startDatabasesAtrium(t)
  const { key } = await atrium.createPlatformKey()
  const { key: otherTeam } = await atrium.createPlatformKey()
  const db = await createDb(atrium, key, { name: 'bp-pg', db_type: 'postgres' })
  const seed = (await atrium.api('POST', '/api/v1/blueprints', key, {
    body: { name: 'seed', sql_content: 'CREATE TABLE {{table}} (id int PRIMARY KEY, name text, vip boolean);\nINSERT INTO {{table}} VALUES ({{id}}, {{name}}, {{vip}});', variables: { table: 'identifier', id: 'number', name: 'string', vip: { type: 'boolean', default: false } } },
  })).body.data
  const apply = (body: Record<string, unknown>, who = key) => atrium.api('POST', `/api/v1/databases/${db.uuid}/blueprint_applications`, who, { body: { blueprint_uuid: seed.uuid, timeout: 60, ...body } })

  await t.test('a dry run runs every statement and keeps nothing', async () => {
    const res = await apply({ variables: { table: 'contacts', id: 1, name: 'x' }, dry_run: true })
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.data.status, 'completed')
    assert.equal(res.body.data.is_dry_run, true)
    assert.equal(res.body.data.statements_succeeded, 2)
    assert.deepEqual(await tableNames(db), [])
  })

  await t.test('values are bound as quoted literals and identifiers, never pasted', async () => {
    const evil = "x'); DROP TABLE contacts; --"
    const res = await apply({ variables: { table: 'Contacts"; DROP', id: 7, name: evil, vip: true } })
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.data.status, 'completed', res.text)
    assert.equal(res.body.data.blueprint_version, 1)
    assert.deepEqual(res.body.data.execution_log.map((s: any) => [s.index, s.status]), [[1, 'succeeded'], [2, 'succeeded']])
    assert.equal(res.body.data.execution_log[1].rows_affected, 1)
    assert.deepEqual(await tableNames(db), ['Contacts"; DROP'])
    const rows = await runAs(db.connection_string, 'SELECT id, name, vip FROM "Contacts""; DROP"')
    assert.deepEqual(rows, [{ id: 7, name: evil, vip: true }])
    const got = await atrium.api('GET', `/api/v1/blueprint_applications/${res.body.data.id}`, key)
    assert.equal(got.body.data.status, 'completed')
    assert.equal((await atrium.api('GET', `/api/v1/blueprint_applications/${res.body.data.id}`, otherTeam)).status, 404)
    const events = await atrium.catalog.query<{ type: string }>("SELECT type FROM atrium.events WHERE payload->>'database_id' = $1 AND type = 'blueprint.applied'", [db.uuid])
    assert.equal(events.length, 1, 'one blueprint.applied for the one real application')
  })

  await t.test('variables are checked against their declared types', async () => {
    const wrong = await apply({ variables: { table: 't', id: '1; DROP TABLE x', name: 'a' } })
    assert.equal(wrong.status, 422)
    assert.equal(wrong.body.error.details.field, 'variables.id')
    const missing = await apply({ variables: { table: 't', id: 1 } })
    assert.equal(missing.body.error.code, 'missing_required_field')
    const unknown = await apply({ variables: { table: 't', id: 1, name: 'a', extra: 1 } })
    assert.equal(unknown.body.error.details.field, 'variables.extra')
  })

  await t.test('a failing statement rolls the whole application back', async () => {
    // the table exists from the earlier application, so statement 1 succeeds on a new name and statement 2 fails
    const failing = (await atrium.api('POST', '/api/v1/blueprints', key, { body: { name: 'failing', sql_content: 'CREATE TABLE audit (id int);\nINSERT INTO audit VALUES (1);\nINSERT INTO missing_table VALUES (1);\nSELECT 1' } })).body.data
    const res = await atrium.api('POST', `/api/v1/databases/${db.uuid}/blueprint_applications`, key, { body: { blueprint_uuid: failing.uuid, timeout: 60 } })
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.data.status, 'rolled_back')
    assert.deepEqual(res.body.data.execution_log.map((s: any) => s.status), ['succeeded', 'succeeded', 'failed', 'skipped'])
    assert.match(res.body.data.error_message, /statement 3 failed: relation "missing_table" does not exist/)
    assert.equal(res.body.data.statements_failed, 1)
    assert.ok(!(await tableNames(db)).includes('audit'), 'the table made before the failure was rolled back')
  })

  await t.test("another team's database or blueprint is 404", async () => {
    const res = await apply({ variables: { table: 't', id: 1, name: 'a' } }, otherTeam)
    assert.equal(res.status, 404)
    assert.equal(res.body.error.code, 'database_not_found')
    const foreign = (await atrium.api('POST', '/api/v1/blueprints', otherTeam, { body: { name: 'f', sql_content: 'SELECT 1' } })).body.data
    const res2 = await atrium.api('POST', `/api/v1/databases/${db.uuid}/blueprint_applications`, key, { body: { blueprint_uuid: foreign.uuid } })
    assert.equal(res2.status, 404)
    assert.equal(res2.body.error.code, 'blueprint_not_found')
  })

  await t.test('wait=false answers 202 at once, and the application can be polled', async () => {
    const res = await apply({ variables: { table: 'later', id: 1, name: 'a' }, wait: false })
    assert.equal(res.status, 202, res.text)
    assert.equal(res.body.data.status, 'pending')
    const done = await pollApplication(atrium, key, res.body.data.id)
    assert.equal(done.status, 'completed', JSON.stringify(done))
  })

  await t.test('a database created with a blueprint gets it applied once it is active', async () => {
    const bad = await atrium.api('POST', '/api/v1/databases', key, { body: { name: 'with-bp', blueprint_uuid: seed.uuid, blueprint_variables: { table: 'x', id: 'nope', name: 'a' } } })
    assert.equal(bad.status, 422)
    assert.equal(bad.body.error.details.field, 'variables.id')
    const withBp = await createDb(atrium, key, { name: 'with-bp', blueprint_uuid: seed.uuid, blueprint_variables: { table: 'people', id: 3, name: 'grace' } })
    assert.equal(withBp.blueprint_uuid, seed.uuid)
    const got = await atrium.api('GET', `/api/v1/databases/${withBp.uuid}`, key)
    const applicationId = got.body.data.blueprint_application_id
    assert.equal(typeof applicationId, 'number', got.text)
    const done = await pollApplication(atrium, key, applicationId)
    assert.equal(done.status, 'completed', JSON.stringify(done))
    assert.deepEqual(await runAs(withBp.connection_string, 'SELECT id, name FROM people'), [{ id: 3, name: 'grace' }])
  })
})

test('applications on MariaDB: DML failures roll back, DDL before a failure is reported, no dry run', async (t) => {
  const atrium = await startDatabasesAtrium(t)
  const { key } = await atrium.createPlatformKey()
  const db = await createDb(atrium, key, { name: 'bp-my', db_type: 'mysql' })
  const create = async (sql: string, variables: Record<string, unknown> = {}) => (await atrium.api('POST', '/api/v1/blueprints', key, { body: { name: 'm', db_type: 'mysql', sql_content: sql, variables } })).body.data
  const apply = (uuid: string, body: Record<string, unknown> = {}) => atrium.api('POST', `/api/v1/databases/${db.uuid}/blueprint_applications`, key, { body: { blueprint_uuid: uuid, timeout: 60, ...body } })

  const schema = await create('create table {{t}} (id int primary key, note varchar(200));\ninsert into {{t}} values (1, {{note}});', { t: 'identifier', note: 'string' })
  const note = "it's `x`; drop table notes; -- \\"
  const ok = await apply(schema.uuid, { variables: { t: 'notes', note } })
  assert.equal(ok.status, 200, ok.text)
  assert.equal(ok.body.data.status, 'completed', ok.text)
  assert.deepEqual(await runAs(db.connection_string, 'select id, note from notes'), [{ id: 1, note }])

  // a blueprint that turns backslash escapes off cannot make a value end its literal early
  const modes = await create("set sql_mode = 'NO_BACKSLASH_ESCAPES';\ninsert into notes values (9, {{note}})", { note: 'string' })
  const tricky = await apply(modes.uuid, { variables: { note: "\\'); drop table notes; -- '" } })
  assert.equal(tricky.body.data.status, 'completed', tricky.text)
  const stored = await runAs(db.connection_string, 'select note from notes where id = 9')
  assert.equal(stored.length, 1)
  assert.match(stored[0].note, /drop table notes/, 'the whole value is data')

  const dml = await create('insert into notes values (2, "a");\ninsert into notes values (1, "duplicate")')
  const rolled = await apply(dml.uuid)
  assert.equal(rolled.body.data.status, 'rolled_back', rolled.text)
  assert.deepEqual((await runAs(db.connection_string, 'select id from notes order by id')).map((r) => r.id), [1, 9])

  const ddl = await create('create table kept (id int);\ninsert into notes values (1, "duplicate")')
  const failed = await apply(ddl.uuid)
  assert.equal(failed.body.data.status, 'failed', failed.text)
  assert.match(failed.body.data.error_message, /statements 1 .*could not be rolled back/)

  const dry = await apply(dml.uuid, { dry_run: true })
  assert.equal(dry.status, 422)
  assert.equal(dry.body.error.details.field, 'dry_run')
  const pgBlueprint = (await atrium.api('POST', '/api/v1/blueprints', key, { body: { name: 'p', sql_content: 'SELECT 1' } })).body.data
  const mismatch = await apply(pgBlueprint.uuid)
  assert.equal(mismatch.status, 422)
  assert.match(mismatch.body.error.message, /is for postgres/)
})

async function pollApplication(atrium: DatabasesAtrium, key: string, id: number): Promise<Record<string, any>> {
  for (let i = 0; i < 300; i++) {
    const res = await atrium.api('GET', `/api/v1/blueprint_applications/${id}`, key)
    assert.equal(res.status, 200, res.text)
    if (!['pending', 'running'].includes(res.body.data.status)) return res.body.data
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error(`application ${id} did not finish`)
}
