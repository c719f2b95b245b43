// An agent's auth headers (an Atrium extension of the agents API): a few HTTP headers — `Authorization: Bearer …`,
// `X-API-Key: …` — sent on every connection to the agent's endpoint. Each value is sealed with the secret box
// before it reaches the catalog (atrium.ws_agents.auth_headers: name → sealed value); the names stay readable,
// since answers show them, and the values are opened only to make a call. Nothing here logs a value, and no
// error message repeats one.
import { open, seal } from '../auth/secret-box.js'
import { AppError } from '../errors/app-error.js'
import type { FetchLike } from './guarded-fetch.js'

/** header name → sealed value, as stored */
export type SealedHeaders = Record<string, string>

export const MAX_AUTH_HEADERS = 8
export const MAX_AUTH_HEADER_VALUE_BYTES = 4096
const MAX_NAME_LENGTH = 256

// an HTTP field name is a token (RFC 9110 §5.1)
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
// a field value: visible characters, spaces and tabs (and obs-text), what Node's HTTP client accepts; no CR, LF or NUL
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/
// hop-by-hop headers and those the connection itself sets: a value given here would break the request or be dropped
const CONNECTION_HEADERS = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'content-length'])
// headers the MCP and A2A clients set for their protocol: a replacement would break it
const PROTOCOL_HEADERS = new Set(['content-type', 'accept', 'mcp-session-id', 'mcp-protocol-version', 'last-event-id'])

const LOC = ['body', 'auth_headers']

const invalid = (message: string, name?: string) => new AppError('agent_auth_headers_invalid', message, {
  hint: 'auth_headers is an object of header name → value, e.g. {"Authorization": "Bearer <token>"}; null removes them',
  data: { loc: name === undefined ? LOC : [...LOC, name] },
})

/**
 * Checks the auth_headers of a create or update: at most 8 headers, each named by an HTTP token that is not a
 * hop-by-hop or protocol header, with a value of at most 4 kB that a request can carry. `{}` means none.
 */
export function checkAuthHeaders(input: unknown): Record<string, string> | null {
  if (input === null) return null
  if (typeof input !== 'object' || Array.isArray(input)) throw invalid('auth_headers must be an object of header name → value, or null')
  const entries = Object.entries(input as Record<string, unknown>)
  if (entries.length > MAX_AUTH_HEADERS) throw invalid(`auth_headers: at most ${MAX_AUTH_HEADERS} headers, not ${entries.length}`)
  const seen = new Set<string>()
  for (const [name, value] of entries) {
    const lower = name.toLowerCase()
    if (!TOKEN.test(name) || name.length > MAX_NAME_LENGTH) {
      throw invalid(`auth_headers: "${printable(name)}" is not a valid header name (letters, digits and !#$%&'*+-.^_\`|~, at most ${MAX_NAME_LENGTH})`, name)
    }
    if (CONNECTION_HEADERS.has(lower)) throw invalid(`auth_headers: ${name} is a connection header; Atrium sets it for each request`, name)
    if (PROTOCOL_HEADERS.has(lower)) throw invalid(`auth_headers: ${name} is set by the agent's protocol client and cannot be replaced`, name)
    if (seen.has(lower)) throw invalid(`auth_headers: ${name} is given twice (header names are case-insensitive)`, name)
    seen.add(lower)
    if (typeof value !== 'string' || value.length === 0) throw invalid(`auth_headers: the value of ${name} must be a non-empty string`, name)
    if (Buffer.byteLength(value, 'utf8') > MAX_AUTH_HEADER_VALUE_BYTES) throw invalid(`auth_headers: the value of ${name} is longer than ${MAX_AUTH_HEADER_VALUE_BYTES} bytes`, name)
    if (/[\r\n]/.test(value)) throw invalid(`auth_headers: the value of ${name} contains a line break (CR or LF), which would split the request`, name)
    if (!FIELD_VALUE.test(value)) throw invalid(`auth_headers: the value of ${name} contains a control character or a character outside Latin-1`, name)
  }
  return entries.length === 0 ? null : (input as Record<string, string>)
}

export function sealHeaders(key: Buffer, headers: Record<string, string> | null): SealedHeaders | null {
  if (!headers) return null
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, seal(key, value)]))
}

/** the names only: what answers show */
export const headerNames = (sealed: SealedHeaders | null): string[] | null => (sealed ? Object.keys(sealed) : null)

/** the values, to make a call; a value sealed under another secret key cannot be opened */
export function openHeaders(key: Buffer, sealed: SealedHeaders | null): Record<string, string> | null {
  if (!sealed) return null
  try {
    return Object.fromEntries(Object.entries(sealed).map(([name, value]) => [name, open(key, value)]))
  } catch {
    throw Object.assign(new Error('the agent\'s auth_headers cannot be opened with this server\'s secret key (ATRIUM_SECRET_KEY changed?); set them again with PUT /api/v1/agents/{agent_id}'), { code: 'EAUTHHEADERS' })
  }
}

/**
 * A fetch that adds the headers to requests for the endpoint's own origin only: a URL on another host — say
 * one an A2A agent card names — is not sent the agent's credential. The values are opened at the first request,
 * so one that cannot be opened fails the call (reported as its error), not the request that set it up.
 */
export function withAuthHeaders(fetch: FetchLike, endpoint: URL, key: Buffer, sealed: SealedHeaders | null): FetchLike {
  if (!sealed) return fetch
  let headers: Record<string, string> | null = null
  return async (url, init = {}) => {
    if (new URL(String(url)).origin !== endpoint.origin) return fetch(url, init)
    headers ??= openHeaders(key, sealed)
    const merged = new Headers(init.headers)
    for (const [name, value] of Object.entries(headers ?? {})) merged.set(name, value)
    return fetch(url, { ...init, headers: merged })
  }
}

/** a name as it may be shown: control characters replaced, and not too long */
const printable = (s: string) => s.replace(/[^\x20-\x7e]/g, '?').slice(0, 80)
