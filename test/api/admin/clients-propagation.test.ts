import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { startTestAtrium, type TestAtrium } from '../../helpers/atrium.js'
import { createPgDatabase } from '../../helpers/databases.js'

/** polls `check` every 50 ms until it holds or `limitMs` passes; returns how long it took */
async function within(limitMs: number, what: string, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now()
  for (let i = 0; i < 1_000 && Date.now() - started < limitMs; i++) {
    if (await check()) return Date.now() - started
    await sleep(50)
  }
  assert.fail(`${what} did not happen within ${limitMs} ms`)
}

// Two Atrium processes sharing one catalog: a change made through one reaches the other within seconds.
test('client changes propagate between processes sharing a catalog', async (t) => {
  const shop = await createPgDatabase(t)
  await shop.load('shop')
  const a = await startTestAtrium(t)
  const b = await startTestAtrium(t, { catalog: a.catalog })
  const insert = (atrium: TestAtrium, id: number) =>
    atrium.request('PUT', '/gateway/insert', { client: 'tenant', body: { table_name: 'sentinel', insert_body: { id: 1000 + id, label: 'x' } } })
  const fetchStatus = async (atrium: TestAtrium) =>
    (await atrium.post('/gateway/fetch', { client: 'tenant', body: { table_name: 'sentinel', columns: 'id' } })).status

  await t.test('a client created on A serves requests on B', async () => {
    assert.equal((await fetchStatus(b)), 400, 'B does not know the client yet')
    assert.equal((await a.post('/admin/clients', { body: { client_name: 'tenant', pg_uri: shop.url } })).status, 201)
    const ms = await within(5_000, 'B serving the new client', async () => (await fetchStatus(b)) === 200)
    t.diagnostic(`create reached B after ${ms} ms`)
  })

  await t.test('a freeze on A refuses writes on B within seconds, and an unfreeze restores them', async () => {
    assert.equal((await insert(b, 1)).status, 200)
    const frozeAt = Date.now()
    assert.equal((await a.request('PUT', '/admin/clients/tenant/freeze', { body: { is_frozen: true } })).status, 200)
    let i = 10
    const ms = await within(5_000, 'B refusing writes', async () => (await insert(b, i++)).status === 423)
    t.diagnostic(`freeze reached B after ${ms} ms (${Date.now() - frozeAt} ms including the request)`)
    assert.equal(await fetchStatus(b), 200, 'B still serves reads')
    assert.equal((await a.request('PUT', '/admin/clients/tenant/freeze', { body: { is_frozen: false } })).status, 200)
    await within(5_000, 'B accepting writes again', async () => (await insert(b, i++)).status === 200)
  })

  await t.test('a change made while B was not listening is picked up when B reconnects', async () => {
    // Changed behind Atrium's back (no NOTIFY), then B's listener connection is cut: the reconnect reloads everything.
    await a.catalog.query("UPDATE atrium.clients SET is_frozen = true WHERE client_name = 'tenant'")
    await sleep(300)
    assert.equal((await insert(b, 100)).status, 200, 'no notification, so B has not heard of it yet')
    const killed = await a.catalog.query<{ pid: number }>(
      "SELECT pg_terminate_backend(pid) AS pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'atrium-listen'",
    )
    assert.ok(killed.length >= 2, 'both listeners were cut')
    let i = 200
    const ms = await within(10_000, 'B reloading after its listener reconnected', async () => (await insert(b, i++)).status === 423)
    t.diagnostic(`reconnect reload took ${ms} ms`)
    assert.equal((await a.request('PUT', '/admin/clients/tenant/freeze', { body: { is_frozen: false } })).status, 200)
    await within(5_000, 'B hearing the unfreeze over the new listener', async () => (await insert(b, i++)).status === 200)
  })

  await t.test('a delete on A takes the client away on B', async () => {
    assert.equal((await a.request('DELETE', '/admin/clients/tenant')).status, 200)
    await within(5_000, 'B dropping the client', async () => (await fetchStatus(b)) === 400)
  })
})
