// Reads and writes atrium.provision_instances: the local PostgreSQL instances started by /admin/provision/instances.
import type { Catalog } from '../catalog/catalog.js'

export interface InstanceRecord {
  container_name: string
  client_name: string
  backend: string
  data_dir: string
  host: string
  port: number
  db_name: string
  username: string
  password_encrypted: string
  registered: boolean
  created_at: string
}

export type NewInstance = Omit<InstanceRecord, 'created_at' | 'registered'>

export async function findInstance(catalog: Catalog, name: string): Promise<InstanceRecord | undefined> {
  return (await catalog.rows<InstanceRecord>('SELECT * FROM atrium.provision_instances WHERE container_name = $1', [name]))[0]
}

/** reserves the name; undefined when another instance holds it already (two creates racing meet here) */
export async function insertInstance(catalog: Catalog, i: NewInstance): Promise<InstanceRecord | undefined> {
  const rows = await catalog.rows<InstanceRecord>(
    `INSERT INTO atrium.provision_instances (container_name, client_name, backend, data_dir, host, port, db_name, username, password_encrypted)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (container_name) DO NOTHING RETURNING *`,
    [i.container_name, i.client_name, i.backend, i.data_dir, i.host, i.port, i.db_name, i.username, i.password_encrypted],
  )
  return rows[0]
}

export async function markRegistered(catalog: Catalog, name: string): Promise<void> {
  await catalog.rows('UPDATE atrium.provision_instances SET registered = true WHERE container_name = $1', [name])
}

export async function deleteInstance(catalog: Catalog, name: string): Promise<void> {
  await catalog.rows('DELETE FROM atrium.provision_instances WHERE container_name = $1', [name])
}
