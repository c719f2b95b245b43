// Client statistics for the admin API: this process's pending request-log entries are written first,
// so an admin sees the requests just made here.
import {
  findClientStatistics, listClientStatistics, rebuildClientStatistics,
  type ClientStatisticsRow, type ClientTableStatisticsRow,
} from './client-statistics-store.js'
import { AppError } from '../errors/app-error.js'
import type { Catalog } from '../catalog/catalog.js'
import type { RequestLog } from './request-log.js'

/** what this module needs, passed in from boot.ts */
export interface StatisticsDeps {
  catalog: Catalog
  /** flushed first, so the figures include the requests just served */
  requestLog: RequestLog
}

export async function listStatistics(deps: StatisticsDeps): Promise<ClientStatisticsRow[]> {
  await deps.requestLog.flush()
  return listClientStatistics(deps.catalog)
}

export async function refreshStatistics(deps: StatisticsDeps): Promise<ClientStatisticsRow[]> {
  await deps.requestLog.flush()
  await rebuildClientStatistics(deps.catalog)
  return listClientStatistics(deps.catalog)
}

export async function clientStatistics(deps: StatisticsDeps, client: string): Promise<{ statistics: ClientStatisticsRow; tables: ClientTableStatisticsRow[] }> {
  await deps.requestLog.flush()
  const found = await findClientStatistics(deps.catalog, client)
  if (!found) {
    throw new AppError('client_statistics_not_found', `no requests have been logged for client "${client}"`, {
      hint: 'statistics appear after the first gateway or /rest/v1 request to the client',
    })
  }
  return found
}
