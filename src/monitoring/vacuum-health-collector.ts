// Collects vacuum health (dead tuples, autovacuum backlog, xid age against autovacuum_freeze_max_age) from
// every PostgreSQL client and stores one snapshot per client; a client that cannot be read gets a snapshot
// with collection_error instead of failing the run.
import {
  insertVacuumSnapshot, pruneVacuumSnapshots,
  type NewVacuumSnapshot, type VacuumSnapshotRow, type VacuumTableStat,
} from './vacuum-health-store.js'
import type { Source } from '../sources/source.js'
import type { Logger } from 'pino'
import type { Catalog } from '../catalog/catalog.js'
import type { Config } from '../config/schema.js'
import type { SourceRegistry } from '../sources/registry.js'

// A table is "bloated" when at least this share of its tuples are dead and there are enough of them to matter.
const BLOAT_DEAD_PCT = 20
const BLOAT_MIN_DEAD = 1_000
// Past this share of autovacuum_freeze_max_age a table is close to a forced anti-wraparound vacuum.
const FREEZE_RISK_PCT = 75
// Bounds the work and the snapshot size on databases with very many tables (worst tables first).
const MAX_TABLES = 5_000

// Partitioned parents have no storage and relfrozenxid 0, so their xid age means nothing.
const STATS_SQL = `
  SELECT s.schemaname::text AS schemaname, s.relname::text AS relname, s.n_dead_tup, s.n_live_tup, s.last_vacuum, s.last_autovacuum,
         CASE WHEN c.relkind = 'p' THEN NULL ELSE age(c.relfrozenxid)::bigint END AS xid_age
  FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
  ORDER BY s.n_dead_tup DESC, s.schemaname, s.relname
  LIMIT ${MAX_TABLES}`

const SETTINGS_SQL = `
  SELECT current_setting('autovacuum_freeze_max_age')::bigint AS freeze_max_age,
         current_setting('autovacuum_vacuum_threshold')::bigint AS vacuum_threshold,
         current_setting('autovacuum_vacuum_scale_factor')::float8 AS vacuum_scale_factor`

const round2 = (n: number) => Math.round(n * 100) / 100

function hostOf(source: Source): string | null {
  try {
    const u = new URL(source.url)
    return u.port ? `${u.hostname}:${u.port}` : u.hostname
  } catch {
    return null
  }
}

/** reads one source's statistics into a snapshot (not stored yet); errors are recorded, not thrown */
/** what this module needs, passed in from boot.ts */
export interface VacuumHealthDeps {
  catalog: Catalog
  registry: SourceRegistry
  /** recorded with each snapshot: which process took it */
  instanceId: string
  logger: Logger
  config: Pick<Config, 'vacuumHealth'>
}

export async function readVacuumHealth(source: Source, instanceId: string): Promise<NewVacuumSnapshot> {
  const base: NewVacuumSnapshot = {
    client_name: source.name, host: hostOf(source), instance_id: instanceId, total_dead_rows: 0, tables_with_bloat: 0,
    xid_freeze_risk: 0, tables_needing_vacuum: 0, freeze_max_age: null, collection_error: null, tables: [],
  }
  try {
    const settings = (await source.driver.query({ sql: SETTINGS_SQL, params: [] })).rows[0] as { freeze_max_age: number; vacuum_threshold: number; vacuum_scale_factor: number }
    const rows = (await source.driver.query({ sql: STATS_SQL, params: [] })).rows as Array<Omit<VacuumTableStat, 'dead_pct' | 'xid_age_pct_of_freeze_max'>>
    const freezeMax = Number(settings.freeze_max_age)
    const tables: VacuumTableStat[] = rows.map((r) => {
      const dead = Number(r.n_dead_tup)
      const live = Number(r.n_live_tup)
      const xidAge = r.xid_age === null ? null : Number(r.xid_age)
      return {
        ...r,
        n_dead_tup: dead,
        n_live_tup: live,
        xid_age: xidAge,
        dead_pct: dead + live > 0 ? round2((dead / (dead + live)) * 100) : null,
        xid_age_pct_of_freeze_max: xidAge !== null && freezeMax > 0 ? round2((xidAge / freezeMax) * 100) : null,
      }
    })
    return {
      ...base,
      freeze_max_age: freezeMax,
      tables,
      total_dead_rows: tables.reduce((sum, t) => sum + t.n_dead_tup, 0),
      tables_with_bloat: tables.filter((t) => (t.dead_pct ?? 0) >= BLOAT_DEAD_PCT && t.n_dead_tup >= BLOAT_MIN_DEAD).length,
      xid_freeze_risk: tables.filter((t) => (t.xid_age_pct_of_freeze_max ?? 0) >= FREEZE_RISK_PCT).length,
      // the same trigger autovacuum itself uses (per-table storage parameters aside)
      tables_needing_vacuum: tables.filter((t) => t.n_dead_tup > settings.vacuum_threshold + settings.vacuum_scale_factor * t.n_live_tup).length,
    }
  } catch (err) {
    return { ...base, collection_error: (err as Error).message || 'collection failed' }
  }
}

/** one collection run over the PostgreSQL clients of this process (or the named ones); returns the stored snapshots */
export async function collectVacuumHealth(deps: VacuumHealthDeps, only?: string[]): Promise<VacuumSnapshotRow[]> {
  const sources = deps.registry.list().filter((s) => s.dialect === 'postgres' && (!only || only.includes(s.name)))
  const stored: VacuumSnapshotRow[] = []
  for (const source of sources) {
    const snapshot = await readVacuumHealth(source, deps.instanceId)
    if (snapshot.collection_error) deps.logger.warn({ client: source.name, err: snapshot.collection_error }, 'vacuum health collection failed')
    stored.push(await insertVacuumSnapshot(deps.catalog, snapshot))
  }
  const pruned = await pruneVacuumSnapshots(deps.catalog, deps.config.vacuumHealth.retentionDays)
  if (pruned) deps.logger.info({ pruned }, 'old vacuum health snapshots deleted')
  return stored
}
