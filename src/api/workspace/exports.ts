// Result exports (/api/v1/query_jobs/{job_id}/exports, /api/v1/query_result_exports/…) and export jobs
// (/api/v1/export_jobs, /api/v1/tables/{table_id}/export_jobs): a file written by a durable job, downloaded
// through a signed URL that expires.
import { Type } from '@sinclair/typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Window as ListWindow } from '../../tenancy/paging.js'
import { EXPORT_COMPRESSIONS, EXPORT_FORMATS, type ExportCompression, type ExportFormat } from '../../warehouse/exports/export-formats.js'
import { actorOf } from './access.js'
import type { WorkspaceDeps } from './deps.js'
import { idParam, routeOptions, Window } from './schemas.js'

const Format = Type.Union(EXPORT_FORMATS.map((f) => Type.Literal(f)), { default: 'CSV' })
const Compression = Type.Union(EXPORT_COMPRESSIONS.map((c) => Type.Literal(c)), { default: 'GZIP' })
const ExportBody = Type.Object({ format: Format, compression: Compression })
// status is in the DataCovey body; a job's status is its own, so a value sent is accepted and not used
const ExportJobBody = Type.Object({ table_id: Type.String({ minLength: 1, maxLength: 100 }), status: Type.Optional(Type.String({ maxLength: 100 })), format: Format, compression: Compression })

type Params<K extends string> = FastifyRequest<{ Params: Record<K, string> }>

export function exportRoutes(app: FastifyInstance, { exports }: WorkspaceDeps): void {
  // ---- result exports ----
  app.post('/api/v1/query_jobs/:job_id/exports', routeOptions('query_result_exports.create', 'query_result_exports', 'Create Export', { params: idParam('job_id'), body: ExportBody }), async (req: Params<'job_id'>, reply) => {
    const body = req.body as { format: ExportFormat; compression: ExportCompression }
    reply.status(201)
    return exports.exportResult(actorOf(req), req.params.job_id, body)
  })
  app.get('/api/v1/query_jobs/:job_id/exports', routeOptions('query_result_exports.list', 'query_result_exports', 'List Exports', { params: idParam('job_id'), querystring: Window }), async (req: Params<'job_id'>) => ({
    exports: await exports.list(actorOf(req), 'result', req.query as ListWindow, req.params.job_id),
  }))
  app.get('/api/v1/query_result_exports/:export_id', routeOptions('query_result_exports.get', 'query_result_exports', 'Get Export', { params: idParam('export_id') }), async (req: Params<'export_id'>) =>
    exports.get(actorOf(req), 'result', req.params.export_id))
  app.get('/api/v1/query_result_exports/:export_id/download', routeOptions('query_result_exports.download', 'query_result_exports', 'Download Export', { params: idParam('export_id') }), async (req: Params<'export_id'>) =>
    exports.download(actorOf(req), 'result', req.params.export_id))

  // ---- export jobs (a table to a file) ----
  app.post('/api/v1/export_jobs', routeOptions('export_jobs.create', 'export_jobs', 'Create Export Job', { body: ExportJobBody }), async (req, reply) => {
    const body = req.body as { table_id: string; format: ExportFormat; compression: ExportCompression }
    reply.status(201)
    return exports.exportTable(actorOf(req), body.table_id, body)
  })
  app.get('/api/v1/export_jobs', routeOptions('export_jobs.list', 'export_jobs', 'List Export Jobs', { querystring: Window }), async (req) => ({
    export_jobs: await exports.list(actorOf(req), 'table', req.query as ListWindow),
  }))
  app.get('/api/v1/export_jobs/:job_id', routeOptions('export_jobs.get', 'export_jobs', 'Get Export Job', { params: idParam('job_id') }), async (req: Params<'job_id'>) =>
    exports.get(actorOf(req), 'table', req.params.job_id))
  app.get('/api/v1/export_jobs/:job_id/download', routeOptions('export_jobs.download', 'export_jobs', 'Download Export Job File', { params: idParam('job_id') }), async (req: Params<'job_id'>) =>
    exports.download(actorOf(req), 'table', req.params.job_id))
  app.get('/api/v1/tables/:table_id/export_jobs', routeOptions('export_jobs.by_table', 'export_jobs', 'List Export Jobs By Table', { params: idParam('table_id'), querystring: Window }), async (req: Params<'table_id'>) => ({
    export_jobs: await exports.list(actorOf(req), 'table', req.query as ListWindow, req.params.table_id),
  }))
}
