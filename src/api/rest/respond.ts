// Output formats of /rest/v1: JSON arrays (optionally in the legacy {"data":…} envelope), single objects
// (application/vnd.pgrst.object+json) and CSV; the Accept header chooses.
import { Readable } from 'node:stream'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { stringify } from 'csv-stringify/sync'
import { AppError } from '../../errors/app-error.js'
import type { StreamedRead } from '../../query/run/runner.js'
import { streamJson } from '../gateway/respond.js'

export type Format = 'json' | 'object' | 'csv'

export interface Output {
  format: Format
  stripNulls: boolean
}

const JSON_TYPE = 'application/json; charset=utf-8'

/** reads Accept; 406 when nothing it lists can be produced */
export function acceptedOutput(req: FastifyRequest): Output {
  const accept = req.headers.accept
  if (!accept) return { format: 'json', stripNulls: false }
  const ranges = accept.split(',').map((part) => {
    const [type, ...params] = part.split(';').map((s) => s.trim().toLowerCase())
    return { type, params, q: Number(params.find((p) => p.startsWith('q='))?.slice(2) ?? 1) }
  }).filter((r) => r.q > 0).sort((a, b) => b.q - a.q)
  for (const { type, params } of ranges) {
    const stripNulls = params.includes('nulls=stripped')
    if (type === 'application/json' || type === 'application/vnd.pgrst.array+json' || type === '*/*' || type === 'application/*') return { format: 'json', stripNulls }
    if (type === 'application/vnd.pgrst.object+json' || type === 'application/vnd.pgrst.object') return { format: 'object', stripNulls }
    if (type === 'text/csv') return { format: 'csv', stripNulls: false }
  }
  throw new AppError('not_acceptable', `none of the media types in Accept can be produced: ${accept}`, {
    hint: 'use application/json, application/vnd.pgrst.object+json or text/csv',
  })
}

export function singularBody(body: string, rows: number): string {
  if (rows !== 1) {
    throw new AppError('singular_row_expected', 'JSON object requested, multiple (or no) rows returned', { detail: `The result contains ${rows} rows` })
  }
  // the database's JSON array of one object, without its brackets
  return body.slice(body.indexOf('[') + 1, body.lastIndexOf(']')).trim()
}

function csvOf(body: string): string {
  const rows = JSON.parse(body) as Array<Record<string, unknown>>
  if (!rows.length) return ''
  const columns = Object.keys(rows[0])
  return stringify(rows.map((r) => columns.map((c) => {
    const v = r[c]
    return v !== null && typeof v === 'object' ? JSON.stringify(v) : v
  })), { header: true, columns })
}

/** sends a page of rows (JSON array text) in the chosen format */
export function sendRows(reply: FastifyReply, output: Output, body: string, rows: number, envelope: boolean) {
  switch (output.format) {
    case 'object':
      return reply.type(JSON_TYPE).send(singularBody(body, rows))
    case 'csv':
      return reply.type('text/csv; charset=utf-8').send(csvOf(body))
    default:
      return reply.type(JSON_TYPE).send(envelope ? `{"data":${body}}` : body)
  }
}

/** a large read streamed as a bare JSON array (or inside the envelope) */
export function sendStream(reply: FastifyReply, stream: StreamedRead, envelope: boolean) {
  const body: Readable = envelope ? streamJson('{"data":', stream, '}') : streamJson('', stream, '')
  return reply.type(JSON_TYPE).send(body)
}
