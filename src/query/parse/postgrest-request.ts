// A whole PostgREST request → the query AST and its request options, in one call per route: the path's table,
// the query string, Prefer, Range (and rest.maxRows), Accept, Accept-/Content-Profile, and the body of writes.
// Framework-free (plain header records) and syntax only: names are checked by the planner. The result is frozen.
import { parse as parseCsv } from 'csv-parse/sync'
import { AppError } from '../../errors/app-error.js'
import type { DeleteQuery, InsertQuery, ReadQuery, RelationRef, RowsJson, RpcQuery, SelectItem, UpdateQuery } from '../ast.js'
import { deepFreeze } from '../freeze.js'
import { parseAccept, type Output } from './accept.js'
import { parsePostgrestQuery, queryPairs } from './postgrest.js'
import { parsePrefer, type Preferences } from './prefer.js'
import { requestWindow, type Window } from './range.js'
import { splitRpcArguments } from './rpc.js'
import { headerValue } from './headers.js'

export type RequestHeaders = Readonly<Record<string, string | string[] | undefined>>

export interface PostgrestRequest {
  /** the table of the path (or the function, for RPC) */
  target: string
  /** the request URL; only its query string is read */
  url: string
  headers: RequestHeaders
  body?: unknown
  /** the text `body` was parsed from, when it was JSON (see InsertQuery.rowsJson) */
  bodyText?: string | null
}

export interface PostgrestOptions {
  /** rest.maxRows: the server's cap on the rows of a read or of a set-returning function */
  maxRows?: number
  /** rest.aggregatesEnabled: false refuses count()/sum()/… in select (PostgREST db-aggregates-enabled) */
  aggregates?: boolean
}

/** PostgREST's answer when aggregates are turned off: the select is refused before anything runs */
function checkAggregates(select: SelectItem[], opts: PostgrestOptions): void {
  if (opts.aggregates !== false) return
  const used = (items: SelectItem[]): boolean => items.some((s) => s.kind === 'aggregate' || (s.kind === 'embed' && used(s.select)))
  if (used(select)) throw new AppError('aggregates_not_supported', 'use of aggregate functions is not allowed', { hint: 'aggregates are turned off on this server (rest.aggregatesEnabled)' })
}

export interface ParsedRead {
  ast: ReadQuery
  prefs: Preferences
  window: Window
  output: Output
}

export interface ParsedWrite<Q> {
  ast: Q
  prefs: Preferences
  /** the format of the representation, when return=representation asks for one */
  output?: Output
}

export interface ParsedRpc {
  ast: RpcQuery
  prefs: Preferences
  window: Window
  output: Output
}

/**
 * The table of the path, in the schema named by Accept-Profile (reads) or Content-Profile (writes).
 *   relationOf('GET', 'orders', { 'accept-profile': 'sales' }) → { schema: 'sales', name: 'orders', fromProfile: true }
 */
export function relationOf(method: string, table: string, headers: RequestHeaders): RelationRef {
  const profile = headerValue(headers, method === 'GET' || method === 'HEAD' ? 'accept-profile' : 'content-profile')
  const schema = typeof profile === 'string' && profile.trim() ? profile.trim() : undefined
  return schema ? { schema, name: table, fromProfile: true } : { name: table }
}

/**
 * GET and HEAD /rest/v1/{table}.
 *   parsePostgrestRead({ target: 'orders', url: '/orders?select=id&status=eq.paid', headers: { range: '0-9' } })
 *     → { ast: { kind: 'read', relation: { name: 'orders' }, select: [id], where: [status eq paid], limit: 10, … },
 *         window: { offset: 0, limit: 10, explicit: true }, prefs: { applied: [] }, output: { format: 'json', … } }
 */
export function parsePostgrestRead(req: PostgrestRequest & { method: 'GET' | 'HEAD' }, opts: PostgrestOptions = {}): ParsedRead {
  const output = parseAccept(headerValue(req.headers, 'accept'))
  const q = parsePostgrestQuery(queryPairs(req.url))
  const prefs = parsePrefer(req.headers.prefer)
  checkAggregates(q.select, opts)
  const window = requestWindow(req.headers, q, opts.maxRows)
  const ast: ReadQuery = {
    kind: 'read', relation: relationOf(req.method, req.target, req.headers), select: q.select, where: q.where, order: q.order,
    limit: window.limit, offset: window.offset || undefined, count: prefs.count, stripNulls: req.method === 'GET' && output.stripNulls,
  }
  return deepFreeze({ ast, prefs, window, output })
}

/** the format of a representation, read before writing: an Accept that cannot be produced writes nothing */
function representation(headers: RequestHeaders, prefs: Preferences): Output | undefined {
  return prefs.return === 'representation' ? parseAccept(headerValue(headers, 'accept')) : undefined
}

const isJson = (headers: RequestHeaders) => /json/i.test(headerValue(headers, 'content-type') ?? '')

/**
 * JSON object/array, or CSV with a header row (empty fields are NULL). A JSON body that is a bare scalar
 * (`42`, `"x"`, `true`) reaches here coerced to text by the schema's union: it is refused, never read as CSV.
 */
function rowsOf(body: unknown, headers: RequestHeaders): Record<string, unknown>[] {
  if (typeof body === 'string' && isJson(headers)) {
    throw new AppError('invalid_request', 'the JSON body must be an object or an array of objects, not a bare value', { hint: 'send {"column": value} or [{…}, {…}]' })
  }
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

/** a JSON body's text as the array of rows PostgreSQL reads (InsertQuery.rowsJson): a single object is wrapped */
function rowsJsonOf(body: unknown, text: string | null | undefined): RowsJson | undefined {
  if (!text || body === null || typeof body !== 'object') return undefined
  return { text: Array.isArray(body) ? text : `[${text}]` }
}

/**
 * POST /rest/v1/{table}: insert or upsert (Prefer: resolution=…). return=headers-only asks for the first
 * written row's primary key (`location`), which the planner turns into the columns to return.
 */
export function parsePostgrestInsert(req: PostgrestRequest): ParsedWrite<InsertQuery> {
  const prefs = parsePrefer(req.headers.prefer)
  const output = representation(req.headers, prefs)
  const q = parsePostgrestQuery(queryPairs(req.url))
  const rows = rowsOf(req.body, req.headers)
  // frozen one level only, so deepFreeze leaves the row objects alone: they are the client's values, never
  // read as query structure, and freezing each row of a 1,000-row body cost about 0.3 ms of CPU a request
  Object.freeze(rows)
  const ast: InsertQuery = {
    kind: 'insert',
    relation: relationOf('POST', req.target, req.headers),
    rows,
    rowsJson: rowsJsonOf(req.body, req.bodyText),
    columns: q.columns,
    missing: prefs.missing === 'default' ? 'default' : 'null',
    onConflict: prefs.resolution ? { columns: q.onConflict, action: prefs.resolution === 'ignore-duplicates' ? 'ignore' : 'merge' } : undefined,
    returning: prefs.return === 'representation' ? q.select : null,
    stripNulls: output?.stripNulls,
  }
  if (prefs.return === 'headers-only') ast.location = true
  return deepFreeze({ ast, prefs, output })
}

/** PATCH /rest/v1/{table}: the body is a JSON object of column: value; the filters choose the rows */
export function parsePostgrestUpdate(req: PostgrestRequest): ParsedWrite<UpdateQuery> {
  const prefs = parsePrefer(req.headers.prefer)
  const output = representation(req.headers, prefs)
  const q = parsePostgrestQuery(queryPairs(req.url))
  const body = req.body
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new AppError('invalid_request', 'the body must be a JSON object of column: value')
  const ast: UpdateQuery = {
    kind: 'update', relation: relationOf('PATCH', req.target, req.headers), set: body as Record<string, unknown>, where: q.where,
    returning: output ? q.select : null, stripNulls: output?.stripNulls,
  }
  return deepFreeze({ ast, prefs, output })
}

/** DELETE /rest/v1/{table}: the filters choose the rows */
export function parsePostgrestDelete(req: PostgrestRequest): ParsedWrite<DeleteQuery> {
  const prefs = parsePrefer(req.headers.prefer)
  const output = representation(req.headers, prefs)
  const q = parsePostgrestQuery(queryPairs(req.url))
  const ast: DeleteQuery = {
    kind: 'delete', relation: relationOf('DELETE', req.target, req.headers), where: q.where, returning: output ? q.select : null, stripNulls: output?.stripNulls,
  }
  return deepFreeze({ ast, prefs, output })
}

export interface PostgrestRpcRequest extends PostgrestRequest {
  method: 'GET' | 'POST'
  /** the argument names of every overload of the function, so GET can tell arguments from filters */
  argumentNames: ReadonlySet<string>
}

/**
 * GET|POST /rest/v1/rpc/{function}. GET is read-only and takes its arguments from the query string; POST takes
 * them from the body. rest.maxRows is not part of the caller's window: the planner applies it to set results only.
 */
export function parsePostgrestRpc(req: PostgrestRpcRequest, opts: PostgrestOptions = {}): ParsedRpc {
  const output = parseAccept(headerValue(req.headers, 'accept'))
  const prefs = parsePrefer(req.headers.prefer)
  const body = req.method === 'POST' ? ((req.body as Record<string, unknown> | undefined) ?? {}) : undefined
  const { args, query } = splitRpcArguments(queryPairs(req.url), body, req.argumentNames)
  checkAggregates(query.select, opts)
  const window = requestWindow(req.headers, query)
  const ast: RpcQuery = {
    kind: 'rpc', fn: { name: req.target }, args, select: query.select, where: query.where, order: query.order,
    limit: window.limit, offset: window.offset || undefined, maxRows: opts.maxRows, count: prefs.count, stripNulls: output.stripNulls,
    readOnly: req.method === 'GET',
  }
  return deepFreeze({ ast, prefs, window, output })
}
