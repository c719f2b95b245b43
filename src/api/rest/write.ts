// POST (insert/upsert), PATCH and DELETE /rest/v1/{table} with PostgREST's Prefer semantics.
import { Type } from '@sinclair/typebox'
import { parse as parseCsv } from 'csv-parse/sync'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { deleteRows, insertRows, updateRows, type WriteContext } from '../../data/write-rows.js'
import { AppError } from '../../errors/app-error.js'
import type { InsertQuery, SelectItem } from '../../query/ast.js'
import { parsePostgrestQuery, queryPairs } from '../../query/parse/postgrest.js'
import type { MutationOptions, MutationResult } from '../../query/run/runner.js'
import type { Services } from '../../services.js'
import { publishEventHeader } from '../gateway/headers.js'
import { parsePrefer, type Preferences } from './prefer.js'
import { acceptedOutput, requireSingleRow, sendRows, type Output } from './respond.js'
import { RestHeaders, TableParams, applyPreferences, relationOf } from './shared.js'

const Body = Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Array(Type.Record(Type.String(), Type.Unknown())), Type.String()])

function context(services: Services, req: FastifyRequest): WriteContext {
  return { services, source: req.source, principal: req.principal, requestId: req.id, publishEvent: publishEventHeader(req) }
}

/** JSON object/array, or CSV with a header row (empty fields are NULL) */
function rowsOf(body: unknown): Record<string, unknown>[] {
  if (typeof body === 'string') {
    try {
      return parseCsv(body, { columns: true, skip_empty_lines: true, cast: (value) => (value === '' ? null : value) }) as Record<string, unknown>[]
    } catch (err) {
      throw new AppError('invalid_request', `the CSV body cannot be read: ${(err as Error).message}`)
    }
  }
  if (Array.isArray(body)) return body as Record<string, unknown>[]
  if (body && typeof body === 'object') return [body as Record<string, unknown>]
  throw new AppError('invalid_request', 'the body must be a JSON object, an array of objects, or CSV')
}

/** what the write returns: the select list for representation, the key for Location, else nothing */
function returning(prefs: Preferences, select: SelectItem[], primaryKey: string[] | undefined): SelectItem[] | null {
  if (prefs.return === 'representation') return select
  if (prefs.return === 'headers-only' && primaryKey?.length) return primaryKey.map((c) => ({ kind: 'column' as const, field: { column: c, json: [] } }))
  return null
}

const rowsIn = (body: string) => (JSON.parse(body) as unknown[]).length

/** the format of a representation, read before writing: an Accept that cannot be produced writes nothing */
function representation(req: FastifyRequest, prefs: Preferences): Output | undefined {
  return prefs.return === 'representation' ? acceptedOutput(req) : undefined
}

/** a single object must be exactly one written row, checked inside the write's transaction so a 406 undoes it */
function writeOptions(output: Output | undefined): MutationOptions {
  return output?.format === 'object' ? { verify: (result) => requireSingleRow(rowsIn(result.body)) } : {}
}

function respond(reply: FastifyReply, prefs: Preferences, output: Output | undefined, result: MutationResult, okStatus: 200 | 201, envelope: boolean) {
  applyPreferences(reply, prefs)
  if (prefs.count) reply.header('content-range', `*/${result.affected}`)
  if (output) return sendRows(reply.status(okStatus), output, result.body, rowsIn(result.body), envelope)
  return reply.status(okStatus === 201 ? 201 : 204).send()
}

export function writeRoutes(app: FastifyInstance, services: Services): void {
  const envelope = () => services.config.rest.envelope === 'data'

  app.post('/:table', {
    config: { operation: 'rest.insert', access: 'client' },
    schema: { summary: 'Insert rows (object, array or CSV); with Prefer: resolution=…, upsert', tags: ['rest'], params: TableParams, headers: RestHeaders, body: Body },
  }, async (req, reply) => {
    const { table } = req.params as { table: string }
    req.logContext.table = table
    const prefs = parsePrefer(req)
    const output = representation(req, prefs)
    const q = parsePostgrestQuery(queryPairs(req.url))
    const rows = rowsOf(req.body)
    const schema = await req.source.schema()
    const target = schema.findTable(table, relationOf(req, table).schema)
    const ast: InsertQuery = {
      kind: 'insert',
      relation: relationOf(req, table),
      rows,
      columns: q.columns,
      missing: prefs.missing === 'default' ? 'default' : 'null',
      onConflict: prefs.resolution ? { columns: q.onConflict, action: prefs.resolution === 'ignore-duplicates' ? 'ignore' : 'merge' } : undefined,
      returning: returning(prefs, q.select, target?.primaryKey),
      stripNulls: output?.stripNulls,
    }
    const result = await insertRows(context(services, req), ast, writeOptions(output))
    if (prefs.return === 'headers-only' && target?.primaryKey.length) {
      const written = JSON.parse(result.body) as Array<Record<string, unknown>>
      // like PostgREST, Location names the first row written by its primary key
      if (written[0]) reply.header('location', `/${table}?${target.primaryKey.map((k) => `${k}=eq.${encodeURIComponent(String(written[0][k]))}`).join('&')}`)
    }
    return respond(reply, prefs, output, result, 201, envelope())
  })

  app.patch('/:table', {
    config: { operation: 'rest.update', access: 'client' },
    schema: { summary: 'Update the rows matching the filters (at least one filter is required)', tags: ['rest'], params: TableParams, headers: RestHeaders, body: Type.Record(Type.String(), Type.Unknown()) },
  }, async (req, reply) => {
    const { table } = req.params as { table: string }
    req.logContext.table = table
    const prefs = parsePrefer(req)
    const output = representation(req, prefs)
    const q = parsePostgrestQuery(queryPairs(req.url))
    if (!req.body || typeof req.body !== 'object' || Array.isArray(req.body)) throw new AppError('invalid_request', 'the body must be a JSON object of column: value')
    const result = await updateRows(context(services, req), {
      kind: 'update', relation: relationOf(req, table), set: req.body as Record<string, unknown>, where: q.where,
      returning: output ? q.select : null, stripNulls: output?.stripNulls,
    }, writeOptions(output))
    return respond(reply, prefs, output, result, 200, envelope())
  })

  app.delete('/:table', {
    config: { operation: 'rest.delete', access: 'client' },
    schema: { summary: 'Delete the rows matching the filters (at least one filter is required)', tags: ['rest'], params: TableParams, headers: RestHeaders },
  }, async (req, reply) => {
    const { table } = req.params as { table: string }
    req.logContext.table = table
    const prefs = parsePrefer(req)
    const output = representation(req, prefs)
    const q = parsePostgrestQuery(queryPairs(req.url))
    const result = await deleteRows(context(services, req), {
      kind: 'delete', relation: relationOf(req, table), where: q.where, returning: output ? q.select : null, stripNulls: output?.stripNulls,
    }, writeOptions(output))
    return respond(reply, prefs, output, result, 200, envelope())
  })
}
