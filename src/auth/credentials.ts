// Finds the key a request presents, in every place the gateway spec allows, without reading the body.

interface RequestLike {
  headers: Record<string, string | string[] | undefined>
  url: string
}

const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v)

/** apikey, Authorization: Bearer, X-API-Key, X-Athena-Key, then ?api_key= */
export function presentedKey(req: RequestLike): string | undefined {
  const h = req.headers
  const bearer = first(h.authorization)
  const fromBearer = bearer && /^bearer\s+/i.test(bearer) ? bearer.replace(/^bearer\s+/i, '').trim() : undefined
  const key = first(h.apikey) ?? fromBearer ?? first(h['x-api-key']) ?? first(h['x-athena-key']) ?? queryKey(req.url)
  return key?.trim() || undefined
}

function queryKey(url: string): string | undefined {
  const q = url.indexOf('?')
  if (q < 0 || !url.includes('api_key=', q)) return undefined
  return new URLSearchParams(url.slice(q + 1)).get('api_key') ?? undefined
}
