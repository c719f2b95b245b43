// Writes rows a DuckDB query yields as an Avro object container file (avsc), chunk by chunk so a large result
// never sits in memory. Column types map to Avro the way BigQuery's Avro exports do: DECIMAL as bytes with the
// decimal logical type, dates and timestamps as int/long with their logical types, 64-bit integers exactly
// (BigInt, never through a double); anything Avro has no type for is written as its text.
import { createWriteStream } from 'node:fs'
import { once } from 'node:events'
import { pipeline } from 'node:stream/promises'
import type { DuckDBConnection } from '@duckdb/node-api'
import avro from 'avsc'
import { AppError } from '../../errors/app-error.js'
import type { ResultColumn } from '../engine.js'

type AvroSchema = string | Record<string, unknown>

interface FieldPlan {
  /** the Avro field name (column names that are not Avro names are rewritten; the original goes in doc) */
  name: string
  schema: AvroSchema
  /** the column as the SELECT reads it, already in the shape `convert` expects */
  expr: string
  convert: (value: unknown) => unknown
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`
const asText = (v: unknown) => String(v)

/** a DECIMAL's text (DuckDB prints every scale digit) → its unscaled value in big-endian two's complement */
function decimalBytes(text: unknown): Buffer {
  let unscaled = BigInt(String(text).replace('.', ''))
  const bytes: number[] = []
  // the shortest two's complement that still carries the sign
  do {
    bytes.unshift(Number(unscaled & 0xffn))
    unscaled >>= 8n
  } while (!((unscaled === 0n && (bytes[0]! & 0x80) === 0) || (unscaled === -1n && (bytes[0]! & 0x80) !== 0)))
  return Buffer.from(bytes)
}

/**
 * avsc builds the long under a logical type without the BigInt long of the registry, so timestamps go as
 * numbers: exact for every instant from 1685 to 2255 (2^53 microseconds around 1970); others are refused.
 */
function micros(v: unknown): number {
  const n = Number(v as bigint)
  if (!Number.isSafeInteger(n)) throw new AppError('invalid_request', `the timestamp ${String(v)}µs after 1970 is outside what an Avro export writes exactly (years 1685–2255)`)
  return n
}

function planField(col: ResultColumn): Omit<FieldPlan, 'name'> {
  const c = quote(col.name)
  const type = col.type.toUpperCase()
  const decimal = /^DECIMAL\((\d+),(\d+)\)$/.exec(type)
  if (decimal) return { schema: { type: 'bytes', logicalType: 'decimal', precision: Number(decimal[1]), scale: Number(decimal[2]) }, expr: `CAST(${c} AS VARCHAR)`, convert: decimalBytes }
  if (type.endsWith(']') || type.startsWith('STRUCT') || type.startsWith('MAP') || type.startsWith('UNION')) {
    // nested values as JSON text, which every reader can parse back
    return { schema: 'string', expr: `CAST(to_json(${c}) AS VARCHAR)`, convert: asText }
  }
  switch (type) {
    case 'BOOLEAN': return { schema: 'boolean', expr: c, convert: Boolean }
    case 'TINYINT': case 'SMALLINT': case 'INTEGER': case 'UTINYINT': case 'USMALLINT':
      return { schema: 'int', expr: c, convert: Number }
    case 'BIGINT': case 'UINTEGER':
      return { schema: 'long', expr: `CAST(${c} AS BIGINT)`, convert: (v) => BigInt(v as bigint) }
    case 'FLOAT': return { schema: 'float', expr: c, convert: Number }
    case 'DOUBLE': return { schema: 'double', expr: c, convert: Number }
    case 'DATE': return { schema: { type: 'int', logicalType: 'date' }, expr: `CAST(date_diff('day', DATE '1970-01-01', ${c}) AS INTEGER)`, convert: Number }
    // a TIMESTAMP has no time zone: Avro's local-timestamp; a TIMESTAMPTZ is an instant
    case 'TIMESTAMP': return { schema: { type: 'long', logicalType: 'local-timestamp-micros' }, expr: `epoch_us(${c})`, convert: micros }
    case 'TIMESTAMP WITH TIME ZONE': case 'TIMESTAMPTZ':
      return { schema: { type: 'long', logicalType: 'timestamp-micros' }, expr: `epoch_us(${c})`, convert: micros }
    case 'BLOB': return { schema: 'bytes', expr: c, convert: (v) => Buffer.from((v as { bytes: Uint8Array }).bytes) }
    case 'UUID': return { schema: { type: 'string', logicalType: 'uuid' }, expr: `CAST(${c} AS VARCHAR)`, convert: asText }
    // VARCHAR, JSON (its text), TIME, INTERVAL, HUGEINT and the 64/128-bit unsigned: text
    default: return { schema: 'string', expr: `CAST(${c} AS VARCHAR)`, convert: asText }
  }
}

/** Avro names are [A-Za-z_][A-Za-z0-9_]*, unique in a record */
function avroNames(columns: readonly ResultColumn[]): string[] {
  const used = new Set<string>()
  return columns.map((col) => {
    let name = col.name.replace(/[^A-Za-z0-9_]/g, '_')
    if (!/^[A-Za-z_]/.test(name)) name = `_${name}`
    let unique = name
    for (let i = 2; used.has(unique); i++) unique = `${name}_${i}`
    used.add(unique)
    return unique
  })
}

/** Avro's long as a BigInt, so 64-bit integers keep every digit (avsc's default long is a double) */
export const bigintLong = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
  toBuffer: (n: bigint) => {
    const buf = Buffer.alloc(8)
    buf.writeBigInt64LE(n)
    return buf
  },
  fromJSON: (v: unknown) => BigInt(v as string),
  toJSON: (n: bigint) => (n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString()),
  isValid: (n: unknown) => typeof n === 'bigint',
  compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
})

/** the record schema of a result; every field may be null, as every column of a query result may */
export function avroSchemaOf(columns: readonly ResultColumn[]): Record<string, unknown> {
  const names = avroNames(columns)
  return {
    type: 'record',
    name: 'Row',
    namespace: 'atrium.workspace',
    fields: columns.map((col, i) => ({ name: names[i], type: ['null', planField(col).schema], default: null, ...(names[i] !== col.name ? { doc: col.name } : {}) })),
  }
}

/**
 * Runs `sourceSql` on `c` and writes its rows to `file` as an Avro container with the block codec `codec`.
 * Returns the number of rows written.
 */
export async function writeAvroFile(c: DuckDBConnection, sourceSql: string, columns: readonly ResultColumn[], file: string, codec: 'deflate' | 'null'): Promise<number> {
  const plans = columns.map(planField)
  const names = avroNames(columns)
  // wrapped unions: avsc cannot tell a BigInt's branch in an unwrapped one, so each value names its branch
  const schema = avroSchemaOf(columns)
  const type = avro.Type.forSchema(schema as avro.Schema, { registry: { long: bigintLong }, wrapUnions: true }) as avro.Type & { fields: Array<{ type: { types: Array<{ branchName: string }> } }> }
  // the file's header carries the schema as written above: avsc's own rendering drops the attributes of logical
  // types it does not implement (decimal's precision and scale), which readers need
  // (avsc's types are frozen: a child object answers getSchema, everything else comes from the type)
  const headerType = Object.create(type, { getSchema: { value: () => schema } }) as avro.Type
  const branches = type.fields.map((f) => f.type.types[1]!.branchName)
  const encoder = new avro.streams.BlockEncoder(headerType, { codec })
  const written = pipeline(encoder, createWriteStream(file, { mode: 0o600 }))
  const select = `SELECT ${plans.map((p, i) => `${p.expr} AS c${i}`).join(', ')} FROM (${sourceSql})`
  let rows = 0
  try {
    const result = await c.stream(select)
    for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
      for (const values of chunk.getRows()) {
        const record: Record<string, unknown> = {}
        values.forEach((v, i) => { record[names[i]!] = v === null ? null : { [branches[i]!]: plans[i]!.convert(v) } })
        if (!encoder.write(record)) await once(encoder, 'drain')
        rows++
      }
    }
    encoder.end()
  } catch (err) {
    encoder.destroy(err as Error)
    await written.catch(() => {})
    throw err
  }
  await written
  return rows
}
