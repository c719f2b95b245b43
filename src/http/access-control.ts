// The key-based credential reader of the Athena families (gateway, system, /rest/v1): decides who may call each
// route of the scope it is installed in, before the body is read: the route's `access`, the presented key or
// session, the client's key enforcement, and the rate limits. Sets req.principal (and req.source for client routes).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { hashSecret, parseKey, secretMatches } from '../auth/api-key-format.js'
import { presentedKey, presentedSessionToken } from './credentials.js'
import type { KeyContext } from '../auth/key-authenticator.js'
import { operationRights, requireOperation, type Operation } from '../auth/operation-rights.js'
import { ADMIN, ANONYMOUS, hasRight, type Principal } from '../auth/principal.js'
import { AppError } from '../errors/app-error.js'
import type { Source } from '../sources/source.js'
import type { Check } from '../auth/rate-limits.js'
import { CUSTOM_SUPABASE } from '../upstream/postgrest-upstream.js'
import type { Access } from './fastify-types.js'
import { nulByte } from '../query/input-limits.js'
import type { KeyAuthenticator } from '../auth/key-authenticator.js'
import type { JwtSessions } from '../auth/jwt-sessions.js'
import type { RateLimits } from '../auth/rate-limits.js'
import type { Config } from '../config/schema.js'
import type { SourceRegistry } from '../sources/registry.js'
import { trimmedHeader } from '../query/parse/headers.js'
import type { RouteCatalog } from './route-catalog.js'

/** what deciding access needs: the admin key, key and session verification, limits, and the clients */
export interface AccessDeps {
  adminKey: string
  auth: KeyAuthenticator
  sessions: JwtSessions
  rateLimits: RateLimits
  registry: SourceRegistry
  /** every route of every family (the refusal of custom_supabase names those that forward it) */
  routes: RouteCatalog
  /** security.protect says which metadata routes are public */
  config: { security: Pick<Config['security'], 'protect'> }
}

const clientHeader = (req: FastifyRequest) => trimmedHeader(req.headers, 'x-athena-client')

const KEY_HINT = 'send a key as apikey, Authorization: Bearer, X-API-Key or X-Athena-Key'

/** the session token (a JWT in Authorization: Bearer) of a request, when sessions are configured */
const sessionTokenOf = (services: AccessDeps, req: FastifyRequest) => (services.sessions.enabled ? presentedSessionToken(req) : undefined)

export interface AccessOptions {
  /** the client a request without X-Athena-Client is about (rest.defaultClient on /rest/v1) */
  defaultClient?: string
  /** without X-Athena-Client, an API key bound to a client is about that client (/storage) */
  clientFromKey?: boolean
}

/**
 * Installs the reader on one family's scope: its onRequest hook runs for that scope's routes only, so another
 * family can read credentials its own way. `services` holds what the checks need and nothing else.
 */
export function installKeyAccess(app: FastifyInstance, services: AccessDeps, opts: AccessOptions = {}): void {
  const { auth, rateLimits } = services
  const sessionsOn = services.sessions.enabled
  // hashed once: each request hashes only the presented key, then compares digests in constant time
  const adminDigest = hashSecret(services.adminKey)
  // An API key (ath_…) can only be the admin key if the admin key itself looks like one; the prefix is public,
  // so skipping the hash for such keys tells nothing about the admin key's secret.
  const adminLooksLikeApiKey = services.adminKey.startsWith('ath_')
  const isAdminKey = (key: string) =>
    (adminLooksLikeApiKey || !key.startsWith('ath_')) && secretMatches(key, adminDigest)
  /** X-Athena-Client; plain PostgREST clients (and Supabase-style upstream calls) send none, and rest.defaultClient serves them */
  const requestedClient = (req: FastifyRequest) => clientHeader(req) ?? opts.defaultClient
  // custom_supabase has no source of its own: only routes that declare forwardsUpstream can serve it
  const forwarding = () => services.routes.list().filter((r) => r.forwardsUpstream).flatMap((r) => r.methods.filter((m) => m !== 'HEAD').map((m) => `${m} ${r.path}`))
  /** the source of a client route; undefined when the route forwards custom_supabase */
  const sourceFor = (req: FastifyRequest, client: string | undefined): Source | undefined => {
    if (client !== CUSTOM_SUPABASE) return services.registry.resolve(client)
    if (req.routeOptions.config?.forwardsUpstream) return undefined
    throw new AppError('upstream_not_supported', `X-Athena-Client: ${CUSTOM_SUPABASE} can only be used with the structured gateway routes, not ${req.method} ${req.routeOptions.url}`, {
      hint: `routes that forward to a PostgREST upstream: ${forwarding().join(', ')}; other routes need a client registered on this server`,
    })
  }

  // Decided without a promise when nothing has to wait (a key known from memory, no rate limit configured):
  // this runs on every request. Whatever has to wait returns its promise, and the hook resumes when it settles.
  app.addHook('onRequest', (req, reply, done) => {
    let check: Check
    try {
      check = decide(req)
    } catch (err) {
      refuse(reply, done, err)
      return
    }
    if (check) check.then(() => done(), (err: unknown) => refuse(reply, done, err))
    else done()
  })

  // A request refused here has not had its body read: its connection is closed after the answer, so a caller
  // without a valid key cannot hold sockets open by announcing bodies it never sends. (A function of its own,
  // not a closure made on every request.)
  function refuse(reply: FastifyReply, done: (err?: Error) => void, err: unknown): void {
    reply.header('connection', 'close')
    done(err as Error)
  }

  function decide(req: FastifyRequest): Check {
    if (req.is404) return
    // %00 would reach table names, filters and the request log as a NUL byte; refused before any key lookup
    if (req.url.includes('%00')) throw nulByte(req.url.indexOf('?') >= 0 && req.url.indexOf('%00') > req.url.indexOf('?') ? 'the query string' : 'the URL path')
    const access: Access = req.routeOptions.config?.access ?? defaultAccess(req.routeOptions.url)
    const key = presentedKey(req)
    const isAdmin = key !== undefined && isAdminKey(key)
    if (isAdmin) {
      // the admin key passes every check; routes that need a client still get their source below
      req.principal = ADMIN
      if (isClientRoute(access)) setSource(req, sourceFor(req, requestedClient(req)))
      return
    }
    if (access === 'public') {
      req.principal = ANONYMOUS
      return
    }
    // a bearer JWT is a user session when sessions are configured; without them, nothing more is read here
    const session = sessionsOn ? presentedSessionToken(req) : undefined
    if (access === 'admin') {
      return andThen(rateLimits.checkAddress(req.ip), () => {
        if (session) throw new AppError('admin_key_required', 'this route needs the static admin key; session tokens cannot call it')
        if (!key) throw new AppError('missing_api_key', 'this route needs the admin key', { hint: KEY_HINT })
        if (parseKey(key)) throw new AppError('admin_key_required', 'this route needs the static admin key; API keys cannot call it')
        throw new AppError('invalid_api_key', 'the presented key is not the admin key')
      })
    }
    if (typeof access === 'object' && services.config.security.protect[access.protect] === 'public') {
      req.principal = ANONYMOUS
      if (access.client) setSource(req, sourceFor(req, requestedClient(req)))
      return
    }
    // every other caller counts against its address before its key is looked at
    return andThen(rateLimits.checkAddress(req.ip), () => {
      if (isClientRoute(access)) {
        const client = requestedClient(req)
        // a protected client route (security.protect.schema: key) needs a key whatever the client's enforcement
        const needsRight = access === 'client' ? undefined : 'schema.read'
        if (client === undefined && opts.clientFromKey && key && !session) {
          // the key's own client stands in for the header: the key is read first (no binding), then checked in
          // full against that client; an unbound key still needs the header (400 missing_client_header)
          return andThen(auth.authenticate(key, { ip: req.ip, bind: false }), (keyed) => {
            const bound = keyed.clientName ?? undefined
            return authorizeClient(services, req, key, session, bound, () => sourceFor(req, bound), needsRight)
          })
        }
        return authorizeClient(services, req, key, session, client, () => sourceFor(req, client), needsRight)
      }
      if (access === 'client-in-body') {
        // the client is only known once the body is read; everything that does not depend on it is checked now
        if (session) return andThen(principalFor(services, key, session, true, { ip: req.ip, bind: false }), (principal) => { req.principal = principal })
        if (key) return andThen(auth.authenticate(key, { ip: req.ip, bind: false }), (principal) => { req.principal = principal })
        if (!auth.mayBeUnenforced()) throw new AppError('missing_api_key', 'an API key is required', { hint: KEY_HINT })
        return
      }
      // protected metadata (route lists, client names, the OpenAPI document): not about one client, so keys
      // are checked without client binding or lock-in; an API key needs schema.read
      return andThen(principalFor(services, key, session, true, { ip: req.ip, bind: false }), (principal) => {
        req.principal = principal
        requireOperation(principal, 'schema.read', 'read this metadata')
        return rateLimits.checkCaller(principal, undefined)
      })
    })
  }
}

/** runs `next` with `value` now when it is at hand, or once its promise resolves */
function andThen<T>(value: T | Promise<T>, next: (v: T) => Check | void): Check {
  if (value instanceof Promise) return value.then(next) as Promise<void>
  return next(value) ?? undefined
}

const isClientRoute = (access: Access) => access === 'client' || (typeof access === 'object' && access.client === true)
const setSource = (req: FastifyRequest, source: Source | undefined) => { if (source) req.source = source }

/**
 * For a public route that shows more to callers allowed a protect setting (GET / lists the routes when the
 * caller may read the registry): the admin key, the setting at `public`, or a valid API key with schema.read.
 * A presented key counts against the per-address limit; a key that fails its checks only hides the extra.
 */
export async function mayReadProtected(services: AccessDeps, req: FastifyRequest, what: 'registry'): Promise<boolean> {
  if (req.principal?.kind === 'admin' || services.config.security.protect[what] === 'public') return true
  const key = presentedKey(req)
  if (!key || !parseKey(key)) return false
  await services.rateLimits.checkAddress(req.ip)
  let principal: Principal
  try {
    principal = await services.auth.authenticate(key, { ip: req.ip, bind: false })
  } catch (err) {
    if (err instanceof AppError && (err.spec.stage === 'auth' || err.code === 'catalog_unavailable')) return false
    throw err
  }
  if (!hasRight(principal, operationRights['schema.read'].right)) return false
  await services.rateLimits.checkCaller(principal, undefined)
  return true
}

/** completes an 'client-in-body' check once the route has read the client's name from the body */
export async function authorizeBodyClient(services: AccessDeps, req: FastifyRequest, client: string): Promise<void> {
  const resolve = () => services.registry.resolve(client)
  if (req.principal?.kind === 'admin') req.source = resolve()
  else await authorizeClient(services, req, presentedKey(req), sessionTokenOf(services, req), client, resolve)
}

/**
 * The principal of a key-protected request; `enforced` says whether having no key is acceptable. With a session
 * token the caller is the user. Another credential sent alongside it (supabase-js sends `apikey` with the user's
 * `Authorization: Bearer`) is not ignored: it must pass as an API key for this request (client binding, IP
 * policy, lock-in) before the session is verified, though the user's rights, not the key's, then apply.
 */
function principalFor(services: AccessDeps, key: string | undefined, session: string | undefined, enforced: boolean, ctx: KeyContext): Promise<Principal> | Principal {
  if (session) {
    if (key === undefined || key === session) return services.sessions.authenticate(session)
    const keyed = services.auth.authenticate(key, ctx)
    return keyed instanceof Promise ? keyed.then(() => services.sessions.authenticate(session)) : services.sessions.authenticate(session)
  }
  if (!key) {
    if (enforced) throw new AppError('missing_api_key', 'an API key is required', { hint: KEY_HINT })
    return ANONYMOUS
  }
  return services.auth.authenticate(key, ctx)
}

/**
 * The checks of a request for one client (not the admin key's): the key against that client (binding, lock-in,
 * enforcement), the right `needsRight` if given (a key is then required whatever the enforcement), and the
 * per-key and per-client limits. The client is resolved first, but an unknown one is reported only after the
 * key has passed, so a caller without a valid key cannot tell which client names exist.
 */
function authorizeClient(services: AccessDeps, req: FastifyRequest, key: string | undefined, session: string | undefined, client: string | undefined, resolve: () => Source | undefined, needsRight?: Operation): Check {
  let unresolved: unknown
  try {
    setSource(req, resolve())
  } catch (err) {
    unresolved = err
  }
  // custom_supabase forwards to an upstream chosen by headers; it has no source of its own
  const name = unresolved ? undefined : (req.source?.name ?? CUSTOM_SUPABASE)
  const enforced = needsRight !== undefined || services.auth.enforced(name ?? client)
  return andThen(principalFor(services, key, session, enforced, { client: name, ip: req.ip, bind: !unresolved }), (principal) => {
    req.principal = principal
    if (unresolved) throw unresolved
    if (needsRight) requireOperation(principal, needsRight)
    return services.rateLimits.checkCaller(principal, name)
  })
}

// Routes that did not declare access (framework routes such as the docs UI assets) are public only
// when they are documentation; anything else needs the admin key.
function defaultAccess(url: string | undefined): Access {
  // the CORS plugin's OPTIONS route: it answers preflights and sends anything else to the not-found handler
  if (url === '*') return 'public'
  if (url === '/docs/json' || url === '/docs/yaml') return { protect: 'openapi' }
  if (url?.startsWith('/docs')) return 'public'
  return 'admin'
}
