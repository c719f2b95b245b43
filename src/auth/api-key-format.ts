// The API key format `ath_<public_id>.<secret>`: generation, parsing and the stored hash of the secret.
// Secrets are 256 random bits, so a plain SHA-256 is enough (no slow hash: nothing to brute-force).
import { hash, randomBytes, timingSafeEqual } from 'node:crypto'

const PUBLIC_ID = /^[a-z0-9]{16}$/
const SECRET = /^[A-Za-z0-9_-]{43}$/

export interface ParsedKey {
  publicId: string
  secret: string
}

export function generateKey(): { key: string; publicId: string; secretHash: Buffer } {
  const publicId = randomBytes(10).toString('hex').slice(0, 16)
  const secret = randomBytes(32).toString('base64url')
  return { key: `ath_${publicId}.${secret}`, publicId, secretHash: hashSecret(secret) }
}

/** undefined when the text is not shaped like an API key at all */
export function parseKey(text: string): ParsedKey | undefined {
  const parts = splitKey(text)
  return parts && wellFormed(parts) ? parts : undefined
}

/**
 * The public id and secret of `ath_<public id>.<secret>`, without checking their characters: the hot path
 * checks those only when it must (a public id not known from memory, a secret that does not match), since
 * every id in memory came from the catalog and a malformed secret cannot match a stored hash anyway.
 */
export function splitKey(text: string): ParsedKey | undefined {
  if (!text.startsWith('ath_')) return undefined
  const dot = text.indexOf('.', 4)
  if (dot < 0) return undefined
  return { publicId: text.slice(4, dot), secret: text.slice(dot + 1) }
}

export function wellFormed(key: ParsedKey): boolean {
  return PUBLIC_ID.test(key.publicId) && SECRET.test(key.secret)
}

/**
 * SHA-256 of a secret as a binary (latin1) string: the one-shot hash is cheaper than a createHash object,
 * and on Node 20 asking it for a string and copying that into a Buffer is about three times cheaper than
 * asking it for a Buffer.
 */
const digestText = (secret: string) => hash('sha256', secret, 'binary')

/** SHA-256 of a secret, as stored */
export function hashSecret(secret: string): Buffer {
  return Buffer.from(digestText(secret), 'latin1')
}

// The presented secret's digest is written here rather than into a new Buffer per request: the write and the
// comparison run together, synchronously, so one buffer serves every request.
const presentedDigest = Buffer.alloc(32)

/** constant-time comparison of the presented secret's SHA-256 against a stored one (every keyed request) */
export function secretMatches(secret: string, storedHash: Buffer): boolean {
  presentedDigest.write(digestText(secret), 0, 'latin1')
  return storedHash.length === presentedDigest.length && timingSafeEqual(presentedDigest, storedHash)
}
