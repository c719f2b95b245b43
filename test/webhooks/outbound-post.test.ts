import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { postOutbound } from '../../src/webhooks/outbound-post.js'

// The connection-time guard: the name is resolved by the socket's own lookup, which refuses internal
// addresses, so a receiver cannot be reached through a name that resolves to one at send time.
test('an outbound POST connects only to addresses the internal-range check approved', async (t) => {
  const received: string[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (c) => { body += c })
    req.on('end', () => {
      received.push(body)
      if (req.url === '/silent') return // never answers
      res.end('x'.repeat(500))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => { server.closeAllConnections(); server.close() })
  const port = (server.address() as AddressInfo).port
  const post = (path: string, allowPrivate: boolean, signal = AbortSignal.timeout(5000)) =>
    postOutbound(new URL(`http://localhost:${port}${path}`), { headers: { 'content-type': 'text/plain' }, body: 'hello', signal, allowPrivate, keepChars: 200 })

  await t.test('a name resolving to loopback is refused at connect time, and nothing is sent', async () => {
    await assert.rejects(post('/', false), (err: NodeJS.ErrnoException) => {
      assert.equal(err.code, 'EINTERNALADDRESS')
      assert.match(err.message, /localhost now resolves to (127\.0\.0\.1|::1), an internal address/)
      return true
    })
    assert.deepEqual(received, [])
  })

  await t.test('allowed, the POST is sent and the kept answer is cut to keepChars', async () => {
    const answer = await post('/', true)
    assert.equal(answer.status, 200)
    assert.equal(answer.text.length, 200)
    assert.deepEqual(received, ['hello'])
  })

  await t.test('a receiver that never answers ends with the timeout as the cause', async () => {
    await assert.rejects(post('/silent', true, AbortSignal.timeout(300)), (err: Error & { cause?: Error }) => {
      assert.equal(err.cause?.name, 'TimeoutError')
      return true
    })
  })
})
