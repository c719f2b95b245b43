// Column default expressions: SQL text from the request is accepted only if it matches a small grammar,
// and the SQL that runs is rebuilt from the parsed value, never copied from the request.
//
//   default  := literal [ '::' type ]          (the cast only on PostgreSQL; type from the data-type allow-list)
//             | function
//   literal  := number | string | TRUE | FALSE | NULL
//   number   := ['-'] digits ['.' digits]       (at most 40 characters)
//   string   := "'" { any character but "'", "\" and control characters | "''" } "'"   (at most 1000)
//   function := now() | current_timestamp | current_date | current_time | localtimestamp
//             | gen_random_uuid()  (PostgreSQL)  | uuid()  (MySQL/MariaDB)
//
// Backslashes are refused so a literal means the same under every string-escaping mode of both databases.
import { AppError } from '../errors/app-error.js'
import type { Dialect } from '../sources/dialects.js'
import { parseDataType } from './data-types.js'

type DefaultValue =
  | { kind: 'number'; text: string }
  | { kind: 'string'; value: string }
  | { kind: 'keyword'; sql: 'TRUE' | 'FALSE' | 'NULL' }
  | { kind: 'function'; name: string }

const FUNCTIONS: Record<Dialect, Record<string, string>> = {
  postgres: {
    'now()': 'now()',
    current_timestamp: 'CURRENT_TIMESTAMP',
    current_date: 'CURRENT_DATE',
    current_time: 'CURRENT_TIME',
    localtimestamp: 'LOCALTIMESTAMP',
    'gen_random_uuid()': 'gen_random_uuid()',
  },
  mysql: {
    // MySQL wants expression defaults in parentheses; CURRENT_TIMESTAMP is the one bare exception
    'now()': 'CURRENT_TIMESTAMP',
    current_timestamp: 'CURRENT_TIMESTAMP',
    current_date: '(CURRENT_DATE)',
    current_time: '(CURRENT_TIME)',
    localtimestamp: 'CURRENT_TIMESTAMP',
    'uuid()': '(uuid())',
  },
}

const NUMBER = /^-?\d{1,30}(\.\d{1,30})?$/
const STRING = /^'((?:[^'\\\u0000-\u001f\u007f]|'')*)'$/
const MAX_LENGTH = 1_100

export function allowedDefaultFunctions(dialect: Dialect): string[] {
  return Object.keys(FUNCTIONS[dialect])
}

/** the SQL for a DEFAULT clause, rebuilt from the parsed expression; throws 400 for anything outside the grammar */
export function renderDefault(dialect: Dialect, input: string): string {
  const text = input.trim()
  if (text.length === 0 || text.length > MAX_LENGTH) throw invalid(dialect, input)
  // a cast is the last "::" outside a string literal, so split on the final one and check both halves
  const castAt = text.lastIndexOf('::')
  if (castAt > 0 && !STRING.test(text)) {
    if (dialect !== 'postgres') throw invalid(dialect, input, 'casts ("::type") exist only on PostgreSQL')
    const value = parseValue(dialect, text.slice(0, castAt).trim(), input)
    if (value.kind === 'function') throw invalid(dialect, input, 'only literals can be cast')
    let type: string
    try {
      type = parseDataType(dialect, text.slice(castAt + 2))
    } catch {
      throw invalid(dialect, input, 'a cast must name an allowed column data type')
    }
    return `${renderValue(dialect, value)}::${type}`
  }
  return renderValue(dialect, parseValue(dialect, text, input))
}

function parseValue(dialect: Dialect, text: string, input: string): DefaultValue {
  if (NUMBER.test(text)) return { kind: 'number', text }
  const str = STRING.exec(text)
  if (str) return { kind: 'string', value: str[1].replaceAll("''", "'") }
  const lower = text.toLowerCase().replace(/\s+/g, '')
  if (lower === 'true' || lower === 'false' || lower === 'null') return { kind: 'keyword', sql: lower.toUpperCase() as 'TRUE' | 'FALSE' | 'NULL' }
  if (lower in FUNCTIONS[dialect]) return { kind: 'function', name: lower }
  throw invalid(dialect, input)
}

function renderValue(dialect: Dialect, value: DefaultValue): string {
  switch (value.kind) {
    case 'number': return value.text
    case 'keyword': return value.sql
    case 'function': return FUNCTIONS[dialect][value.name]
    // quotes doubled; backslashes and control characters were refused by the grammar
    case 'string': return `'${value.value.replaceAll("'", "''")}'`
  }
}

function invalid(dialect: Dialect, input: string, reason?: string): AppError {
  return new AppError('invalid_default_expression', `default expression ${JSON.stringify(input.slice(0, 80))} is not allowed${reason ? `: ${reason}` : ''}`, {
    hint: `use a number, a 'quoted string', true, false, null${dialect === 'postgres' ? ", a literal cast such as '{}'::jsonb" : ''} or one of: ${allowedDefaultFunctions(dialect).join(', ')}`,
  })
}
