// Reading request headers: the one place that turns Node's `string | string[] | undefined` into a value. It
// lives with parse, the lowest layer that reads headers; the HTTP layer and the upstream client use it too.
type Headers = Record<string, string | string[] | undefined>

/** the header's first value (Node joins most repeated headers, but not all), or undefined */
export function headerValue(headers: Headers, name: string): string | undefined {
  const v = headers[name]
  return Array.isArray(v) ? v[0] : v
}

/** the header's first value, trimmed; undefined when absent or blank */
export function trimmedHeader(headers: Headers, name: string): string | undefined {
  return headerValue(headers, name)?.trim() || undefined
}
