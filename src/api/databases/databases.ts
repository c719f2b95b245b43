// /api/v1/databases*, /api/v1/database_types: create (waiting for provisioning when asked), list, get, update,
// quotas, pause, resume and delete, each held to the caller's teams (another team's database is 404).
import { Type, type Static } from '@sinclair/typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { PlatformPrincipal } from '../../auth/principal.js'
import { AppError } from '../../errors/app-error.js'
import type { TeamScope } from '../../provisioning/databases-service.js'
import type { DatabasesApiDeps } from './deps.js'
import { ok } from './envelope.js'
import { databaseView } from './views.js'

const Nullable = <T extends ReturnType<typeof Type.Integer> | ReturnType<typeof Type.Number>>(t: T) => Type.Union([t, Type.Null()])
const Name = Type.String({ pattern: '^[a-z0-9][a-z0-9\\-]{0,62}$', description: 'lower-case letters, digits and "-", 1-63 characters' })
const Plan = Type.Union(['free', 'launch', 'grow'].map((p) => Type.Literal(p)))
const QuotaFields = {
  storage_hard_limit_gb: Type.Optional(Nullable(Type.Number({ minimum: 0.01, maximum: 1_000_000 }))),
  connection_hard_limit: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 10_000 }))),
  warning_threshold_pct: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 100 }))),
}
const CreateBody = Type.Object({
  name: Name,
  db_type: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
  region: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  plan: Type.Optional(Plan),
  team_id: Type.Optional(Type.Integer({ minimum: 1 })),
  ...QuotaFields,
  blueprint_uuid: Type.Optional(Type.String({ format: 'uuid' })),
  blueprint_variables: Type.Optional(Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()])),
}, { additionalProperties: false })
const CreateQuery = Type.Object({
  wait: Type.Optional(Type.Boolean({ default: false })),
  timeout: Type.Optional(Type.Integer({ minimum: 1, maximum: 120, default: 30 })),
}, { additionalProperties: false })
const UpdateBody = Type.Object({ name: Type.Optional(Name), plan: Type.Optional(Plan), ...QuotaFields }, { additionalProperties: false })
const QuotasBody = Type.Object(QuotaFields, { additionalProperties: false })
const ListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 25 })),
  starting_after: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
}, { additionalProperties: false })
const UuidParams = Type.Object({ uuid: Type.String({ minLength: 1, maxLength: 100 }) })

const tags = ['databases']
export const teamsOf = (req: FastifyRequest): TeamScope => {
  const p = req.principal as PlatformPrincipal
  return { teamIds: p.teamIds, primaryTeamId: p.primaryTeamId }
}

export function databaseRoutes(app: FastifyInstance, deps: DatabasesApiDeps): void {
  const { databases } = deps
  // a create waits at most until shortly before the request deadline, so it answers 202 instead of a 504
  const deadlineMs = deps.config.deadlines.requestTimeoutMs
  const longestWait = deadlineMs > 0 ? Math.max(1, Math.floor(deadlineMs / 1000) - 2) : Infinity

  app.get('/database_types', {
    config: { operation: 'databases.types', scope: 'databases:read' },
    schema: { summary: 'Engines and regions databases can be created in (those with a configured server)', tags },
  }, async (req) => ok(req, databases.types()))

  app.get('/databases', {
    config: { operation: 'databases.list', scope: 'databases:read' },
    schema: { summary: "The team's databases, newest first (cursor: starting_after)", tags, querystring: ListQuery },
  }, async (req) => {
    const q = req.query as Static<typeof ListQuery>
    const page = await databases.list(teamsOf(req), q.limit ?? 25, q.starting_after)
    return { data: page.data.map((r) => databaseView(databases, r, false)), has_more: page.hasMore, request_id: req.id }
  })

  app.post('/databases', {
    config: { operation: 'databases.create', scope: 'databases:write' },
    schema: { summary: 'Create a database: 201 when ready (wait=true), else 202 while it is provisioning', tags, body: CreateBody, querystring: CreateQuery },
  }, async (req, reply) => {
    const body = req.body as Static<typeof CreateBody>
    const q = req.query as Static<typeof CreateQuery>
    const scope = teamsOf(req)
    const started = Date.now()
    // the blueprint and its variables are checked before anything is made; the application runs once it is active
    const blueprint = body.blueprint_uuid === undefined ? undefined
      : await deps.blueprints.checkForDatabase(scope, body.blueprint_uuid, body.db_type ?? 'postgres', body.blueprint_variables)
    if (blueprint === undefined && body.blueprint_variables) {
      throw new AppError('validation_failed', 'blueprint_variables needs blueprint_uuid', { data: { field: 'blueprint_variables' } })
    }
    let record = await databases.create(scope, { ...body, blueprint })
    if (q.wait) record = await databases.waitUntilProvisioned(scope, record.id, Math.min(q.timeout ?? 30, longestWait), req.deadlineSignal())
    const data = databaseView(databases, record, true)
    if (record.status === 'active') return reply.code(201).send(ok(req, data, { message: 'Database created' }))
    const provisioning = { completed: false, waited_seconds: q.wait ? Math.round((Date.now() - started) / 1000) : 0, poll_url: `/api/v1/databases/${record.id}` }
    return reply.code(202).send(ok(req, data, { message: 'Database creation accepted; it is provisioning', provisioning }))
  })

  app.get('/databases/:uuid', {
    config: { operation: 'databases.get', scope: 'databases:read' },
    schema: { summary: 'One database, with its password and connection string', tags, params: UuidParams },
  }, async (req) => ok(req, databaseView(databases, await databases.get(teamsOf(req), (req.params as { uuid: string }).uuid), true)))

  app.patch('/databases/:uuid', {
    config: { operation: 'databases.update', scope: 'databases:write' },
    schema: { summary: 'Rename a database, change its plan or quotas', tags, params: UuidParams, body: UpdateBody },
  }, async (req) => {
    const record = await databases.update(teamsOf(req), (req.params as { uuid: string }).uuid, req.body as Static<typeof UpdateBody>)
    return ok(req, databaseView(databases, record, false))
  })

  app.patch('/databases/:uuid/quotas', {
    config: { operation: 'databases.quotas', scope: 'databases:write' },
    schema: { summary: "Change a database's quotas (connection_hard_limit applies to its login at once)", tags, params: UuidParams, body: QuotasBody },
  }, async (req) => {
    const record = await databases.update(teamsOf(req), (req.params as { uuid: string }).uuid, req.body as Static<typeof QuotasBody>)
    return ok(req, databaseView(databases, record, false), { message: 'Database quotas updated' })
  })

  app.post('/databases/:uuid/pause', {
    config: { operation: 'databases.pause', scope: 'databases:write' },
    schema: { summary: "Pause a database: its login can no longer connect and the gateway refuses its client (no-op when paused)", tags, params: UuidParams },
  }, async (req) => {
    const record = await databases.setPaused(teamsOf(req), (req.params as { uuid: string }).uuid, true)
    return ok(req, databaseView(databases, record, false), { message: 'Database paused' })
  })

  app.post('/databases/:uuid/resume', {
    config: { operation: 'databases.resume', scope: 'databases:write' },
    schema: { summary: 'Resume a paused database: its login and gateway client work again (no-op when active)', tags, params: UuidParams },
  }, async (req) => {
    const record = await databases.setPaused(teamsOf(req), (req.params as { uuid: string }).uuid, false)
    return ok(req, databaseView(databases, record, false), { message: 'Database resumed' })
  })

  app.delete('/databases/:uuid', {
    config: { operation: 'databases.delete', scope: 'databases:write' },
    schema: { summary: 'Delete a database: drops the database and its login; the record is kept, marked deleted', tags, params: UuidParams },
  }, async (req) => {
    const outcome = await databases.delete(teamsOf(req), (req.params as { uuid: string }).uuid)
    return ok(req, {
      object: 'database',
      uuid: outcome.record.id,
      deleted: true,
      cancelled_provision_jobs: outcome.cancelledProvisionJobs,
      destroy_scheduled_at: outcome.destroyScheduledAt,
      has_remote_resources: outcome.destroyScheduledAt !== null,
    }, { message: 'Database deleted' })
  })
}
