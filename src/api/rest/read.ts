// GET and HEAD /rest/v1/{table}: PostgREST reads with filters, embeds, order, ranges, counts and formats.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { readRows } from '../../data/read-rows.js'
import { Timings } from '../../observability/timings.js'
import type { ReadQuery } from '../../query/ast.js'
import { parsePostgrestQuery, queryPairs } from '../../query/parse/postgrest.js'
import { plan, runnerFor } from '../../query/pipeline.js'
import { pageRows } from '../../query/run/runner.js'
import { requireOperation } from '../../auth/operation-rights.js'
import type { Services } from '../../services.js'
import { parsePrefer } from './prefer.js'
import { contentRange, pageStatus, requestWindow } from './range.js'
import { acceptedOutput, sendRows, sendStream } from './respond.js'
import { RestHeaders, TableParams, applyPreferences, relationOf } from './shared.js'

export function readRoute(app: FastifyInstance, services: Services): void {
  app.get('/:table', {
    exposeHeadRoute: false,
    config: { operation: 'rest.select', access: 'client' },
    schema: { summary: 'Read rows with PostgREST filters, embeds, order, ranges and counts', tags: ['rest'], params: TableParams, headers: RestHeaders },
  }, (req, reply) => read(services, req, reply))

  app.head('/:table', {
    config: { operation: 'rest.head', access: 'client' },
    schema: { summary: 'Count rows and get Content-Range without the body', tags: ['rest'], params: TableParams, headers: RestHeaders },
  }, (req, reply) => head(services, req, reply))
}

function readQuery(services: Services, req: FastifyRequest, stripNulls: boolean) {
  const timings = new Timings()
  const started = performance.now()
  const { table } = req.params as { table: string }
  const q = parsePostgrestQuery(queryPairs(req.url))
  const prefs = parsePrefer(req)
  const window = requestWindow(req, q, services.config.rest.maxRows)
  const ast: ReadQuery = {
    kind: 'read', relation: relationOf(req, table), select: q.select, where: q.where, order: q.order,
    limit: window.limit, offset: window.offset || undefined, count: prefs.count, stripNulls,
  }
  timings.add('parse', performance.now() - started)
  req.logContext.table = table
  return { ast, prefs, window, timings }
}

async function read(services: Services, req: FastifyRequest, reply: FastifyReply) {
  const output = acceptedOutput(req)
  const { ast, prefs, window, timings } = readQuery(services, req, output.stripNulls)
  const envelope = services.config.rest.envelope === 'data'
  // JSON arrays and CSV stream from the cursor when large; a single object is one row by definition
  const outcome = await readRows(services, req.source, req.principal, ast, { allowStream: output.format !== 'object', timings })
  reply.header('server-timing', timings.header())
  applyPreferences(reply, prefs)
  if (outcome.kind === 'stream') {
    const { stream } = outcome
    const total = prefs.count ? stream.total : undefined
    reply.header('content-range', contentRange(window.offset, stream.rows, total))
    return sendStream(reply.status(pageStatus(window, stream.rows, total)), output, stream, envelope)
  }
  const { result } = outcome
  const total = prefs.count ? result.total : undefined
  const status = pageStatus(window, result.rows, total)
  reply.header('content-range', contentRange(window.offset, result.rows, total))
  if (status === 416) return reply.status(416).send({ code: 'PGRST103', details: `An offset of ${window.offset} was requested, but there are only ${total ?? result.rows} rows.`, hint: null, message: 'Requested range not satisfiable' })
  return sendRows(reply.status(status), output, result.body, result.rows, envelope)
}

/** HEAD answers the same headers as GET from one count, without reading rows */
async function head(services: Services, req: FastifyRequest, reply: FastifyReply) {
  requireOperation(req.principal, 'rows.read')
  acceptedOutput(req)
  const { ast, prefs, window } = readQuery(services, req, false)
  const planned = await plan(req.source, { ...ast, limit: undefined, offset: undefined })
  const total = await runnerFor(req.source).count(planned, prefs.count ?? 'exact')
  const rows = pageRows(total, window.offset, window.limit)
  const shown = prefs.count ? total : undefined
  applyPreferences(reply, prefs)
  reply.header('content-range', contentRange(window.offset, rows, shown))
  return reply.status(pageStatus(window, rows, shown)).type('application/json; charset=utf-8').send()
}
