// The admin catalog surface: /admin/clients (CRUD, freeze, audit-log install), client statistics, vacuum health, API keys, job records, admission events, webhooks, public routes, backups, platform keys, query optimizations, realtime capture tables, provisioning (schema, local instances, hosting providers).
import type { FastifyPluginAsync } from 'fastify'
import type { ApiKeyAdminDeps } from '../../auth/api-key-admin.js'
import type { ClientsDeps } from '../../clients/clients-service.js'
import type { StatisticsDeps } from '../../monitoring/client-statistics.js'
import type { VacuumHealthDeps } from '../../monitoring/vacuum-health-collector.js'
import type { AuditLogRouteDeps } from './audit-log.js'
import type { JobRouteDeps } from './jobs.js'
import type { AdmissionRouteDeps } from './admission-events.js'
import { admissionEventRoutes } from './admission-events.js'
import type { WebhookRouteDeps } from './webhooks.js'
import type { PlatformKeyRouteDeps } from './platform-keys.js'
import { platformKeyRoutes } from './platform-keys.js'
import type { BackupRouteDeps } from './backups.js'
import { backupRoutes } from './backups.js'
import { apiKeyRoutes } from './api-keys.js'
import { auditLogRoutes } from './audit-log.js'
import { clientStatisticsRoutes } from './client-statistics.js'
import { clientRoutes } from './clients.js'
import { jobRoutes } from './jobs.js'
import { vacuumHealthRoutes } from './vacuum-health.js'
import { webhookRoutes } from './webhooks.js'
import { publicRouteAdminRoutes, type PublicRouteAdminDeps } from './public-routes.js'
import { queryOptimizationRoutes } from './query-optimizations.js'
import type { QueryOptimizationDeps } from '../../monitoring/query-optimizations.js'
import { provisionRoutes, type ProvisionRouteDeps } from './provision.js'
import { providerRoutes } from './provision-providers.js'
import { realtimeTableRoutes } from './realtime-tables.js'
import type { RealtimeTablesDeps } from '../../realtime/realtime-tables.js'
import type { ProviderDeps } from '../../provisioning/providers/provider-provisioning.js'


/** what the admin routes need: the capabilities they call */
export type AdminDeps = ClientsDeps & StatisticsDeps & VacuumHealthDeps & AuditLogRouteDeps & ApiKeyAdminDeps & JobRouteDeps & AdmissionRouteDeps & WebhookRouteDeps & PublicRouteAdminDeps & BackupRouteDeps & PlatformKeyRouteDeps & QueryOptimizationDeps & ProvisionRouteDeps & ProviderDeps & RealtimeTablesDeps

export const adminCatalogRoutes: FastifyPluginAsync<{ services: AdminDeps }> = async (app, { services }) => {
  clientRoutes(app, services)
  clientStatisticsRoutes(app, services)
  vacuumHealthRoutes(app, services)
  auditLogRoutes(app, services)
  apiKeyRoutes(app, services)
  jobRoutes(app, services)
  admissionEventRoutes(app, services)
  webhookRoutes(app, services)
  publicRouteAdminRoutes(app, services)
  backupRoutes(app, services)
  platformKeyRoutes(app, services)
  queryOptimizationRoutes(app, services)
  provisionRoutes(app, services)
  providerRoutes(app, services)
  realtimeTableRoutes(app, services)
}
