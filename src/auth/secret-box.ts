// Encrypts secrets at rest (stored connection strings) with AES-256-GCM under the configured secret key.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'

const VERSION = 'v1'

/** derives the 32-byte key from the configured secret (any length) */
export function deriveKey(secret: string): Buffer {
  return createHash('sha256').update(`atrium-secret-box:${secret}`).digest()
}

export function seal(key: Buffer, plaintext: string): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
  return [VERSION, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.')
}

export function open(key: Buffer, sealed: string): string {
  const [version, iv, tag, body] = sealed.split('.')
  if (version !== VERSION || !iv || !tag || body === undefined) throw new Error('not a sealed secret')
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'))
  decipher.setAuthTag(Buffer.from(tag, 'base64url'))
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8')
}

// libpq and mysql2 both take credentials as query parameters too (postgres://db/x?password=…)
const SECRET_PARAMS = /^(password|pass|passwd|pwd|sslpassword|secret|token|access_?token|api_?key)$/i

/**
 * a connection URL with every password replaced, safe to show; a URL that cannot be parsed is all masked
 *   maskUrl('postgres://u:pw@h/db?sslmode=require&password=x') → 'postgres://u:****@h/db?sslmode=require&password=****'
 */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '****'
    for (const name of new Set(u.searchParams.keys())) if (SECRET_PARAMS.test(name)) u.searchParams.set(name, '****')
    return u.toString()
  } catch {
    return '****'
  }
}
