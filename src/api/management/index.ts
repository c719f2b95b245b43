// The management DDL surface (/management/*): capabilities, tables, columns, indexes and extensions of the
// client named by X-Athena-Client, in the gateway envelope.
import type { FastifyPluginAsync } from 'fastify'
import { managementCapabilities } from '../../management/capabilities.js'
import { installExtension } from '../../management/extension-operations.js'
import type { ManagementDeps } from '../../management/run-managed-change.js'
import { gatewaySuccess } from '../gateway/envelope.js'
import { indexRoutes } from './indexes.js'
import { CapabilitiesReply, ChangeReply, InstallExtensionBody, ManagementHeaders } from './schemas.js'
import { contextOf } from '../../http/request-context.js'
import { tableRoutes } from './tables.js'

export const managementRoutes: FastifyPluginAsync<{ services: ManagementDeps }> = async (app, { services }) => {
  app.get('/management/capabilities', {
    config: { operation: 'management.capabilities', access: 'client' },
    schema: { summary: 'List management API capabilities for a client', tags: ['management'], headers: ManagementHeaders, response: { 200: CapabilitiesReply } },
  }, async (req) => gatewaySuccess(`Management capabilities of ${req.source.name}`, await managementCapabilities(contextOf(req))))

  tableRoutes(app, services)
  indexRoutes(app, services)

  app.post('/management/extensions/install', {
    config: { operation: 'management.extensions.install', access: 'client' },
    schema: { summary: 'Install an allow-listed Postgres extension', tags: ['management'], headers: ManagementHeaders, body: InstallExtensionBody, response: { 200: ChangeReply } },
  }, async (req) => {
    const result = await installExtension(services, contextOf(req), req.body as { extension_name: string; if_not_exists?: boolean })
    return gatewaySuccess(result.message, result.data)
  })
}
