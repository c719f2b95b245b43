// What a tool makes of a route's answer: the body of a success, and every family's error shape turned into one
// text with the status, the code (when the family has one), the message and the hint.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { bodyOf, RouteRefusal } from '../../src/mcp/route-answer.js'

const answer = (status: number, body: unknown) => ({ status, text: typeof body === 'string' ? body : JSON.stringify(body), isJson: typeof body !== 'string' })

const refusal = (status: number, body: unknown): RouteRefusal => {
  try {
    bodyOf(answer(status, body))
  } catch (err) {
    assert.ok(err instanceof RouteRefusal)
    return err
  }
  throw new Error('no refusal')
}

test('a 2xx answer is its parsed body', () => {
  assert.deepEqual(bodyOf(answer(200, { status: 'success', data: [{ id: 1 }] })), { status: 'success', data: [{ id: 1 }] })
  assert.deepEqual(bodyOf(answer(201, { id: 'q1' })), { id: 'q1' })
})

test('each family\'s error shape becomes status, code, message and hint', () => {
  const athena = refusal(403, { status: 'error', code: 'missing_right', message: 'this API key lacks the "sql.write" right', hint: 'ask for a key with it' })
  assert.equal(athena.message, '403 missing_right: this API key lacks the "sql.write" right (hint: ask for a key with it)')
  assert.equal(athena.code, 'missing_right')
  assert.equal(refusal(404, { detail: 'no query job j1 in your tenant' }).message, '404: no query job j1 in your tenant')
  assert.equal(refusal(422, { detail: [{ loc: ['body', 'query_text'], msg: 'is required', type: 'missing' }] }).message, '422: is required')
  assert.equal(refusal(403, { error: { code: 'missing_scope', message: 'this API key lacks the "databases:read" scope' }, request_id: 'r' }).message, '403 missing_scope: this API key lacks the "databases:read" scope')
  assert.equal(refusal(502, 'Bad Gateway').message, '502: Bad Gateway')
})
