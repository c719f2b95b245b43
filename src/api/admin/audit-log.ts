// POST /admin/clients/{client_name}/audit-log: installs database_audit_log on any client (admin key only).
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { installAuditLog } from '../../management/install-audit-log.js'
import type { AuditLogInstallDeps } from '../../management/install-audit-log.js'
import type { SourceRegistry } from '../../sources/registry.js'
import { gatewaySuccess } from '../gateway/envelope.js'
import { ClientNameParams } from './catalog-schemas.js'

const InstallReply = Type.Object({
  status: Type.Literal('success'),
  message: Type.String(),
  data: Type.Object({ client_name: Type.String(), statements: Type.Array(Type.String()), audit_log_id: Type.Union([Type.Integer(), Type.Null()]) }),
})

export interface AuditLogRouteDeps extends AuditLogInstallDeps {
  registry: SourceRegistry
}

export function auditLogRoutes(app: FastifyInstance, services: AuditLogRouteDeps): void {
  app.post('/admin/clients/:client_name/audit-log', {
    config: { operation: 'admin.clients.audit_log_install', access: 'admin' },
    schema: { summary: 'Install database_audit_log (needed by /management/*) on a client; safe to repeat', tags: ['admin'], params: ClientNameParams, response: { 200: InstallReply } },
  }, async (req) => {
    const source = services.registry.resolve((req.params as { client_name: string }).client_name)
    const result = await installAuditLog(services, source, req.id)
    return gatewaySuccess(`database_audit_log installed on ${source.name}`, { client_name: source.name, ...result })
  })
}
