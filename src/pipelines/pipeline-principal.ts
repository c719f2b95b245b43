// Who a pipeline job acts for. A job runs later, maybe in another process, without the request: it stores who
// asked (never a secret) and, for an API key, looks the key up again when it runs, so a key deactivated,
// expired, re-bound or stripped of a right in between stops the run with the same refusal a request would get.
import { AppError } from '../errors/app-error.js'
import type { ApiKeyRow } from '../auth/api-key-store.js'
import { ADMIN, ANONYMOUS, type Principal } from '../auth/principal.js'
import type { JobOwner } from '../jobs/job-queue.js'

export type PrincipalSnapshot =
  | { kind: 'admin' }
  | { kind: 'anonymous' }
  | { kind: 'key'; public_id: string }
  | { kind: 'user'; sub: string; email: string | null; role: string | null; rights: string[] }

export function snapshotOf(p: Principal): PrincipalSnapshot {
  switch (p.kind) {
    case 'admin': case 'anonymous': return { kind: p.kind }
    case 'key': return { kind: 'key', public_id: p.publicId }
    case 'user': return { kind: 'user', sub: p.sub, email: p.email, role: p.role, rights: [...p.rights] }
    case 'platform': throw platformKeyRefused()
  }
}

// platform keys (pk_live_…) are read only by the Databases API's scope; none reaches a pipeline
const platformKeyRefused = () => new AppError('invalid_api_key', 'platform keys (pk_live_…) are for /api/v1 only')

/** whose pipeline cursors a caller reads and moves: one caller's names never touch another's */
export function cursorOwnerOf(p: Principal): string {
  switch (p.kind) {
    case 'admin': case 'anonymous': return p.kind
    case 'key': return `key:${p.keyId}`
    case 'user': return `user:${p.sub}`
    case 'platform': throw platformKeyRefused()
  }
}

/** the job record's owner: only they (and the admin key) see the run */
export function jobOwnerOf(p: Principal): JobOwner | null {
  if (p.kind === 'key') return { kind: 'key', id: p.keyId }
  if (p.kind === 'user') return { kind: 'user', id: p.sub }
  return null
}

export function ownsJob(p: Principal, owner: JobOwner | null): boolean {
  if (p.kind === 'admin') return true
  const mine = jobOwnerOf(p)
  return mine !== null && owner !== null && mine.kind === owner.kind && mine.id === owner.id
}

const sameClient = (a: string, b: string) => a.toLowerCase() === b.toLowerCase()

/** the principal of a stored snapshot, checked again now against the key's current record and the clients it reaches */
export async function principalOf(snapshot: PrincipalSnapshot, findKey: (publicId: string) => Promise<ApiKeyRow | undefined>, clients: string[]): Promise<Principal> {
  switch (snapshot.kind) {
    case 'admin': return ADMIN
    case 'anonymous': return ANONYMOUS
    case 'user':
      return Object.freeze({ kind: 'user', sub: snapshot.sub, email: snapshot.email, role: snapshot.role, claims: Object.freeze({}), rights: new Set(snapshot.rights) })
    case 'key': {
      const row = await findKey(snapshot.public_id)
      if (!row) throw new AppError('invalid_api_key', 'the API key that started this pipeline no longer exists')
      if (!row.is_active) throw new AppError('inactive_api_key', 'the API key that started this pipeline has been deactivated')
      if (row.expires_at && Date.parse(row.expires_at) <= Date.now()) throw new AppError('expired_api_key', `the API key that started this pipeline expired at ${row.expires_at}`)
      for (const client of clients) {
        const bound = row.client_name ?? row.locked_client
        if (bound && !sameClient(bound, client)) {
          throw new AppError('client_not_allowed', `the API key that started this pipeline is bound to client "${bound}" and cannot be used for "${client}"`)
        }
      }
      return Object.freeze({ kind: 'key', keyId: row.id, publicId: row.public_id, name: row.name, clientName: row.client_name, rights: new Set(row.rights), rateLimit: row.rate_limit })
    }
  }
}
