// What each export format × compression writes: the file's extension and content type, and where the compression
// goes — inside the format (Parquet's page codec, Avro's block codec) or around the whole file (CSV, JSON). Pure.
// docs/workspace.md shows the same table; BigQuery's export semantics are the reference where it has them.

export const EXPORT_FORMATS = ['CSV', 'JSON', 'AVRO', 'PARQUET'] as const
export const EXPORT_COMPRESSIONS = ['GZIP', 'DEFLATE', 'NONE'] as const
export type ExportFormat = (typeof EXPORT_FORMATS)[number]
export type ExportCompression = (typeof EXPORT_COMPRESSIONS)[number]

export interface ExportLayout {
  /** the file name's extension, without the dot: csv.gz, parquet, avro … */
  extension: string
  contentType: string
  /** compression of the whole file after it is written: gzip (RFC 1952) or deflate in zlib framing (RFC 1950) */
  wholeFile: 'gzip' | 'deflate' | null
  /** Parquet's page codec (DuckDB's COPY … COMPRESSION name) */
  parquetCodec?: 'gzip' | 'uncompressed'
  /** Avro's block codec (the container file's avro.codec) */
  avroCodec?: 'deflate' | 'null'
}

const WHOLE_FILE_SUFFIX = { GZIP: '.gz', DEFLATE: '.deflate', NONE: '' } as const
const WHOLE_FILE = { GZIP: 'gzip', DEFLATE: 'deflate', NONE: null } as const

export function exportLayout(format: ExportFormat, compression: ExportCompression): ExportLayout {
  switch (format) {
    // text formats have no codec of their own: the whole file is compressed, as BigQuery does for GZIP
    case 'CSV':
      return { extension: `csv${WHOLE_FILE_SUFFIX[compression]}`, contentType: 'text/csv', wholeFile: WHOLE_FILE[compression] }
    // newline-delimited JSON, one object per row (BigQuery's NEWLINE_DELIMITED_JSON)
    case 'JSON':
      return { extension: `json${WHOLE_FILE_SUFFIX[compression]}`, contentType: 'application/x-ndjson', wholeFile: WHOLE_FILE[compression] }
    // Parquet compresses its pages itself; it has no DEFLATE codec, and its GZIP codec is DEFLATE in gzip framing,
    // so DEFLATE asks for that same codec rather than wrapping a file every Parquet reader could not open
    case 'PARQUET':
      return { extension: 'parquet', contentType: 'application/vnd.apache.parquet', wholeFile: null, parquetCodec: compression === 'NONE' ? 'uncompressed' : 'gzip' }
    // Avro compresses its blocks with "deflate"; the Avro specification has no gzip codec, so GZIP is a standard
    // uncompressed Avro container file gzipped whole (.avro.gz), which gunzip followed by any Avro reader opens
    case 'AVRO':
      return compression === 'GZIP'
        ? { extension: 'avro.gz', contentType: 'application/avro', wholeFile: 'gzip', avroCodec: 'null' }
        : { extension: 'avro', contentType: 'application/avro', wholeFile: null, avroCodec: compression === 'DEFLATE' ? 'deflate' : 'null' }
  }
}

/** what a compressed file is sent as: its own type for internal codecs, the wrapper's type for whole-file ones */
export function downloadContentType(layout: ExportLayout): string {
  if (layout.wholeFile === 'gzip') return 'application/gzip'
  if (layout.wholeFile === 'deflate') return 'application/zlib'
  return layout.contentType
}
