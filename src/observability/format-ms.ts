// Durations as text on every request (Server-Timing, the request log): printed from integers, since turning a
// fraction into text is the costly part of building those strings.

const SCALES = [1, 10, 100, 1000]

/** `ms` rounded to `places` decimals (0–3), with trailing zeros: 7.3 at 2 places is "7.30" */
export function formatMs(ms: number, places: 0 | 1 | 2 | 3): string {
  const scale = SCALES[places]
  const n = Math.round(ms * scale)
  if (!(n >= 0 && n <= Number.MAX_SAFE_INTEGER)) return String(ms) // not a duration a clock gives
  if (places === 0) return String(n)
  const frac = n % scale
  const pad = places === 3 ? (frac < 10 ? '00' : frac < 100 ? '0' : '') : places === 2 && frac < 10 ? '0' : ''
  return `${(n - frac) / scale}.${pad}${frac}`
}
