// /admin/jobs*: durable job records of every owner, in the success envelope (admin key only); read-only but cancel.
import type { FastifyInstance } from 'fastify'
import { AppError } from '../../errors/app-error.js'
import type { JobListFilter, JobStatus } from '../../jobs/job-queue.js'
import type { JobQueue } from '../../jobs/job-queue.js'
import { gatewaySuccess } from '../gateway/envelope.js'
import { plural } from '../gateway/respond.js'
import { JobIdParams, JobListQuery, JobListReply, JobReply } from './catalog-schemas.js'

interface ListQuery {
  kind?: string
  status?: JobStatus
  owner_kind?: 'key' | 'user' | 'tenant'
  owner_id?: string
  limit?: number
  cursor?: string
}

export interface JobRouteDeps {
  jobs: JobQueue
}

export function jobRoutes(app: FastifyInstance, services: JobRouteDeps): void {
  app.get('/admin/jobs', {
    config: { operation: 'admin.jobs.list', access: 'admin' },
    schema: { summary: 'List job records, newest first (filter by kind, status, owner; paged by cursor)', tags: ['admin'], querystring: JobListQuery, response: { 200: JobListReply } },
  }, async (req) => {
    const q = req.query as ListQuery
    if ((q.owner_kind === undefined) !== (q.owner_id === undefined)) {
      throw new AppError('invalid_request', 'owner_kind and owner_id filter together: give both or neither', { hint: 'e.g. ?owner_kind=key&owner_id=<key id>' })
    }
    const filter: JobListFilter = { kind: q.kind, status: q.status, limit: q.limit, cursor: q.cursor }
    if (q.owner_kind && q.owner_id) filter.owner = { kind: q.owner_kind, id: q.owner_id }
    const page = await services.jobs.list(filter)
    return gatewaySuccess(`Listed ${plural(page.jobs.length, 'job')}`, page)
  })

  app.get('/admin/jobs/:id', {
    config: { operation: 'admin.jobs.get', access: 'admin' },
    schema: { summary: 'One job record: status, progress, attempts, result, error', tags: ['admin'], params: JobIdParams, response: { 200: JobReply } },
  }, async (req) => {
    const { id } = req.params as { id: string }
    const job = await services.jobs.get(id)
    if (!job) throw new AppError('job_not_found', `no job ${id}`)
    return gatewaySuccess(`Job ${job.id} is ${job.status}`, { job })
  })

  app.post('/admin/jobs/:id/cancel', {
    config: { operation: 'admin.jobs.cancel', access: 'admin' },
    schema: { summary: 'Cancel a queued or running job (a finished job is returned unchanged)', tags: ['admin'], params: JobIdParams, response: { 200: JobReply } },
  }, async (req) => {
    const job = await services.jobs.cancel((req.params as { id: string }).id)
    return gatewaySuccess(`Job ${job.id} is ${job.status}`, { job })
  })
}
