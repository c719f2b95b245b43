// /admin/clients: list, create, update, soft-delete and freeze catalog clients (admin key only).
import type { FastifyInstance } from 'fastify'
import { createClient, deleteClient, listClients, setClientFrozen, updateClientSettings, type ClientInput } from '../../clients/clients-service.js'
import type { ClientsDeps } from '../../clients/clients-service.js'
import { ClientNameParams, ClientReply, ClientsReply, FreezeBody, SaveClientBody } from './catalog-schemas.js'

type NameParams = { client_name: string }

export function clientRoutes(app: FastifyInstance, services: ClientsDeps): void {
  app.get('/admin/clients', {
    config: { operation: 'admin.clients.list', access: 'admin' },
    schema: { summary: 'List Athena clients from the database-backed catalog, with the runtime view', tags: ['admin'], response: { 200: ClientsReply } },
  }, () => listClients(services))

  app.post('/admin/clients', {
    config: { operation: 'admin.clients.create', access: 'admin' },
    schema: { summary: 'Create a database-backed Athena client', tags: ['admin'], body: SaveClientBody, response: { 201: ClientReply } },
  }, async (req, reply) => reply.status(201).send({ client: await createClient(services, req.body as ClientInput) }))

  app.patch('/admin/clients/:client_name', {
    config: { operation: 'admin.clients.update', access: 'admin' },
    schema: { summary: 'Update an Athena client', tags: ['admin'], params: ClientNameParams, body: SaveClientBody, response: { 200: ClientReply } },
  }, async (req) => ({ client: await updateClientSettings(services, (req.params as NameParams).client_name, req.body as ClientInput) }))

  app.delete('/admin/clients/:client_name', {
    config: { operation: 'admin.clients.delete', access: 'admin' },
    schema: { summary: 'Soft-delete an Athena client', tags: ['admin'], params: ClientNameParams, response: { 200: ClientReply } },
  }, async (req) => ({ client: await deleteClient(services, (req.params as NameParams).client_name) }))

  app.put('/admin/clients/:client_name/freeze', {
    config: { operation: 'admin.clients.freeze', access: 'admin' },
    schema: { summary: 'Freeze or unfreeze an Athena client (frozen: reads served, writes and DDL refused with 423)', tags: ['admin'], params: ClientNameParams, body: FreezeBody, response: { 200: ClientReply } },
  }, async (req) => ({ client: await setClientFrozen(services, (req.params as NameParams).client_name, (req.body as { is_frozen: boolean }).is_frozen) }))
}
