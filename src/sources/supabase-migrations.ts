// The Supabase CLI's migration history of a source (supabase_migrations.schema_migrations), for GET /schema/migrations.
// Read-only; a source without the table (or a MySQL source) has an empty history and a message saying why.
import type { AppError } from '../errors/app-error.js'
import type { Source } from './source.js'

export interface MigrationHistory {
  migrations: Array<{ version: string; name: string | null }>
  /** why the history is empty, when it is empty for a reason */
  message?: string
}

const UNDEFINED_COLUMN = '42703'

export async function listSupabaseMigrations(source: Source): Promise<MigrationHistory> {
  if (source.dialect !== 'postgres') return { migrations: [], message: 'schema migrations are a PostgreSQL (Supabase) feature; none on this client' }
  // Looked up first so a missing table is an answer, not an error.
  const present = await source.driver.query({ sql: "SELECT to_regclass('supabase_migrations.schema_migrations') IS NOT NULL AS present", params: [] })
  if (!present.rows[0]?.present) return { migrations: [], message: 'supabase_migrations.schema_migrations does not exist on this client' }
  const res = await source.driver.query({ sql: 'SELECT version::text AS version, name::text AS name FROM supabase_migrations.schema_migrations ORDER BY version', params: [] })
    .catch(async (err: AppError) => {
      // older Supabase CLIs created the table without a name column
      if (err.extra?.sqlstate !== UNDEFINED_COLUMN) throw err
      return source.driver.query({ sql: 'SELECT version::text AS version, NULL::text AS name FROM supabase_migrations.schema_migrations ORDER BY version', params: [] })
    })
  return { migrations: res.rows as MigrationHistory['migrations'] }
}
