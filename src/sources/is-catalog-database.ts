// Tells whether a data-source URL points at Atrium's catalog database. Compares where the URLs lead (host,
// port, database), not how they are spelled; it never connects.

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]', '0.0.0.0', ''])

interface Target {
  host: string
  port: string
  database: string
}

/** host, port and database as libpq would resolve them; undefined for URLs that cannot reach PostgreSQL */
function targetOf(url: string): Target | undefined {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return undefined
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') return undefined
  // ?host= and ?port= override the authority, as in libpq; a socket directory is this machine
  const rawHost = (u.searchParams.get('host') ?? decodeURIComponent(u.hostname)).toLowerCase()
  const host = LOOPBACK.has(rawHost) || rawHost.startsWith('/') || rawHost.startsWith('127.') ? 'loopback' : rawHost
  const port = u.searchParams.get('port') ?? (u.port || '5432')
  // without a database in the URL, PostgreSQL uses the user name (and the driver's default user, postgres)
  const user = decodeURIComponent(u.username) || u.searchParams.get('user') || 'postgres'
  const database = decodeURIComponent(u.pathname.slice(1)) || u.searchParams.get('dbname') || user
  return { host, port, database }
}

/**
 * true when `url` reaches the same database as `catalogUrl`:
 *   isCatalogDatabase('postgres://a@localhost/atrium', 'postgres://b:pw@127.0.0.1:5432/atrium') → true
 *   isCatalogDatabase('postgres://a@127.0.0.1/shop', 'postgres://b@127.0.0.1/atrium') → false
 */
export function isCatalogDatabase(url: string, catalogUrl: string): boolean {
  const a = targetOf(url)
  const b = targetOf(catalogUrl)
  return !!a && !!b && a.host === b.host && a.port === b.port && a.database === b.database
}
