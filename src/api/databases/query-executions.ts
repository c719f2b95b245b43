// POST /api/v1/query_executions: a natural-language question about one of the team's databases becomes SQL
// through the Assistant's provider layer, is validated like every generated statement (parser, schema, class),
// held to the key's scopes (queries:write; writes only when asked for and the key also holds databases:write;
// never DDL), runs with maxRows and is recorded (query_id).
import { Type, type Static } from '@sinclair/typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { askSource, type AssistantDeps } from '../../assistant/chat.js'
import type { PlatformPrincipal } from '../../auth/principal.js'
import { AppError } from '../../errors/app-error.js'
import type { DatabasesApiDeps } from './deps.js'

// The Databases family receives the whole platform; this route also needs the Assistant's parts. Declared here,
// beside the one route that uses them, so the family's deps.ts stays as it is.
declare module './deps.js' {
  interface DatabasesApiDeps {
    assistant: AssistantDeps
  }
}

const Body = Type.Object({
  database_uuid: Type.String({ format: 'uuid' }),
  query: Type.String({ minLength: 1, maxLength: 2000 }),
  /** a configured provider (GET /api/providers of the Assistant lists them); the first one by default */
  provider: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
  /** let the statement write (never DDL); needs the databases:write scope too */
  allow_writes: Type.Optional(Type.Boolean()),
  maxRows: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
}, { additionalProperties: false })

const principalOf = (req: FastifyRequest) => req.principal as PlatformPrincipal

async function record(deps: DatabasesApiDeps, databaseId: string, keyId: string, query: string): Promise<number> {
  const rows = await deps.assistant.catalog.rows<{ id: string }>(
    `INSERT INTO atrium.query_executions (database_id, platform_key_id, query, status) VALUES ($1, $2, $3, 'running') RETURNING id`,
    [databaseId, keyId, query],
  )
  return Number(rows[0].id)
}

async function finish(deps: DatabasesApiDeps, id: number, outcome: { sql: string | null; provider: string | null; error: unknown }): Promise<void> {
  await deps.assistant.catalog.rows(
    `UPDATE atrium.query_executions SET status = $2, sql = $3, provider = $4, error = $5::jsonb, finished_at = now() WHERE id = $1`,
    [id, outcome.error ? 'failed' : 'succeeded', outcome.sql, outcome.provider, outcome.error ? JSON.stringify(outcome.error) : null],
  )
}

export function queryExecutionRoutes(app: FastifyInstance, deps: DatabasesApiDeps): void {
  app.post('/query_executions', {
    config: { operation: 'databases.query_executions.create', scope: 'queries:write' },
    schema: { summary: 'Ask a database a question in natural language: validated SQL, run with maxRows', tags: ['databases'], body: Body },
  }, async (req) => {
    const body = req.body as Static<typeof Body>
    const principal = principalOf(req)
    if (body.allow_writes && !principal.scopes.has('databases:write')) {
      throw new AppError('missing_scope', 'allow_writes needs a key with the "databases:write" scope', { data: { required_scope: 'databases:write' } })
    }
    const database = await deps.databases.get({ teamIds: principal.teamIds, primaryTeamId: principal.primaryTeamId }, body.database_uuid)
    if (database.status !== 'active') {
      throw new AppError('database_not_active', `database ${database.id} is ${database.status}; queries run on active databases`, { data: { status: database.status } })
    }
    const source = deps.assistant.registry.get(database.db_name)
    if (!source) throw new AppError('assistant_connection_unavailable', `database ${database.id} is not loaded in this process yet`, { hint: 'try again in a moment' })
    const queryId = await record(deps, database.id, principal.publicId, body.query)
    try {
      const answer = await askSource(deps.assistant, source, { prompt: body.query, provider: body.provider, allowWrites: body.allow_writes === true, execute: true, maxRows: body.maxRows }, req.deadlineSignal())
      await finish(deps, queryId, { sql: answer.sql, provider: answer.provider, error: null })
      const results = answer.results!
      const type = /^\s*(select|with|values|table|show|explain)\b/i.test(answer.sql) && results.affected_rows === 0 ? 'SELECT' : answer.sql.trim().split(/\s+/)[0].toUpperCase()
      const result = type === 'SELECT'
        ? { type, rows: results.rows.map((r) => Object.fromEntries(results.columns.map((c, i) => [c, r[i]]))), rowCount: results.row_count, truncated: results.truncated, maxRows: Math.min(deps.assistant.config.assistant.maxRows, body.maxRows ?? Infinity) }
        : { type, affectedRows: results.affected_rows }
      return { success: true, sql: answer.sql, result, query_id: queryId, request_id: req.id }
    } catch (err) {
      const e = err instanceof AppError ? err : undefined
      await finish(deps, queryId, { sql: (e?.extra.data?.sql as string | undefined) ?? null, provider: null, error: { code: e?.code ?? 'internal_error', message: e?.message ?? 'failed' } }).catch(() => {})
      // the model's SQL still failing after its corrections is the spec's query_execution_failed
      if (e?.code === 'assistant_sql_invalid') {
        throw new AppError('query_execution_failed', e.message, { hint: e.extra.hint, data: { ...e.extra.data, query_id: queryId } })
      }
      if (e) e.extra.data = { ...e.extra.data, query_id: queryId }
      throw err
    }
  })
}
