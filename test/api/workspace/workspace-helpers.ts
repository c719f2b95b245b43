// A Workspace test bed: a real Atrium verifying HS256 session tokens, two tenants each with one user per role,
// and a request helper that sends a user's JWT (or the admin key) the way a Workspace client does.
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import type { TestContext } from 'node:test'
import { SignJWT } from 'jose'
import { ADMIN_KEY, startTestAtrium, type TestAtrium, type TestResponse } from '../../helpers/atrium.js'

export const JWT_SECRET = 'workspace-test-jwt-secret-0123456789abcdef'
export const ROLES = ['Dataset user', 'Dataset editor', 'Org admin'] as const
export type RoleName = (typeof ROLES)[number]

const now = () => Math.floor(Date.now() / 1000)

/** an HS256 session token with sub and email, valid five minutes unless claims say otherwise */
export function signToken(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT({ iat: now(), exp: now() + 300, ...claims }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(JWT_SECRET))
}

export interface Caller {
  /** a session token, or 'admin' (the admin key), optionally acting in a tenant */
  token: string | 'admin' | null
  tenantId?: string
}

export interface SeededTenant {
  id: string
  /** one signed-in user per role */
  users: Record<RoleName, { id: string; email: string; token: string }>
}

export interface WorkspaceBed {
  atrium: TestAtrium
  call<T = any>(who: Caller, method: string, path: string, body?: unknown): Promise<TestResponse<T>>
  /** the admin key acting in a tenant */
  admin(tenantId?: string): Caller
  tenants: [SeededTenant, SeededTenant]
  /** polls a job record (GET path) until it leaves pending/running; bounded in count, no timing asserted */
  settle(who: Caller, path: string): Promise<any>
}

export async function startWorkspace(t: Pick<TestContext, 'after'>, opts: { env?: Record<string, string> } = {}): Promise<WorkspaceBed> {
  const atrium = await startTestAtrium(t, { env: { ATRIUM_JWT_SECRET: JWT_SECRET, ...opts.env } })
  const call = <T = any>(who: Caller, method: string, path: string, body?: unknown) => {
    const headers: Record<string, string> = {}
    if (who.token && who.token !== 'admin') headers.authorization = `Bearer ${who.token}`
    if (who.tenantId) headers['x-tenant-id'] = who.tenantId
    return atrium.request<T>(method, path, { key: who.token === 'admin' ? ADMIN_KEY : null, headers, body })
  }
  const admin = (tenantId?: string): Caller => ({ token: 'admin', tenantId })
  const seed = async (label: string): Promise<SeededTenant> => {
    const tenant = await call(admin(), 'POST', '/api/v1/tenants', { name: `tenant ${label}` })
    if (tenant.status !== 201) throw new Error(`tenant: ${tenant.status} ${tenant.text}`)
    const users = {} as SeededTenant['users']
    for (const role of ROLES) {
      const email = `${role.replace(/ /g, '-').toLowerCase()}@${label}.example.test`
      const created = await call(admin(tenant.body.id), 'POST', '/api/v1/users', { email, name: `${role} of ${label}`, role })
      if (created.status !== 201) throw new Error(`user: ${created.status} ${created.text}`)
      users[role] = { id: created.body.id, email, token: await signToken({ sub: `sub-${label}-${role}`, email }) }
    }
    return { id: tenant.body.id, users }
  }
  const settle = async (who: Caller, path: string) => {
    for (let i = 0; i < 600; i++) {
      const res = await call(who, 'GET', path)
      assert.equal(res.status, 200, res.text)
      if (!['pending', 'running'].includes(res.body.status)) return res.body
      await sleep(100)
    }
    throw new Error(`${path} did not finish`)
  }
  const tenants: [SeededTenant, SeededTenant] = [await seed('a'), await seed('b')]
  return { atrium, call, admin, tenants, settle }
}

export const as = (tenant: SeededTenant, role: RoleName): Caller => ({ token: tenant.users[role].token })

export { until } from '../../helpers/until.js'
