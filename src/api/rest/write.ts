// POST (insert/upsert), PATCH and DELETE /rest/v1/{table} with PostgREST's Prefer semantics.
import { Type } from '@sinclair/typebox'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { deleteRows, insertRows, updateRows, type WriteOptions, type WriteResult } from '../../data/write-rows.js'
import type { Output } from '../../query/parse/accept.js'
import { parsePostgrestDelete, parsePostgrestInsert, parsePostgrestUpdate, type PostgrestRequest } from '../../query/parse/postgrest-request.js'
import type { Preferences } from '../../query/parse/prefer.js'
import type { RestDeps } from './deps.js'
import { publishEventHeader } from '../gateway/headers.js'
import { requireSingleRow, sendRows } from './respond.js'
import { RestHeaders, TableParams, applyPreferences } from './shared.js'
import { contextOf } from '../../http/request-context.js'

const Body = Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Array(Type.Record(Type.String(), Type.Unknown())), Type.String()])


function request(req: FastifyRequest): PostgrestRequest {
  const { table } = req.params as { table: string }
  req.logContext.table = table
  return { target: table, url: req.url, headers: req.headers, body: req.body, bodyText: req.bodyText }
}

/** rows in a write's body: counted by the runner where it can (a 1,000-row representation is not parsed again) */
const rowsIn = (result: WriteResult) => result.rows ?? (JSON.parse(result.body) as unknown[]).length

/** a single object must be exactly one written row, checked inside the write's transaction so a 406 undoes it */
function writeOptions(req: FastifyRequest, output: Output | undefined): WriteOptions {
  const publishEvent = publishEventHeader(req)
  return output?.format === 'object' ? { publishEvent, verify: (result) => requireSingleRow(rowsIn(result)) } : { publishEvent }
}

function respond(reply: FastifyReply, prefs: Preferences, output: Output | undefined, result: WriteResult, okStatus: 200 | 201, envelope: boolean) {
  applyPreferences(reply, prefs.applied)
  if (prefs.count) reply.header('content-range', `*/${result.affected}`)
  if (output) return sendRows(reply.status(okStatus), output, result.body, rowsIn(result), envelope)
  return reply.status(okStatus === 201 ? 201 : 204).send()
}

/** like PostgREST, Location names the first row written by its primary key: `/orders?id=eq.7` */
function locationHeader(table: string, key: Array<[string, unknown]>): string {
  return `/${table}?${key.map(([k, v]) => `${k}=eq.${encodeURIComponent(String(v))}`).join('&')}`
}

export function writeRoutes(app: FastifyInstance, services: RestDeps): void {
  const envelope = () => services.config.rest.envelope === 'data'

  app.post('/:table', {
    config: { operation: 'rest.insert', access: 'client' },
    schema: { summary: 'Insert rows (object, array or CSV); with Prefer: resolution=…, upsert', tags: ['rest'], params: TableParams, headers: RestHeaders, body: Body },
  }, async (req, reply) => {
    const { ast, prefs, output } = parsePostgrestInsert(request(req))
    const result = await insertRows(services, contextOf(req), ast, writeOptions(req, output))
    if (result.location) reply.header('location', locationHeader(ast.relation.name, result.location))
    return respond(reply, prefs, output, result, 201, envelope())
  })

  app.patch('/:table', {
    config: { operation: 'rest.update', access: 'client' },
    schema: { summary: 'Update the rows matching the filters (at least one filter is required)', tags: ['rest'], params: TableParams, headers: RestHeaders, body: Type.Record(Type.String(), Type.Unknown()) },
  }, async (req, reply) => {
    const { ast, prefs, output } = parsePostgrestUpdate(request(req))
    const result = await updateRows(services, contextOf(req), ast, writeOptions(req, output))
    return respond(reply, prefs, output, result, 200, envelope())
  })

  app.delete('/:table', {
    config: { operation: 'rest.delete', access: 'client' },
    schema: { summary: 'Delete the rows matching the filters (at least one filter is required)', tags: ['rest'], params: TableParams, headers: RestHeaders },
  }, async (req, reply) => {
    const { ast, prefs, output } = parsePostgrestDelete(request(req))
    const result = await deleteRows(services, contextOf(req), ast, writeOptions(req, output))
    return respond(reply, prefs, output, result, 200, envelope())
  })
}
