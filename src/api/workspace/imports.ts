// Import jobs (/api/v1/import_jobs, /api/v1/tables/{table_id}/import_jobs): a file uploaded with
// POST /api/files/upload, named by its storage_path, appended to a table by a durable job.
import { Type } from '@sinclair/typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { UserPrincipal } from '../../auth/principal.js'
import type { Window as ListWindow } from '../../tenancy/paging.js'
import { IMPORT_FORMATS, type ImportFormat } from '../../warehouse/imports/import-checks.js'
import { actorOf } from './access.js'
import type { WorkspaceDeps } from './deps.js'
import { idParam, routeOptions, Window } from './schemas.js'

// status is in the DataCovey body; a job's status is its own, so a value sent is accepted and not used
const ImportBody = Type.Object({
  table_id: Type.String({ minLength: 1, maxLength: 100 }),
  source_uri: Type.String({ minLength: 1, maxLength: 1000 }),
  format: Type.Union(IMPORT_FORMATS.map((f) => Type.Literal(f))),
  status: Type.Optional(Type.String({ maxLength: 100 })),
})

type Params<K extends string> = FastifyRequest<{ Params: Record<K, string> }>

export function importRoutes(app: FastifyInstance, { importJobs }: WorkspaceDeps): void {
  app.post('/api/v1/import_jobs', routeOptions('import_jobs.create', 'import_jobs', 'Create Import Job', { body: ImportBody }), async (req, reply) => {
    const actor = actorOf(req)
    // uploads belong to the signed-in user (the token's sub); the admin key has none
    const owner = req.workspace?.kind === 'user' ? (req.principal as UserPrincipal).sub : null
    const created = await importJobs.create(actor, owner, req.body as { table_id: string; source_uri: string; format: ImportFormat })
    reply.status(201)
    return created
  })
  app.get('/api/v1/import_jobs', routeOptions('import_jobs.list', 'import_jobs', 'List Import Jobs', { querystring: Window }), async (req) => ({
    import_jobs: await importJobs.list(actorOf(req), req.query as ListWindow),
  }))
  app.get('/api/v1/import_jobs/:job_id', routeOptions('import_jobs.get', 'import_jobs', 'Get Import Job', { params: idParam('job_id') }), async (req: Params<'job_id'>) =>
    importJobs.get(actorOf(req), req.params.job_id))
  app.get('/api/v1/tables/:table_id/import_jobs', routeOptions('import_jobs.by_table', 'import_jobs', 'List Import Jobs By Table', { params: idParam('table_id'), querystring: Window }), async (req: Params<'table_id'>) => ({
    import_jobs: await importJobs.list(actorOf(req), req.query as ListWindow, req.params.table_id),
  }))
}
