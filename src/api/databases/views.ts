// The Database object of the Polykomos spec, from a record. The password (and a connection string holding it)
// is only in create and single-get answers; lists show the connection string masked.
import { maskUrl } from '../../auth/secret-box.js'
import type { DatabaseRecord, Databases } from '../../provisioning/databases-service.js'

export function databaseView(databases: Databases, record: DatabaseRecord, reveal: boolean) {
  const password = databases.password(record)
  const connection = databases.connectionString(record, password)
  return {
    object: 'database',
    uuid: record.id,
    name: record.name,
    // the spec's states, plus `failed` for a provisioning whose last attempt failed (with `error`)
    // read_only: an active database over its storage_hard_limit_gb, until it is back under
    status: record.status === 'active' && record.read_only ? 'read_only' : record.status,
    region: record.region,
    plan: record.plan,
    quotas: {
      storage_hard_limit_gb: record.storage_hard_limit_gb,
      connection_hard_limit: record.connection_hard_limit,
      warning_threshold_pct: record.warning_threshold_pct,
    },
    storage: {
      used_bytes: record.storage_used_bytes,
      measured_at: record.storage_measured_at && new Date(record.storage_measured_at).toISOString(),
      read_only: record.read_only,
    },
    db_type: record.db_type,
    host: record.host,
    port: record.port,
    db_name: record.db_name,
    db_username: record.db_username,
    team_id: record.team_id,
    team_name: record.team_name,
    db_password: reveal ? password : null,
    connection_string: reveal ? connection : maskUrl(connection),
    ...(record.error ? { error: record.error } : {}),
    // the application of the blueprint named at create (GET /api/v1/blueprint_applications/{id})
    ...(record.blueprint_id ? { blueprint_uuid: record.blueprint_id, blueprint_application_id: record.blueprint_application_id } : {}),
    created_at: new Date(record.created_at).toISOString(),
    updated_at: new Date(record.updated_at).toISOString(),
  }
}
