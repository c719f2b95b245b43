// Reads and writes API keys, rights and enforcement settings in the catalog. Secrets never leave here:
// records carry only the public id and the hash.
import type { Catalog } from '../catalog/catalog.js'
import { AppError } from '../errors/app-error.js'

export interface ApiKeyRow {
  id: string
  public_id: string
  secret_hash: Buffer
  name: string
  description: string | null
  client_name: string | null
  expires_at: string | null
  is_active: boolean
  last_used_at: string | null
  rights: string[]
  allowed_ips: string[]
  lock_in: boolean
  locked_client: string | null
  locked_address: string | null
  locked_at: string | null
  rate_limit: number | null
  created_at: string
  updated_at: string
}

export type ApiKeyRecord = Omit<ApiKeyRow, 'secret_hash'>

export interface RightRecord {
  id: string
  name: string
  description: string | null
  is_builtin: boolean
  created_at: string
  updated_at: string
}

export interface KeyChanges {
  name?: string
  description?: string | null
  client_name?: string | null
  expires_at?: string | null
  is_active?: boolean
  rights?: string[]
  allowed_ips?: string[]
  lock_in?: boolean
  rate_limit?: number | null
}

const PUBLIC_COLUMNS = `id, public_id, name, description, client_name, expires_at, is_active, last_used_at, rights, allowed_ips, lock_in,
  locked_client, locked_address, locked_at, rate_limit, created_at, updated_at`
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** ids in paths are checked before they reach SQL, so a malformed id is a 404, not a database error */
export const isUuid = (id: string) => UUID.test(id)

export class ApiKeyStore {
  constructor(private readonly catalog: Catalog) {}

  async findByPublicId(publicId: string): Promise<ApiKeyRow | undefined> {
    const rows = await this.catalog.rows<ApiKeyRow>(`SELECT ${PUBLIC_COLUMNS}, secret_hash FROM atrium.api_keys WHERE public_id = $1`, [publicId])
    return rows[0]
  }

  /** by record id (a deferred request names the key that sent it) */
  async findById(id: string): Promise<ApiKeyRow | undefined> {
    if (!isUuid(id)) return undefined
    const rows = await this.catalog.rows<ApiKeyRow>(`SELECT ${PUBLIC_COLUMNS}, secret_hash FROM atrium.api_keys WHERE id = $1`, [id])
    return rows[0]
  }

  list(): Promise<ApiKeyRecord[]> {
    return this.catalog.rows<ApiKeyRecord>(`SELECT ${PUBLIC_COLUMNS} FROM atrium.api_keys ORDER BY created_at, id`)
  }

  async create(key: { publicId: string; secretHash: Buffer } & KeyChanges & { name: string }): Promise<ApiKeyRecord> {
    await this.assertRightsExist(key.rights ?? [])
    const rows = await this.catalog.rows<ApiKeyRecord>(
      `INSERT INTO atrium.api_keys (public_id, secret_hash, name, description, client_name, expires_at, rights, allowed_ips, lock_in, rate_limit)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING ${PUBLIC_COLUMNS}`,
      [key.publicId, key.secretHash, key.name, key.description ?? null, key.client_name ?? null, key.expires_at ?? null,
        key.rights ?? [], key.allowed_ips ?? [], key.lock_in ?? false, key.rate_limit ?? null],
    )
    return rows[0]
  }

  async update(id: string, changes: KeyChanges): Promise<ApiKeyRecord | undefined> {
    if (!isUuid(id)) return undefined
    if (changes.rights) await this.assertRightsExist(changes.rights)
    const columns = Object.keys(changes) as Array<keyof KeyChanges>
    if (!columns.length) return (await this.catalog.rows<ApiKeyRecord>(`SELECT ${PUBLIC_COLUMNS} FROM atrium.api_keys WHERE id = $1`, [id]))[0]
    // column names come from the fixed KeyChanges fields validated by the route schema, never from input text
    const sets = columns.map((c, i) => `${c} = $${i + 2}`)
    // turning lock-in off (or on again) forgets where the key was locked
    if (changes.lock_in !== undefined) sets.push('locked_client = NULL, locked_address = NULL, locked_at = NULL')
    const rows = await this.catalog.rows<ApiKeyRecord>(
      `UPDATE atrium.api_keys SET ${sets.join(', ')}, updated_at = now() WHERE id = $1 RETURNING ${PUBLIC_COLUMNS}`,
      [id, ...columns.map((c) => changes[c] ?? null)],
    )
    return rows[0]
  }

  async remove(id: string): Promise<{ id: string; public_id: string } | undefined> {
    if (!isUuid(id)) return undefined
    return (await this.catalog.rows<{ id: string; public_id: string }>('DELETE FROM atrium.api_keys WHERE id = $1 RETURNING id, public_id', [id]))[0]
  }

  /** binds a lock-in key on first use; returns the row as it is after the attempt */
  async lockIn(publicId: string, client: string | null, address: string | null): Promise<Pick<ApiKeyRow, 'locked_client' | 'locked_address'>> {
    const rows = await this.catalog.rows<Pick<ApiKeyRow, 'locked_client' | 'locked_address'>>(
      `UPDATE atrium.api_keys SET locked_client = coalesce(locked_client, $2), locked_address = coalesce(locked_address, $3),
         locked_at = coalesce(locked_at, now())
       WHERE public_id = $1 RETURNING locked_client, locked_address`,
      [publicId, client, address],
    )
    return rows[0]
  }

  async touch(lastUsed: Map<string, number>): Promise<void> {
    if (!lastUsed.size) return
    const rows = [...lastUsed].map(([public_id, at]) => ({ public_id, at: new Date(at).toISOString() }))
    await this.catalog.query({
      sql: `UPDATE atrium.api_keys k SET last_used_at = greatest(k.last_used_at, u.at)
            FROM json_to_recordset($1::json) AS u(public_id text, at timestamptz) WHERE k.public_id = u.public_id`,
      params: [JSON.stringify(rows)],
    })
  }

  listRights(): Promise<RightRecord[]> {
    return this.catalog.rows<RightRecord>('SELECT id, name, description, is_builtin, created_at, updated_at FROM atrium.api_key_rights ORDER BY name')
  }

  async createRight(name: string, description: string | null): Promise<RightRecord> {
    try {
      return (await this.catalog.rows<RightRecord>(
        'INSERT INTO atrium.api_key_rights (name, description) VALUES ($1, $2) RETURNING id, name, description, is_builtin, created_at, updated_at',
        [name, description],
      ))[0]
    } catch (err) {
      throw rightError(err, name)
    }
  }

  async updateRight(id: string, name: string, description: string | null): Promise<RightRecord | undefined> {
    if (!isUuid(id)) return undefined
    return this.catalog.transaction(async (tx) => {
      const current = (await tx.query({ sql: 'SELECT name, is_builtin FROM atrium.api_key_rights WHERE id = $1 FOR UPDATE', params: [id] })).rows[0]
      if (!current) return undefined
      if (current.is_builtin && current.name !== name) throw new AppError('invalid_request', `"${current.name}" is a built-in right and cannot be renamed`)
      try {
        const row = (await tx.query({
          sql: 'UPDATE atrium.api_key_rights SET name = $2, description = $3, updated_at = now() WHERE id = $1 RETURNING id, name, description, is_builtin, created_at, updated_at',
          params: [id, name, description],
        })).rows[0] as unknown as RightRecord
        // keys that held the right under its old name keep holding it
        if (current.name !== name) await tx.query({ sql: 'UPDATE atrium.api_keys SET rights = array_replace(rights, $1, $2)', params: [current.name, name] })
        return row
      } catch (err) {
        throw rightError(err, name)
      }
    })
  }

  async removeRight(id: string): Promise<{ id: string; name: string } | undefined> {
    if (!isUuid(id)) return undefined
    return this.catalog.transaction(async (tx) => {
      const current = (await tx.query({ sql: 'SELECT name, is_builtin FROM atrium.api_key_rights WHERE id = $1 FOR UPDATE', params: [id] })).rows[0]
      if (!current) return undefined
      if (current.is_builtin) throw new AppError('invalid_request', `"${current.name}" is a built-in right and cannot be deleted`)
      await tx.query({ sql: 'UPDATE atrium.api_keys SET rights = array_remove(rights, $1) WHERE $1 = ANY(rights)', params: [current.name] })
      await tx.query({ sql: 'DELETE FROM atrium.api_key_rights WHERE id = $1', params: [id] })
      return { id, name: String(current.name) }
    })
  }

  private async assertRightsExist(rights: string[]): Promise<void> {
    if (!rights.length) return
    const known = await this.catalog.rows<{ name: string }>('SELECT name FROM atrium.api_key_rights WHERE name = ANY($1)', [rights])
    const missing = rights.filter((r) => !known.some((k) => k.name === r))
    if (missing.length) {
      throw new AppError('invalid_request', `unknown right${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`, { hint: 'GET /admin/api-key-rights lists the rights; POST adds one' })
    }
  }

  async enforcement(): Promise<{ global: { enforce_api_keys: boolean; updated_at: string } | undefined; clients: ClientEnforcement[] }> {
    const [global] = await this.catalog.rows<{ enforce_api_keys: boolean; updated_at: string }>('SELECT enforce_api_keys, updated_at FROM atrium.api_key_config')
    const clients = await this.catalog.rows<ClientEnforcement>('SELECT client_name, enforce_api_keys, created_at, updated_at FROM atrium.api_key_clients ORDER BY client_name')
    return { global, clients }
  }

  /** the first process to start on a catalog writes the configured default; later ones keep what is there */
  async seedGlobal(enforce: boolean): Promise<void> {
    await this.catalog.query({ sql: 'INSERT INTO atrium.api_key_config (enforce_api_keys) VALUES ($1) ON CONFLICT (singleton) DO NOTHING', params: [enforce] })
  }

  async setGlobal(enforce: boolean): Promise<void> {
    await this.catalog.query({
      sql: `INSERT INTO atrium.api_key_config (enforce_api_keys) VALUES ($1)
            ON CONFLICT (singleton) DO UPDATE SET enforce_api_keys = EXCLUDED.enforce_api_keys, updated_at = now()`,
      params: [enforce],
    })
  }

  /** overrides are keyed by the lower-cased client name, as they are looked up (`Shop` and `shop` are one client) */
  async setClient(client: string, enforce: boolean): Promise<ClientEnforcement> {
    return (await this.catalog.rows<ClientEnforcement>(
      `INSERT INTO atrium.api_key_clients (client_name, enforce_api_keys) VALUES ($1, $2)
       ON CONFLICT (client_name) DO UPDATE SET enforce_api_keys = EXCLUDED.enforce_api_keys, updated_at = now()
       RETURNING client_name, enforce_api_keys, created_at, updated_at`,
      [client.toLowerCase(), enforce],
    ))[0]
  }

  async removeClient(client: string): Promise<boolean> {
    return (await this.catalog.query({ sql: 'DELETE FROM atrium.api_key_clients WHERE client_name = $1', params: [client.toLowerCase()] })).affected > 0
  }
}

export interface ClientEnforcement {
  client_name: string
  enforce_api_keys: boolean
  created_at: string
  updated_at: string
}

function rightError(err: unknown, name: string): unknown {
  const sqlstate = (err as AppError)?.extra?.sqlstate
  if (sqlstate === '23505') return new AppError('unique_violation', `a right named "${name}" already exists`)
  if (sqlstate === '23514') return new AppError('invalid_request', `"${name}" is not a valid right name (lowercase words separated by dots)`)
  return err
}
