// Every operation of the gateway spec (spec/athena-routes.txt) is served: listed by GET /registry, and so by GET /
// and the OpenAPI document (registry.test.ts checks those three agree).
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { startTestAtrium } from '../../helpers/atrium.js'

/** `GET /admin/clients — List …` → { method, path } */
function specOperations(): Array<{ method: string; path: string }> {
  const text = readFileSync(new URL('../../../spec/athena-routes.txt', import.meta.url), 'utf8')
  return text.split('\n').map((l) => l.trim()).filter(Boolean).map((line) => {
    const match = /^([A-Z]+) (\S+)/.exec(line)
    assert.ok(match, `a spec line reads "METHOD /path — summary": ${line}`)
    return { method: match[1], path: match[2] }
  })
}

test('every operation of the gateway spec is listed by /registry', async (t) => {
  const atrium = await startTestAtrium(t)
  const registry = await atrium.get('/registry')
  assert.equal(registry.status, 200, registry.text)
  const served = new Set((registry.body as Array<{ method: string; path: string }>).map((e) => `${e.method} ${e.path}`))
  const operations = specOperations()
  assert.ok(operations.length >= 70, `the spec lists its operations (${operations.length})`)
  const missing = operations.filter((o) => !served.has(`${o.method} ${o.path}`)).map((o) => `${o.method} ${o.path}`)
  assert.deepEqual(missing, [], 'every spec operation is served')
})
