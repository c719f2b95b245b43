// Continuation tokens of object listings: the object store's own token, wrapped with an HMAC bound to the bucket,
// so only a token this server handed out for this bucket reaches the store (a made-up one is a 400 here,
// whatever the backend would have made of it). Pure crypto, no I/O.
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto'
import { AppError } from '../errors/app-error.js'

/** the key that signs list tokens, derived for this one purpose from the server's secret key */
export function deriveListTokenKey(secretKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', secretKey, 'atrium', 'atrium storage list tokens v1', 32))
}

const mac = (key: Buffer, bucketId: string, inner: string) => createHmac('sha256', key).update(`${bucketId}\n${inner}`).digest()

export function wrapListToken(key: Buffer, bucketId: string, inner: string): string {
  return `${Buffer.from(inner).toString('base64url')}.${mac(key, bucketId, inner).toString('base64url')}`
}

export function unwrapListToken(key: Buffer, bucketId: string, token: string): string {
  const [payload, signature, extra] = token.split('.')
  const inner = Buffer.from(payload ?? '', 'base64url').toString('utf8')
  const given = Buffer.from(signature ?? '', 'base64url')
  const expected = mac(key, bucketId, inner)
  if (extra !== undefined || !payload || given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new AppError('invalid_request', 'continuation_token is not one this listing gave out', { hint: 'pass next_continuation_token of the previous page unchanged, with the same bucket' })
  }
  return inner
}
