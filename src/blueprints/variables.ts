// A blueprint's declared variables and how their values enter SQL: `{{name}}` becomes a quoted literal (string,
// number, boolean) or a quoted identifier, written by the engine's own quoting functions, never the raw value.
import mysql from 'mysql2'
import pg from 'pg'
import { AppError } from '../errors/app-error.js'
import type { Engine } from '../provisioning/managed-servers.js'
import { scanSql } from './sql-lexer.js'

export const VARIABLE_TYPES = ['string', 'number', 'boolean', 'identifier'] as const
export type VariableType = (typeof VARIABLE_TYPES)[number]
export type VariableValue = string | number | boolean

export interface VariableDeclaration {
  type: VariableType
  required: boolean
  default?: VariableValue
  description?: string
}

export type Declarations = Record<string, VariableDeclaration>

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/
const MAX_STRING = 65_536

const invalid = (field: string, message: string) => new AppError('validation_failed', message, { data: { field } })

/**
 * The `variables` of a create or update: `{name: "type"}` or `{name: {type, default?, required?, description?}}`.
 * A variable with a default is optional unless `required` says otherwise.
 */
export function parseDeclarations(raw: unknown): Declarations {
  if (raw === undefined || raw === null) return {}
  if (typeof raw !== 'object' || Array.isArray(raw)) throw invalid('variables', 'variables must be an object of name → type or {type, default, required, description}')
  const out: Declarations = {}
  for (const [name, spec] of Object.entries(raw as Record<string, unknown>)) {
    const field = `variables.${name}`
    if (!NAME.test(name)) throw invalid(field, `variable name "${name}" must be letters, digits and "_", starting with a letter or "_" (at most 63)`)
    const decl = typeof spec === 'string' ? { type: spec } : spec
    if (!decl || typeof decl !== 'object' || Array.isArray(decl)) throw invalid(field, `${field} must be a type name or an object with a type`)
    const { type, default: def, required, description, ...rest } = decl as Record<string, unknown>
    const unknown = Object.keys(rest)[0]
    if (unknown) throw invalid(`${field}.${unknown}`, `${field} has an unknown field "${unknown}" (allowed: type, default, required, description)`)
    if (!VARIABLE_TYPES.includes(type as VariableType)) throw invalid(`${field}.type`, `${field}.type must be one of ${VARIABLE_TYPES.join(', ')}`)
    if (required !== undefined && typeof required !== 'boolean') throw invalid(`${field}.required`, `${field}.required must be a boolean`)
    if (description !== undefined && (typeof description !== 'string' || description.length > 1000)) throw invalid(`${field}.description`, `${field}.description must be a string of at most 1000 characters`)
    const declaration: VariableDeclaration = { type: type as VariableType, required: required ?? def === undefined }
    if (def !== undefined) declaration.default = checkValue(`${field}.default`, declaration.type, def)
    if (description !== undefined) declaration.description = description as string
    out[name] = declaration
  }
  return out
}

/** a value of the declared type, or a 422 naming the field */
function checkValue(field: string, type: VariableType, value: unknown): VariableValue {
  switch (type) {
    case 'string':
      if (typeof value !== 'string' || value.length > MAX_STRING) throw invalid(field, `${field} must be a string of at most ${MAX_STRING} characters`)
      if (value.includes('\0')) throw invalid(field, `${field} must not contain NUL characters`)
      return value
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(field, `${field} must be a finite number`)
      return value
    case 'boolean':
      if (typeof value !== 'boolean') throw invalid(field, `${field} must be true or false`)
      return value
    case 'identifier':
      if (typeof value !== 'string' || value.length < 1 || value.length > 63 || value.includes('\0')) throw invalid(field, `${field} must be an identifier of 1-63 characters`)
      return value
  }
}

/** the values an application binds: each declared variable from `given` or its default; unknown names are refused */
export function resolveValues(declarations: Declarations, given: Record<string, unknown> | null | undefined): Record<string, VariableValue> {
  const values: Record<string, VariableValue> = {}
  for (const name of Object.keys(given ?? {})) {
    if (!declarations[name]) throw invalid(`variables.${name}`, `the blueprint declares no variable "${name}"${Object.keys(declarations).length ? ` (it declares ${Object.keys(declarations).join(', ')})` : ''}`)
  }
  for (const [name, decl] of Object.entries(declarations)) {
    const value = given?.[name]
    if (value === undefined || value === null) {
      if (decl.default !== undefined) values[name] = decl.default
      else if (decl.required) throw new AppError('missing_required_field', `Missing required field: variables.${name} (${decl.type})`, { data: { field: `variables.${name}` } })
      continue
    }
    values[name] = checkValue(`variables.${name}`, decl.type, value)
  }
  return values
}

/** the SQL text of one value, quoted by the engine's driver */
export function quoteValue(engine: Engine, type: VariableType, value: VariableValue): string {
  if (type === 'identifier') return engine === 'postgres' ? pg.escapeIdentifier(String(value)) : mysql.escapeId(String(value), true)
  if (type === 'boolean') return value ? 'TRUE' : 'FALSE'
  if (type === 'number') return (value as number) < 0 ? `(${String(value)})` : String(value)
  return engine === 'postgres' ? pg.escapeLiteral(String(value)) : mysqlLiteral(String(value))
}

/**
 * A MySQL string literal that no sql_mode can end early: quotes are doubled (valid with and without
 * NO_BACKSLASH_ESCAPES, which a blueprint could switch on in its session) and backslashes doubled (the value
 * is exact in the default mode; with NO_BACKSLASH_ESCAPES a backslash would read twice, never as SQL).
 */
function mysqlLiteral(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`
}

/** a stand-in value per type, to parse a template whose values are not known yet */
const SAMPLE: Record<VariableType, VariableValue> = { string: 'x', number: 0, boolean: true, identifier: 'x' }

/**
 * The template with each `{{name}}` in code replaced by its quoted value (or, without values, a stand-in of its
 * type). Undeclared placeholders are reported by offset, not replaced.
 */
export function renderTemplate(text: string, engine: Engine, declarations: Declarations, values?: Record<string, VariableValue>): { sql: string; undeclared: Array<{ name: string; offset: number }>; offsets: Array<[number, number]> } {
  const { placeholders } = scanSql(text, engine)
  const undeclared: Array<{ name: string; offset: number }> = []
  // [offset in the rendered SQL, offset in the template] at each change, to map parser positions back
  const offsets: Array<[number, number]> = [[0, 0]]
  let sql = ''
  let from = 0
  for (const p of placeholders) {
    const decl = declarations[p.name]
    if (!decl) { undeclared.push({ name: p.name, offset: p.start }); continue }
    sql += text.slice(from, p.start)
    const value = values ? values[p.name] : SAMPLE[decl.type]
    // an optional variable without a value is SQL NULL (identifiers are always required or defaulted)
    sql += value === undefined ? 'NULL' : quoteValue(engine, decl.type, value)
    from = p.end
    offsets.push([sql.length, p.end])
  }
  sql += text.slice(from)
  return { sql, undeclared, offsets }
}

/** maps an offset of the rendered SQL back to the template */
export function templateOffset(offsets: Array<[number, number]>, renderedOffset: number): number {
  let best: [number, number] = [0, 0]
  for (const o of offsets) if (o[0] <= renderedOffset) best = o
  return best[1] + (renderedOffset - best[0])
}
