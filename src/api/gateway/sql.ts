// Raw SQL: POST /gateway/query, POST /gateway/sql and POST /query/sql (client named in the body).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { classifyRawSqlFor, runRawSql } from '../../data/run-raw-sql.js'
import { AppError } from '../../errors/app-error.js'
import type { GatewayDeps } from './deps.js'
import type { Source } from '../../sources/source.js'
import { plural, sendEnvelope } from './respond.js'
import { authorizeBodyClient } from '../../http/access-control.js'
import { ClientHeader, QuerySqlBody, SqlBody } from './schemas.js'
import { contextOf } from '../../http/request-context.js'

async function runAndReply(services: GatewayDeps, req: FastifyRequest, reply: FastifyReply, source: Source, query: string | undefined) {
  if (!query) throw new AppError('invalid_request', 'body.query must hold the SQL to run')
  let out: Awaited<ReturnType<typeof runRawSql>>
  try {
    out = await runRawSql(services, contextOf(req), query)
  } catch (err) {
    // past the deadline the request was already answered with request_timeout, and its SQL cancelled
    if (reply.sent) return reply
    throw err
  }
  if (reply.sent) return reply
  req.logContext.sqlClass = out.sqlClass
  return sendEnvelope(reply, `Query returned ${plural(out.returned, 'row')}`, out.data, {
    meta: {
      backend: source.dialect === 'postgres' ? 'postgresql' : 'mysql',
      returned_row_count: out.returned,
      rows_affected: out.affected,
      statement_count: out.statementCount,
      sql_class: out.sqlClass,
      // the rows stop at gateway.rawSql.maxRows / maxBytes; returned_row_count counts the rows sent
      truncated: out.truncated,
    },
  })
}

/** dry_run: the class the SQL would run as and whether the caller may run it; nothing runs */
async function classifyAndReply(req: FastifyRequest, reply: FastifyReply, query: string | undefined) {
  if (!query) throw new AppError('invalid_request', 'body.query must hold the SQL to classify')
  const out = await classifyRawSqlFor(contextOf(req), query)
  return sendEnvelope(reply, `Query classified as ${out.sqlClass}`, '[]', {
    meta: {
      dry_run: true,
      sql_class: out.sqlClass,
      statement_count: out.statementCount,
      required_right: out.requiredRight,
      allowed: out.allowed,
      ...(out.reason ? { reason: out.reason } : {}),
    },
  })
}

export function sqlRoutes(app: FastifyInstance, services: GatewayDeps): void {
  for (const url of ['/gateway/query', '/gateway/sql']) {
    app.post(url, {
      config: { operation: url === '/gateway/query' ? 'gateway.query' : 'gateway.sql', access: 'client' },
      schema: { summary: 'Run raw SQL on the selected client (statements run in one transaction)', tags: ['sql'], headers: ClientHeader, body: SqlBody },
    }, (req, reply) => {
      const body = req.body as { query?: string; sql?: string; dry_run?: unknown }
      if (body.dry_run === true) return classifyAndReply(req, reply, body.query ?? body.sql)
      return runAndReply(services, req, reply, req.source, body.query ?? body.sql)
    })
  }

  app.post('/query/sql', {
    config: { operation: 'query.sql', access: 'client-in-body' },
    schema: { summary: 'Execute SQL using selected driver on the client named by db_name', tags: ['sql'], body: QuerySqlBody },
  }, async (req, reply) => {
    const body = req.body as { query: string; db_name: string }
    await authorizeBodyClient(services, req, body.db_name)
    return runAndReply(services, req, reply, req.source, body.query)
  })
}
