// /api/v1/queries and /api/v1/query_jobs: saved queries, runs answered with a job id at once, cancel, the job
// records with their statistics, paged results and the whole result as a file.
import { Type } from '@sinclair/typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Window as ListWindow } from '../../tenancy/paging.js'
import { actorOf } from './access.js'
import type { WorkspaceDeps } from './deps.js'
import { idParam, routeOptions, Window } from './schemas.js'

const Id = Type.String({ minLength: 1, maxLength: 100 })
const QueryText = Type.String({ minLength: 1, maxLength: 100_000 })
const QueryBody = Type.Object({ query_text: QueryText, project_id: Id })
const QueryUpdate = Type.Object({ query_text: Type.Optional(Type.Union([QueryText, Type.Null()])), project_id: Type.Optional(Type.Union([Id, Type.Null()])) })
const QueryList = Type.Object({ ...Window.properties, project_id: Type.Optional(Id) })
const ResultsQuery = Type.Object({ page: Type.Integer({ minimum: 1, default: 1 }), page_size: Type.Integer({ minimum: 1, maximum: 200, default: 50 }) })
const queryParams = idParam('query_id')
const jobParams = idParam('job_id')
type QueryReq = FastifyRequest<{ Params: { query_id: string } }>
type JobReq = FastifyRequest<{ Params: { job_id: string } }>

export function queryRoutes(app: FastifyInstance, { queryJobs, queryCosts, exports }: WorkspaceDeps): void {
  app.post('/api/v1/queries', routeOptions('queries.create', 'query', 'Create Query', { body: QueryBody }), async (req, reply) => {
    reply.status(201)
    return queryJobs.createQuery(actorOf(req), req.body as { query_text: string; project_id: string })
  })
  app.get('/api/v1/queries', routeOptions('queries.list', 'query', 'List Queries', { querystring: QueryList }), async (req) => {
    const q = req.query as ListWindow & { project_id?: string }
    return { queries: await queryJobs.listQueries(actorOf(req), q, q.project_id) }
  })
  app.get('/api/v1/queries/:query_id', routeOptions('queries.get', 'query', 'Get Query', { params: queryParams }), async (req: QueryReq) =>
    queryJobs.getQuery(actorOf(req), req.params.query_id))
  const update = async (req: QueryReq) => queryJobs.updateQuery(actorOf(req), req.params.query_id, req.body as { query_text?: string | null; project_id?: string | null })
  app.put('/api/v1/queries/:query_id', routeOptions('queries.update', 'query', 'Update Query', { params: queryParams, body: QueryUpdate }), update)
  app.patch('/api/v1/queries/:query_id', routeOptions('queries.update', 'query', 'Update Query', { params: queryParams, body: QueryUpdate }), update)
  app.delete('/api/v1/queries/:query_id', routeOptions('queries.delete', 'query', 'Delete Query', { params: queryParams }), async (req: QueryReq, reply) => {
    await queryJobs.archiveQuery(actorOf(req), req.params.query_id)
    reply.status(204)
  })

  app.post('/api/v1/queries/run', routeOptions('queries.run', 'query', 'Run Query', { body: Type.Object({ query_id: Id, query_text: QueryText }) }), async (req) => {
    return queryJobs.run(actorOf(req), req.body as { query_id: string; query_text: string })
  })
  app.post('/api/v1/queries/cancel', routeOptions('queries.cancel', 'query', 'Cancel Query', { body: Type.Object({ job_id: Id }) }), async (req) =>
    queryJobs.cancel(actorOf(req), (req.body as { job_id: string }).job_id))
  app.get('/api/v1/queries/results/:job_id/download', routeOptions('queries.download', 'query', 'Download Query Result', { params: jobParams }), async (req: JobReq, reply) => {
    const file = await queryJobs.download(actorOf(req), req.params.job_id)
    reply.header('content-type', 'application/vnd.apache.parquet')
    reply.header('content-length', String(file.size))
    reply.header('content-disposition', `attachment; filename="${file.filename}"`)
    return reply.send(file.body)
  })

  app.get('/api/v1/query_jobs', routeOptions('query_jobs.list', 'query_jobs', 'List Query Jobs', { querystring: Window }), async (req) => ({
    query_jobs: await exports.withExports(actorOf(req), await queryJobs.listJobs(actorOf(req), req.query as ListWindow)),
  }))
  app.get('/api/v1/query_jobs/:job_id', routeOptions('query_jobs.get', 'query_jobs', 'Get Query Job', { params: jobParams }), async (req: JobReq) =>
    (await exports.withExports(actorOf(req), [await queryJobs.getJob(actorOf(req), req.params.job_id)]))[0])
  app.get('/api/v1/query_jobs/:job_id/results', routeOptions('query_jobs.results', 'query_jobs', 'Get Query Job Results', { params: jobParams, querystring: ResultsQuery }), async (req: JobReq) => {
    const { page, page_size: pageSize } = req.query as { page: number; page_size: number }
    return queryJobs.results(actorOf(req), req.params.job_id, page, pageSize)
  })
  app.get('/api/v1/queries/:query_id/query_jobs', routeOptions('query_jobs.by_query', 'query_jobs', 'List Query Jobs By Query', { params: queryParams, querystring: Window }), async (req: QueryReq) => ({
    query_jobs: await exports.withExports(actorOf(req), await queryJobs.listJobs(actorOf(req), req.query as ListWindow, req.params.query_id)),
  }))

  app.get('/api/v1/query-quota', routeOptions('query_quota.get', 'query-quota', 'Get Query Quota Summary'), async (req) => queryCosts.summary(actorOf(req)))
  const HistoryQuery = Type.Object({ page: Type.Integer({ minimum: 1, default: 1 }), page_size: Type.Integer({ minimum: 1, maximum: 100, default: 20 }) })
  app.get('/api/v1/query-quota/history', routeOptions('query_quota.history', 'query-quota', 'Get Query Cost History', { querystring: HistoryQuery }), async (req) => {
    const { page, page_size: pageSize } = req.query as { page: number; page_size: number }
    return queryCosts.history(actorOf(req), page, pageSize)
  })
}
