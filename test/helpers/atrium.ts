// Starts a real Atrium (in this process, on 127.0.0.1:0) with its own fresh catalog database, plus a small HTTP client.
import type { TestContext } from 'node:test'
import { rmSync } from 'node:fs'
import { Writable } from 'node:stream'
import { startAtrium, type AtriumHandle } from '../../src/boot.js'
import { loadConfig } from '../../src/config/load.js'
import { createPgDatabase, type TestDatabase } from './databases.js'

export const ADMIN_KEY = 'test-admin-key-0123456789abcdef'

export interface TestResponse<T = any> {
  status: number
  headers: Headers
  body: T
  text: string
}

export interface RequestOptions {
  /** X-Athena-Client */
  client?: string
  /** sent as apikey; defaults to the admin key, pass null for none */
  key?: string | null
  headers?: Record<string, string>
  body?: unknown
  /** raw body text (sent as is) */
  raw?: string
}

export interface TestAtrium {
  url: string
  handle: AtriumHandle
  catalog: TestDatabase
  /** everything the process logged, as text */
  logs(): string
  request<T = any>(method: string, path: string, opts?: RequestOptions): Promise<TestResponse<T>>
  get<T = any>(path: string, opts?: RequestOptions): Promise<TestResponse<T>>
  post<T = any>(path: string, opts?: RequestOptions): Promise<TestResponse<T>>
  close(): Promise<void>
}

export interface StartTestOptions {
  /** data sources by client name (url) */
  sources?: Record<string, string>
  /** environment variables as Atrium would read them */
  env?: Record<string, string>
  /** settings by dotted path, applied last */
  settings?: Record<string, unknown>
  /** reuse an existing catalog database (several processes sharing one catalog) */
  catalog?: TestDatabase
}

type Hooks = Pick<TestContext, 'after'>

/**
 * Servers still open on each catalog, and the catalogs this helper created. Servers sharing a catalog share
 * its data directory too. A test's `after` hooks run in the order they were added, so a catalog dropped by
 * its own hook would go (with its connections) before the servers using it close; the last server to close
 * removes the data directory and, when the helper created the catalog, drops it.
 */
const openOnCatalog = new Map<TestDatabase, number>()
const created = new Set<TestDatabase>()

export async function startTestAtrium(t: Hooks, opts: StartTestOptions = {}): Promise<TestAtrium> {
  const catalog = opts.catalog ?? (await createPgDatabase(null, 'atrium_catalog'))
  if (!opts.catalog) created.add(catalog)
  openOnCatalog.set(catalog, (openOnCatalog.get(catalog) ?? 0) + 1)
  const env: Record<string, string> = {
    DATABASE_URL: catalog.url,
    ATHENA_KEY_12: ADMIN_KEY,
    ATRIUM_DATA_DIR: `${process.cwd()}/.test-data/${catalog.name}`,
    ATRIUM_SECRET_KEY: 'test-secret-key-0123456789abcdef0123456789',
    HOST: '127.0.0.1',
    PORT: '0',
    ATRIUM_LOG_LEVEL: 'info',
    ...opts.env,
  }
  for (const [name, url] of Object.entries(opts.sources ?? {})) env[`ATRIUM_CLIENT_${name.toUpperCase()}`] = url
  let logText = ''
  const sink = new Writable({ write(chunk, _enc, cb) { logText += chunk.toString(); cb() } })
  let handle: AtriumHandle | undefined
  // registered before the start, so a catalog is dropped even when the start fails
  t.after(async () => {
    await handle?.close()
    const open = openOnCatalog.get(catalog)! - 1
    openOnCatalog.set(catalog, open)
    if (open > 0) return
    openOnCatalog.delete(catalog)
    rmSync(env.ATRIUM_DATA_DIR, { recursive: true, force: true })
    if (created.delete(catalog)) await catalog.drop()
  })
  handle = await startAtrium(loadConfig(env, opts.settings), { logDestination: sink })
  const url = handle.url
  const request = async <T>(method: string, path: string, o: RequestOptions = {}): Promise<TestResponse<T>> => {
    const headers: Record<string, string> = { ...(o.headers ?? {}) }
    if (o.client) headers['x-athena-client'] = o.client
    const key = o.key === undefined ? ADMIN_KEY : o.key
    if (key !== null && !Object.keys(headers).some((h) => h.toLowerCase() === 'apikey')) headers.apikey = key
    let body: string | undefined = o.raw
    if (o.body !== undefined) {
      body = JSON.stringify(o.body)
      headers['content-type'] ??= 'application/json'
    }
    const res = await fetch(`${url}${path}`, { method, headers, body })
    const text = await res.text()
    let parsed: unknown = text
    if ((res.headers.get('content-type') ?? '').includes('json') && text) {
      try { parsed = JSON.parse(text) } catch { parsed = text }
    }
    return { status: res.status, headers: res.headers, body: parsed as T, text }
  }
  const atrium: TestAtrium = {
    url,
    handle,
    catalog,
    logs: () => logText,
    request,
    get: (path, o) => request('GET', path, o),
    post: (path, o) => request('POST', path, o),
    close: () => handle.close(),
  }
  return atrium
}
