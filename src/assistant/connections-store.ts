// Reads and writes atrium.assistant_connections and atrium.assistant_settings; every read is by owner.
import type { Catalog } from '../catalog/catalog.js'
import type { Executor } from '../sources/driver.js'

export interface ConnectionRecord {
  id: string
  owner_sub: string
  name: string
  provider: 'postgres' | 'mysql'
  client_name: string
  allow_writes: boolean
  created_at: string
}

export async function findConnection(db: Executor, owner: string, name: string): Promise<ConnectionRecord | undefined> {
  const res = await db.query({ sql: 'SELECT * FROM atrium.assistant_connections WHERE owner_sub = $1 AND name = $2', params: [owner, name] })
  return res.rows[0] as unknown as ConnectionRecord | undefined
}

export async function listConnections(catalog: Catalog, owner: string): Promise<ConnectionRecord[]> {
  return catalog.rows<ConnectionRecord>('SELECT * FROM atrium.assistant_connections WHERE owner_sub = $1 ORDER BY name', [owner])
}

export async function insertConnection(db: Executor, c: Omit<ConnectionRecord, 'id' | 'created_at'>): Promise<ConnectionRecord> {
  const res = await db.query({
    sql: `INSERT INTO atrium.assistant_connections (owner_sub, name, provider, client_name, allow_writes)
          VALUES ($1, $2, $3, $4, $5) RETURNING *`,
    params: [c.owner_sub, c.name, c.provider, c.client_name, c.allow_writes],
  })
  return res.rows[0] as unknown as ConnectionRecord
}

export async function deleteConnectionRow(db: Executor, owner: string, name: string): Promise<ConnectionRecord | undefined> {
  const res = await db.query({ sql: 'DELETE FROM atrium.assistant_connections WHERE owner_sub = $1 AND name = $2 RETURNING *', params: [owner, name] })
  return res.rows[0] as unknown as ConnectionRecord | undefined
}

export async function readSettings(catalog: Catalog, user: string): Promise<Record<string, unknown>> {
  const rows = await catalog.rows<{ settings: Record<string, unknown> }>('SELECT settings FROM atrium.assistant_settings WHERE user_sub = $1', [user])
  return rows[0]?.settings ?? {}
}

export async function writeSettings(catalog: Catalog, user: string, settings: Record<string, unknown>): Promise<Record<string, unknown>> {
  const rows = await catalog.rows<{ settings: Record<string, unknown> }>(
    `INSERT INTO atrium.assistant_settings (user_sub, settings) VALUES ($1, $2::jsonb)
     ON CONFLICT (user_sub) DO UPDATE SET settings = EXCLUDED.settings, updated_at = now() RETURNING settings`,
    [user, JSON.stringify(settings)],
  )
  return rows[0].settings
}
