// Profiles a CSV, JSON (or JSON lines) or Parquet file with DuckDB: row count, and per column its type, nulls,
// distinct values, min, max and a few sample values. Each profile gets its own in-memory DuckDB, one thread and a
// memory limit, which can read only the directory holding the file (no other files, no network, no extensions).
import { DuckDBInstance } from '@duckdb/node-api'
import { AppError } from '../errors/app-error.js'

export type FileFormat = 'csv' | 'json' | 'parquet'

export interface ColumnProfile {
  name: string
  type: string
  nulls: number
  distinct: number | null
  min: unknown
  max: unknown
  samples: unknown[]
}

export interface FileProfile {
  format: FileFormat
  row_count: number
  columns: ColumnProfile[]
}

const FORMATS: Record<string, FileFormat> = { csv: 'csv', tsv: 'csv', txt: 'csv', json: 'json', jsonl: 'json', ndjson: 'json', parquet: 'parquet' }
const READERS: Record<FileFormat, string> = { csv: 'read_csv_auto', json: 'read_json_auto', parquet: 'read_parquet' }
const SAMPLES = 3
/** nested values have no useful order; their min, max and distinct count are left out */
const NESTED = /^(STRUCT|MAP|UNION)|\[\]$|^LIST/

/** the format a file name's extension says, or 415 */
export function formatOf(fileName: string): FileFormat {
  const ext = fileName.toLowerCase().split('.').pop() ?? ''
  const format = FORMATS[ext]
  if (!format) {
    throw new AppError('unsupported_media_type', `cannot profile "${fileName}": the file must end in .csv, .tsv, .json, .jsonl, .ndjson or .parquet`)
  }
  return format
}

const literal = (text: string) => `'${text.replaceAll("'", "''")}'`
const ident = (name: string) => `"${name.replaceAll('"', '""')}"`
const count = (v: unknown) => Number(v ?? 0)

/** profiles the file at `path` (inside `dir`, the only directory DuckDB may read) */
export async function profileFile(dir: string, path: string, format: FileFormat, memoryMb: number): Promise<FileProfile> {
  const instance = await DuckDBInstance.create(':memory:', {
    threads: '1',
    memory_limit: `${Math.trunc(memoryMb)}MB`,
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  })
  const db = await instance.connect()
  try {
    // allowed first, then everything else off, then the configuration locked against the queries below
    await db.run(`SET allowed_directories = [${literal(dir)}]`)
    await db.run('SET enable_external_access = false')
    await db.run('SET lock_configuration = true')
    // read once into memory: the statistics and samples below each scan it again
    await db.run(`CREATE TABLE profiled AS SELECT * FROM ${READERS[format]}(${literal(path)})`)
    const source = 'profiled'
    const described = await read(db, `DESCRIBE ${source}`)
    const columns = described.map((r) => ({ name: String(r.column_name), type: String(r.column_type) }))
    const parts = ['count(*) AS "rows"']
    columns.forEach((c, i) => {
      const q = ident(c.name)
      parts.push(`count(*) - count(${q}) AS "n${i}"`)
      if (!NESTED.test(c.type)) parts.push(`count(DISTINCT ${q}) AS "d${i}"`, `min(${q}) AS "lo${i}"`, `max(${q}) AS "hi${i}"`)
    })
    const [totals] = await read(db, `SELECT ${parts.join(', ')} FROM ${source}`)
    const profiled: ColumnProfile[] = []
    for (const [i, c] of columns.entries()) {
      const samples = await read(db, `SELECT DISTINCT ${ident(c.name)} AS v FROM ${source} WHERE ${ident(c.name)} IS NOT NULL LIMIT ${SAMPLES}`)
      const nested = NESTED.test(c.type)
      profiled.push({
        name: c.name,
        type: c.type,
        nulls: count(totals[`n${i}`]),
        distinct: nested ? null : count(totals[`d${i}`]),
        min: nested ? null : totals[`lo${i}`] ?? null,
        max: nested ? null : totals[`hi${i}`] ?? null,
        samples: samples.map((s) => s.v),
      })
    }
    return { format, row_count: count(totals.rows), columns: profiled }
  } catch (err) {
    if (err instanceof AppError) throw err
    // the message names the file by its temporary path; only its name is the caller's
    const why = String((err as Error).message).split('\n')[0].replaceAll(`${dir}/`, '').slice(0, 300)
    throw new AppError('invalid_request', `the file cannot be read as ${format.toUpperCase()}: ${why}`)
  } finally {
    db.closeSync()
    instance.closeSync()
  }
}

async function read(db: Awaited<ReturnType<DuckDBInstance['connect']>>, sql: string): Promise<Array<Record<string, unknown>>> {
  const reader = await db.runAndReadAll(sql)
  return reader.getRowObjectsJson() as Array<Record<string, unknown>>
}
