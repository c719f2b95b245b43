// Turns a presented JWT (an HS256 secret and/or a remote JWKS; Supabase access tokens) into a user principal,
// caching verified tokens until they expire. Framework-free; it never decides which routes a user may call.
import { createHash } from 'node:crypto'
import { createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type JWTVerifyOptions } from 'jose'
import type { Config } from '../config/schema.js'
import { AppError } from '../errors/app-error.js'
import type { UserPrincipal } from './principal.js'

/** Algorithms accepted per key source: pinned, so a token cannot choose how it is checked (alg confusion, `none`). */
const SECRET_ALGORITHMS = ['HS256']
const JWKS_ALGORITHMS = ['RS256', 'ES256', 'EdDSA']
/** clocks of the issuer and this server may disagree by this much for exp and nbf */
const CLOCK_TOLERANCE_SECONDS = 5
/**
 * A token whose key id the JWKS does not know makes jose fetch the set again, at most once per this
 * long: rotated keys are picked up within seconds, and tokens with random key ids cannot make this
 * server hammer the issuer.
 */
const JWKS_COOLDOWN_MS = 5_000
const JWKS_TIMEOUT_MS = 5_000
/** verified tokens remembered at once; the least recently used is forgotten first */
const MAX_CACHED_TOKENS = 10_000

export type SessionSettings = Config['sessions']

interface Cached {
  principal: UserPrincipal
  /** when the token's exp passes (ms); a cached token is never used after it */
  expiresAt: number
}

export class JwtSessions {
  private readonly secret: Uint8Array | undefined
  private readonly jwks: ReturnType<typeof createRemoteJWKSet> | undefined
  private readonly verifyOptions: JWTVerifyOptions
  /** sha-256 of the token → its principal; a Map keeps insertion order, which makes it an LRU */
  private readonly cache = new Map<string, Cached>()
  private readonly roleRights: ReadonlyMap<string, ReadonlySet<string>>
  /** true when a secret or a JWKS URL is configured; otherwise bearer JWTs are treated like any other key */
  readonly enabled: boolean

  constructor(settings: SessionSettings) {
    this.secret = settings.jwtSecret ? new TextEncoder().encode(settings.jwtSecret) : undefined
    this.jwks = settings.jwksUrl
      ? createRemoteJWKSet(new URL(settings.jwksUrl), { cooldownDuration: JWKS_COOLDOWN_MS, timeoutDuration: JWKS_TIMEOUT_MS })
      : undefined
    this.verifyOptions = {
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ['exp', 'sub'],
      ...(settings.audience ? { audience: settings.audience } : {}),
      ...(settings.issuer ? { issuer: settings.issuer } : {}),
    }
    this.enabled = this.secret !== undefined || this.jwks !== undefined
    // built once: a principal's rights are a frozen set, as a key's are
    this.roleRights = new Map(Object.entries(settings.roleRights).map(([role, rights]) => [role, Object.freeze(new Set(rights))]))
  }

  /**
   * The user principal of a token, or a 401 saying why not. From memory, without a promise, when the same
   * token was verified before and has not expired; otherwise the signature and claims are checked.
   */
  authenticate(token: string): UserPrincipal | Promise<UserPrincipal> {
    const digest = createHash('sha256').update(token).digest('base64url')
    const hit = this.cache.get(digest)
    if (hit) {
      this.cache.delete(digest)
      if (Date.now() < hit.expiresAt) {
        this.cache.set(digest, hit)
        return hit.principal
      }
    }
    return this.verify(token).then((payload) => {
      // jose checks that sub is present, not what it is; it keys rate limits and the request log
      if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 255) throw invalid('the session token\'s "sub" claim must be a string of 1 to 255 characters')
      const principal = this.principalOf(payload)
      this.cache.set(digest, { principal, expiresAt: payload.exp! * 1000 })
      if (this.cache.size > MAX_CACHED_TOKENS) this.cache.delete(this.cache.keys().next().value!)
      return principal
    })
  }

  private async verify(token: string): Promise<JWTPayload> {
    let remote = false
    try {
      // the header only picks which configured key source checks the token; each accepts only its own algorithms
      const { alg } = decodeProtectedHeader(token)
      if (alg === 'HS256' && this.secret) return (await jwtVerify(token, this.secret, { ...this.verifyOptions, algorithms: SECRET_ALGORITHMS })).payload
      remote = true
      if (this.jwks) return (await jwtVerify(token, this.jwks, { ...this.verifyOptions, algorithms: JWKS_ALGORITHMS })).payload
      // the header's alg is the caller's text: not echoed
      throw invalid('the session token\'s algorithm is not accepted; this server verifies HS256 tokens with its secret')
    } catch (err) {
      throw translate(err, remote)
    }
  }

  private principalOf(payload: JWTPayload): UserPrincipal {
    const role = typeof payload.role === 'string' ? payload.role : null
    return Object.freeze({
      kind: 'user',
      sub: payload.sub!,
      email: typeof payload.email === 'string' ? payload.email : null,
      role,
      claims: Object.freeze({ ...payload }),
      rights: this.rightsOf(role),
    })
  }

  /** the rights sessions.roleRights grants a role now (a deferred request checks them again when it runs) */
  rightsOf(role: string | null): ReadonlySet<string> {
    return (role !== null && this.roleRights.get(role)) || NO_RIGHTS
  }
}

const NO_RIGHTS: ReadonlySet<string> = Object.freeze(new Set<string>())

const invalid = (message: string) => new AppError('invalid_session_token', message, {
  hint: 'sign in again to get a new token; the token must be signed by the configured issuer',
})

/** jose's errors as our codes; the token itself is never part of a message */
function translate(err: unknown, remote: boolean): AppError {
  if (err instanceof AppError) return err
  if (err instanceof errors.JWTExpired) {
    return new AppError('expired_session_token', 'the session token has expired', { hint: 'refresh the session and send the new access token' })
  }
  if (err instanceof errors.JWTClaimValidationFailed) return invalid(`the session token's "${err.claim}" claim is not accepted: ${err.reason === 'missing' ? 'it is missing' : err.message}`)
  if (err instanceof errors.JOSEAlgNotAllowed) return invalid(`the session token's algorithm is not accepted; JWKS tokens must use ${JWKS_ALGORITHMS.join(', ')}`)
  if (err instanceof errors.JWKSNoMatchingKey) return invalid('no key of the configured JWKS matches the session token\'s key id')
  if (err instanceof errors.JWSSignatureVerificationFailed) return invalid('the session token\'s signature is not valid')
  // the JWKS could not be fetched or read: the token may be fine, this server cannot tell right now
  const unreachable = err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid || !(err instanceof errors.JOSEError) || err.code === 'ERR_JOSE_GENERIC'
  if (remote && unreachable) {
    return new AppError('session_keys_unavailable', 'session tokens cannot be checked right now: the JWKS could not be fetched', { retryAfter: 5, cause: err })
  }
  return invalid('the session token is malformed or not valid')
}
