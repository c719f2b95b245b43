// /admin/clients/statistics*: request and per-table operation counts built from the request log (admin key only).
import type { FastifyInstance } from 'fastify'
import { clientStatistics, listStatistics, refreshStatistics } from '../../monitoring/client-statistics.js'
import type { StatisticsDeps } from '../../monitoring/client-statistics.js'
import { ClientNameParams, StatisticsDetailReply, StatisticsListReply } from './catalog-schemas.js'

export function clientStatisticsRoutes(app: FastifyInstance, services: StatisticsDeps): void {
  app.get('/admin/clients/statistics', {
    config: { operation: 'admin.clients.statistics', access: 'admin' },
    schema: { summary: 'List Athena client statistics', tags: ['admin'], response: { 200: StatisticsListReply } },
  }, async () => ({ statistics: await listStatistics(services) }))

  app.post('/admin/clients/statistics/refresh', {
    config: { operation: 'admin.clients.statistics_refresh', access: 'admin' },
    schema: { summary: 'Rebuild Athena client statistics from the request log', tags: ['admin'], response: { 200: StatisticsListReply } },
  }, async () => ({ statistics: await refreshStatistics(services) }))

  app.get('/admin/clients/:client_name/statistics', {
    config: { operation: 'admin.clients.client_statistics', access: 'admin' },
    schema: { summary: 'Inspect one client\'s statistics and the tables it touched, per operation', tags: ['admin'], params: ClientNameParams, response: { 200: StatisticsDetailReply } },
  }, (req) => clientStatistics(services, (req.params as { client_name: string }).client_name))
}
