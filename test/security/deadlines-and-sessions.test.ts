// Deadlines the caller cannot change, caps on concurrent raw SQL, and raw-SQL sessions that leave nothing
// behind for the next caller: replayed on real PostgreSQL and MariaDB through a real Atrium.
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { connect } from 'node:net'
import { test } from 'node:test'
import { ADMIN_KEY, startTestAtrium, type TestAtrium } from '../helpers/atrium.js'
import { createKey } from '../helpers/auth-grid.js'
import { createDatabase, type TestDatabase } from '../helpers/databases.js'
import { forEachDialect } from '../helpers/dialects.js'

const STATEMENT_TIMEOUT_MS = 3_000
/** a read on the planned pool takes milliseconds; waiting behind raw SQL would take the whole attack */
const READ_BOUND_MS = 1_500

const timed = async <T>(fn: () => Promise<T>): Promise<[T, number]> => {
  const started = Date.now()
  const out = await fn()
  return [out, Date.now() - started]
}

/** raw-SQL statements of the attacker still running on the database, polled for up to a second */
async function runningAttack(db: TestDatabase, marker: string): Promise<number> {
  const sql = db.dialect === 'postgres'
    ? `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active' AND query LIKE '%${marker}%'`
    : `SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND ID <> CONNECTION_ID() AND COMMAND = 'Query' AND INFO LIKE '%${marker}%'`
  let n = 0
  for (let i = 0; i < 10; i++) {
    n = Number((await db.query<{ n: number }>(sql))[0].n)
    if (n === 0) return 0
    await new Promise((r) => setTimeout(r, 100))
  }
  return n
}

forEachDialect('deadlines, caps and clean raw-SQL sessions', async (t, db) => {
  await db.load('shop')
  const isPg = db.dialect === 'postgres'
  // pool.max 6: the raw-SQL pool gets 3 connections (one key may hold 2), so sessions are reused again and again;
  // no queueing, so a request over a cap is refused at once (queueing is covered in test/data/raw-sql-gate.test.ts)
  const atrium = await startTestAtrium(t, { sources: { shop: db.url }, env: { ATRIUM_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS), ATRIUM_POOL_MAX: '6', ATRIUM_RAW_SQL_MAX_CONCURRENT_PER_KEY: '2', ATRIUM_RAW_SQL_QUEUE_TIMEOUT_MS: '0' } })
  const attacker = await createKey(atrium, { name: 'attacker', rights: ['gateway.read', 'sql.read', 'sql.write', 'sql.ddl'] })
  const reader = await createKey(atrium, { name: 'reader', rights: ['gateway.read', 'sql.read'] })
  // sleeping is not a read (pg_sleep and SLEEP are volatile, see docs/security.md): the cap tests' slow SQL needs sql.write
  const sleeper = await createKey(atrium, { name: 'sleeper', rights: ['sql.read', 'sql.write'] })
  const sql = (key: string, query: string) => atrium.post('/gateway/query', { client: 'shop', key, body: { query } })
  const fetchCustomers = (key: string) => atrium.post('/gateway/fetch', { client: 'shop', key, headers: { 'cache-control': 'no-cache' }, body: { table_name: 'customers', columns: 'id,name', sort_by: { field: 'id' } } })
  const restCustomers = (key: string) => atrium.get('/rest/v1/customers?select=id,name&order=id', { client: 'shop', key })
  const realCustomers = (await db.query<{ id: number; name: string }>('SELECT id, name FROM customers ORDER BY id')).map((r) => ({ id: Number(r.id), name: r.name }))

  await t.test('a timeout switched off by the SQL is still enforced; other callers keep being served', async () => {
    const marker = isPg ? 'pg_sleep(25)' : 'SLEEP(25)'
    const attack = isPg
      ? "SELECT set_config('statement_timeout', '0', false); SET statement_timeout = 0; SELECT pg_sleep(25)"
      : 'SET SESSION max_statement_time = 0; SELECT SLEEP(25)'
    // warm keys, parser and pools first, so the timings below are the attack's own
    for (const key of [attacker.key, reader.key]) assert.equal((await sql(key, 'SELECT 1 AS one')).status, 200)
    assert.equal((await fetchCustomers(reader.key)).status, 200)
    const started = Date.now()
    const attacks = Array.from({ length: 12 }, () => sql(attacker.key, attack).then((res) => ({ res, ms: Date.now() - started })))
    // while the attack runs, another key reads through the gateway and /rest/v1
    await new Promise((r) => setTimeout(r, 300))
    for (let i = 0; i < 4; i++) {
      const [fetched, fetchMs] = await timed(() => fetchCustomers(reader.key))
      assert.equal(fetched.status, 200, JSON.stringify(fetched.body))
      assert.deepEqual(fetched.body.data, realCustomers)
      assert.ok(fetchMs < READ_BOUND_MS, `a fetch took ${fetchMs} ms during the attack`)
      const [rest, restMs] = await timed(() => restCustomers(reader.key))
      assert.equal(rest.status, 200, rest.text)
      assert.deepEqual(rest.body, realCustomers)
      assert.ok(restMs < READ_BOUND_MS, `a /rest/v1 read took ${restMs} ms during the attack`)
      // and its own raw SQL is not stuck behind the attacker's either
      const own = await sql(reader.key, 'SELECT 1 AS one')
      assert.equal(own.status, 200, JSON.stringify(own.body))
    }
    const outcomes = await Promise.all(attacks)
    for (const { res, ms } of outcomes) {
      assert.ok(['statement_timeout', 'too_many_concurrent_queries'].includes(res.body.code), `${res.status} ${JSON.stringify(res.body)}`)
      assert.ok(ms < STATEMENT_TIMEOUT_MS + 2_500, `an attack request took ${ms} ms`)
    }
    const cut = outcomes.filter((o) => o.res.body.code === 'statement_timeout')
    assert.ok(cut.length >= 1 && cut.length <= 2, `${cut.length} attack requests ran: the per-key cap is 2`)
    for (const { res } of cut) assert.equal(res.status, 504)
    assert.equal(await runningAttack(db, marker), 0, 'a cancelled statement is still running on the database')
  })

  await t.test('over the per-key cap, raw SQL answers 429 with Retry-After', async () => {
    const slow = isPg ? 'SELECT pg_sleep(1.2) IS NULL AS slept' : 'SELECT SLEEP(1.2) AS slept'
    const results = await Promise.all(Array.from({ length: 4 }, () => sql(sleeper.key, slow)))
    const refused = results.filter((r) => r.status === 429)
    assert.equal(results.filter((r) => r.status === 200).length, 2, JSON.stringify(results.map((r) => r.body)))
    assert.equal(refused.length, 2)
    for (const r of refused) {
      assert.equal(r.body.code, 'too_many_concurrent_queries')
      assert.equal(r.headers.get('retry-after'), '1')
      assert.match(r.body.message, /at most 2/)
    }
    // once they are done, the key may run SQL again
    assert.equal((await sql(sleeper.key, 'SELECT 1 AS one')).status, 200)
  })

  await t.test('over the per-client cap (its raw-SQL pool), keys together get 429 instead of queueing', async () => {
    const others = await Promise.all([1, 2, 3, 4].map((i) => createKey(atrium, { name: `other ${i}`, rights: ['sql.read', 'sql.write'] })))
    const slow = isPg ? 'SELECT pg_sleep(1.2) IS NULL AS slept' : 'SELECT SLEEP(1.2) AS slept'
    const results = await Promise.all(others.map((k) => sql(k.key, slow)))
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 200, 200, 429])
    assert.match(results.find((r) => r.status === 429)!.body.message, /client "shop"/)
  })

  if (isPg) {
    await t.test('role and session authorization set by SQL do not reach the next caller', async () => {
      const role = `atrium_t_${randomBytes(4).toString('hex')}`
      await db.query(`CREATE ROLE ${role}`)
      t.after(() => db.query(`DROP ROLE IF EXISTS ${role}`).then(() => {}, () => {}))
      for (const attack of [`SET ROLE ${role}; SELECT 1 AS one`, `SET SESSION AUTHORIZATION ${role}; SELECT 1 AS one`]) {
        const res = await sql(attacker.key, attack)
        assert.equal(res.status, 200, JSON.stringify(res.body))
        for (let i = 0; i < 4; i++) {
          const who = await sql(reader.key, 'SELECT current_user::text AS cu, session_user::text AS su')
          assert.deepEqual(who.body.data, [{ cu: 'postgres', su: 'postgres' }], attack)
        }
      }
    })

    await t.test('an advisory lock taken by SQL is released when the request ends', async () => {
      const res = await sql(attacker.key, 'SELECT pg_advisory_lock(424242) IS NULL AS locked')
      assert.equal(res.status, 200, JSON.stringify(res.body))
      const [free] = await db.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(424242) AS ok')
      assert.equal(free.ok, true, 'the lock is still held by a pooled connection')
      await db.query('SELECT pg_advisory_unlock_all()')
    })

    await t.test("Atrium's prepared statements cannot be replaced by SQL", async () => {
      // warm the shape, so the planned pool keeps it as a named prepared statement
      for (let i = 0; i < 4; i++) assert.deepEqual((await fetchCustomers(reader.key)).body.data, realCustomers)
      const texts = await db.query<{ query: string }>("SELECT DISTINCT query FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'atrium' AND query LIKE '%customers%'")
      assert.ok(texts.length > 0, 'the warmed statement is visible in pg_stat_activity, as an attacker would find it')
      const names = texts.map((r) => `atrium_${createHash('sha1').update(r.query).digest('hex').slice(0, 20)}`)
      // pg_catalog is outside the exposed schemas: only the admin key may look, and it sees the raw-SQL session too
      const seen = await sql(ADMIN_KEY, "SELECT name FROM pg_prepared_statements WHERE name LIKE 'atrium%'")
      assert.deepEqual(seen.body.data, [], 'raw SQL runs where the hot-path statements are not')
      for (const name of names) {
        for (let i = 0; i < 3; i++) {
          const res = await sql(attacker.key, `PREPARE ${name} AS SELECT '[{"id":666,"name":"forged"}]'::text AS body, 1 AS n`)
          assert.equal(res.status, 200, JSON.stringify(res.body))
        }
      }
      for (let i = 0; i < 4; i++) {
        assert.deepEqual((await fetchCustomers(reader.key)).body.data, realCustomers)
        assert.deepEqual((await restCustomers(reader.key)).body, realCustomers)
      }
      const leftover = await sql(ADMIN_KEY, "SELECT name FROM pg_prepared_statements WHERE name LIKE 'atrium%'")
      assert.deepEqual(leftover.body.data, [], 'a statement prepared by SQL survived the request')
    })
  } else {
    await t.test('user variables, session variables and prepared statements do not reach the next caller', async () => {
      // PREPARE is SQL the MySQL classifier cannot read, which only the admin key may run: the reset must hold for it too
      for (const attack of ["SET @leak = 'secret'", 'SET SESSION max_statement_time = 0', "PREPARE leaked FROM 'SELECT 666 AS n'"]) {
        const res = await sql(ADMIN_KEY, attack)
        assert.equal(res.status, 200, `${attack}: ${JSON.stringify(res.body)}`)
      }
      for (let i = 0; i < 4; i++) {
        const vars = await sql(reader.key, 'SELECT @leak AS v, @@max_statement_time AS t')
        assert.deepEqual(vars.body.data, [{ v: null, t: STATEMENT_TIMEOUT_MS / 1000 }])
        const executed = await sql(ADMIN_KEY, 'EXECUTE leaked')
        assert.notEqual(executed.status, 200, JSON.stringify(executed.body))
      }
    })

    await t.test('a GET_LOCK lock is released when the request ends', async () => {
      const res = await sql(attacker.key, "SELECT GET_LOCK('atrium_test_lock', 0) AS got")
      assert.deepEqual(res.body.data, [{ got: 1 }])
      const [free] = await db.query<{ f: number }>("SELECT IS_FREE_LOCK('atrium_test_lock') AS f")
      assert.equal(Number(free.f), 1, 'the lock is still held by a pooled connection')
    })
  }

  await t.test('a temporary table shadowing a real table is gone for the next caller', async () => {
    const create = isPg
      ? "CREATE TEMP TABLE customers (id int, name text); INSERT INTO customers VALUES (666, 'forged')"
      : "CREATE TEMPORARY TABLE customers (id int, name varchar(50)); INSERT INTO customers VALUES (666, 'forged')"
    const res = await sql(attacker.key, create)
    assert.equal(res.status, 200, JSON.stringify(res.body))
    for (let i = 0; i < 4; i++) {
      const raw = await sql(reader.key, 'SELECT id, name FROM customers ORDER BY id')
      assert.deepEqual(raw.body.data, realCustomers)
      assert.deepEqual((await restCustomers(reader.key)).body, realCustomers)
    }
  })
})

test('the request deadline answers a coded error and cancels the SQL; slow request bodies time out', async (t) => {
  const db = await createDatabase(t, 'postgres')
  await db.load('shop')
  await db.query('CREATE VIEW slow_customers AS SELECT id, name, pg_sleep(0.6) IS NULL AS slept FROM customers')
  const atrium: TestAtrium = await startTestAtrium(t, {
    sources: { shop: db.url },
    env: {
      ATRIUM_STATEMENT_TIMEOUT_MS: '20000',
      ATRIUM_REQUEST_TIMEOUT_MS: '1000',
      // reading a request times out well before its deadline, so a trickled body meets the read timeout (408)
      // and not the deadline sweep (504), however loaded the machine
      ATRIUM_REQUEST_READ_TIMEOUT_MS: '500',
      ATRIUM_HEADERS_TIMEOUT_MS: '500',
    },
  })

  await t.test('raw SQL past the request deadline: 504 request_timeout, and its backend is cancelled', async () => {
    const [res, ms] = await timed(() => atrium.post('/gateway/query', { client: 'shop', body: { query: 'SELECT pg_sleep(15) IS NULL AS slept' } }))
    assert.equal(res.status, 504, JSON.stringify(res.body))
    assert.equal(res.body.code, 'request_timeout')
    assert.equal(res.body.status, 'error')
    assert.ok(ms < 3_000, `answered after ${ms} ms`)
    assert.equal(await runningAttack(db, 'pg_sleep(15)'), 0, 'the statement kept running after the deadline')
  })

  await t.test('/rest/v1 past the request deadline answers in its own error shape', async () => {
    const [res, ms] = await timed(() => atrium.get('/rest/v1/slow_customers?select=id', { client: 'shop' }))
    assert.equal(res.status, 504, res.text)
    assert.equal(res.body.code, 'PGRST000')
    assert.match(res.body.message, /not answered within 1000 ms/)
    assert.ok(ms < 3_000, `answered after ${ms} ms`)
  })

  await t.test('a body trickled a byte at a time gets 408 and the connection is closed', async () => {
    const { port } = new URL(atrium.url)
    const socket = connect(Number(port), '127.0.0.1')
    let answer = ''
    socket.on('data', (chunk) => { answer += chunk.toString() })
    const closed = new Promise<number>((resolve) => {
      const started = Date.now()
      socket.on('close', () => resolve(Date.now() - started))
      socket.on('error', () => {})
    })
    socket.write(`POST /gateway/query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\nX-Athena-Client: shop\r\napikey: ${ADMIN_KEY}\r\n\r\n{`)
    const trickle = setInterval(() => { if (!socket.destroyed) socket.write(' ') }, 200)
    const ms = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(-1), 6_000))])
    clearInterval(trickle)
    socket.destroy()
    assert.ok(ms > 0, 'the connection was still open after 6 s')
    if (answer) assert.match(answer, /^HTTP\/1\.1 (408|4\d\d)/)
  })

  await t.test('a fast request is untouched by the deadline', async () => {
    const res = await atrium.post('/gateway/query', { client: 'shop', body: { query: 'SELECT 1 AS one' } })
    assert.equal(res.status, 200)
    assert.deepEqual(res.body.data, [{ one: 1 }])
  })
})
