// /management/tables*: create, alter, drop tables and drop columns on the selected client.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { createTable, dropColumn, dropTable, editTable, type CreateTableInput, type DropInput, type EditTableInput } from '../../management/table-operations.js'
import { contextOf } from '../../http/request-context.js'
import type { ManagementDeps } from '../../management/run-managed-change.js'
import { gatewaySuccess } from '../gateway/envelope.js'
import { ChangeReply, ColumnParams, CreateTableBody, DropBody, EditTableBody, ManagementHeaders, TableParams } from './schemas.js'

/** DELETE bodies are optional: no body means the defaults */
export const bodyDefaultsToObject = async (req: FastifyRequest) => {
  req.body ??= {}
}

export function tableRoutes(app: FastifyInstance, services: ManagementDeps): void {
  app.post('/management/tables', {
    config: { operation: 'management.tables.create', access: 'client' },
    schema: { summary: 'Create a managed table', tags: ['management'], headers: ManagementHeaders, body: CreateTableBody, response: { 201: ChangeReply } },
  }, async (req, reply) => {
    const body = req.body as CreateTableInput
    req.logContext.table = body.table_name
    const result = await createTable(services, contextOf(req), body)
    return reply.status(201).send(gatewaySuccess(result.message, result.data))
  })

  app.patch('/management/tables/:table_name', {
    config: { operation: 'management.tables.alter', access: 'client' },
    schema: { summary: 'Apply safe additive ALTER TABLE operations', tags: ['management'], headers: ManagementHeaders, params: TableParams, body: EditTableBody, response: { 200: ChangeReply } },
  }, async (req) => {
    const { table_name } = req.params as { table_name: string }
    req.logContext.table = table_name
    const result = await editTable(services, contextOf(req), table_name, req.body as EditTableInput)
    return gatewaySuccess(result.message, result.data)
  })

  app.delete('/management/tables/:table_name', {
    config: { operation: 'management.tables.drop', access: 'client' },
    preValidation: bodyDefaultsToObject,
    schema: { summary: 'Drop a managed table', tags: ['management'], headers: ManagementHeaders, params: TableParams, body: DropBody, response: { 200: ChangeReply } },
  }, async (req) => {
    const { table_name } = req.params as { table_name: string }
    req.logContext.table = table_name
    const result = await dropTable(services, contextOf(req), table_name, req.body as DropInput)
    return gatewaySuccess(result.message, result.data)
  })

  app.delete('/management/tables/:table_name/columns/:column_name', {
    config: { operation: 'management.columns.drop', access: 'client' },
    preValidation: bodyDefaultsToObject,
    schema: { summary: 'Drop a managed table column', tags: ['management'], headers: ManagementHeaders, params: ColumnParams, body: DropBody, response: { 200: ChangeReply } },
  }, async (req) => {
    const { table_name, column_name } = req.params as { table_name: string; column_name: string }
    req.logContext.table = table_name
    const result = await dropColumn(services, contextOf(req), table_name, column_name, req.body as DropInput)
    return gatewaySuccess(result.message, result.data)
  })
}
