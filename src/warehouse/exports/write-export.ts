// Writes the rows of a DuckDB SELECT to one export file in a directory the tenant's database may write (its
// results folder): CSV, newline-delimited JSON and Parquet through DuckDB's own COPY writers, Avro through avsc;
// then the whole-file compression the layout asks for, streamed through node:zlib. No object store here.
import { createReadStream, createWriteStream, statSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { createDeflate, createGzip } from 'node:zlib'
import type { DuckDBConnection } from '@duckdb/node-api'
import type { ResultColumn } from '../engine.js'
import { writeAvroFile } from './avro-file.js'
import type { ExportLayout, ExportFormat } from './export-formats.js'

export interface WrittenExport {
  file: string
  rows: number
  bytes: number
}

/** a path as a SQL string literal (the data directory may hold any character) */
const literal = (text: string) => `'${text.replaceAll("'", "''")}'`

const COPY_OPTIONS: Record<Exclude<ExportFormat, 'AVRO'>, (layout: ExportLayout) => string> = {
  CSV: () => 'FORMAT csv, HEADER true',
  // DuckDB's JSON writer writes one object per line (newline-delimited), as BigQuery's JSON exports are
  JSON: () => 'FORMAT json',
  PARQUET: (layout) => `FORMAT parquet, COMPRESSION ${layout.parquetCodec}`,
}

/**
 * `sourceSql` is a SELECT built by Atrium (a stored result, or a table with its private columns masked); its
 * columns are `columns`. The file is `<dir>/<baseName>.<extension>`; temporary files go in `dir` too.
 */
export async function writeExport(c: DuckDBConnection, opts: {
  sourceSql: string
  columns: readonly ResultColumn[]
  format: ExportFormat
  layout: ExportLayout
  dir: string
  baseName: string
}): Promise<WrittenExport> {
  const { layout } = opts
  const file = join(opts.dir, `${opts.baseName}.${layout.extension}`)
  const raw = layout.wholeFile ? join(opts.dir, `${opts.baseName}.raw`) : file
  try {
    let rows: number
    if (opts.format === 'AVRO') {
      rows = await writeAvroFile(c, opts.sourceSql, opts.columns, raw, layout.avroCodec ?? 'null')
    } else {
      const copied = await c.runAndReadAll(`COPY (${opts.sourceSql}) TO ${literal(raw)} (${COPY_OPTIONS[opts.format](layout)})`)
      rows = Number(copied.getRows()[0]?.[0] ?? 0)
    }
    if (layout.wholeFile) {
      await pipeline(createReadStream(raw), layout.wholeFile === 'gzip' ? createGzip() : createDeflate(), createWriteStream(file, { mode: 0o600 }))
    }
    return { file, rows, bytes: statSync(file).size }
  } catch (err) {
    await rm(file, { force: true })
    throw err
  } finally {
    if (raw !== file) await rm(raw, { force: true })
  }
}
