// /admin/vacuum-health*: the latest vacuum health snapshots, in the success envelope (admin key only).
import type { FastifyInstance } from 'fastify'
import { clientVacuumHealth, collectVacuumHealthNow, listVacuumHealth } from '../../monitoring/vacuum-health.js'
import type { VacuumHealthDeps } from '../../monitoring/vacuum-health-collector.js'
import { gatewaySuccess } from '../gateway/envelope.js'
import { plural } from '../gateway/respond.js'
import { ClientNameParams, VacuumCollectQuery, VacuumDetailReply, VacuumListReply } from './catalog-schemas.js'

export function vacuumHealthRoutes(app: FastifyInstance, services: VacuumHealthDeps): void {
  app.get('/admin/vacuum-health', {
    config: { operation: 'admin.vacuum_health.list', access: 'admin' },
    schema: { summary: 'List latest vacuum health snapshot per Postgres client', tags: ['admin'], response: { 200: VacuumListReply } },
  }, async () => {
    const snapshots = await listVacuumHealth(services)
    return gatewaySuccess(`Latest vacuum health of ${plural(snapshots.length, 'client')}`, { snapshots })
  })

  app.get('/admin/vacuum-health/:client_name', {
    config: { operation: 'admin.vacuum_health.client', access: 'admin' },
    schema: { summary: 'Latest vacuum health snapshot and per-table stats for one client', tags: ['admin'], params: ClientNameParams, response: { 200: VacuumDetailReply } },
  }, async (req) => {
    const detail = await clientVacuumHealth(services, (req.params as { client_name: string }).client_name)
    return gatewaySuccess(`Vacuum health of ${detail.snapshot.client_name} (${plural(detail.tables.length, 'table')})`, detail)
  })

  app.post('/admin/vacuum-health/collect', {
    config: { operation: 'admin.vacuum_health.collect', access: 'admin' },
    schema: { summary: 'Collect vacuum health now (every Postgres client, or ?client_name=)', tags: ['admin'], querystring: VacuumCollectQuery, response: { 200: VacuumListReply } },
  }, async (req) => {
    const snapshots = await collectVacuumHealthNow(services, (req.query as { client_name?: string }).client_name)
    return gatewaySuccess(`Collected vacuum health of ${plural(snapshots.length, 'client')}`, { snapshots })
  })
}
