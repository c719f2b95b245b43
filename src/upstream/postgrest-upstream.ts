// Forwards structured gateway requests to a PostgREST upstream (X-Athena-Client: custom_supabase with
// x-supabase-url / x-supabase-key). Only hosts on the configured allow-list are reachable, so the headers
// cannot turn Atrium into a proxy for the internal network.
import { AppError } from '../errors/app-error.js'
import type { DeleteQuery, InsertQuery, ReadQuery, UpdateQuery } from '../query/ast.js'
import { serializeQuery } from '../query/serialize/postgrest.js'
import { trimmedHeader } from '../query/parse/headers.js'

export const CUSTOM_SUPABASE = 'custom_supabase'

export interface Upstream {
  base: URL
  key: string
  timeoutMs: number
  /** waits for (or refuses) an outbound slot for this host */
  acquire?: (host: string) => Promise<void>
}

export interface UpstreamResult {
  /** JSON array text from the upstream */
  body: string
  rows: number
}

function hostAllowed(host: string, allowed: readonly string[]): boolean {
  return allowed.some((pattern) => (pattern.startsWith('*.') ? host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1 : host === pattern))
}

export function upstreamFrom(headers: Record<string, string | string[] | undefined>, opts: { allowedHosts: readonly string[]; timeoutMs: number; acquire?: Upstream['acquire'] }): Upstream {
  const url = trimmedHeader(headers, 'x-supabase-url')
  const key = trimmedHeader(headers, 'x-supabase-key')
  if (!url || !key) throw new AppError('invalid_upstream', 'X-Athena-Client: custom_supabase needs x-supabase-url and x-supabase-key headers')
  let base: URL
  try {
    base = new URL(url)
  } catch {
    throw new AppError('invalid_upstream', 'x-supabase-url is not a URL')
  }
  if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new AppError('invalid_upstream', 'x-supabase-url must be http(s)')
  if (!hostAllowed(base.hostname, opts.allowedHosts)) {
    throw new AppError('invalid_upstream', `upstream host "${base.hostname}" is not allowed`, { hint: 'an administrator can allow it with gateway.upstreamAllowedHosts' })
  }
  return { base, key, timeoutMs: opts.timeoutMs, acquire: opts.acquire }
}

async function call(up: Upstream, method: string, table: string, query: string, body?: unknown, prefer?: string): Promise<UpstreamResult> {
  const url = new URL(`${up.base.pathname.replace(/\/$/, '')}/rest/v1/${encodeURIComponent(table)}${query ? `?${query}` : ''}`, up.base)
  await up.acquire?.(up.base.host)
  let res: Response
  try {
    res = await fetch(url, {
      method,
      headers: {
        apikey: up.key,
        authorization: `Bearer ${up.key}`,
        accept: 'application/json',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(prefer ? { prefer } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(up.timeoutMs),
      redirect: 'error',
    })
  } catch (err) {
    const reason = (err as Error).name === 'TimeoutError' ? `no answer within ${up.timeoutMs} ms` : ((err as Error).cause as Error)?.message ?? (err as Error).message
    throw new AppError('upstream_error', `the PostgREST upstream could not be reached: ${reason}`, { retryAfter: 5 })
  }
  const text = await res.text()
  if (!res.ok) {
    let detail: { message?: string; code?: string; details?: string; hint?: string } = {}
    try {
      detail = JSON.parse(text)
    } catch {
      /* not JSON: keep the status only */
    }
    const message = `upstream answered ${res.status}: ${detail.message ?? res.statusText}`
    throw new AppError(res.status >= 500 ? 'upstream_error' : 'upstream_rejected', message, { detail: detail.details ?? undefined, hint: detail.hint ?? undefined, data: { upstream_status: res.status, upstream_code: detail.code } })
  }
  let parsed: unknown
  try {
    parsed = text ? JSON.parse(text) : []
  } catch {
    throw new AppError('upstream_error', 'the PostgREST upstream answered with something that is not JSON')
  }
  const rows = Array.isArray(parsed) ? parsed : [parsed]
  return { body: JSON.stringify(rows), rows: rows.length }
}

export function forwardRead(up: Upstream, ast: ReadQuery): Promise<UpstreamResult> {
  if (ast.group) throw new AppError('unsupported_feature', 'group_by cannot be forwarded to a PostgREST upstream')
  return call(up, 'GET', ast.relation.name, serializeQuery({ select: ast.select, where: ast.where, order: ast.order, limit: ast.limit, offset: ast.offset }))
}

export function forwardInsert(up: Upstream, ast: InsertQuery): Promise<UpstreamResult> {
  if (ast.onConflict?.set) throw new AppError('unsupported_feature', 'update_body cannot be forwarded to a PostgREST upstream; use on_conflict alone to merge')
  const prefer = ['return=representation', ast.onConflict ? `resolution=${ast.onConflict.action === 'ignore' ? 'ignore' : 'merge'}-duplicates` : '', ast.missing === 'default' ? 'missing=default' : '']
  return call(up, 'POST', ast.relation.name, serializeQuery({ select: ast.returning ?? undefined, onConflict: ast.onConflict?.columns }), ast.rows, prefer.filter(Boolean).join(','))
}

export function forwardUpdate(up: Upstream, ast: UpdateQuery): Promise<UpstreamResult> {
  if (!ast.where.length) throw new AppError('missing_filter', 'update needs at least one filter')
  return call(up, 'PATCH', ast.relation.name, serializeQuery({ select: ast.returning ?? undefined, where: ast.where }), ast.set, 'return=representation')
}

export function forwardDelete(up: Upstream, ast: DeleteQuery): Promise<UpstreamResult> {
  if (!ast.where.length) throw new AppError('missing_filter', 'delete needs at least one filter')
  return call(up, 'DELETE', ast.relation.name, serializeQuery({ select: ast.returning ?? undefined, where: ast.where }), undefined, 'return=representation')
}
