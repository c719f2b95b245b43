// One database's provisioning and destruction never overlap, in any process: each holds a session advisory
// lock on the catalog, on a connection of its own (so a slow server never holds a catalog pool connection).
import pg from 'pg'

// any constant; it only has to differ from Atrium's other advisory lock classes
const LOCK_CLASS = 727_274_014

export async function withDatabaseLock<T>(catalogUrl: string, databaseId: string, fn: () => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: catalogUrl, application_name: 'atrium-provisioning-lock' })
  client.on('error', () => {})
  await client.connect()
  try {
    await client.query('SELECT pg_advisory_lock($1, hashtext($2))', [LOCK_CLASS, databaseId])
    return await fn()
  } finally {
    // ending the session releases the lock, also when the unlock itself fails
    await client.end().catch(() => {})
  }
}
