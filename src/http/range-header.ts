// HTTP's Range request header, as the routes that stream stored objects read it (RFC 9110 §14.2).
import type { ByteRange } from '../objects/object-store.js'

/** one range of Range: bytes=…; anything else (several ranges, other units) is ignored and the whole object sent, as RFC 9110 allows */
export function parseRangeHeader(header: string | undefined): ByteRange | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header?.trim() ?? '')
  if (!m || (m[1] === '' && m[2] === '')) return undefined
  if (m[1] === '') return { suffix: Number(m[2]) }
  return { start: Number(m[1]), end: m[2] === '' ? undefined : Number(m[2]) }
}
