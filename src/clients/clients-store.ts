// Reads and writes atrium.clients: the data sources defined through the catalog rather than config.
import type { Executor } from '../sources/driver.js'
import type { Catalog } from '../catalog/catalog.js'

export interface ClientRecord {
  id: string
  client_name: string
  description: string | null
  pg_uri_encrypted: string | null
  pg_uri_env_var: string | null
  config_uri_template: string | null
  source: string
  is_active: boolean
  is_frozen: boolean
  metadata: Record<string, unknown>
  /** the session user a private client belongs to (an Assistant connection); null for a shared client */
  owner_sub: string | null
  last_synced_from_config_at: string | null
  last_seen_at: string | null
  created_at: string
  updated_at: string
  deleted_at: string | null
}

export async function listLiveClients(catalog: Catalog): Promise<ClientRecord[]> {
  return catalog.rows<ClientRecord>('SELECT * FROM atrium.clients WHERE deleted_at IS NULL ORDER BY client_name')
}

/** the live (not soft-deleted) row for a client name, if any */
export async function findLiveClient(db: Executor, name: string): Promise<ClientRecord | undefined> {
  const res = await db.query({ sql: 'SELECT * FROM atrium.clients WHERE client_name = $1 AND deleted_at IS NULL', params: [name] })
  return res.rows[0] as unknown as ClientRecord | undefined
}

export interface NewClient {
  client_name: string
  description: string | null
  pg_uri_encrypted: string | null
  pg_uri_env_var: string | null
  is_active: boolean
  owner_sub?: string | null
}

export async function insertClient(db: Executor, c: NewClient): Promise<ClientRecord> {
  const res = await db.query({
    sql: `INSERT INTO atrium.clients (client_name, description, pg_uri_encrypted, pg_uri_env_var, is_active, owner_sub, source)
          VALUES ($1, $2, $3, $4, $5, $6, 'database') RETURNING *`,
    params: [c.client_name, c.description, c.pg_uri_encrypted, c.pg_uri_env_var, c.is_active, c.owner_sub ?? null],
  })
  return res.rows[0] as unknown as ClientRecord
}

export type ClientChanges = Partial<Pick<ClientRecord, 'description' | 'pg_uri_encrypted' | 'pg_uri_env_var' | 'is_active' | 'is_frozen'>>

// Column names come from this fixed list, never from the caller; values are parameters.
const CHANGEABLE = ['description', 'pg_uri_encrypted', 'pg_uri_env_var', 'is_active', 'is_frozen'] as const

/** applies the given changes to the live row; undefined when there is none */
export async function updateClient(db: Executor, name: string, changes: ClientChanges): Promise<ClientRecord | undefined> {
  const sets: string[] = ['updated_at = now()']
  const params: unknown[] = [name]
  for (const column of CHANGEABLE) {
    if (changes[column] === undefined) continue
    params.push(changes[column])
    sets.push(`${column} = $${params.length}`)
  }
  const res = await db.query({
    sql: `UPDATE atrium.clients SET ${sets.join(', ')} WHERE client_name = $1 AND deleted_at IS NULL RETURNING *`,
    params,
  })
  return res.rows[0] as unknown as ClientRecord | undefined
}

export async function softDeleteClient(db: Executor, name: string): Promise<ClientRecord | undefined> {
  const res = await db.query({
    sql: 'UPDATE atrium.clients SET deleted_at = now(), updated_at = now() WHERE client_name = $1 AND deleted_at IS NULL RETURNING *',
    params: [name],
  })
  return res.rows[0] as unknown as ClientRecord | undefined
}
