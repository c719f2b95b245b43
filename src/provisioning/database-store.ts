// Reads and writes atrium.managed_databases: the records of provisioned databases, always within a team.
import type { Catalog } from '../catalog/catalog.js'
import type { Executor } from '../sources/driver.js'
import type { Engine } from './managed-servers.js'

export type DatabaseStatus = 'provisioning' | 'active' | 'paused' | 'failed' | 'deleted'

export interface Quotas {
  storage_hard_limit_gb: number | null
  connection_hard_limit: number | null
  warning_threshold_pct: number | null
}

export interface DatabaseRecord extends Quotas {
  id: string
  team_id: number
  team_name: string | null
  name: string
  db_type: Engine
  region: string
  plan: string
  status: DatabaseStatus
  db_name: string
  db_username: string
  password_sealed: string
  host: string
  port: number
  job_id: string | null
  error: { code: string; message: string } | null
  created_at: string
  updated_at: string
  deleted_at: string | null
  /** the blueprint applied once the database is active, with its variables, and that application */
  blueprint_id: string | null
  blueprint_variables: Record<string, string | number | boolean> | null
  blueprint_application_id: number | null
  /** the last storage measurement (storage-quotas.ts), and whether the hard limit made the database read-only */
  storage_used_bytes: number | null
  storage_measured_at: string | null
  quota_warned: boolean
  read_only: boolean
}

export type NewDatabase = Omit<DatabaseRecord, 'team_name' | 'status' | 'error' | 'created_at' | 'updated_at' | 'deleted_at' | 'job_id' | 'blueprint_application_id'
  | 'storage_used_bytes' | 'storage_measured_at' | 'quota_warned' | 'read_only'>

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

const SELECT = `SELECT d.*, t.name AS team_name FROM atrium.managed_databases d JOIN atrium.platform_teams t ON t.id = d.team_id`

/** numeric and bigint columns arrive as strings */
function normalize(row: Record<string, unknown> | undefined): DatabaseRecord | undefined {
  if (!row) return undefined
  return {
    ...(row as unknown as DatabaseRecord),
    team_id: Number(row.team_id),
    storage_hard_limit_gb: row.storage_hard_limit_gb === null ? null : Number(row.storage_hard_limit_gb),
    blueprint_application_id: row.blueprint_application_id == null ? null : Number(row.blueprint_application_id),
    storage_used_bytes: row.storage_used_bytes == null ? null : Number(row.storage_used_bytes),
  }
}

export async function insertDatabase(tx: Executor, d: NewDatabase): Promise<void> {
  await tx.query({
    sql: `INSERT INTO atrium.managed_databases (id, team_id, name, db_type, region, plan, status, db_name, db_username, password_sealed, host, port,
            storage_hard_limit_gb, connection_hard_limit, warning_threshold_pct, blueprint_id, blueprint_variables)
          VALUES ($1, $2, $3, $4, $5, $6, 'provisioning', $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
    params: [d.id, d.team_id, d.name, d.db_type, d.region, d.plan, d.db_name, d.db_username, d.password_sealed, d.host, d.port,
      d.storage_hard_limit_gb, d.connection_hard_limit, d.warning_threshold_pct, d.blueprint_id, d.blueprint_variables === null ? null : JSON.stringify(d.blueprint_variables)],
  })
}

export async function setJob(tx: Executor, id: string, jobId: string): Promise<void> {
  await tx.query({ sql: 'UPDATE atrium.managed_databases SET job_id = $2 WHERE id = $1', params: [id, jobId] })
}

/** a live database of one of the teams; another team's is as absent as one that never existed */
export async function findDatabase(db: Executor, teamIds: readonly number[], id: string): Promise<DatabaseRecord | undefined> {
  if (!UUID.test(id)) return undefined
  const res = await db.query({ sql: `${SELECT} WHERE d.id = $1 AND d.team_id = ANY($2::bigint[]) AND d.deleted_at IS NULL`, params: [id, teamIds] })
  return normalize(res.rows[0])
}

/** any record by id, deleted ones included (the provisioning job's view) */
export async function getDatabase(db: Executor, id: string): Promise<DatabaseRecord | undefined> {
  return normalize((await db.query({ sql: `${SELECT} WHERE d.id = $1`, params: [id] })).rows[0])
}

/**
 * A page of the teams' live databases, newest first, after the database `startingAfter` (one more row tells
 * has_more). The cursor row's created_at is read in SQL: a JavaScript Date would lose its microseconds.
 */
export async function listDatabases(catalog: Catalog, teamIds: readonly number[], limit: number, startingAfter?: string): Promise<DatabaseRecord[]> {
  const params: unknown[] = [teamIds, limit + 1]
  let after = ''
  if (startingAfter) {
    params.push(startingAfter)
    after = 'AND (d.created_at, d.id) < (SELECT c.created_at, c.id FROM atrium.managed_databases c WHERE c.id = $3::uuid)'
  }
  const rows = await catalog.rows(`${SELECT} WHERE d.team_id = ANY($1::bigint[]) AND d.deleted_at IS NULL ${after} ORDER BY d.created_at DESC, d.id DESC LIMIT $2`, params)
  return rows.map((r) => normalize(r)!)
}

export type DatabaseChanges = Partial<Pick<DatabaseRecord, 'name' | 'plan' | 'storage_hard_limit_gb' | 'connection_hard_limit' | 'warning_threshold_pct'>>

// Column names come from this fixed list, never from the caller; values are parameters.
const CHANGEABLE = ['name', 'plan', 'storage_hard_limit_gb', 'connection_hard_limit', 'warning_threshold_pct'] as const

export async function updateDatabase(tx: Executor, teamIds: readonly number[], id: string, changes: DatabaseChanges): Promise<DatabaseRecord | undefined> {
  const sets = ['updated_at = now()']
  const params: unknown[] = [id, teamIds]
  for (const column of CHANGEABLE) {
    if (changes[column] === undefined) continue
    params.push(changes[column])
    sets.push(`${column} = $${params.length}`)
  }
  const res = await tx.query({
    sql: `UPDATE atrium.managed_databases SET ${sets.join(', ')} WHERE id = $1 AND team_id = ANY($2::bigint[]) AND deleted_at IS NULL RETURNING id`,
    params,
  })
  return res.rows[0] ? findDatabase(tx, teamIds, id) : undefined
}

/** provisioning → active (or failed), unless the database was deleted meanwhile; true when it changed */
export async function finishProvisioning(tx: Executor, id: string, status: 'active' | 'failed', error: DatabaseRecord['error'] = null): Promise<boolean> {
  const res = await tx.query({
    sql: `UPDATE atrium.managed_databases SET status = $2, error = $3, updated_at = now() WHERE id = $1 AND status = 'provisioning' AND deleted_at IS NULL RETURNING id`,
    params: [id, status, error],
  })
  return res.rows.length === 1
}

/** active ⇄ paused of a live database; true when it changed */
export async function changeStatus(tx: Executor, id: string, from: 'active' | 'paused', to: 'active' | 'paused'): Promise<boolean> {
  const res = await tx.query({
    sql: `UPDATE atrium.managed_databases SET status = $3, updated_at = now() WHERE id = $1 AND status = $2 AND deleted_at IS NULL RETURNING id`,
    params: [id, from, to],
  })
  return res.rows.length === 1
}

/** marks a live database deleted; the record (as it was) when there was one */
export async function softDeleteDatabase(tx: Executor, teamIds: readonly number[], id: string): Promise<DatabaseRecord | undefined> {
  const before = await findDatabase(tx, teamIds, id)
  if (!before) return undefined
  await tx.query({ sql: `UPDATE atrium.managed_databases SET status = 'deleted', deleted_at = now(), updated_at = now() WHERE id = $1`, params: [id] })
  return before
}
