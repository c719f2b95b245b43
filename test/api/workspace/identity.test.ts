// Workspace identity and tenancy through HTTP: tenants (the admin key as platform administrator), users, invitations,
// the role matrix as a grid, soft deletes that refuse a deleted user's token, and another tenant's ids as 404s.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { as, ROLES, signToken, startWorkspace, type RoleName } from './workspace-helpers.js'

test('Workspace identity and tenancy', async (t) => {
  const bed = await startWorkspace(t)
  const { call, admin, tenants: [a, b] } = bed

  await t.test('credentials: none is 401, a non-JWT key is 401, an unknown user is 401, all in {detail}', async () => {
    const none = await call({ token: null }, 'GET', '/api/v1/users/me')
    assert.equal(none.status, 401, none.text)
    assert.deepEqual(Object.keys(none.body), ['detail'])
    const notJwt = await call({ token: 'ath_0123456789abcdef.' + 'B'.repeat(43) }, 'GET', '/api/v1/users/me')
    assert.equal(notJwt.status, 401)
    const stranger = await call({ token: await signToken({ sub: 'nobody', email: 'nobody@example.test' }) }, 'GET', '/api/v1/users/me')
    assert.equal(stranger.status, 401)
    assert.match(stranger.body.detail, /no Workspace user/)
    const forged = await call({ token: (await signToken({ sub: 'x' })).slice(0, -4) + 'AAAA' }, 'GET', '/api/v1/users/me')
    assert.equal(forged.status, 401)
  })

  await t.test('tenants: only the admin key creates and deletes; a user sees only its own tenant', async () => {
    const refused = await call(as(a, 'Org admin'), 'POST', '/api/v1/tenants', { name: 'mine' })
    assert.equal(refused.status, 403, refused.text)
    const all = await call(admin(), 'GET', '/api/v1/tenants')
    assert.ok(all.body.tenants.some((x: { id: string }) => x.id === b.id))
    const own = await call(as(a, 'Dataset user'), 'GET', '/api/v1/tenants')
    assert.deepEqual(own.body.tenants.map((x: { id: string }) => x.id), [a.id])
    assert.equal((await call(as(a, 'Dataset user'), 'GET', `/api/v1/tenants/${a.id}`)).status, 200)
    assert.equal((await call(as(a, 'Org admin'), 'GET', `/api/v1/tenants/${b.id}`)).status, 404)
    assert.equal((await call(as(a, 'Dataset editor'), 'PUT', `/api/v1/tenants/${a.id}`, { name: 'x' })).status, 403)
    const renamed = await call(as(a, 'Org admin'), 'PUT', `/api/v1/tenants/${a.id}`, { name: 'tenant a renamed' })
    assert.equal(renamed.status, 200, renamed.text)
    assert.equal(renamed.body.name, 'tenant a renamed')
    assert.equal((await call(as(a, 'Org admin'), 'PUT', `/api/v1/tenants/${b.id}`, { name: 'stolen' })).status, 404)
    const paged = await call(admin(), 'GET', '/api/v1/tenants?skip=1&limit=1')
    assert.equal(paged.body.tenants.length, 1)
    const badLimit = await call(admin(), 'GET', '/api/v1/tenants?limit=0')
    assert.equal(badLimit.status, 422)
    assert.deepEqual(badLimit.body.detail[0].loc, ['query', 'limit'])
  })

  await t.test('the admin key needs X-Tenant-Id on tenant routes, naming a live tenant', async () => {
    const missing = await call(admin(), 'GET', '/api/v1/users')
    assert.equal(missing.status, 400)
    assert.match(missing.body.detail, /X-Tenant-Id/)
    assert.equal((await call(admin('00000000-0000-4000-8000-000000000000'), 'GET', '/api/v1/users')).status, 404)
    const listed = await call(admin(b.id), 'GET', '/api/v1/users')
    assert.equal(listed.status, 200)
    assert.equal(listed.body.users.length, 3)
  })

  await t.test('users: me, create with validation, role change, isolation', async () => {
    const me = await call(as(a, 'Dataset editor'), 'GET', '/api/v1/users/me')
    assert.equal(me.status, 200, me.text)
    assert.equal(me.body.role, 'Dataset editor')
    assert.equal(me.body.tenant_id, a.id)
    assert.equal(me.body.identity_provider_id, 'sub-a-Dataset editor', 'the first sign-in binds the sub')

    const bad = await call(as(a, 'Org admin'), 'POST', '/api/v1/users', { email: 'x@a.example.test', name: 'X', role: 'Emperor' })
    assert.equal(bad.status, 422)
    assert.deepEqual(bad.body.detail[0].loc, ['body', 'role'])
    assert.equal(typeof bad.body.detail[0].msg, 'string')
    const noName = await call(as(a, 'Org admin'), 'POST', '/api/v1/users', { email: 'x@a.example.test' })
    assert.equal(noName.status, 422)
    assert.deepEqual(noName.body.detail[0].loc, ['body', 'name'])

    const made = await call(as(a, 'Org admin'), 'POST', '/api/v1/users', { email: 'carol@a.example.test', name: 'Carol' })
    assert.equal(made.status, 201, made.text)
    assert.equal(made.body.role, 'Dataset user', 'the default role')
    const dup = await call(as(a, 'Org admin'), 'POST', '/api/v1/users', { email: 'CAROL@a.example.test', name: 'Carol again' })
    assert.equal(dup.status, 409)

    const promoted = await call(as(a, 'Org admin'), 'PUT', `/api/v1/users/${made.body.id}/role`, { role: 'Dataset editor' })
    assert.equal(promoted.status, 200)
    assert.equal(promoted.body.role, 'Dataset editor')
    const carol = { token: await signToken({ sub: 'carol-sub', email: 'carol@a.example.test' }) }
    assert.equal((await call(carol, 'GET', '/api/v1/users/me')).body.role, 'Dataset editor')

    // tenant b's Org admin cannot see, change or delete tenant a's user: 404, never 403
    for (const [method, path, body] of [
      ['GET', `/api/v1/users/${made.body.id}`, undefined],
      ['PUT', `/api/v1/users/${made.body.id}`, { email: 'carol@a.example.test', name: 'hacked' }],
      ['PUT', `/api/v1/users/${made.body.id}/role`, { role: 'Org admin' }],
      ['DELETE', `/api/v1/users/${made.body.id}`, undefined],
    ] as const) {
      const res = await call(as(b, 'Org admin'), method, path, body)
      assert.equal(res.status, 404, `${method} ${path}: ${res.text}`)
    }
    assert.equal((await call(as(a, 'Org admin'), 'GET', '/api/v1/users/not-a-uuid')).status, 404)
  })

  await t.test('soft delete: the user leaves lists, gets 404, and its token is refused', async () => {
    const made = await call(as(a, 'Org admin'), 'POST', '/api/v1/users', { email: 'dave@a.example.test', name: 'Dave' })
    const dave = { token: await signToken({ sub: 'dave-sub', email: 'dave@a.example.test' }) }
    assert.equal((await call(dave, 'GET', '/api/v1/users/me')).status, 200)
    const gone = await call(as(a, 'Org admin'), 'DELETE', `/api/v1/users/${made.body.id}`)
    assert.equal(gone.status, 200, gone.text)
    assert.equal(typeof gone.body.message, 'string')
    const refused = await call(dave, 'GET', '/api/v1/users/me')
    assert.equal(refused.status, 401)
    assert.match(refused.body.detail, /deleted/)
    assert.equal((await call(as(a, 'Org admin'), 'GET', `/api/v1/users/${made.body.id}`)).status, 404)
    const list = await call(as(a, 'Org admin'), 'GET', '/api/v1/users')
    assert.ok(!list.body.users.some((u: { id: string }) => u.id === made.body.id))
    assert.equal((await call(as(a, 'Org admin'), 'DELETE', `/api/v1/users/${a.users['Org admin'].id}`)).status, 400, 'an Org admin cannot delete itself')
  })

  await t.test('invitations: the invitee appears on first sign-in; an expired one does not', async () => {
    const invited = await call(as(a, 'Org admin'), 'POST', '/api/v1/users/invite', { email: 'erin@a.example.test', name: 'Erin', role: 'Dataset editor' })
    assert.equal(invited.status, 201, invited.text)
    assert.match(invited.body.invitation_token, /^inv_/)
    assert.ok(Date.parse(invited.body.expires_at) > Date.now())
    const before = await call(as(a, 'Org admin'), 'GET', '/api/v1/users')
    assert.ok(!before.body.users.some((u: { email: string }) => u.email === 'erin@a.example.test'), 'not a user before signing in')
    const erin = { token: await signToken({ sub: 'erin-sub', email: 'erin@a.example.test' }) }
    const me = await call(erin, 'GET', '/api/v1/users/me')
    assert.equal(me.status, 200, me.text)
    assert.equal(me.body.role, 'Dataset editor')
    assert.equal(me.body.tenant_id, a.id)
    assert.equal(me.body.identity_provider_id, 'erin-sub')
    assert.equal((await call(as(a, 'Dataset editor'), 'POST', '/api/v1/users/invite', { email: 'z@a.example.test', name: 'Z' })).status, 403)
    assert.equal((await call(as(a, 'Org admin'), 'POST', '/api/v1/users/invite', { email: 'erin@a.example.test', name: 'Erin' })).status, 409)

    const late = await call(as(a, 'Org admin'), 'POST', '/api/v1/users/invite', { email: 'late@a.example.test', name: 'Late' })
    assert.equal(late.status, 201)
    await bed.atrium.catalog.query("UPDATE atrium.ws_invitations SET expires_at = now() - interval '1 second' WHERE lower(email) = 'late@a.example.test'")
    const lateUser = await call({ token: await signToken({ sub: 'late-sub', email: 'late@a.example.test' }) }, 'GET', '/api/v1/users/me')
    assert.equal(lateUser.status, 401, 'an expired invitation makes no user')
  })

  await t.test('the role matrix, as a grid: each role against each operation', async () => {
    // [method, path, body, least role]; bodies are valid, so an allowed call answers 2xx
    const user = a.users['Dataset user'].id
    const grid: Array<[string, string, unknown, RoleName]> = [
      ['GET', '/api/v1/users', undefined, 'Dataset user'],
      ['GET', `/api/v1/users/${user}`, undefined, 'Dataset user'],
      ['PUT', `/api/v1/users/${user}`, { email: a.users['Dataset user'].email, name: 'renamed', role: 'Dataset user' }, 'Org admin'],
      ['PUT', `/api/v1/users/${user}/role`, { role: 'Dataset user' }, 'Org admin'],
      ['GET', '/api/v1/projects', undefined, 'Dataset user'],
      ['POST', '/api/v1/projects', { name: 'p' }, 'Org admin'],
      ['GET', '/api/v1/datasets', undefined, 'Dataset user'],
      ['GET', '/api/v1/tables', undefined, 'Dataset user'],
    ]
    for (const [method, path, body, least] of grid) {
      for (const role of ROLES) {
        const res = await call(as(a, role), method, path, body)
        const allowed = ROLES.indexOf(role) >= ROLES.indexOf(least)
        if (allowed) assert.ok(res.status < 300, `${role} ${method} ${path}: ${res.status} ${res.text}`)
        else {
          assert.equal(res.status, 403, `${role} ${method} ${path}: ${res.text}`)
          assert.match(res.body.detail, new RegExp(least))
        }
      }
    }
  })
})
