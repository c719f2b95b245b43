// The one way the console talks to Atrium: the public APIs, with the credential the user signed in with.
// Nothing here is private to the console; every call is one a script could make with the same credential.

/** admin: the static admin key; key: a gateway API key (ath_…); platform: a Databases API key (pk_live_…); session: a JWT */
export type CredentialKind = 'admin' | 'key' | 'platform' | 'session'

export interface Session {
  credential: string
  kind: CredentialKind
  /** data sources (X-Athena-Client) this credential may name; empty when it may not list them */
  clients: string[]
  /** what the credential may do, found by asking the APIs at sign-in (see signIn) */
  can: { admin: boolean; schema: boolean; metrics: boolean; databases: boolean; assistant: boolean }
  /** the platform key's own description (GET /api/v1/me) */
  me?: Record<string, any>
}

export interface Reply<T = any> {
  status: number
  ok: boolean
  body: T
  headers: Headers
}

export interface CallOptions {
  body?: unknown
  /** X-Athena-Client */
  client?: string
  headers?: Record<string, string>
}

export function kindOf(credential: string): CredentialKind {
  if (credential.startsWith('pk_live_') || credential.startsWith('pk_test_')) return 'platform'
  if (credential.startsWith('ath_')) return 'key'
  if (/^[\w-]+\.[\w-]+\.[\w-]*$/.test(credential)) return 'session'
  return 'admin'
}

function authHeaders(credential: string, kind: CredentialKind): Record<string, string> {
  // keys go in `apikey` (the gateway's header); session tokens and platform keys are bearer tokens
  return kind === 'admin' || kind === 'key' ? { apikey: credential } : { authorization: `Bearer ${credential}` }
}

export async function call<T = any>(session: Pick<Session, 'credential' | 'kind'>, method: string, path: string, opts: CallOptions = {}): Promise<Reply<T>> {
  const headers: Record<string, string> = { ...authHeaders(session.credential, session.kind), ...opts.headers }
  if (opts.client) headers['x-athena-client'] = opts.client
  let body: string | undefined
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body)
    headers['content-type'] = 'application/json'
  }
  let res: Response
  try {
    res = await fetch(path, { method, headers, body })
  } catch (err) {
    return { status: 0, ok: false, body: { message: `Atrium could not be reached (${(err as Error).message})` } as T, headers: new Headers() }
  }
  const text = await res.text()
  let parsed: unknown = text
  if ((res.headers.get('content-type') ?? '').includes('json') && text) {
    try { parsed = JSON.parse(text) } catch { /* keep the text */ }
  }
  return { status: res.status, ok: res.ok, body: parsed as T, headers: res.headers }
}

/** the message of an error reply, whatever the family's shape (Athena, PostgREST, Polykomos, FastAPI, Assistant) */
export function errorOf(reply: Reply): { message: string; code?: string; hint?: string; right?: string; position?: number } {
  const b = reply.body
  if (typeof b !== 'object' || b === null) return { message: typeof b === 'string' && b ? b : `HTTP ${reply.status}` }
  if (b.error && typeof b.error === 'object') return { message: b.error.message, code: b.error.code }
  if (typeof b.detail === 'string') return { message: b.detail, code: b.code, hint: b.hint }
  if (Array.isArray(b.detail)) return { message: b.detail.map((d: any) => `${(d.loc ?? []).join('.')}: ${d.msg}`).join('; ') }
  return {
    message: b.message ?? `HTTP ${reply.status}`,
    code: b.code,
    hint: b.hint ?? undefined,
    right: b.data?.required_right,
    position: typeof b.data?.position === 'number' ? b.data.position : undefined,
  }
}

export class SignInError extends Error {}

/**
 * Finds what the credential may do by asking the APIs it would use, since no route describes a gateway key's
 * rights: a 200 means yes, a 401 means the credential is not valid, a 403 means not for this credential.
 */
export async function signIn(credential: string): Promise<Session> {
  const kind = kindOf(credential)
  const probe = { credential, kind }
  const can = { admin: false, schema: false, metrics: false, databases: false, assistant: false }
  if (kind === 'platform') {
    const me = await call(probe, 'GET', '/api/v1/me')
    if (!me.ok) throw new SignInError(me.status === 401 ? 'This platform key is not valid (or has expired).' : errorOf(me).message)
    return { credential, kind, clients: [], can: { ...can, databases: true }, me: me.body?.data ?? me.body }
  }
  if (kind === 'admin') {
    const admin = await call(probe, 'GET', '/admin/clients')
    if (!admin.ok) throw new SignInError(admin.status === 401 || admin.status === 403 ? 'This is not the admin key, an API key (ath_…), a platform key (pk_live_…) or a session token.' : errorOf(admin).message)
    can.admin = true
  }
  const clients = await call(probe, 'GET', '/schema/clients')
  if (clients.status === 401) throw new SignInError(`This credential was refused: ${errorOf(clients).message}`)
  can.schema = clients.ok
  const metrics = await call(probe, 'GET', '/metrics')
  can.metrics = metrics.ok
  if (kind === 'session') can.assistant = (await call(probe, 'GET', '/api/auth/me')).ok
  return { credential, kind, clients: clients.ok ? clients.body.clients : [], can }
}

// The credential stays in this tab only (sessionStorage): closing the tab signs out.
const STORE = 'atrium.console.session'
export const saveSession = (s: Session | null) => (s ? sessionStorage.setItem(STORE, JSON.stringify(s)) : sessionStorage.removeItem(STORE))
export function loadSession(): Session | null {
  try { return JSON.parse(sessionStorage.getItem(STORE) ?? 'null') } catch { return null }
}
