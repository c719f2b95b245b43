// /api/v1/databases end to end on the real PostgreSQL and MariaDB: each engine's database is made with a
// dedicated login that reaches only it, is at once a gateway and /rest/v1 client, and is dropped on delete.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { mysqlHas, pgHas, startDatabasesAtrium, type DatabasesAtrium } from './helpers.js'

type Db = Record<string, any>

async function createDb(atrium: DatabasesAtrium, key: string, body: Record<string, unknown>, query = '?wait=true&timeout=30') {
  const res = await atrium.api('POST', `/api/v1/databases${query}`, key, { body })
  if (res.body?.data?.db_name) atrium.track(res.body.data)
  return res
}

/** connects with a connection string and runs one statement; the driver's error when it cannot */
async function runAs(url: string, sql: string): Promise<unknown[]> {
  if (url.startsWith('postgresql:')) {
    const c = new pg.Client({ connectionString: url })
    c.on('error', () => {})
    await c.connect()
    try { return (await c.query(sql)).rows } finally { await c.end() }
  }
  const c = await mysql.createConnection({ uri: url })
  try { return (await c.query(sql))[0] as unknown[] } finally { await c.end() }
}

/** the same login's URL pointed at another database */
const otherDatabase = (url: string, dbName: string) => url.replace(/\/[^/]+$/, `/${dbName}`)

for (const engine of ['postgres', 'mysql'] as const) {
  test(`a ${engine} database: its own login, reachable through the gateway and /rest/v1, dropped on delete`, async (t) => {
    const atrium = await startDatabasesAtrium(t)
    const { key, teamId } = await atrium.createPlatformKey()

    const first = await createDb(atrium, key, { name: 'orders-db', db_type: engine, connection_hard_limit: 20 })
    assert.equal(first.status, 201, first.text)
    const db: Db = first.body.data
    assert.equal(db.object, 'database')
    assert.equal(db.status, 'active')
    assert.equal(db.db_type, engine)
    assert.equal(db.team_id, teamId)
    assert.equal(typeof db.db_password, 'string')
    assert.ok(db.connection_string.includes(db.db_password), 'create shows the full connection string')
    assert.equal(typeof first.body.request_id, 'string')
    const second = await createDb(atrium, key, { name: 'other-db', db_type: engine })
    assert.equal(second.status, 201, second.text)
    const other: Db = second.body.data

    await t.test('the returned connection string connects, and the login can create and write tables', async () => {
      await runAs(db.connection_string, 'CREATE TABLE notes (id integer PRIMARY KEY, body varchar(100))')
      await runAs(db.connection_string, "INSERT INTO notes VALUES (1, 'hello')")
      const rows = await runAs(db.connection_string, 'SELECT body FROM notes')
      assert.deepEqual(rows.map((r: any) => r.body), ['hello'])
    })

    await t.test("the login cannot reach another provisioned database", async () => {
      await assert.rejects(runAs(otherDatabase(db.connection_string, other.db_name), 'SELECT 1'), (err: any) => {
        // PostgreSQL: 42501 permission denied for database; MariaDB: 1044 access denied to the database
        assert.ok(err.code === '42501' || err.errno === 1044, `unexpected error ${err.code} ${err.message}`)
        return true
      })
    })

    await t.test('connection_hard_limit is the login\'s connection limit, and PATCH …/quotas changes it', async () => {
      const limitOf = async () => engine === 'postgres'
        ? (await runAs(otherDatabase(db.connection_string.replace(/\/\/[^@]+@/, '//postgres@'), 'postgres'), `SELECT rolconnlimit AS n FROM pg_roles WHERE rolname = '${db.db_username}'`) as any[])[0].n
        : Number((await runAs('mysql://root@127.0.0.1:3306/', `SELECT max_user_connections AS n FROM mysql.user WHERE user = '${db.db_username}'`) as any[])[0].n)
      assert.equal(await limitOf(), 20)
      const res = await atrium.api('PATCH', `/api/v1/databases/${db.uuid}/quotas`, key, { body: { connection_hard_limit: 15, warning_threshold_pct: 80 } })
      assert.equal(res.status, 200, res.text)
      assert.deepEqual(res.body.data.quotas, { storage_hard_limit_gb: null, connection_hard_limit: 15, warning_threshold_pct: 80 })
      assert.equal(await limitOf(), 15)
    })

    await t.test('the gateway reaches it with the admin key and the database name as X-Athena-Client', async () => {
      const res = await atrium.post('/gateway/fetch', { client: db.db_name, body: { table_name: 'notes', columns: 'id,body' } })
      assert.equal(res.status, 200, res.text)
      assert.deepEqual(res.body.data, [{ id: 1, body: 'hello' }])
    })

    await t.test('/rest/v1 reaches it too', async () => {
      const res = await atrium.get('/rest/v1/notes?select=body', { client: db.db_name })
      assert.equal(res.status, 200, res.text)
      assert.deepEqual(res.body, [{ body: 'hello' }])
    })

    await t.test('get shows the password; the list masks it', async () => {
      const one = await atrium.api('GET', `/api/v1/databases/${db.uuid}`, key)
      assert.equal(one.status, 200)
      assert.equal(one.body.data.db_password, db.db_password)
      const list = await atrium.api('GET', '/api/v1/databases', key)
      assert.equal(list.status, 200)
      const listed = list.body.data.find((d: Db) => d.uuid === db.uuid)
      assert.equal(listed.db_password, null)
      assert.ok(!listed.connection_string.includes(db.db_password))
      assert.equal(list.body.has_more, false)
    })

    await t.test('update renames it and changes its plan', async () => {
      const res = await atrium.api('PATCH', `/api/v1/databases/${db.uuid}`, key, { body: { name: 'orders-v2', plan: 'grow' } })
      assert.equal(res.status, 200, res.text)
      assert.equal(res.body.data.name, 'orders-v2')
      assert.equal(res.body.data.plan, 'grow')
    })

    await t.test('delete drops the database and its login, and publishes database.deleted', async () => {
      const res = await atrium.api('DELETE', `/api/v1/databases/${db.uuid}`, key)
      assert.equal(res.status, 200, res.text)
      assert.equal(res.body.data.deleted, true)
      assert.equal(res.body.data.uuid, db.uuid)
      if (engine === 'postgres') {
        assert.equal(await pgHas('database', db.db_name), false)
        assert.equal(await pgHas('role', db.db_username), false)
      } else {
        assert.equal(await mysqlHas('database', db.db_name), false)
        assert.equal(await mysqlHas('user', db.db_username), false)
      }
      assert.equal((await atrium.api('GET', `/api/v1/databases/${db.uuid}`, key)).status, 404)
      const gateway = await atrium.post('/gateway/fetch', { client: db.db_name, body: { table_name: 'notes' } })
      assert.notEqual(gateway.status, 200, 'the client is gone from the registry')
      const events = await atrium.catalog.query<{ type: string }>(`SELECT type FROM atrium.events WHERE payload->>'database_id' = $1 ORDER BY id`, [db.uuid])
      assert.deepEqual(events.map((e) => e.type), ['database.provisioned', 'database.deleted'])
      const record = await atrium.catalog.query<{ status: string; deleted_at: Date | null }>('SELECT status, deleted_at FROM atrium.managed_databases WHERE id = $1', [db.uuid])
      assert.equal(record[0]!.status, 'deleted', 'the record is kept, soft-deleted')
      assert.ok(record[0]!.deleted_at)
    })

    await atrium.api('DELETE', `/api/v1/databases/${other.uuid}`, key)
  })
}

test('tenancy, pagination, 202 while provisioning, failures, database types and validation', async (t) => {
  // region `broken` has a PostgreSQL server nothing listens on
  const atrium = await startDatabasesAtrium(t, { 'provisioning.regions': { broken: { label: 'Broken', postgresUrl: 'postgres://postgres@127.0.0.1:9/postgres' } } })
  const alice = await atrium.createPlatformKey()
  const bob = await atrium.createPlatformKey()

  const made: Db[] = []
  for (const name of ['a-one', 'a-two', 'a-three']) {
    const res = await createDb(atrium, alice.key, { name })
    assert.equal(res.status, 201, res.text)
    made.push(res.body.data)
  }

  await t.test("another team's database is 404 on every route, and missing from its list", async () => {
    const uuid = made[0]!.uuid
    for (const [method, path, body] of [
      ['GET', `/api/v1/databases/${uuid}`],
      ['PATCH', `/api/v1/databases/${uuid}`, { name: 'stolen' }],
      ['PATCH', `/api/v1/databases/${uuid}/quotas`, { connection_hard_limit: 1 }],
      ['DELETE', `/api/v1/databases/${uuid}`],
    ] as const) {
      const res = await atrium.api(method, path, bob.key, { body })
      assert.equal(res.status, 404, `${method} ${path}: ${res.text}`)
      assert.equal(res.body.error.code, 'database_not_found')
      assert.equal(typeof res.body.request_id, 'string')
    }
    const list = await atrium.api('GET', '/api/v1/databases', bob.key)
    assert.deepEqual(list.body.data, [])
    assert.equal((await atrium.api('GET', `/api/v1/databases/${uuid}`, alice.key)).body.data.name, 'a-one', 'still there, unchanged')
  })

  await t.test("creating in another user's team is 404 team_not_found", async () => {
    const res = await atrium.api('POST', '/api/v1/databases', bob.key, { body: { name: 'sneaky', team_id: alice.teamId } })
    assert.equal(res.status, 404, res.text)
    assert.equal(res.body.error.code, 'team_not_found')
  })

  await t.test('lists page newest first with limit, starting_after and has_more', async () => {
    const seen: string[] = []
    let after: string | undefined
    for (let page = 0; page < 5; page++) {
      const res = await atrium.api('GET', `/api/v1/databases?limit=2${after ? `&starting_after=${after}` : ''}`, alice.key)
      assert.equal(res.status, 200, res.text)
      seen.push(...res.body.data.map((d: Db) => d.name))
      if (!res.body.has_more) break
      after = res.body.data.at(-1).uuid
    }
    assert.deepEqual(seen, ['a-three', 'a-two', 'a-one'])
  })

  await t.test('without wait the answer is 202 provisioning with a poll URL, and the database becomes active', async () => {
    const res = await createDb(atrium, alice.key, { name: 'no-wait' }, '')
    assert.equal(res.status, 202, res.text)
    assert.equal(res.body.data.status, 'provisioning')
    assert.equal(res.body.provisioning.completed, false)
    assert.equal(res.body.provisioning.poll_url, `/api/v1/databases/${res.body.data.uuid}`)
    let status = 'provisioning'
    for (let i = 0; i < 200 && status === 'provisioning'; i++) {
      await sleep(100)
      status = (await atrium.api('GET', res.body.provisioning.poll_url, alice.key)).body.data.status
    }
    assert.equal(status, 'active')
  })

  await t.test('a database deleted while it is provisioning leaves no database and no login behind', async () => {
    const res = await createDb(atrium, alice.key, { name: 'short-lived' }, '')
    assert.equal(res.status, 202)
    const db: Db = res.body.data
    const del = await atrium.api('DELETE', `/api/v1/databases/${db.uuid}`, alice.key)
    assert.equal(del.status, 200)
    // the job may be cancelled before it ran, or finish and find the record deleted: either way nothing stays
    let job = ''
    for (let i = 0; i < 100; i++) {
      job = (await atrium.catalog.query<{ status: string }>('SELECT j.status FROM atrium.jobs j JOIN atrium.managed_databases d ON d.job_id = j.id WHERE d.id = $1', [db.uuid]))[0]?.status ?? ''
      if (job !== 'queued' && job !== 'running') break
      await sleep(100)
    }
    assert.ok(['cancelled', 'succeeded'].includes(job), `job ${job}`)
    assert.equal(await pgHas('database', db.db_name), false)
    assert.equal(await pgHas('role', db.db_username), false)
  })

  await t.test('a provisioning that cannot reach its server ends failed, and its delete schedules the drop', async () => {
    const res = await createDb(atrium, alice.key, { name: 'unreachable', region: 'broken' }, '')
    assert.equal(res.status, 202, res.text)
    let db: Db = res.body.data
    for (let i = 0; i < 300 && db.status === 'provisioning'; i++) {
      await sleep(100)
      db = (await atrium.api('GET', `/api/v1/databases/${db.uuid}`, alice.key)).body.data
    }
    assert.equal(db.status, 'failed')
    assert.equal(db.error.code, 'provisioning_failed')
    const del = await atrium.api('DELETE', `/api/v1/databases/${db.uuid}`, alice.key)
    assert.equal(del.status, 200)
    assert.equal(del.body.data.has_remote_resources, true)
    assert.equal(typeof del.body.data.destroy_scheduled_at, 'string')
  })

  await t.test('database_types lists the engines and the regions with a server', async () => {
    const res = await atrium.api('GET', '/api/v1/database_types', alice.key)
    assert.equal(res.status, 200)
    assert.deepEqual(res.body.data.map((d: Db) => [d.value, d.is_provisionable, d.regions.map((r: Db) => r.code)]), [['postgres', true, ['local', 'broken']], ['mysql', true, ['local']]])
  })

  await t.test('an engine or region without a server is 422 naming the field', async () => {
    const res = await atrium.api('POST', '/api/v1/databases', alice.key, { body: { name: 'far-away', region: 'mars-1' } })
    assert.equal(res.status, 422, res.text)
    assert.equal(res.body.error.code, 'database_type_not_available')
    assert.equal(res.body.error.details.field, 'region')
    const engine = await atrium.api('POST', '/api/v1/databases', alice.key, { body: { name: 'oracle', db_type: 'oracle' } })
    assert.equal(engine.status, 422)
    assert.equal(engine.body.error.details.field, 'db_type')
  })

  await t.test('validation errors are 422 with the field', async () => {
    const cases: Array<[unknown, string, string]> = [
      [{}, 'missing_required_field', 'name'],
      [{ name: 'Upper Case' }, 'validation_failed', 'name'],
      [{ name: '-leading-dash' }, 'validation_failed', 'name'],
      [{ name: 'ok', plan: 'enterprise' }, 'validation_failed', 'plan'],
      [{ name: 'ok', warning_threshold_pct: 101 }, 'validation_failed', 'warning_threshold_pct'],
      [{ name: 'ok', connection_hard_limit: 'many' }, 'validation_failed', 'connection_hard_limit'],
      [{ name: 'ok', surprise: true }, 'validation_failed', 'surprise'],
    ]
    for (const [body, code, field] of cases) {
      const res = await atrium.api('POST', '/api/v1/databases', alice.key, { body })
      assert.equal(res.status, 422, `${JSON.stringify(body)}: ${res.text}`)
      assert.equal(res.body.error.code, code, JSON.stringify(body))
      assert.equal(res.body.error.details.field, field, JSON.stringify(body))
      assert.equal(typeof res.body.error.message, 'string')
    }
    const badLimit = await atrium.api('GET', '/api/v1/databases?limit=500', alice.key)
    assert.equal(badLimit.status, 422)
    assert.equal(badLimit.body.error.details.field, 'limit')
    const badJson = await atrium.request('POST', '/api/v1/databases', { key: null, raw: '{"name":', headers: { authorization: `Bearer ${alice.key}`, 'content-type': 'application/json' } })
    assert.equal(badJson.status, 400)
    assert.equal(badJson.body.error.code, 'invalid_json')
  })

  await t.test('bad input is a 4xx in the Polykomos shape, never a 500', async () => {
    const bearer = { authorization: `Bearer ${alice.key}` }
    const json = { ...bearer, 'content-type': 'application/json' }
    const cases: Array<[string, string, { raw?: string; headers: Record<string, string> }]> = [
      ['POST', '/api/v1/databases', { raw: '[]', headers: json }],
      ['POST', '/api/v1/databases', { raw: '"a string"', headers: json }],
      ['POST', '/api/v1/databases', { raw: '{"name":"a\u0000b"}', headers: json }],
      ['POST', '/api/v1/databases', { raw: `{"name":"${'a'.repeat(100_000)}"}`, headers: json }],
      ['POST', '/api/v1/databases', { raw: `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`, headers: json }],
      ['POST', '/api/v1/databases?wait=maybe', { raw: '{"name":"x"}', headers: json }],
      ['POST', '/api/v1/databases?wait=true&timeout=0', { raw: '{"name":"x"}', headers: json }],
      ['POST', '/api/v1/databases', { raw: 'name=x', headers: { ...bearer, 'content-type': 'application/x-www-form-urlencoded' } }],
      ['GET', '/api/v1/databases?starting_after=not-a-uuid', { headers: bearer }],
      ['GET', '/api/v1/databases?limit=abc', { headers: bearer }],
      ['GET', '/api/v1/databases/%00', { headers: bearer }],
      ['PATCH', '/api/v1/databases/00000000-0000-4000-8000-000000000000', { raw: '{"name":null}', headers: json }],
      ['PATCH', `/api/v1/databases/${made[0]!.uuid}/quotas`, { raw: '{"connection_hard_limit":-1}', headers: json }],
      ['PATCH', `/api/v1/databases/${made[0]!.uuid}/quotas`, { raw: '{"storage_hard_limit_gb":1e400}', headers: json }],
    ]
    for (const [method, path, opts] of cases) {
      const res = await atrium.request(method, path, { key: null, ...opts })
      assert.ok(res.status >= 400 && res.status < 500, `${method} ${path.slice(0, 60)} ${opts.raw?.slice(0, 40) ?? ''}: ${res.status} ${res.text.slice(0, 200)}`)
      assert.equal(typeof res.body.error?.code, 'string', `${method} ${path.slice(0, 60)}: ${res.text.slice(0, 200)}`)
      assert.equal(typeof res.body.request_id, 'string')
    }
  })

  await t.test('an unknown database and an unknown route answer in the Polykomos shape', async () => {
    const res = await atrium.api('GET', '/api/v1/databases/00000000-0000-4000-8000-000000000000', alice.key)
    assert.equal(res.status, 404)
    assert.equal(res.body.error.code, 'database_not_found')
    const notUuid = await atrium.api('GET', '/api/v1/databases/not-a-uuid', alice.key)
    assert.equal(notUuid.status, 404)
    const route = await atrium.api('GET', '/api/v1/nothing-here', alice.key)
    assert.equal(route.status, 404)
    assert.equal(route.body.error.code, 'route_not_found')
  })
})
