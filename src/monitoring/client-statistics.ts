// Client statistics for the admin API: this process's pending request-log entries are written first,
// so an admin sees the requests just made here.
import {
  findClientStatistics, listClientStatistics, rebuildClientStatistics,
  type ClientStatisticsRow, type ClientTableStatisticsRow,
} from './client-statistics-store.js'
import { AppError } from '../errors/app-error.js'
import type { Services } from '../services.js'

export async function listStatistics(services: Services): Promise<ClientStatisticsRow[]> {
  await services.requestLog.flush()
  return listClientStatistics(services.catalog)
}

export async function refreshStatistics(services: Services): Promise<ClientStatisticsRow[]> {
  await services.requestLog.flush()
  await rebuildClientStatistics(services.catalog)
  return listClientStatistics(services.catalog)
}

export async function clientStatistics(services: Services, client: string): Promise<{ statistics: ClientStatisticsRow; tables: ClientTableStatisticsRow[] }> {
  await services.requestLog.flush()
  const found = await findClientStatistics(services.catalog, client)
  if (!found) {
    throw new AppError('client_statistics_not_found', `no requests have been logged for client "${client}"`, {
      hint: 'statistics appear after the first gateway or /rest/v1 request to the client',
    })
  }
  return found
}
