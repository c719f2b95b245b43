// Output formats of /rest/v1: JSON arrays (optionally in the legacy {"data":…} envelope), single objects
// (application/vnd.pgrst.object+json) and CSV, as chosen from Accept by query/parse/accept.ts. JSON arrays and CSV stream.
import { Readable } from 'node:stream'
import type { FastifyReply } from 'fastify'
import { stringify } from 'csv-stringify/sync'
import { AppError } from '../../errors/app-error.js'
import type { Output } from '../../query/parse/accept.js'
import type { StreamedRead } from '../../query/run/runner.js'
import { streamJson } from '../gateway/respond.js'
import { parseKeepingNumberText } from './csv-numbers.js'

export type { Format, Output } from '../../query/parse/accept.js'

const JSON_TYPE = 'application/json; charset=utf-8'

/** the single-object type needs exactly one row */
export function requireSingleRow(rows: number): void {
  if (rows !== 1) {
    throw new AppError('singular_row_expected', 'JSON object requested, multiple (or no) rows returned', { detail: `The result contains ${rows} rows` })
  }
}

export function singularBody(body: string, rows: number): string {
  requireSingleRow(rows)
  // the database's JSON array of one object, without its brackets
  return body.slice(body.indexOf('[') + 1, body.lastIndexOf(']')).trim()
}

const CSV_TYPE = 'text/csv; charset=utf-8'

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)

/** one CSV field: NULL is empty, JSON values are JSON text, booleans true/false (csv-stringify would write 1 and '') */
function csvCell(v: unknown): unknown {
  if (v !== null && typeof v === 'object') return JSON.stringify(v)
  return typeof v === 'boolean' ? String(v) : v
}

/**
 * Writes rows as CSV, chunk after chunk, with one header: the first row's keys. A row that is not an object
 * (a value of a SETOF scalar function) is one column named `valueColumn`.
 *   write([{ id: 1, tags: ['a'] }]) → 'id,tags\n1,"[""a""]"\n'      write(['paid']) → 'statuses\npaid\n'
 */
export class CsvWriter {
  private columns: string[] | undefined

  constructor(private readonly valueColumn = 'value') {}

  write(rows: unknown[]): string {
    if (!rows.length) return ''
    const header = this.columns === undefined
    const columns = (this.columns ??= isRecord(rows[0]) ? Object.keys(rows[0]) : [this.valueColumn])
    return stringify(rows.map((r) => (isRecord(r) ? columns.map((c) => csvCell(r[c])) : [csvCell(r)])), { header, columns })
  }
}

/** sends a page of rows (JSON array text) in the chosen format; `valueColumn` names the CSV column of scalar rows */
export function sendRows(reply: FastifyReply, output: Output, body: string, rows: number, envelope: boolean, valueColumn?: string) {
  switch (output.format) {
    case 'object':
      return reply.type(JSON_TYPE).send(singularBody(body, rows))
    case 'csv':
      return reply.type(CSV_TYPE).send(new CsvWriter(valueColumn).write(parseKeepingNumberText(body, 2) as unknown[]))
    default:
      return reply.type(JSON_TYPE).send(envelope ? `{"data":${body}}` : body)
  }
}

/**
 * sends one value (a scalar function's result, JSON text): as is for JSON and the single-object type, and
 * as CSV one row of one column named `name`, even when the value is a JSON object or array
 */
export function sendValue(reply: FastifyReply, output: Output, name: string, body: string) {
  if (output.format !== 'csv') return reply.type(JSON_TYPE).send(body)
  return reply.type(CSV_TYPE).send(stringify([[csvCell(parseKeepingNumberText(body, 0))]], { header: true, columns: [name] }))
}

/** a large read streamed in the chosen format (JSON or CSV; single objects are never streamed) */
export function sendStream(reply: FastifyReply, output: Output, stream: StreamedRead, envelope: boolean) {
  if (output.format === 'csv') return reply.type(CSV_TYPE).send(streamCsv(stream))
  const body: Readable = envelope ? streamJson('{"data":', stream, '}') : streamJson('', stream, '')
  return reply.type(JSON_TYPE).send(body)
}

/**
 * CSV from the cursor's chunks of JSON row texts, one chunk at a time, so memory stays bounded as for
 * JSON; the header comes from the first row. The cursor closes when the client goes away.
 */
function streamCsv(stream: StreamedRead): Readable {
  async function* body() {
    const writer = new CsvWriter()
    try {
      for await (const chunk of stream.chunks) {
        const text = writer.write(chunk.map((row) => parseKeepingNumberText(row, 1)))
        if (text) yield text
      }
    } finally {
      await stream.close()
    }
  }
  return Readable.from(body(), { objectMode: false })
}
