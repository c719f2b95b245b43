import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { createClient } from '@supabase/supabase-js'
import ws from 'ws'
import { SignJWT, exportJWK, exportSPKI, generateKeyPair, type JWK, type JWTPayload } from 'jose'
import { ADMIN_KEY, startTestAtrium } from '../helpers/atrium.js'
import { GATEWAY_ROUTES, REST_ROUTES, createKey } from '../helpers/auth-grid.js'
import { loadConfig } from '../../src/config/load.js'
import { createPgDatabase } from '../helpers/databases.js'
import { supabaseFor } from '../helpers/supabase.js'

// JWT sessions through a real Atrium: HS256 tokens signed with the configured secret, RS256 tokens whose keys a
// local JWKS server publishes (and rotates), Supabase-style claims, and everything a forged or stale token tries.

const SECRET = 'test-jwt-secret-0123456789abcdef-0123456789'
const ISSUER = 'https://auth.example.test/auth/v1'
const AUDIENCE = 'authenticated'
const ROLE_RIGHTS = { authenticated: ['gateway.read', 'sql.read'], writer: ['gateway.read', 'gateway.insert'] }
const fetchBody = { table_name: 'customers', columns: 'id' }
const now = () => Math.floor(Date.now() / 1000)
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')

interface SignOptions {
  claims?: JWTPayload
  /** signing key: the HS256 secret's bytes (default), or a private key with its kid for RS256 */
  key?: { privateKey: Parameters<SignJWT['sign']>[0]; kid: string } | Uint8Array
  alg?: string
}

/** a Supabase-shaped access token: sub, email, role, aud, iss, exp five minutes ahead, unless overridden */
async function sign(opts: SignOptions = {}): Promise<string> {
  const claims: JWTPayload = { sub: 'user-1', email: 'ada@example.test', role: 'authenticated', aud: AUDIENCE, iss: ISSUER, iat: now(), exp: now() + 300, ...opts.claims }
  for (const [k, v] of Object.entries(claims)) if (v === undefined) delete claims[k]
  const key = opts.key ?? new TextEncoder().encode(SECRET)
  if (key instanceof Uint8Array) return new SignJWT(claims).setProtectedHeader({ alg: opts.alg ?? 'HS256', typ: 'JWT' }).sign(key)
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' }).sign(key.privateKey)
}

/** a JWKS endpoint on 127.0.0.1 whose keys the test replaces (rotation) and which counts its fetches */
async function startJwksServer(t: { after: (fn: () => unknown) => void }) {
  const state = { keys: [] as JWK[], fetches: 0, down: false }
  const server: Server = createServer((req, res) => {
    state.fetches++
    if (state.down) return res.writeHead(500).end()
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: state.keys }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise((resolve) => server.close(resolve)))
  return { state, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json` }
}

async function rsaKey(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true })
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }
  return { privateKey, publicKey, kid, jwk }
}

const bearer = (token: string) => ({ key: null, headers: { authorization: `Bearer ${token}` } })

function assertRefused(res: { status: number; body: any; text: string }, status: number, code: string, what: string) {
  assert.equal(res.status, status, `${what}: ${res.status} ${res.text}`)
  assert.equal(res.body.code, code, `${what}: ${res.text}`)
  assert.equal(typeof res.body.message, 'string')
}

test('JWT sessions', async (t) => {
  const db = await createPgDatabase(t)
  await db.load('shop')
  await db.load('functions')
  const other = await createPgDatabase(t)
  await other.load('shop')
  const jwks = await startJwksServer(t)
  const first = await rsaKey('key-1')
  jwks.state.keys = [first.jwk]
  /** the key the JWKS publishes now (the rotation test replaces it) */
  let current = first
  const atrium = await startTestAtrium(t, {
    sources: { shop: db.url, other: other.url },
    env: { ATRIUM_JWT_SECRET: SECRET, ATRIUM_JWKS_URL: jwks.url, ATRIUM_JWT_AUDIENCE: AUDIENCE, ATRIUM_JWT_ISSUER: ISSUER },
    settings: { 'sessions.roleRights': ROLE_RIGHTS },
  })
  const fetchAs = (token: string, client = 'shop') => atrium.post('/gateway/fetch', { client, body: fetchBody, ...bearer(token) })

  await t.test('a token with a mapped role reads /gateway/fetch and /rest/v1, as the user', async () => {
    const token = await sign()
    const res = await fetchAs(token)
    assert.equal(res.status, 200, res.text)
    assert.ok(Array.isArray(res.body.data) && res.body.data.length > 0, res.text)
    const rest = await atrium.get('/rest/v1/customers?select=id&order=id', { client: 'shop', ...bearer(token) })
    assert.equal(rest.status, 200, rest.text)
    assert.deepEqual(rest.body.map((r: { id: number }) => r.id), res.body.data.map((r: { id: number }) => r.id).sort((a: number, b: number) => a - b))
    // the second use comes from the cache and answers the same
    assert.equal((await fetchAs(token)).status, 200)
  })

  await t.test('supabase-js: apikey is an Atrium key for the client, Authorization the user', async () => {
    const anon = await createKey(atrium, { client_name: 'shop', rights: [] })
    const user = await sign({ claims: { sub: 'user-supabase' } })
    const supabase = supabaseFor(atrium.url, anon.key, 'shop')
    const withoutUser = await supabase.from('customers').select('id')
    assert.equal(withoutUser.error?.code, '42501', 'the anon key alone has no rights: ' + JSON.stringify(withoutUser.error))
    // as an app does after sign-in: the anon key stays the apikey, the user's access token goes in Authorization
    const asUser = createClient(atrium.url, anon.key, {
      global: { headers: { 'X-Athena-Client': 'shop', Authorization: `Bearer ${user}` } },
      auth: { persistSession: false, autoRefreshToken: false },
      realtime: { transport: ws as never },
    })
    const { data, error } = await asUser.from('customers').select('id').order('id')
    assert.equal(error, null)
    assert.ok(data && data.length > 0)
    // the user's role has no insert right: the anon key does not add rights either
    const insert = await asUser.from('sentinel').insert({ id: 950, label: 'x' })
    assert.ok(insert.error, 'insert refused')
    assert.equal(insert.status, 403)
    // the apikey sent with a session is still checked: a wrong one, or one bound to another client, is refused
    const wrong = await atrium.get('/rest/v1/customers?select=id', { client: 'shop', key: `${anon.key.slice(0, -4)}AAAA`, headers: { authorization: `Bearer ${user}` } })
    assert.equal(wrong.status, 401, wrong.text)
    const elsewhere = await createKey(atrium, { client_name: 'other', rights: [] })
    const bound = await atrium.get('/rest/v1/customers?select=id', { client: 'shop', key: elsewhere.key, headers: { authorization: `Bearer ${user}` } })
    assert.equal(bound.status, 403, bound.text)
  })

  await t.test('an unmapped role, or none, may do nothing: 403 missing_right', async () => {
    for (const claims of [{ role: 'anon' }, { role: undefined }]) {
      const res = await fetchAs(await sign({ claims }))
      assertRefused(res, 403, 'missing_right', JSON.stringify(claims))
      assert.match(res.body.hint ?? '', /sessions\.roleRights/)
    }
  })

  await t.test('expired, forged, wrong audience or issuer, not yet valid, no subject: 401', async () => {
    const otherSecret = new TextEncoder().encode('another-secret-0123456789abcdef-0123456789')
    const header = b64({ alg: 'none', typ: 'JWT' })
    const payload = b64({ sub: 'admin', role: 'authenticated', aud: AUDIENCE, iss: ISSUER, exp: now() + 300 })
    const cases: Array<[string, string, string]> = [
      ['expired', await sign({ claims: { exp: now() - 60, iat: now() - 400 } }), 'expired_session_token'],
      ['signed with another secret', await sign({ key: otherSecret }), 'invalid_session_token'],
      ['alg none', `${header}.${payload}.`, 'invalid_session_token'],
      ['alg none with a signature part', `${header}.${payload}.c2ln`, 'invalid_session_token'],
      ['a changed payload', (await sign()).replace(/\.[^.]+\./, `.${payload}.`), 'invalid_session_token'],
      ['HS384', await sign({ alg: 'HS384' }), 'invalid_session_token'],
      ['wrong audience', await sign({ claims: { aud: 'service_role' } }), 'invalid_session_token'],
      ['no audience', await sign({ claims: { aud: undefined } }), 'invalid_session_token'],
      ['wrong issuer', await sign({ claims: { iss: 'https://evil.example.test' } }), 'invalid_session_token'],
      ['not yet valid', await sign({ claims: { nbf: now() + 120 } }), 'invalid_session_token'],
      ['no exp', await sign({ claims: { exp: undefined } }), 'invalid_session_token'],
      ['no sub', await sign({ claims: { sub: undefined } }), 'invalid_session_token'],
      ['a numeric sub', await sign({ claims: { sub: 42 as never } }), 'invalid_session_token'],
      ['an overlong sub', await sign({ claims: { sub: 'u'.repeat(256) } }), 'invalid_session_token'],
    ]
    for (const [what, token, code] of cases) {
      const res = await fetchAs(token)
      assertRefused(res, 401, code, what)
      assert.ok(!res.text.includes(token), 'the token is never echoed')
      const rest = await atrium.get('/rest/v1/customers?select=id', { client: 'shop', ...bearer(token) })
      assert.equal(rest.status, 401, `${what} on /rest/v1: ${rest.text}`)
      assert.equal(rest.body.code, code === 'expired_session_token' ? 'PGRST303' : 'PGRST301')
    }
    // a token within the clock tolerance of its exp still works
    assert.equal((await fetchAs(await sign({ claims: { exp: now() - 1 } }))).status, 200)
  })

  await t.test('RS256 tokens from the JWKS; the HS256 alg-confusion attack with its public key fails', async () => {
    assert.equal((await fetchAs(await sign({ key: first }))).status, 200)
    // an attacker signs HS256 with the public key (PEM, or the JWK's modulus) hoping it is used as an HMAC secret
    const pem = new TextEncoder().encode(await exportSPKI(first.publicKey))
    const modulus = Buffer.from(first.jwk.n!, 'base64url')
    for (const secret of [pem, new Uint8Array(modulus)]) {
      const forged = await sign({ key: secret })
      assertRefused(await fetchAs(forged), 401, 'invalid_session_token', 'HS256 signed with the public key')
    }
    // a token naming the JWKS key's id but claiming HS256 is not checked against the JWKS either
    const confused = `${b64({ alg: 'HS256', kid: first.kid })}.${b64({ sub: 'x', role: 'authenticated', aud: AUDIENCE, iss: ISSUER, exp: now() + 300 })}.AAAA`
    assertRefused(await fetchAs(confused), 401, 'invalid_session_token', 'HS256 with a JWKS kid')
    // an RS256 token from a key the JWKS does not publish
    const stranger = await rsaKey('key-1')
    assertRefused(await fetchAs(await sign({ key: stranger })), 401, 'invalid_session_token', 'unknown RSA key under a known kid')
  })

  await t.test('a key rotation in the JWKS is picked up; a removed key stops working for new tokens', async () => {
    const before = await sign({ key: first, claims: { sub: 'rotation-cached' } })
    assert.equal((await fetchAs(before)).status, 200)
    const second = await rsaKey('key-2')
    jwks.state.keys = [second.jwk]
    current = second
    // jose refetches a set at most once per cooldown (5 s): wait it out, bounded
    const token = await sign({ key: second })
    const deadline = Date.now() + 15_000
    let res = await fetchAs(token)
    while (res.status !== 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500))
      res = await fetchAs(token)
    }
    assert.equal(res.status, 200, `the rotated key is used: ${res.text}`)
    assertRefused(await fetchAs(await sign({ key: first, claims: { sub: 'rotation-new' } })), 401, 'invalid_session_token', 'a new token from the removed key')
    // already verified tokens stay valid until their exp (documented)
    assert.equal((await fetchAs(before)).status, 200)
  })

  await t.test('the JWKS unreachable: 503 session_keys_unavailable, verified tokens keep working', async () => {
    const cached = await sign({ key: current, claims: { sub: 'before-outage' } })
    assert.equal((await fetchAs(cached)).status, 200)
    jwks.state.down = true
    try {
      const third = await rsaKey('key-3')
      await new Promise((r) => setTimeout(r, 5_200)) // past the cooldown, so the set is asked again
      assertRefused(await fetchAs(await sign({ key: third })), 503, 'session_keys_unavailable', 'unknown kid while the JWKS is down')
      assert.equal((await fetchAs(cached)).status, 200, 'a verified token is answered from memory')
    } finally {
      jwks.state.down = false
    }
  })

  await t.test('admin routes refuse a session token, whatever its role', async () => {
    const token = await sign({ claims: { role: 'service_role' } })
    for (const path of ['/admin/api-keys', '/admin/clients']) {
      const res = await atrium.get(path, bearer(token))
      assertRefused(res, 403, 'admin_key_required', path)
    }
    const create = await atrium.post('/admin/api-keys', { ...bearer(token), body: { name: 'escalate', rights: ['*'] } })
    assertRefused(create, 403, 'admin_key_required', 'POST /admin/api-keys')
  })

  await t.test('a user can do no more than its role maps to, on every protected route', async () => {
    for (const [role, rights] of Object.entries(ROLE_RIGHTS)) {
      const token = await sign({ claims: { role, sub: `grid-${role}` } })
      for (const route of [...GATEWAY_ROUTES, ...REST_ROUTES]) {
        const res = await atrium.request(route.method, route.path, { client: 'shop', body: route.body, ...bearer(token) })
        const what = `${role}: ${route.method} ${route.path}`
        if (rights.includes(route.right)) {
          assert.ok((route.ok ?? [200]).includes(res.status), `${what}: ${res.status} ${res.text}`)
        } else {
          assert.equal(res.status, 403, `${what}: ${res.status} ${res.text}`)
          assert.equal(res.body.code, route.family === 'rest' ? '42501' : 'missing_right', what)
        }
      }
      const body = { query: 'SELECT 1 AS one', driver: 'postgresql', db_name: 'shop' }
      const viaBody = await atrium.post('/query/sql', { body, ...bearer(token) })
      assert.equal(viaBody.status, rights.includes('sql.read') ? 200 : 403, `${role}: /query/sql ${viaBody.text}`)
      const mgmt = await atrium.post('/management/tables', { client: 'shop', ...bearer(token), body: { table_name: 'hijack', columns: [{ name: 'id', data_type: 'integer' }] } })
      assertRefused(mgmt, 403, 'key_not_client_bound', `${role}: management`)
    }
    // raw SQL by class: sql.read runs reads (read-only), never writes, DDL or side effects
    const reader = await sign({ claims: { sub: 'sql-reader' } })
    const run = (query: string) => atrium.post('/gateway/query', { client: 'shop', body: { query }, ...bearer(reader) })
    assert.equal((await run('SELECT count(*) AS n FROM sentinel')).status, 200)
    for (const query of ['DELETE FROM sentinel', 'INSERT INTO sentinel VALUES (960, \'x\')', 'DROP TABLE sentinel', 'CREATE TABLE hijack (id int)', 'SELECT pg_terminate_backend(1)', 'SET ROLE postgres']) {
      const res = await run(query)
      assert.equal(res.status, 403, `${query}: ${res.status} ${res.text}`)
      assert.equal(res.body.code, 'missing_right', query)
    }
    const [{ n }] = await db.query<{ n: string }>('SELECT count(*) AS n FROM sentinel')
    const tables = await db.query<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE tablename = 'hijack'")
    assert.equal(tables.length, 0, 'no table was created')
    assert.ok(Number(n) >= 1, 'the sentinel rows survive')
  })

  await t.test('the request log names the user (sub), not a header the caller sends', async () => {
    const token = await sign({ claims: { sub: 'logged-user' } })
    const res = await atrium.post('/gateway/fetch', { client: 'shop', body: fetchBody, key: null, headers: { authorization: `Bearer ${token}`, 'x-user-id': 'someone-else' } })
    assert.equal(res.status, 200)
    const requestId = res.headers.get('x-request-id')
    await atrium.handle.platform.requestLog.flush()
    const rows = await atrium.catalog.query<{ user_id: string; api_key_id: string | null }>('SELECT user_id, api_key_id FROM atrium.request_log WHERE request_id = $1', [requestId])
    assert.deepEqual(rows, [{ user_id: 'logged-user', api_key_id: null }])
  })

})

test('rate limits count per user (sub), like per key', async (t) => {
  const db = await createPgDatabase(t)
  await db.load('shop')
  const atrium = await startTestAtrium(t, {
    sources: { shop: db.url },
    env: { ATRIUM_JWT_SECRET: SECRET, ATRIUM_RATE_LIMIT_PER_KEY: '2', ATRIUM_RATE_LIMIT_WINDOW_SECONDS: '30' },
    settings: { 'sessions.roleRights': ROLE_RIGHTS },
  })
  const call = (token: string) => atrium.post('/gateway/fetch', { client: 'shop', body: fetchBody, ...bearer(token) })
  const alice = await sign({ claims: { sub: 'alice', aud: undefined, iss: undefined } })
  // another token of the same user (a refreshed session) shares the user's budget
  const aliceAgain = await sign({ claims: { sub: 'alice', aud: undefined, iss: undefined, iat: now() - 1 } })
  const bob = await sign({ claims: { sub: 'bob', aud: undefined, iss: undefined } })
  const statuses = []
  for (let i = 0; i < 4; i++) statuses.push((await call(alice)).status)
  assert.deepEqual(statuses, [200, 200, 200, 200], 'two per window plus two burst')
  const limited = await call(aliceAgain)
  assertRefused(limited, 429, 'rate_limited', 'alice, fifth request')
  assert.equal((await call(bob)).status, 200, 'another user has a budget of its own')
  // with no audience or issuer configured, tokens are checked for signature, exp and sub only
  assert.equal((await call(await sign({ claims: { sub: 'carol', aud: 'anything', iss: 'anyone' } }))).status, 200)
})

test('without sessions configured, a bearer JWT is just an invalid API key', async (t) => {
  const db = await createPgDatabase(t)
  await db.load('shop')
  const atrium = await startTestAtrium(t, { sources: { shop: db.url } })
  const res = await atrium.post('/gateway/fetch', { client: 'shop', body: fetchBody, ...bearer(await sign()) })
  assertRefused(res, 401, 'invalid_api_key', 'JWT without sessions')
  assert.equal((await atrium.get('/admin/api-keys', { key: ADMIN_KEY })).status, 200)
})

test('with only a JWKS configured, no HS256 token passes, not even one signed with the public key', async (t) => {
  const db = await createPgDatabase(t)
  await db.load('shop')
  const jwks = await startJwksServer(t)
  const key = await rsaKey('only-key')
  jwks.state.keys = [key.jwk]
  const atrium = await startTestAtrium(t, {
    sources: { shop: db.url },
    env: { ATRIUM_JWKS_URL: jwks.url },
    settings: { 'sessions.roleRights': ROLE_RIGHTS },
  })
  const call = (token: string) => atrium.post('/gateway/fetch', { client: 'shop', body: fetchBody, ...bearer(token) })
  assert.equal((await call(await sign({ key }))).status, 200)
  const pem = new TextEncoder().encode(await exportSPKI(key.publicKey))
  for (const secret of [pem, new TextEncoder().encode(SECRET), new TextEncoder().encode(JSON.stringify(key.jwk))]) {
    const forged = await new SignJWT({ sub: 'x', role: 'authenticated', exp: now() + 300 }).setProtectedHeader({ alg: 'HS256', kid: key.kid }).sign(secret)
    assertRefused(await call(forged), 401, 'invalid_session_token', 'HS256 against a JWKS')
  }
})

test('session settings are validated at start-up, naming the variable', () => {
  assert.throws(() => loadConfig({ ATRIUM_JWT_SECRET: 'too-short' }), /sessions\.jwtSecret \(env ATRIUM_JWT_SECRET\)/)
  assert.throws(() => loadConfig({ ATRIUM_JWKS_URL: 'file:///etc/jwks.json' }), /sessions\.jwksUrl \(env ATRIUM_JWKS_URL\)/)
  assert.throws(() => loadConfig({}, { 'sessions.roleRights': { authenticated: 'gateway.read' } }), /sessions\.roleRights\.authenticated/)
  const config = loadConfig({ ATRIUM_JWT_SECRET: SECRET, ATRIUM_JWT_AUDIENCE: AUDIENCE }, { 'sessions.roleRights': ROLE_RIGHTS })
  assert.deepEqual(config.sessions, { jwtSecret: SECRET, audience: AUDIENCE, roleRights: ROLE_RIGHTS })
  assert.deepEqual(loadConfig({}).sessions, { roleRights: {} }, 'off, and no role has rights, by default')
})
