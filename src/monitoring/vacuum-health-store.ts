// Vacuum health snapshots in the catalog: one snapshot per collection and client, with per-table rows.
import type { Catalog } from '../catalog/catalog.js'

export interface VacuumTableStat {
  schemaname: string
  relname: string
  n_dead_tup: number
  n_live_tup: number
  dead_pct: number | null
  last_vacuum: string | null
  last_autovacuum: string | null
  xid_age: number | null
  xid_age_pct_of_freeze_max: number | null
}

export interface NewVacuumSnapshot {
  client_name: string
  host: string | null
  instance_id: string | null
  total_dead_rows: number
  tables_with_bloat: number
  xid_freeze_risk: number
  tables_needing_vacuum: number
  freeze_max_age: number | null
  collection_error: string | null
  tables: VacuumTableStat[]
}

export interface VacuumSnapshotRow extends Omit<NewVacuumSnapshot, 'tables'> {
  id: number
  recorded_at: string
}

export interface VacuumTableStatRow extends VacuumTableStat {
  id: number
  snapshot_id: number
}

/** stores a snapshot and its table rows in one transaction */
export async function insertVacuumSnapshot(catalog: Catalog, s: NewVacuumSnapshot): Promise<VacuumSnapshotRow> {
  return catalog.transaction(async (tx) => {
    const res = await tx.query({
      sql: `INSERT INTO atrium.vacuum_health_snapshots (client_name, host, instance_id, total_dead_rows, tables_with_bloat, xid_freeze_risk,
              tables_needing_vacuum, freeze_max_age, collection_error)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
      params: [s.client_name, s.host, s.instance_id, s.total_dead_rows, s.tables_with_bloat, s.xid_freeze_risk, s.tables_needing_vacuum, s.freeze_max_age, s.collection_error],
    })
    const snapshot = res.rows[0] as unknown as VacuumSnapshotRow
    if (s.tables.length) {
      // one JSON parameter for every table row instead of one statement per table
      await tx.query({
        sql: `INSERT INTO atrium.vacuum_health_table_stats (snapshot_id, schemaname, relname, n_dead_tup, n_live_tup, dead_pct, last_vacuum,
                last_autovacuum, xid_age, xid_age_pct_of_freeze_max)
              SELECT $1, schemaname, relname, n_dead_tup, n_live_tup, dead_pct, last_vacuum, last_autovacuum, xid_age, xid_age_pct_of_freeze_max
              FROM json_populate_recordset(NULL::atrium.vacuum_health_table_stats, $2::json)`,
        params: [snapshot.id, JSON.stringify(s.tables)],
      })
    }
    return snapshot
  })
}

/** the newest snapshot of every client */
export async function latestVacuumSnapshots(catalog: Catalog): Promise<VacuumSnapshotRow[]> {
  return catalog.rows<VacuumSnapshotRow>(
    'SELECT DISTINCT ON (client_name) * FROM atrium.vacuum_health_snapshots ORDER BY client_name, recorded_at DESC, id DESC',
  )
}

export async function latestVacuumSnapshot(catalog: Catalog, client: string): Promise<{ snapshot: VacuumSnapshotRow; tables: VacuumTableStatRow[] } | undefined> {
  const [snapshot] = await catalog.rows<VacuumSnapshotRow>(
    'SELECT * FROM atrium.vacuum_health_snapshots WHERE client_name = $1 ORDER BY recorded_at DESC, id DESC LIMIT 1',
    [client],
  )
  if (!snapshot) return undefined
  const tables = await catalog.rows<VacuumTableStatRow>(
    'SELECT * FROM atrium.vacuum_health_table_stats WHERE snapshot_id = $1 ORDER BY n_dead_tup DESC, schemaname, relname',
    [snapshot.id],
  )
  return { snapshot, tables }
}

/** deletes snapshots (and their table rows) older than the retention; returns how many went */
export async function pruneVacuumSnapshots(catalog: Catalog, retentionDays: number): Promise<number> {
  const res = await catalog.query({
    sql: "DELETE FROM atrium.vacuum_health_snapshots WHERE recorded_at < now() - make_interval(days => $1)",
    params: [retentionDays],
  })
  return res.affected
}
