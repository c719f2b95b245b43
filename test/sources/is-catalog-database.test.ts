import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isCatalogDatabase } from '../../src/sources/is-catalog-database.js'

// Where a URL leads, not how it is spelled, decides whether it is the catalog.
test('isCatalogDatabase compares host, port and database after normalising them', () => {
  const catalog = 'postgres://atrium:pw@127.0.0.1:5432/atrium_catalog'
  const same = [
    'postgres://other@localhost/atrium_catalog',
    'postgresql://x:y@127.0.0.1:5432/atrium_catalog?sslmode=disable',
    'postgres://x@[::1]/atrium_catalog',
    'postgres://x@db.invalid:5433/atrium_catalog?host=/var/run/postgresql&port=5432',
    'postgres://atrium_catalog@localhost',
  ]
  for (const url of same) assert.equal(isCatalogDatabase(url, catalog), true, url)
  const different = [
    'postgres://x@127.0.0.1:5432/shop',
    'postgres://x@127.0.0.1:5433/atrium_catalog',
    'postgres://x@db.example.com/atrium_catalog',
    'mysql://root@127.0.0.1:5432/atrium_catalog',
    'not a url',
  ]
  for (const url of different) assert.equal(isCatalogDatabase(url, catalog), false, url)
  assert.equal(isCatalogDatabase('postgres://postgres@localhost', 'postgres://postgres:pw@127.0.0.1:41234/postgres'), false, 'another port')
  assert.equal(isCatalogDatabase('postgres://u@localhost:41234/postgres', 'postgres://postgres:pw@127.0.0.1:41234/postgres'), true)
})
