// PostgreSQL extensions from a fixed allow-list, installed with an audit row in the same transaction.
import { AppError } from '../errors/app-error.js'
import { quoteIdent } from './identifiers.js'
import { authorizeManagement, runManagedChange, type ManagementDeps } from './run-managed-change.js'
import type { RequestContext } from '../request-context.js'
import type { ManagementResult } from './table-operations.js'

// Trusted, widely packaged extensions that add types, functions or index support and no server-wide hooks.
export const ALLOWED_EXTENSIONS: readonly string[] = [
  'pgcrypto', 'uuid-ossp', 'citext', 'hstore', 'pg_trgm', 'btree_gin', 'btree_gist', 'unaccent', 'fuzzystrmatch',
  'ltree', 'intarray', 'tablefunc', 'cube', 'isn', 'vector',
]

export async function installExtension(deps: ManagementDeps, ctx: RequestContext, input: { extension_name: string; if_not_exists?: boolean }): Promise<ManagementResult> {
  authorizeManagement(ctx, 'management.extensions.install')
  if (ctx.source.dialect !== 'postgres') {
    throw new AppError('unsupported_feature', 'extensions exist only on PostgreSQL; this client is MySQL/MariaDB')
  }
  const name = String(input.extension_name ?? '').trim().toLowerCase()
  if (!ALLOWED_EXTENSIONS.includes(name)) {
    throw new AppError('extension_not_allowed', `extension ${JSON.stringify(name.slice(0, 63))} is not on the allow-list`, {
      data: { allowed_extensions: [...ALLOWED_EXTENSIONS] },
    })
  }
  const ifNotExists = input.if_not_exists === true
  const sql = `CREATE EXTENSION ${ifNotExists ? 'IF NOT EXISTS ' : ''}${quoteIdent('postgres', name)}`
  const outcome = await runManagedChange(deps, ctx, {
    operation: 'management.extensions.install',
    objectSchema: null,
    objectName: name,
    details: { if_not_exists: ifNotExists },
    existsCode: 'extension_exists',
    plan: async (db) => {
      const res = await db.query({ sql: 'SELECT installed_version FROM pg_available_extensions WHERE name = $1', params: [name] })
      if (!res.rows[0]) throw new AppError('unsupported_feature', `extension "${name}" is allowed but not available on this PostgreSQL server (its package is not installed)`)
      if (res.rows[0].installed_version !== null && !ifNotExists) {
        throw new AppError('extension_exists', `extension "${name}" is already installed (version ${res.rows[0].installed_version})`, { hint: 'send if_not_exists: true to accept an existing installation' })
      }
      return [sql]
    },
  })
  return { message: `Extension ${name} installed`, data: { operation: 'install_extension', extension_name: name, ...outcome } }
}
