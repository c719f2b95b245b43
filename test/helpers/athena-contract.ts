// Checks response bodies against the response schemas of the gateway spec (spec/athena-openapi.yaml, the project's copy of the contract).
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { dereference } from '@readme/openapi-parser'
import { Ajv } from 'ajv'
import addFormats from 'ajv-formats'
import { parse as parseYaml } from 'yaml'

const SPEC_PATH = new URL('../../spec/athena-openapi.yaml', import.meta.url)

let specPromise: Promise<any> | undefined
function loadSpec(): Promise<any> {
  specPromise ??= dereference(parseYaml(readFileSync(SPEC_PATH, 'utf8')))
  return specPromise
}

// OpenAPI 3.0 schemas: `nullable` is understood by Ajv; `example` and friends are annotations.
const ajv = new Ajv({ strict: false, allErrors: true })
;(addFormats as unknown as (a: Ajv) => void)(ajv)

/** the JSON response schema the spec defines for this operation and status, if any */
export async function specSchema(method: string, path: string, status: number): Promise<object | undefined> {
  const spec = await loadSpec()
  const op = spec.paths?.[path]?.[method.toLowerCase()]
  assert.ok(op, `the spec has no ${method} ${path}`)
  const response = op.responses?.[String(status)]
  assert.ok(response, `the spec has no ${status} response for ${method} ${path}`)
  return response.content?.['application/json']?.schema
}

/** asserts `body` matches the spec's schema; returns false when the spec defines none */
export async function assertMatchesSpec(method: string, path: string, status: number, body: unknown): Promise<boolean> {
  const schema = await specSchema(method, path, status)
  if (!schema) return false
  const validate = ajv.compile(schema)
  const ok = validate(body)
  assert.ok(ok, `${method} ${path} ${status} does not match the spec: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 500)}`)
  return true
}
