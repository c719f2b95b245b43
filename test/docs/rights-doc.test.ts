import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { operationRights } from '../../src/auth/operation-rights.js'

// The rights table in docs/security.md and the one the services check (auth/operation-rights.ts) agree.
test('docs/security.md documents every right an operation needs, and docs/management.md every management right', () => {
  const security = readFileSync(new URL('../../docs/security.md', import.meta.url), 'utf8')
  const management = readFileSync(new URL('../../docs/management.md', import.meta.url), 'utf8')
  const section = security.slice(security.indexOf('## Rights'), security.indexOf('**Raw SQL**'))
  assert.ok(section.length > 100, 'docs/security.md has a "## Rights" section')
  for (const [operation, { right }] of Object.entries(operationRights)) {
    const doc = right.startsWith('management.') ? management : section
    assert.ok(doc.includes(`\`${right}\``), `${operation} needs ${right}, which the docs do not list`)
  }
})
