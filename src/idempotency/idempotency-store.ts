// Idempotency keys with Stripe's semantics, kept in the catalog: the first request with a key claims it, its
// answer (status and body) is stored and replayed to every later request with the same key and the same
// request for 24 hours; the same key with another request is refused. A claim is one INSERT, so two requests
// racing with one key cannot both run.
import type { Catalog } from '../catalog/catalog.js'

export const IDEMPOTENCY_TTL_HOURS = 24

export type Claim =
  | { kind: 'claimed' }
  | { kind: 'replay'; status: number; body: string }
  /** the key was first used for another request (method, path or body) */
  | { kind: 'mismatch' }
  /** the first request with the key is still running */
  | { kind: 'in_progress' }

export class IdempotencyStore {
  constructor(private readonly catalog: Catalog) {}

  async claim(owner: string, key: string, fingerprint: string): Promise<Claim> {
    // a key older than its lifetime is free again
    await this.catalog.query({
      sql: `DELETE FROM atrium.idempotency_keys WHERE owner = $1 AND key = $2 AND created_at < now() - make_interval(hours => $3)`,
      params: [owner, key, IDEMPOTENCY_TTL_HOURS],
    })
    const inserted = await this.catalog.query({
      sql: 'INSERT INTO atrium.idempotency_keys (owner, key, fingerprint) VALUES ($1, $2, $3) ON CONFLICT (owner, key) DO NOTHING RETURNING 1',
      params: [owner, key, fingerprint],
    })
    if (inserted.rows.length) return { kind: 'claimed' }
    const found = (await this.catalog.rows<{ fingerprint: string; status: number | null; response: string | null }>(
      'SELECT fingerprint, status, response FROM atrium.idempotency_keys WHERE owner = $1 AND key = $2', [owner, key]))[0]
    // released between the INSERT and this read: the caller tries again
    if (!found) return this.claim(owner, key, fingerprint)
    if (found.fingerprint !== fingerprint) return { kind: 'mismatch' }
    if (found.status === null || found.response === null) return { kind: 'in_progress' }
    return { kind: 'replay', status: found.status, body: found.response }
  }

  async complete(owner: string, key: string, status: number, body: string): Promise<void> {
    await this.catalog.query({ sql: 'UPDATE atrium.idempotency_keys SET status = $3, response = $4 WHERE owner = $1 AND key = $2', params: [owner, key, status, body] })
  }

  /** a request that ended without an answer worth keeping (a server error): a retry with the key runs again */
  async release(owner: string, key: string): Promise<void> {
    await this.catalog.query({ sql: 'DELETE FROM atrium.idempotency_keys WHERE owner = $1 AND key = $2 AND status IS NULL', params: [owner, key] })
  }
}
