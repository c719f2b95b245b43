// The admin catalog surface: /admin/clients (CRUD, freeze, audit-log install), client statistics, vacuum health, API keys, job records.
import type { FastifyPluginAsync } from 'fastify'
import type { Services } from '../../services.js'
import { apiKeyRoutes } from './api-keys.js'
import { auditLogRoutes } from './audit-log.js'
import { clientStatisticsRoutes } from './client-statistics.js'
import { clientRoutes } from './clients.js'
import { jobRoutes } from './jobs.js'
import { vacuumHealthRoutes } from './vacuum-health.js'

export const adminCatalogRoutes: FastifyPluginAsync<{ services: Services }> = async (app, { services }) => {
  clientRoutes(app, services)
  clientStatisticsRoutes(app, services)
  vacuumHealthRoutes(app, services)
  auditLogRoutes(app, services)
  apiKeyRoutes(app, services)
  jobRoutes(app, services)
}
