// /admin/clients/{client_name}/realtime/tables: the tables whose every committed change (through Atrium or not)
// is captured by the database and delivered to realtime subscribers (admin key only).
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { disableRealtimeTable, enableRealtimeTable, listRealtimeTables, type RealtimeTablesDeps } from '../../realtime/realtime-tables.js'
import { gatewaySuccess } from '../gateway/envelope.js'

const Params = Type.Object({ client_name: Type.String({ minLength: 1, maxLength: 256 }) })
const TableParams = Type.Object({ client_name: Type.String({ minLength: 1, maxLength: 256 }), table_name: Type.String({ minLength: 1, maxLength: 256 }) })
const EnableBody = Type.Object({ table: Type.String({ minLength: 1, maxLength: 256, description: 'a table of the client (not a view)' }) }, { additionalProperties: false })
const Table = Type.Object({ client: Type.String(), schema: Type.String(), table: Type.String(), enabled_at: Type.String({ format: 'date-time' }) })
const Envelope = <T extends ReturnType<typeof Type.Object> | ReturnType<typeof Type.Array>>(data: T) => Type.Object({ status: Type.Literal('success'), message: Type.String(), data })

type P = { client_name: string }
type TP = P & { table_name: string }

export function realtimeTableRoutes(app: FastifyInstance, services: RealtimeTablesDeps): void {
  app.get('/admin/clients/:client_name/realtime/tables', {
    config: { operation: 'admin.realtime.tables.list', access: 'admin' },
    schema: { summary: 'List the tables of a client enabled for realtime capture', tags: ['admin', 'realtime'], params: Params, response: { 200: Envelope(Type.Array(Table)) } },
  }, async (req) => {
    const tables = await listRealtimeTables(services, (req.params as P).client_name)
    return gatewaySuccess(`${tables.length} table(s) enabled for realtime capture`, tables)
  })

  app.post('/admin/clients/:client_name/realtime/tables', {
    config: { operation: 'admin.realtime.tables.enable', access: 'admin' },
    schema: { summary: 'Enable a table for realtime capture: every committed change, by any writer, reaches subscribers', tags: ['admin', 'realtime'], params: Params, body: EnableBody, response: { 201: Envelope(Table) } },
  }, async (req, reply) => {
    const table = await enableRealtimeTable(services, (req.params as P).client_name, (req.body as { table: string }).table)
    return reply.status(201).send(gatewaySuccess(`Realtime capture enabled on ${table.table}`, table))
  })

  app.delete('/admin/clients/:client_name/realtime/tables/:table_name', {
    config: { operation: 'admin.realtime.tables.disable', access: 'admin' },
    schema: { summary: 'Disable realtime capture on a table (its trigger is dropped)', tags: ['admin', 'realtime'], params: TableParams, response: { 200: Envelope(Table) } },
  }, async (req) => {
    const { client_name, table_name } = req.params as TP
    const table = await disableRealtimeTable(services, client_name, table_name)
    return gatewaySuccess(`Realtime capture disabled on ${table.table}`, table)
  })
}
