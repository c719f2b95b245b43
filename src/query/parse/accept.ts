// The Accept header of a PostgREST request → the output format (JSON array, single object, CSV) and whether
// null-valued keys are stripped. Framework-free; writing the chosen format is the surface's job.
import { AppError } from '../../errors/app-error.js'

export type Format = 'json' | 'object' | 'csv'

export interface Output {
  format: Format
  stripNulls: boolean
}

/**
 * The first producible media type by q-value; 406 when nothing listed can be produced.
 *   parseAccept('text/csv;q=0.5, application/vnd.pgrst.object+json') → { format: 'object', stripNulls: false }
 */
export function parseAccept(accept: string | undefined): Output {
  if (!accept) return { format: 'json', stripNulls: false }
  const ranges = accept.split(',').map((part) => {
    const [type, ...params] = part.split(';').map((s) => s.trim().toLowerCase())
    return { type, params, q: Number(params.find((p) => p.startsWith('q='))?.slice(2) ?? 1) }
  }).filter((r) => r.q > 0).sort((a, b) => b.q - a.q)
  for (const { type, params } of ranges) {
    const stripNulls = params.includes('nulls=stripped')
    if (type === 'application/json' || type === 'application/vnd.pgrst.array+json' || type === '*/*' || type === 'application/*') return { format: 'json', stripNulls }
    if (type === 'application/vnd.pgrst.object+json' || type === 'application/vnd.pgrst.object') return { format: 'object', stripNulls }
    if (type === 'text/csv') return { format: 'csv', stripNulls: false }
  }
  throw new AppError('not_acceptable', `none of the media types in Accept can be produced: ${accept}`, {
    hint: 'use application/json, application/vnd.pgrst.object+json or text/csv',
  })
}
