// Who is calling, resolved once per request from whatever credential style the surface uses.
import { AppError } from '../errors/app-error.js'

export interface KeyPrincipal {
  kind: 'key'
  keyId: string
  publicId: string
  name: string
  /** the client the key is bound to, if any */
  clientName: string | null
  rights: ReadonlySet<string>
  /** requests per rate-limit window for this key; null uses rateLimits.perKey */
  rateLimit: number | null
}

/** a user signed in elsewhere, presenting a verified JWT (see jwt-sessions.ts) */
export interface UserPrincipal {
  kind: 'user'
  /** the token's subject: the user id (rate limits and the request log's user_id) */
  sub: string
  email: string | null
  /** the token's role claim (Supabase: `authenticated`); its rights come from sessions.roleRights */
  role: string | null
  /** every claim of the verified token, frozen */
  claims: Readonly<Record<string, unknown>>
  rights: ReadonlySet<string>
}

/** a platform key (pk_live_…) of the Databases API: a user with teams and scopes (auth/platform-keys.ts) */
export interface PlatformPrincipal {
  kind: 'platform'
  keyId: string
  publicId: string
  userId: number
  email: string
  /** the teams the user belongs to; the first is the primary team */
  teamIds: readonly number[]
  primaryTeamId: number
  scopes: ReadonlySet<string>
}

export type Principal =
  | { kind: 'admin' }
  | KeyPrincipal
  | UserPrincipal
  | PlatformPrincipal
  /** no credential, on a client whose key enforcement is off */
  | { kind: 'anonymous' }

export const ADMIN: Principal = Object.freeze({ kind: 'admin' })
export const ANONYMOUS: Principal = Object.freeze({ kind: 'anonymous' })

/** the admin key and anonymous callers on unenforced clients may do everything; keys and users need the right; platform keys have none */
export function hasRight(principal: Principal, right: string): boolean {
  // platform keys hold scopes of the Databases API, never gateway rights
  if (principal.kind === 'platform') return false
  if (principal.kind !== 'key' && principal.kind !== 'user') return true
  return principal.rights.has(right) || principal.rights.has('*')
}

/** throws 403 missing_right naming the right and what it was needed for */
export function requireRight(principal: Principal, right: string, purpose: string): void {
  if (hasRight(principal, right)) return
  if (principal.kind === 'user') {
    const role = principal.role === null ? 'a session token without a role claim' : `the session role "${principal.role}"`
    throw new AppError('missing_right', `${role} lacks the "${right}" right needed to ${purpose}`, {
      hint: 'an administrator can map the role to rights in sessions.roleRights',
      data: { required_right: right },
    })
  }
  throw new AppError('missing_right', `this API key lacks the "${right}" right needed to ${purpose}`, {
    hint: 'an administrator can add the right with PATCH /admin/api-keys/{id}',
    data: { required_right: right },
  })
}
