// Content-Range and the status of a /rest/v1 page (200, 206 or 416); the requested window is parsed in query/parse/range.ts.
import type { Window } from '../../query/parse/range.js'

/** `0-24/*`, `0-24/100`, or `*\/0` for an empty page */
export function contentRange(offset: number, rows: number, total: number | undefined): string {
  const size = total === undefined ? '*' : String(total)
  return rows > 0 ? `${offset}-${offset + rows - 1}/${size}` : `*/${size}`
}

/**
 * 206 when a count shows the page holds less than everything; 416 when the requested start lies past the
 * end (or, without a count, when a range starting beyond the first row came back empty).
 */
export function pageStatus(window: Window, rows: number, total: number | undefined): 200 | 206 | 416 {
  if (window.explicit && window.offset > 0 && rows === 0 && (total === undefined || window.offset >= total)) return 416
  if (total !== undefined && rows < total && (window.offset > 0 || rows > 0 || window.limit === 0)) return 206
  return 200
}
