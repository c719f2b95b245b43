import assert from 'node:assert/strict'
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import pg from 'pg'
import { startAtrium, type AtriumHandle } from '../../src/boot.js'
import { loadConfig } from '../../src/config/load.js'
import { startTestAtrium, type TestAtrium, type TestResponse, type RequestOptions } from '../helpers/atrium.js'
import { createKey } from '../helpers/auth-grid.js'
import { createMysqlDatabase, createPgDatabase, PG_ADMIN_URL } from '../helpers/databases.js'

// The review's class 1 (the embedded default served the catalog as the bootstrap superuser) and class 7
// (passwords and role/host names shown to callers), replayed against a real embedded PostgreSQL and the
// local PostgreSQL and MariaDB.

/** an in-process Atrium with no DATABASE_URL, so it runs its own PostgreSQL in `dataDir` */
async function startEmbedded(dataDir: string): Promise<TestAtrium> {
  // no admin key configured: Atrium generates one into the data directory, which is the file to steal
  const handle: AtriumHandle = await startAtrium(loadConfig({
    ATRIUM_DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: '0', ATRIUM_LOG_LEVEL: 'silent',
  }))
  const adminKey = readFileSync(join(dataDir, 'admin-key'), 'utf8').trim()
  const request = async <T>(method: string, path: string, o: RequestOptions = {}): Promise<TestResponse<T>> => {
    const headers: Record<string, string> = { ...(o.headers ?? {}) }
    if (o.client) headers['x-athena-client'] = o.client
    const key = o.key === undefined ? adminKey : o.key
    if (key !== null) headers.apikey = key
    if (o.body !== undefined) headers['content-type'] = 'application/json'
    const res = await fetch(`${handle.url}${path}`, { method, headers, body: o.body === undefined ? undefined : JSON.stringify(o.body) })
    const text = await res.text()
    let body: unknown = text
    try { body = JSON.parse(text) } catch { /* not JSON */ }
    return { status: res.status, headers: res.headers, body: body as T, text }
  }
  return {
    url: handle.url, handle, catalog: undefined as never, logs: () => '',
    request, get: (p, o) => request('GET', p, o), post: (p, o) => request('POST', p, o), close: () => handle.close(),
  }
}

const is4xx = (res: TestResponse) => res.status >= 400 && res.status < 500

test('the embedded default is its own database, reached as a role that is not a superuser', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'atrium-sec-embedded-'))
  chmodSync(dataDir, 0o711)
  t.after(() => rmSync(dataDir, { recursive: true, force: true }))
  let atrium = await startEmbedded(dataDir)
  t.after(() => atrium.close())
  const adminKey = readFileSync(join(dataDir, 'admin-key'), 'utf8').trim()
  const sql = (query: string, key?: string) => atrium.post('/gateway/query', { client: 'default', key, body: { query } })
  const reader = await createKey(atrium, { name: 'reader', rights: ['gateway.read', 'sql.read'] })
  const writer = await createKey(atrium, { name: 'writer', rights: ['gateway.read', 'sql.read', 'sql.write', 'sql.ddl'] })

  await t.test('the default client connects as a non-superuser role to a database that is not the catalog', async () => {
    const res = await sql(`SELECT current_database() AS db, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls,
      pg_has_role(current_user, 'pg_read_server_files', 'MEMBER') OR pg_has_role(current_user, 'pg_write_server_files', 'MEMBER')
        OR pg_has_role(current_user, 'pg_execute_server_program', 'MEMBER') OR pg_has_role(current_user, 'pg_signal_backend', 'MEMBER') AS risky
      FROM pg_roles WHERE rolname = current_user`)
    assert.equal(res.status, 200, res.text)
    assert.deepEqual(res.body.data, [{ db: 'atrium_default', rolsuper: false, rolcreatedb: false, rolcreaterole: false, rolreplication: false, rolbypassrls: false, risky: false }])
    const file = join(dataDir, 'embedded-default-source.json')
    assert.equal(statSync(file).mode & 0o777, 0o600, 'the role password is stored readable by the owner only')
  })

  await t.test('read and write keys cannot read server files, the catalog, or run programs', async () => {
    for (const { key } of [reader, writer]) {
      for (const query of [
        "SELECT pg_read_file('../admin-key') AS k",
        "SELECT pg_read_file('" + join(dataDir, 'admin-key') + "') AS k",
        "SELECT convert_from(pg_read_binary_file('../admin-key'), 'UTF8') AS k",
        'SELECT * FROM atrium.api_keys',
        'SELECT rolpassword FROM pg_authid',
        "SELECT lo_import('../admin-key')",
      ]) {
        const res = await sql(query, key)
        assert.ok(is4xx(res), `${query}: ${res.status} ${res.text}`)
        assert.ok(!res.text.includes(adminKey), `${query} leaks the admin key`)
      }
    }
    const sentinel = join(tmpdir(), `atrium-sec-program-${process.pid}`)
    for (const query of [
      `COPY (SELECT 1) TO PROGRAM 'touch ${sentinel}'`,
      `COPY (SELECT 1) TO '${sentinel}'`,
      'CREATE EXTENSION dblink',
      'CREATE EXTENSION file_fdw',
      'GRANT pg_read_server_files TO CURRENT_USER',
      'ALTER ROLE CURRENT_USER SUPERUSER',
      'SET ROLE postgres',
      'CREATE DATABASE atrium_sec_other',
    ]) {
      const res = await sql(query, writer.key)
      assert.ok(is4xx(res), `${query}: ${res.status} ${res.text}`)
    }
    assert.ok(!existsSync(sentinel), 'no program ran and no file was written')
  })

  await t.test('the role cannot connect to the catalog database, so no key can grant itself rights', async () => {
    const creds = JSON.parse(readFileSync(join(dataDir, 'embedded-default-source.json'), 'utf8')) as { user: string; password: string }
    const port = atrium.handle.platform.embedded!.port
    const direct = new pg.Client({ host: '127.0.0.1', port, user: creds.user, password: creds.password, database: 'postgres' })
    direct.on('error', () => {})
    await assert.rejects(direct.connect(), /permission denied for database/)
    await direct.end().catch(() => {})
    const res = await sql("UPDATE atrium.api_keys SET rights = '{*}'", writer.key)
    assert.ok(is4xx(res), res.text)
    const [row] = await atrium.handle.platform.catalog.rows<{ rights: string[] }>('SELECT rights FROM atrium.api_keys WHERE id = $1', [writer.id])
    assert.ok(!row.rights.includes('*'), 'the key did not grant itself every right')
    // the writer still works on its own database
    assert.equal((await sql('CREATE TABLE notes (id int PRIMARY KEY); INSERT INTO notes VALUES (1)', writer.key)).status, 200)
  })

  await t.test('/admin/clients flags the default as no superuser and shows its URL without the password', async () => {
    const res = await atrium.get('/admin/clients')
    assert.equal(res.status, 200, res.text)
    const def = res.body.runtime.find((r: { client_name: string }) => r.client_name === 'default')
    assert.equal(def.superuser, false)
    assert.deepEqual(def.warnings, [])
    const creds = JSON.parse(readFileSync(join(dataDir, 'embedded-default-source.json'), 'utf8')) as { password: string }
    assert.ok(!res.text.includes(creds.password), 'the role password is masked')
    assert.match(def.pg_uri, /^postgres:\/\/atrium_default:\*\*\*\*@127\.0\.0\.1:\d+\/atrium_default$/)
  })

  await t.test('a client URL naming the catalog database is refused', async () => {
    const catalogUrl = new URL(atrium.handle.platform.embedded!.url)
    catalogUrl.hostname = 'localhost'
    const res = await atrium.post('/admin/clients', { body: { client_name: 'sneaky', pg_uri: catalogUrl.toString() } })
    assert.equal(res.status, 400, res.text)
    assert.equal(res.body.code, 'client_is_catalog')
    assert.ok(!res.text.includes(catalogUrl.password))
  })

  await t.test('a data directory whose role and database are missing or tampered with is repaired at start', async () => {
    // what an older Atrium left behind (no role, no database, no credentials file), plus a weakened catalog
    await atrium.handle.platform.catalog.query({ sql: 'DROP DATABASE atrium_default WITH (FORCE)', params: [] })
    await atrium.handle.platform.catalog.query({ sql: 'DROP ROLE atrium_default', params: [] })
    await atrium.handle.platform.catalog.query({ sql: 'GRANT CONNECT ON DATABASE postgres TO PUBLIC', params: [] })
    rmSync(join(dataDir, 'embedded-default-source.json'))
    await atrium.close()
    atrium = await startEmbedded(dataDir)
    const res = await atrium.post('/gateway/query', { client: 'default', body: { query: 'SELECT current_database() AS db, rolsuper FROM pg_roles WHERE rolname = current_user' } })
    assert.equal(res.status, 200, res.text)
    assert.deepEqual(res.body.data, [{ db: 'atrium_default', rolsuper: false }])
    // and a role made superuser and member of a predefined role by hand loses both at the next start
    await atrium.handle.platform.catalog.query({ sql: 'ALTER ROLE atrium_default SUPERUSER', params: [] })
    await atrium.handle.platform.catalog.query({ sql: 'GRANT pg_read_server_files TO atrium_default', params: [] })
    await atrium.close()
    atrium = await startEmbedded(dataDir)
    const after = await atrium.post('/gateway/query', { client: 'default', body: { query: "SELECT rolsuper, pg_has_role(current_user, 'pg_read_server_files', 'MEMBER') AS files FROM pg_roles WHERE rolname = current_user" } })
    assert.deepEqual(after.body.data, [{ rolsuper: false, files: false }])
    const [acl] = await atrium.handle.platform.catalog.rows<{ public_connect: boolean }>("SELECT has_database_privilege('public', 'postgres', 'CONNECT') AS public_connect")
    assert.equal(acl.public_connect, false, 'CONNECT on the catalog is revoked from PUBLIC again')
  })
})

async function createPlainRole(t: TestContext, database: string): Promise<string> {
  const name = `atrium_sec_plain_${process.pid}_${Date.now().toString(36)}`
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL })
  await admin.connect()
  await admin.query(`CREATE ROLE ${pg.escapeIdentifier(name)} LOGIN`)
  await admin.query(`GRANT CONNECT ON DATABASE ${pg.escapeIdentifier(database)} TO ${pg.escapeIdentifier(name)}`)
  await admin.end()
  t.after(async () => {
    const c = new pg.Client({ connectionString: PG_ADMIN_URL })
    await c.connect()
    await c.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(name)}`).catch(() => {})
    await c.end()
  })
  return name
}

test('superuser sources are flagged, URLs are masked, role and host names reach the admin key only', async (t) => {
  const db = await createPgDatabase(t)
  await db.load('shop')
  const maria = await createMysqlDatabase(t)
  await maria.load('shop')
  const plainRole = await createPlainRole(t, db.name)
  const atrium = await startTestAtrium(t, { sources: { su: db.url } })
  const reader = await createKey(atrium, { name: 'reader', rights: ['gateway.read', 'sql.read'] })
  const plainUrl = new URL(db.url)
  plainUrl.username = plainRole
  const create = (client_name: string, pg_uri: string) => atrium.post('/admin/clients', { body: { client_name, pg_uri } })

  await t.test('the superuser flag: true for postgres and MariaDB root, false for a plain role', async () => {
    assert.equal((await create('plain', plainUrl.toString())).status, 201)
    assert.equal((await create('maria', maria.url)).status, 201)
    // the check runs in the background once per registration: on a loaded machine it may answer after the
    // route's own short wait, so ask again until every flag is known (never longer than 20 s)
    type Runtime = { superuser: boolean | null; warnings: string[] }
    let runtime = new Map<string, Runtime>()
    for (const until = Date.now() + 20_000; Date.now() < until;) {
      const res = await atrium.get('/admin/clients')
      runtime = new Map(res.body.runtime.map((r: { client_name: string }) => [r.client_name, r]))
      if (['su', 'plain', 'maria'].every((name) => runtime.get(name)?.superuser !== null)) break
      await new Promise((r) => setTimeout(r, 200))
    }
    assert.equal(runtime.get('su')!.superuser, true)
    assert.match(runtime.get('su')!.warnings.join(' '), /superuser/)
    assert.equal(runtime.get('plain')!.superuser, false)
    assert.deepEqual(runtime.get('plain')!.warnings, [])
    assert.equal(runtime.get('maria')!.superuser, true)
  })

  await t.test('passwords in userinfo and in query parameters are masked everywhere the URL is shown', async () => {
    // trust authentication ignores the passwords, so the clients still connect
    const withParam = `${db.url}?sslmode=disable&password=param-s3cret`
    const withUserinfo = db.url.replace('postgres@', 'postgres:userinfo-s3cret@')
    const mysqlParam = `${maria.url}?password=mysql-s3cret`
    const texts: string[] = []
    for (const [name, url] of [['param', withParam], ['userinfo', withUserinfo], ['mparam', mysqlParam]]) {
      const res = await create(name, url)
      assert.equal(res.status, 201, res.text)
      texts.push(res.text)
    }
    texts.push((await atrium.get('/admin/clients')).text)
    texts.push((await atrium.request('PATCH', '/admin/clients/param', { body: { description: 'x' } })).text)
    for (const text of texts) {
      for (const secret of ['param-s3cret', 'userinfo-s3cret', 'mysql-s3cret']) assert.ok(!text.includes(secret), `${secret} shown: ${text.slice(0, 300)}`)
    }
    assert.match(texts[0], /password=\*\*\*\*/)
  })

  await t.test('a client naming the catalog database is refused on create and update, however it is spelled', async () => {
    const catalog = new URL(atrium.catalog.url)
    const spellings = [
      atrium.catalog.url,
      `postgresql://someone:pw@localhost/${catalog.pathname.slice(1)}`,
      `postgres://postgres@127.0.0.1:5432/${catalog.pathname.slice(1)}?sslmode=disable`,
    ]
    for (const url of spellings) {
      const res = await create('sneaky', url)
      assert.equal(res.status, 400, `${url}: ${res.text}`)
      assert.equal(res.body.code, 'client_is_catalog')
    }
    const patch = await atrium.request('PATCH', '/admin/clients/plain', { body: { pg_uri: spellings[1] } })
    assert.equal(patch.status, 400, patch.text)
    assert.equal(patch.body.code, 'client_is_catalog')
    assert.equal((await atrium.post('/gateway/fetch', { client: 'plain', body: { table_name: 'customers', columns: 'id' } })).status !== 200, true, 'plain has no grant on customers, but still points at its own database')
  })

  await t.test('a configured client naming the catalog stops the start with a message naming the setting', async () => {
    await assert.rejects(
      startTestAtrium(t, { catalog: atrium.catalog, sources: { evil: atrium.catalog.url.replace('127.0.0.1', 'localhost') } }),
      /sources\.evil\.url.*catalog database/,
    )
  })

  await t.test('connection errors name role and host to the admin key only', async () => {
    const missingRole = new URL(db.url)
    missingRole.username = 'atrium_sec_no_such_role'
    assert.equal((await create('norole', missingRole.toString())).status, 201)
    assert.equal((await create('closed', 'postgres://postgres@127.0.0.1:1/nothing')).status, 201)
    assert.equal((await create('mnouser', maria.url.replace('root@', 'atrium_sec_nouser:pw@'))).status, 201)
    const cases: Array<[client: string, secret: RegExp]> = [
      ['norole', /atrium_sec_no_such_role/],
      ['closed', /127\.0\.0\.1:1\b/],
      ['mnouser', /atrium_sec_nouser/],
    ]
    for (const [client, secret] of cases) {
      for (const call of [
        (key: string | undefined) => atrium.post('/gateway/query', { client, key, body: { query: 'SELECT 1 AS one' } }),
        (key: string | undefined) => atrium.post('/gateway/fetch', { client, key, body: { table_name: 'customers', columns: 'id' } }),
        (key: string | undefined) => atrium.get('/rest/v1/customers?select=id', { client, key }),
      ]) {
        const asKey = await call(reader.key)
        assert.equal(asKey.status, 503, `${client}: ${asKey.text}`)
        assert.doesNotMatch(asKey.text, secret, `${client}: a key holder sees the role or host`)
        assert.doesNotMatch(asKey.text, /127\.0\.0\.1|localhost/, `${client}: a key holder sees a host`)
        assert.match(asKey.text, /is unavailable/)
        const asAdmin = await call(undefined)
        assert.equal(asAdmin.status, 503)
        assert.match(asAdmin.text, secret, `${client}: the admin key sees what failed`)
      }
    }
  })
})
