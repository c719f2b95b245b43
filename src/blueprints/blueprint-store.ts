// Reads and writes atrium.blueprints, atrium.blueprint_versions and atrium.blueprint_applications, always
// within the caller's teams: another team's blueprint or application is as absent as one that never existed.
import type { Catalog } from '../catalog/catalog.js'
import type { Engine } from '../provisioning/managed-servers.js'
import type { Executor } from '../sources/driver.js'
import type { Declarations, VariableValue } from './variables.js'

export interface BlueprintRecord {
  id: string
  team_id: number
  name: string
  slug: string
  description: string | null
  db_type: Engine
  version: number
  sql_content: string
  variables: Declarations
  created_at: string
  updated_at: string
}

export type ApplicationStatus = 'pending' | 'running' | 'completed' | 'failed' | 'rolled_back'

export interface StatementResult {
  index: number
  kind: string
  line: number
  status: 'succeeded' | 'failed' | 'skipped'
  rows_affected?: number | null
  duration_ms?: number
  error?: string
}

export interface ApplicationRecord {
  id: number
  team_id: number
  blueprint_id: string
  blueprint_version: number
  database_id: string
  status: ApplicationStatus
  is_dry_run: boolean
  variable_values: Record<string, VariableValue>
  execution_log: StatementResult[] | null
  statements_total: number
  statements_succeeded: number
  statements_failed: number
  error_message: string | null
  total_duration_ms: number | null
  job_id: string | null
  started_at: string | null
  completed_at: string | null
  created_at: string
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

const SELECT = `SELECT b.*, v.sql_content, v.variables FROM atrium.blueprints b
  JOIN atrium.blueprint_versions v ON v.blueprint_id = b.id AND v.version = b.version`

const blueprint = (row: Record<string, unknown> | undefined) => row ? { ...(row as unknown as BlueprintRecord), team_id: Number(row.team_id) } : undefined
const application = (row: Record<string, unknown> | undefined) => row ? { ...(row as unknown as ApplicationRecord), id: Number(row.id), team_id: Number(row.team_id) } : undefined

export async function insertBlueprint(tx: Executor, b: Omit<BlueprintRecord, 'version' | 'created_at' | 'updated_at'>): Promise<void> {
  await tx.query({
    sql: 'INSERT INTO atrium.blueprints (id, team_id, name, slug, description, db_type) VALUES ($1, $2, $3, $4, $5, $6)',
    params: [b.id, b.team_id, b.name, b.slug, b.description, b.db_type],
  })
  await tx.query({ sql: 'INSERT INTO atrium.blueprint_versions (blueprint_id, version, sql_content, variables) VALUES ($1, 1, $2, $3)', params: [b.id, b.sql_content, JSON.stringify(b.variables)] })
}

/** a live blueprint of the teams at its current version, or at `version` when given */
export async function findBlueprint(db: Executor, teamIds: readonly number[], id: string, version?: number): Promise<BlueprintRecord | undefined> {
  if (!UUID.test(id)) return undefined
  const sql = version === undefined ? SELECT : SELECT.replace('v.version = b.version', 'v.version = $3')
  const res = await db.query({ sql: `${sql} WHERE b.id = $1 AND b.team_id = ANY($2::bigint[]) AND b.deleted_at IS NULL`, params: version === undefined ? [id, teamIds] : [id, teamIds, version] })
  const found = blueprint(res.rows[0])
  return found && version !== undefined ? { ...found, version } : found
}

/** a page of the teams' live blueprints, newest first, after `startingAfter` (one row more tells has_more) */
export async function listBlueprints(catalog: Catalog, teamIds: readonly number[], limit: number, startingAfter?: string): Promise<BlueprintRecord[]> {
  const params: unknown[] = [teamIds, limit + 1]
  let after = ''
  if (startingAfter) {
    params.push(startingAfter)
    after = 'AND (b.created_at, b.id) < (SELECT c.created_at, c.id FROM atrium.blueprints c WHERE c.id = $3::uuid)'
  }
  const rows = await catalog.rows(`${SELECT} WHERE b.team_id = ANY($1::bigint[]) AND b.deleted_at IS NULL ${after} ORDER BY b.created_at DESC, b.id DESC LIMIT $2`, params)
  return rows.map((r) => blueprint(r)!)
}

/** a new version with the given content; name and description change in place (the row is locked first) */
export async function addVersion(tx: Executor, id: string, next: { name: string; slug: string; description: string | null; sql_content: string; variables: Declarations }): Promise<void> {
  const res = await tx.query({
    sql: 'UPDATE atrium.blueprints SET version = version + 1, name = $2, slug = $3, description = $4, updated_at = now() WHERE id = $1 RETURNING version',
    params: [id, next.name, next.slug, next.description],
  })
  const version = (res.rows[0] as { version: number }).version
  await tx.query({ sql: 'INSERT INTO atrium.blueprint_versions (blueprint_id, version, sql_content, variables) VALUES ($1, $2, $3, $4)', params: [id, version, next.sql_content, JSON.stringify(next.variables)] })
}

export async function softDeleteBlueprint(tx: Executor, teamIds: readonly number[], id: string): Promise<boolean> {
  if (!UUID.test(id)) return false
  const res = await tx.query({ sql: 'UPDATE atrium.blueprints SET deleted_at = now(), updated_at = now() WHERE id = $1 AND team_id = ANY($2::bigint[]) AND deleted_at IS NULL RETURNING id', params: [id, teamIds] })
  return res.rows.length === 1
}

export async function insertApplication(tx: Executor, a: Pick<ApplicationRecord, 'team_id' | 'blueprint_id' | 'blueprint_version' | 'database_id' | 'is_dry_run' | 'variable_values' | 'statements_total'>): Promise<number> {
  const res = await tx.query({
    sql: `INSERT INTO atrium.blueprint_applications (team_id, blueprint_id, blueprint_version, database_id, status, is_dry_run, variable_values, statements_total)
          VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7) RETURNING id`,
    params: [a.team_id, a.blueprint_id, a.blueprint_version, a.database_id, a.is_dry_run, JSON.stringify(a.variable_values), a.statements_total],
  })
  return Number((res.rows[0] as { id: string }).id)
}

export async function setApplicationJob(tx: Executor, id: number, jobId: string): Promise<void> {
  await tx.query({ sql: 'UPDATE atrium.blueprint_applications SET job_id = $2 WHERE id = $1', params: [id, jobId] })
}

/** an application of the teams (teamIds null: any, for the job) */
export async function findApplication(db: Executor, teamIds: readonly number[] | null, id: number): Promise<ApplicationRecord | undefined> {
  if (!Number.isSafeInteger(id) || id < 1) return undefined
  const res = teamIds === null
    ? await db.query({ sql: 'SELECT * FROM atrium.blueprint_applications WHERE id = $1', params: [id] })
    : await db.query({ sql: 'SELECT * FROM atrium.blueprint_applications WHERE id = $1 AND team_id = ANY($2::bigint[])', params: [id, teamIds] })
  return application(res.rows[0])
}

export async function markRunning(db: Executor, id: number): Promise<void> {
  await db.query({ sql: "UPDATE atrium.blueprint_applications SET status = 'running', started_at = coalesce(started_at, now()) WHERE id = $1", params: [id] })
}

export async function finishApplication(tx: Executor, id: number, outcome: Pick<ApplicationRecord, 'status' | 'execution_log' | 'statements_succeeded' | 'statements_failed' | 'error_message' | 'total_duration_ms'>): Promise<void> {
  await tx.query({
    sql: `UPDATE atrium.blueprint_applications SET status = $2, execution_log = $3, statements_succeeded = $4, statements_failed = $5, error_message = $6,
            total_duration_ms = $7, completed_at = now(), started_at = coalesce(started_at, now()) WHERE id = $1`,
    params: [id, outcome.status, JSON.stringify(outcome.execution_log), outcome.statements_succeeded, outcome.statements_failed, outcome.error_message, outcome.total_duration_ms],
  })
}
