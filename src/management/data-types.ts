// The column data types the management API accepts, per dialect, parsed into one canonical spelling.
// The SQL type text is always rebuilt from the parsed parts, never copied from the request.
import { AppError } from '../errors/app-error.js'
import type { Dialect } from '../sources/dialects.js'

type Params = 'none' | 'length' | 'optional-length' | 'precision-scale'

interface TypeSpec {
  /** canonical SQL spelling */
  sql: string
  params: Params
  aliases?: string[]
  /** maximum length / precision */
  max?: number
}

const POSTGRES_TYPES: TypeSpec[] = [
  { sql: 'smallint', params: 'none', aliases: ['int2'] },
  { sql: 'integer', params: 'none', aliases: ['int', 'int4'] },
  { sql: 'bigint', params: 'none', aliases: ['int8'] },
  { sql: 'real', params: 'none', aliases: ['float4'] },
  { sql: 'double precision', params: 'none', aliases: ['float8'] },
  { sql: 'numeric', params: 'precision-scale', aliases: ['decimal'], max: 1000 },
  { sql: 'boolean', params: 'none', aliases: ['bool'] },
  { sql: 'text', params: 'none' },
  { sql: 'varchar', params: 'optional-length', aliases: ['character varying'], max: 10_485_760 },
  { sql: 'char', params: 'optional-length', aliases: ['character'], max: 10_485_760 },
  { sql: 'uuid', params: 'none' },
  { sql: 'date', params: 'none' },
  { sql: 'time', params: 'none', aliases: ['time without time zone'] },
  { sql: 'timestamp', params: 'none', aliases: ['timestamp without time zone'] },
  { sql: 'timestamptz', params: 'none', aliases: ['timestamp with time zone'] },
  { sql: 'interval', params: 'none' },
  { sql: 'json', params: 'none' },
  { sql: 'jsonb', params: 'none' },
  { sql: 'bytea', params: 'none' },
  { sql: 'inet', params: 'none' },
]

const MYSQL_TYPES: TypeSpec[] = [
  { sql: 'TINYINT', params: 'none' },
  { sql: 'SMALLINT', params: 'none' },
  { sql: 'INT', params: 'none', aliases: ['integer'] },
  { sql: 'BIGINT', params: 'none' },
  { sql: 'FLOAT', params: 'none', aliases: ['real'] },
  { sql: 'DOUBLE', params: 'none', aliases: ['double precision'] },
  { sql: 'DECIMAL', params: 'precision-scale', aliases: ['numeric'], max: 65 },
  { sql: 'BOOLEAN', params: 'none', aliases: ['bool'] },
  { sql: 'VARCHAR', params: 'length', max: 16_383 },
  { sql: 'CHAR', params: 'length', max: 255 },
  { sql: 'TEXT', params: 'none' },
  { sql: 'MEDIUMTEXT', params: 'none' },
  { sql: 'LONGTEXT', params: 'none' },
  { sql: 'JSON', params: 'none' },
  { sql: 'DATE', params: 'none' },
  { sql: 'TIME', params: 'none' },
  { sql: 'DATETIME', params: 'none' },
  { sql: 'TIMESTAMP', params: 'none' },
  { sql: 'BLOB', params: 'none' },
]

const TYPES: Record<Dialect, TypeSpec[]> = { postgres: POSTGRES_TYPES, mysql: MYSQL_TYPES }

/** the allow-list as capabilities show it */
export function allowedDataTypes(dialect: Dialect): string[] {
  return TYPES[dialect].map((t) => {
    const name = t.sql.toLowerCase()
    return t.params === 'length' ? `${name}(n)` : t.params === 'optional-length' ? `${name}[(n)]` : t.params === 'precision-scale' ? `${name}[(p[,s])]` : name
  }).concat(dialect === 'postgres' ? ['<any of these>[] (arrays)'] : [])
}

// name, optional "(a)" or "(a,b)", optional "[]"; whitespace normalised before matching
const SHAPE = /^([a-z][a-z0-9 ]*?)\s*(?:\(\s*(\d{1,8})\s*(?:,\s*(\d{1,8})\s*)?\))?\s*(\[\])?$/

export function parseDataType(dialect: Dialect, input: string): string {
  const normalised = input.trim().toLowerCase().replace(/\s+/g, ' ')
  const m = normalised.length <= 64 ? SHAPE.exec(normalised) : null
  const spec = m ? TYPES[dialect].find((t) => t.sql.toLowerCase() === m[1] || t.aliases?.includes(m[1])) : undefined
  if (!m || !spec) throw notAllowed(dialect, input)
  const [, , a, b, array] = m
  if (array && dialect !== 'postgres') throw notAllowed(dialect, input, 'arrays exist only on PostgreSQL')
  let args = ''
  if (spec.params === 'none' && a !== undefined) throw notAllowed(dialect, input, `${spec.sql.toLowerCase()} takes no length or precision`)
  if ((spec.params === 'length' || spec.params === 'optional-length') && b !== undefined) throw notAllowed(dialect, input, `${spec.sql.toLowerCase()} takes one length`)
  if (spec.params === 'length' && a === undefined) throw notAllowed(dialect, input, `${spec.sql.toLowerCase()} needs a length, e.g. ${spec.sql.toLowerCase()}(255)`)
  if (a !== undefined) {
    const first = Number(a)
    if (first < 1 || first > (spec.max ?? 0)) throw notAllowed(dialect, input, `${spec.sql.toLowerCase()} accepts 1 to ${spec.max}`)
    if (b !== undefined && Number(b) > first) throw notAllowed(dialect, input, 'the scale cannot exceed the precision')
    args = b === undefined ? `(${first})` : `(${first},${Number(b)})`
  }
  return `${spec.sql}${args}${array ? '[]' : ''}`
}

function notAllowed(dialect: Dialect, input: string, reason?: string): AppError {
  return new AppError('data_type_not_allowed', `data type ${JSON.stringify(input.slice(0, 80))} is not allowed${reason ? `: ${reason}` : ''}`, {
    hint: 'GET /management/capabilities lists allowed_column_data_types',
    data: { allowed_column_data_types: allowedDataTypes(dialect) },
  })
}
