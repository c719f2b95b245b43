// Reads and writes atrium.clients: the data sources defined through the catalog rather than config.
import type { Catalog } from './catalog.js'

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
  last_synced_from_config_at: string | null
  last_seen_at: string | null
  created_at: string
  updated_at: string
  deleted_at: string | null
}

export async function listLiveClients(catalog: Catalog): Promise<ClientRecord[]> {
  return catalog.rows<ClientRecord>('SELECT * FROM atrium.clients WHERE deleted_at IS NULL ORDER BY client_name')
}
