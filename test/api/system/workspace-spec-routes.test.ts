// Every operation of the Workspace path table (spec/datacovey-paths.md) is served: listed by GET /registry, which
// is built from the same route definitions as the router and the OpenAPI document.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { startTestAtrium } from '../../helpers/atrium.js'

/** path parameters are compared by position, not by name: `/x/{tenant_id}` and `/x/{id}` are one path */
const shape = (path: string) => path.replace(/\{[^}]+\}/g, '{}')

/** `| tag | GET | \`/api/v1/…\` | summary |` → { method, path } */
function pathTable(): Array<{ method: string; path: string }> {
  const text = readFileSync(new URL('../../../spec/datacovey-paths.md', import.meta.url), 'utf8')
  return [...text.matchAll(/^\| [\w-]+ \| ([A-Z]+) \| `([^`]+)` \|/gm)].map((m) => ({ method: m[1]!, path: m[2]! }))
}

test('every operation of the Workspace path table is listed by /registry', async (t) => {
  const atrium = await startTestAtrium(t)
  const registry = await atrium.get('/registry')
  assert.equal(registry.status, 200, registry.text)
  const served = new Set((registry.body as Array<{ method: string; path: string }>).map((e) => `${e.method} ${shape(e.path)}`))
  const operations = pathTable()
  assert.ok(operations.length >= 75, `the path table lists its operations (${operations.length})`)
  const missing = operations.filter((o) => !served.has(`${o.method} ${shape(o.path)}`)).map((o) => `${o.method} ${o.path}`)
  assert.deepEqual(missing, [], 'every Workspace operation is served')
})
