import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { codes } from '../../src/errors/codes.js'

// docs/errors.md documents exactly the codes the server can send, with their HTTP statuses.
test('docs/errors.md lists every error code with its status, and no others', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8')
  const rows = [...doc.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])] as const)
  const documented = new Map(rows)
  for (const [code, spec] of Object.entries(codes)) {
    assert.ok(documented.has(code), `${code} is missing from docs/errors.md`)
    assert.equal(documented.get(code), spec.status, `${code}: docs say ${documented.get(code)}, the code says ${spec.status}`)
  }
  for (const code of documented.keys()) assert.ok(code in codes, `docs/errors.md lists ${code}, which the server never sends`)
})
