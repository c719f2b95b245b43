// Signs and verifies the tokens of the filesystem store's signed URLs (<publicBaseUrl>/objects/signed/<token>).
// Pure crypto: no I/O, no clock reads the caller cannot replace.
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto'
import { AppError } from '../errors/app-error.js'

/** what a token allows: one method on one object (or one part of one multipart upload) until `expires` */
export interface SignedClaims {
  /** POST: a browser form upload of one object */
  method: 'GET' | 'PUT' | 'POST'
  bucket: string
  key: string
  /** unix seconds */
  expires: number
  /** PUT of one part of a multipart upload */
  uploadId?: string
  partNumber?: number
  /** PUT, POST: the content type the object gets */
  contentType?: string
  /** PUT, POST: the largest body accepted */
  maxBytes?: number
  /** POST: the smallest body accepted */
  minBytes?: number
  /** POST: the status a successful upload answers with */
  successStatus?: number
}

const VERSION = 'v1'

/**
 * The signing key is derived from the server secret for this one purpose, so a token can never be used as
 * (or reveal anything about) another secret derived from the same one.
 */
export function deriveSigningKey(serverSecret: Buffer | string): Buffer {
  return Buffer.from(hkdfSync('sha256', serverSecret, 'atrium', 'atrium signed object urls v1', 32))
}

const mac = (key: Buffer, payload: string) => createHmac('sha256', key).update(`${VERSION}.${payload}`).digest()

/**
 * `<payload>.<signature>`, both base64url: the payload is the claims as JSON, so method, bucket, key and
 * expiry are all covered by the HMAC-SHA256 signature.
 */
export function signObjectToken(key: Buffer, claims: SignedClaims): string {
  const body: Record<string, unknown> = { m: claims.method, b: claims.bucket, k: claims.key, e: claims.expires }
  if (claims.uploadId !== undefined) body.u = claims.uploadId
  if (claims.partNumber !== undefined) body.p = claims.partNumber
  if (claims.contentType !== undefined) body.t = claims.contentType
  if (claims.maxBytes !== undefined) body.x = claims.maxBytes
  if (claims.minBytes !== undefined) body.n = claims.minBytes
  if (claims.successStatus !== undefined) body.s = claims.successStatus
  const payload = Buffer.from(JSON.stringify(body)).toString('base64url')
  return `${payload}.${mac(key, payload).toString('base64url')}`
}

const refuse = (why: string) => new AppError('invalid_signed_url', `this signed URL is not valid: ${why}`, { hint: 'ask for a new signed URL; a signed URL cannot be changed' })

/**
 * Checks the signature (in constant time) before anything in the payload is trusted, then the method and
 * the expiry. Throws 403 invalid_signed_url or 403 signed_url_expired.
 */
export function verifyObjectToken(key: Buffer, token: string, method: 'GET' | 'PUT' | 'HEAD' | 'POST', nowSeconds = Math.floor(Date.now() / 1000)): SignedClaims {
  const dot = token.indexOf('.')
  if (dot <= 0 || dot !== token.lastIndexOf('.')) throw refuse('it is malformed')
  const payload = token.slice(0, dot)
  const given = Buffer.from(token.slice(dot + 1), 'base64url')
  const expected = mac(key, payload)
  // equal lengths first: timingSafeEqual throws otherwise, and the length of a MAC is no secret
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw refuse('the signature does not match')
  let body: Record<string, unknown>
  try {
    body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
  } catch {
    throw refuse('it is malformed')
  }
  const claims: SignedClaims = {
    method: body.m as SignedClaims['method'],
    bucket: String(body.b),
    key: String(body.k),
    expires: Number(body.e),
    uploadId: typeof body.u === 'string' ? body.u : undefined,
    partNumber: typeof body.p === 'number' ? body.p : undefined,
    contentType: typeof body.t === 'string' ? body.t : undefined,
    maxBytes: typeof body.x === 'number' ? body.x : undefined,
    minBytes: typeof body.n === 'number' ? body.n : undefined,
    successStatus: typeof body.s === 'number' ? body.s : undefined,
  }
  // a GET URL also answers HEAD, as S3's do
  const allowed = claims.method === method || (claims.method === 'GET' && method === 'HEAD')
  if (!allowed) throw refuse(`it was signed for ${claims.method}, not ${method}`)
  if (!Number.isFinite(claims.expires) || nowSeconds >= claims.expires) {
    throw new AppError('signed_url_expired', `this signed URL expired at ${new Date(claims.expires * 1000).toISOString()}`, { hint: 'ask for a new signed URL' })
  }
  return claims
}
