// The raw-SQL gate on its own: caps per key and per client, the bounded wait for a turn, and its refusals.
import assert from 'node:assert/strict'
import test from 'node:test'
import type { KeyPrincipal, Principal } from '../../src/auth/principal.js'
import { ADMIN } from '../../src/auth/principal.js'
import { AppError } from '../../src/errors/app-error.js'
import { RawSqlGate } from '../../src/data/raw-sql-gate.js'

const key = (keyId: string): KeyPrincipal => ({ kind: 'key', keyId, publicId: keyId, name: keyId, clientName: null, rights: new Set(['sql.read']), rateLimit: null })
const settled = async (p: Promise<unknown>) => {
  const marker = Symbol('pending')
  return (await Promise.race([p.then(() => 'granted', (e: AppError) => e.code), new Promise((r) => setTimeout(() => r(marker), 20))])) === marker ? 'pending' : await p.then(() => 'granted', (e: AppError) => e.code)
}
const enter = (gate: RawSqlGate, who: Principal, signal?: AbortSignal) => gate.enter(who, 'shop', 3, signal)

test('a key over its cap waits for its own turn while other keys go ahead', async () => {
  const gate = new RawSqlGate({ maxConcurrentPerKey: 0, maxConcurrentPerClient: 0, queueTimeoutMs: 5_000 })
  // client cap 3 (the pool), so one key may hold 2
  const a1 = await enter(gate, key('a'))
  const a2 = await enter(gate, key('a'))
  const a3 = enter(gate, key('a'))
  assert.equal(await settled(a3), 'pending')
  // another key is not held up by a's queued request
  const b1 = enter(gate, key('b'))
  assert.equal(await settled(b1), 'granted')
  a1()
  assert.equal(await settled(a3), 'granted')
  ;(await a3)()
  a2()
  ;(await b1)()
})

test('the client cap holds for every caller together, the admin key included, first come first served', async () => {
  const gate = new RawSqlGate({ maxConcurrentPerKey: 0, maxConcurrentPerClient: 2, queueTimeoutMs: 5_000 })
  const first = await enter(gate, ADMIN)
  const second = await enter(gate, key('a'))
  const third = enter(gate, key('b'))
  const fourth = enter(gate, ADMIN)
  assert.equal(await settled(third), 'pending')
  assert.equal(await settled(fourth), 'pending')
  first()
  assert.equal(await settled(third), 'granted')
  assert.equal(await settled(fourth), 'pending')
  second()
  assert.equal(await settled(fourth), 'granted')
  ;(await third)()
  ;(await fourth)()
  // counted out exactly once: calling a release twice frees no extra slot
  const again = await enter(gate, key('c'))
  again()
  again()
  const x = await enter(gate, key('x'))
  const y = await enter(gate, key('y'))
  assert.equal(await settled(enter(gate, key('z'))), 'pending')
  x()
  y()
})

test('a request that waits too long, or finds the queue full, gets 429 with Retry-After', async () => {
  const gate = new RawSqlGate({ maxConcurrentPerKey: 0, maxConcurrentPerClient: 1, queueTimeoutMs: 60 })
  const held = await enter(gate, key('a'))
  const started = Date.now()
  await assert.rejects(enter(gate, key('b')), (err: AppError) => {
    assert.equal(err.code, 'too_many_concurrent_queries')
    assert.equal(err.status, 429)
    assert.equal(err.extra.retryAfter, 1)
    assert.match(err.message, /client "shop".*at most 1.*within 60 ms/)
    return true
  })
  assert.ok(Date.now() - started >= 55, 'refused before its wait was over')
  // 32 waiters per slot at most: the 33rd is refused at once
  const slowGate = new RawSqlGate({ maxConcurrentPerKey: 0, maxConcurrentPerClient: 1, queueTimeoutMs: 5_000 })
  const busy = await slowGate.enter(key('a'), 'shop', 1)
  const queued = Array.from({ length: 32 }, (_, i) => slowGate.enter(key(`w${i}`), 'shop', 1))
  await assert.rejects(slowGate.enter(key('late'), 'shop', 1), (err: AppError) => err.code === 'too_many_concurrent_queries')
  busy()
  // each waiter in turn, and the queue drains completely
  for (const q of queued) (await q)()
  held()
})

test('with no wait allowed, a request over a cap is refused at once; a wait ends with its request', async () => {
  const gate = new RawSqlGate({ maxConcurrentPerKey: 1, maxConcurrentPerClient: 0, queueTimeoutMs: 0 })
  const held = await enter(gate, key('a'))
  await assert.rejects(enter(gate, key('a')), /this API key already has 1 raw SQL requests running; at most 1/)
  held()

  const waiting = new RawSqlGate({ maxConcurrentPerKey: 0, maxConcurrentPerClient: 1, queueTimeoutMs: 5_000 })
  const busy = await waiting.enter(key('a'), 'shop', 1)
  const controller = new AbortController()
  const abandoned = waiting.enter(key('b'), 'shop', 1, controller.signal)
  const behind = waiting.enter(key('c'), 'shop', 1)
  controller.abort()
  await assert.rejects(abandoned, (err: AppError) => err.code === 'request_timeout')
  busy()
  // the abandoned request never took the slot: the one behind it gets it
  assert.equal(await settled(behind), 'granted')
  ;(await behind)()
})
