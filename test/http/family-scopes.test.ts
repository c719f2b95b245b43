// Families are encapsulated scopes: each answers errors and unknown paths in its own shape, and its credential
// reader runs for its own routes only. Two throwaway families on a bare Fastify app show it without a database.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify, { type FastifyInstance } from 'fastify'
import { mountFamily, type Family } from '../../src/api/family.js'
import { AppError } from '../../src/errors/app-error.js'

interface Deps { seen: string[] }

function familyOf(name: string, prefix: string, shape: (e: AppError) => unknown): Family<Deps> {
  return {
    name,
    prefix,
    readCredentials: (scope, deps) => scope.addHook('onRequest', async (req) => { deps.seen.push(`${name} ${req.url}`) }),
    renderError: (err) => ({ status: err.status, body: shape(err) }),
    async routes(scope) {
      scope.get('/ok', async () => ({ family: name }))
      scope.get('/fails', async () => { throw new AppError('unknown_table', `${name} has no such table`) })
      scope.get('/bug', async () => { throw new Error('a bug') })
    },
  }
}

async function app(): Promise<{ app: FastifyInstance; deps: Deps }> {
  const deps: Deps = { seen: [] }
  const app = Fastify({ logger: false })
  await mountFamily(app, familyOf('alpha', '/alpha', (e) => ({ alpha_error: e.code, text: e.message })), deps)
  await mountFamily(app, familyOf('beta', '/beta', (e) => ({ detail: e.message })), deps)
  return { app, deps }
}

test('each family renders its own errors and its own 404s', async () => {
  const { app: a } = await app()
  const alpha = await a.inject('/alpha/fails')
  assert.equal(alpha.statusCode, 400)
  assert.deepEqual(alpha.json(), { alpha_error: 'unknown_table', text: 'alpha has no such table' })
  const beta = await a.inject('/beta/fails')
  assert.deepEqual(beta.json(), { detail: 'beta has no such table' })
  // an unknown path under a family's prefix is that family's 404
  const missing = await a.inject('/beta/nowhere')
  assert.equal(missing.statusCode, 404)
  assert.match(missing.json().detail, /no route GET \/beta\/nowhere/)
  // an unexpected error is a 500 in the family's shape, without the error's own text
  const bug = await a.inject('/alpha/bug')
  assert.equal(bug.statusCode, 500)
  assert.deepEqual(bug.json(), { alpha_error: 'internal_error', text: 'internal server error' })
})

test("a family's credential reader runs for its own routes only", async () => {
  const { app: a, deps } = await app()
  assert.equal((await a.inject('/alpha/ok')).json().family, 'alpha')
  assert.equal((await a.inject('/beta/ok')).json().family, 'beta')
  assert.deepEqual(deps.seen, ['alpha /alpha/ok', 'beta /beta/ok'])
})
