// GET and HEAD /rest/v1/{table}: PostgREST reads with filters, embeds, order, ranges, counts and formats.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { readRows } from '../../data/read-rows.js'
import { Timings } from '../../observability/timings.js'
import { filterShape } from '../../query/filter-shape.js'
import { parsePostgrestRead } from '../../query/parse/postgrest-request.js'
import type { RestDeps } from './deps.js'
import { contentRange, pageStatus } from './range.js'
import { sendRows, sendStream } from './respond.js'
import { RestHeaders, TableParams, applyPreferences } from './shared.js'
import { contextOf } from '../../http/request-context.js'

export function readRoute(app: FastifyInstance, services: RestDeps): void {
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

function parseRead(services: RestDeps, req: FastifyRequest, method: 'GET' | 'HEAD') {
  const { table } = req.params as { table: string }
  req.logContext.table = table
  const parsed = parsePostgrestRead({ method, target: table, url: req.url, headers: req.headers }, { maxRows: services.config.rest.maxRows, aggregates: services.config.rest.aggregatesEnabled })
  req.logContext.filterColumns = filterShape(parsed.ast.where)
  return parsed
}

async function read(services: RestDeps, req: FastifyRequest, reply: FastifyReply) {
  const timings = new Timings()
  const started = performance.now()
  const { ast, prefs, window, output } = parseRead(services, req, 'GET')
  timings.add('parse', performance.now() - started)
  const envelope = services.config.rest.envelope === 'data'
  // JSON arrays and CSV stream from the cursor when large; a single object is one row by definition
  const outcome = await readRows(services, contextOf(req), ast, { allowStream: output.format !== 'object', timings })
  reply.header('server-timing', timings.header())
  applyPreferences(reply, prefs.applied)
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

/** HEAD answers the same headers as GET, through the same read service, from one count instead of the rows */
async function head(services: RestDeps, req: FastifyRequest, reply: FastifyReply) {
  const { ast, prefs, window } = parseRead(services, req, 'HEAD')
  const { total, rows } = await readRows(services, contextOf(req), ast, { noBody: true })
  const shown = prefs.count ? total : undefined
  applyPreferences(reply, prefs.applied)
  reply.header('content-range', contentRange(window.offset, rows, shown))
  return reply.status(pageStatus(window, rows, shown)).type('application/json; charset=utf-8').send()
}
