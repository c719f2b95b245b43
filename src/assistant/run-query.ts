// Validated SQL run on a connection: read-only transaction for reads, the assistant's row cap and the raw-SQL byte
// cap, and the rows reshaped to {columns, rows, row_count}.
import type { ClassifiedSql } from '../sql/classify.js'
import { runSql, type ResultCap } from '../sql/run-sql.js'
import type { DbSchema } from '../sources/schema.js'
import type { Source } from '../sources/source.js'
import { checkNames, classifyFor } from './validate-sql.js'

export interface QueryResults {
  columns: string[]
  rows: unknown[][]
  row_count: number
  truncated: boolean
  affected_rows: number
}

/** parse, names, class: everything that decides whether the SQL may run, in that order */
export async function validateSql(source: Source, schema: DbSchema, sql: string, allowWrites: boolean): Promise<ClassifiedSql> {
  await checkNames(source, schema, sql)
  return classifyFor(source, sql, allowWrites)
}

export async function runValidated(source: Source, classified: ClassifiedSql, cap: ResultCap, signal?: AbortSignal): Promise<QueryResults> {
  const result = await runSql(source, classified, { readOnly: classified.class === 'read', cap, signal })
  const objects = JSON.parse(result.data) as Array<Record<string, unknown>>
  const columns = objects.length ? Object.keys(objects[0]) : []
  return {
    columns,
    rows: objects.map((o) => columns.map((c) => o[c])),
    row_count: objects.length,
    truncated: result.truncated,
    affected_rows: classified.class === 'write' ? result.affected : 0,
  }
}
