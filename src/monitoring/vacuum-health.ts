// Vacuum health for the admin API: latest snapshots, one client's detail, and a collection run on demand.
import { latestVacuumSnapshot, latestVacuumSnapshots, type VacuumSnapshotRow, type VacuumTableStatRow } from './vacuum-health-store.js'
import { AppError } from '../errors/app-error.js'
import { collectVacuumHealth } from './vacuum-health-collector.js'
import type { VacuumHealthDeps } from './vacuum-health-collector.js'

export function listVacuumHealth(deps: VacuumHealthDeps): Promise<VacuumSnapshotRow[]> {
  return latestVacuumSnapshots(deps.catalog)
}

export async function clientVacuumHealth(deps: VacuumHealthDeps, client: string): Promise<{ snapshot: VacuumSnapshotRow; tables: VacuumTableStatRow[] }> {
  const found = await latestVacuumSnapshot(deps.catalog, client)
  if (!found) {
    throw new AppError('vacuum_health_not_found', `no vacuum health snapshot for client "${client}"`, {
      hint: 'snapshots are taken on the vacuumHealth.schedule; POST /admin/vacuum-health/collect takes one now',
    })
  }
  return found
}

/** collects now (every PostgreSQL client, or the one named) and returns the new snapshots */
export async function collectVacuumHealthNow(deps: VacuumHealthDeps, client?: string): Promise<VacuumSnapshotRow[]> {
  if (client !== undefined) {
    const source = deps.registry.resolve(client)
    if (source.dialect !== 'postgres') {
      throw new AppError('unsupported_feature', `client "${client}" is not PostgreSQL; vacuum health exists only there`)
    }
    return collectVacuumHealth(deps, [source.name])
  }
  return collectVacuumHealth(deps)
}
