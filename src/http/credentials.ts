// Finds the key (or session token) a request presents, in every place the gateway spec allows, without reading the body.

import { headerValue } from '../query/parse/headers.js'

interface RequestLike {
  headers: Record<string, string | string[] | undefined>
  url: string
}

/** apikey, Authorization: Bearer, X-API-Key, X-Athena-Key, then ?api_key= */
export function presentedKey(req: RequestLike): string | undefined {
  const h = req.headers
  const bearer = headerValue(h, 'authorization')
  const fromBearer = bearer && /^bearer\s+/i.test(bearer) ? bearer.replace(/^bearer\s+/i, '').trim() : undefined
  const key = headerValue(h, 'apikey') ?? fromBearer ?? headerValue(h, 'x-api-key') ?? headerValue(h, 'x-athena-key') ?? queryKey(req.url)
  return key?.trim() || undefined
}

/** three base64url parts, the first starting with `ey` (`{"`): what a compact JWS looks like */
const JWT_SHAPE = /^ey[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/

/**
 * The token of `Authorization: Bearer <token>` when it looks like a JWT (a session, not an API key). Only the
 * header's first bytes are looked at for anything else, so requests with API keys pay next to nothing.
 */
export function presentedSessionToken(req: RequestLike): string | undefined {
  const header = headerValue(req.headers, 'authorization')
  if (!header || header.length > 16_384) return undefined
  const space = header.indexOf(' ')
  if (space !== 6 || header.charCodeAt(space + 1) !== 101 /* e */ || header.slice(0, 6).toLowerCase() !== 'bearer') return undefined
  const token = header.slice(space + 1).trim()
  return JWT_SHAPE.test(token) ? token : undefined
}

function queryKey(url: string): string | undefined {
  const q = url.indexOf('?')
  if (q < 0 || !url.includes('api_key=', q)) return undefined
  return new URLSearchParams(url.slice(q + 1)).get('api_key') ?? undefined
}
