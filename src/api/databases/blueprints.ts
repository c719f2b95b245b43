// /api/v1/blueprints* (versioned SQL templates of the caller's teams), /api/v1/blueprint_validations (the
// engine's parser on a text), /api/v1/databases/{uuid}/blueprint_applications and /api/v1/blueprint_applications/{id}.
import { Type, type Static } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { describeIssue, MAX_BLUEPRINT_BYTES } from '../../blueprints/blueprint-parser.js'
import type { ApplicationRecord, BlueprintRecord } from '../../blueprints/blueprints-service.js'
import { teamsOf } from './databases.js'
import type { DatabasesApiDeps } from './deps.js'
import { ok } from './envelope.js'

const Sql = Type.String({ minLength: 1, maxLength: MAX_BLUEPRINT_BYTES })
const Variables = Type.Record(Type.String(), Type.Unknown(), { description: 'name → type ("string", "number", "boolean", "identifier") or {type, default, required, description}' })
const Engine = Type.Union([Type.Literal('postgres'), Type.Literal('mysql')])
const CreateBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  sql_content: Sql,
  description: Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()])),
  variables: Type.Optional(Variables),
  db_type: Type.Optional(Engine),
  team_id: Type.Optional(Type.Integer({ minimum: 1 })),
}, { additionalProperties: false })
const UpdateBody = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  sql_content: Type.Optional(Sql),
  description: Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()])),
  variables: Type.Optional(Variables),
}, { additionalProperties: false })
const ValidateBody = Type.Object({ sql_content: Sql, db_type: Type.Optional(Engine), variables: Type.Optional(Variables) }, { additionalProperties: false })
const ApplyBody = Type.Object({
  blueprint_uuid: Type.String({ format: 'uuid' }),
  version: Type.Optional(Type.Integer({ minimum: 1 })),
  variables: Type.Optional(Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()])),
  dry_run: Type.Optional(Type.Boolean({ default: false })),
  wait: Type.Optional(Type.Boolean({ default: true })),
  timeout: Type.Optional(Type.Integer({ minimum: 1, maximum: 120, default: 30 })),
}, { additionalProperties: false })
const ListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 25 })),
  starting_after: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
}, { additionalProperties: false })
const GetQuery = Type.Object({ version: Type.Optional(Type.Integer({ minimum: 1 })) }, { additionalProperties: false })
const UuidParams = Type.Object({ uuid: Type.String({ minLength: 1, maxLength: 100 }) })
const IdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) })

const tags = ['blueprints']

function blueprintView(b: BlueprintRecord, full: boolean) {
  return {
    object: 'blueprint',
    uuid: b.id,
    name: b.name,
    slug: b.slug,
    description: b.description,
    content_type: 'sql',
    db_type: b.db_type,
    version: b.version,
    size_bytes: Buffer.byteLength(b.sql_content),
    is_system_blueprint: false,
    team_id: b.team_id,
    variables: b.variables,
    metadata: null,
    ...(full ? { sql_content: b.sql_content } : {}),
    created_at: new Date(b.created_at).toISOString(),
    updated_at: new Date(b.updated_at).toISOString(),
  }
}

const iso = (t: string | null) => t && new Date(t).toISOString()

export function applicationView(a: ApplicationRecord) {
  return {
    object: 'blueprint_application',
    id: a.id,
    blueprint_uuid: a.blueprint_id,
    blueprint_version: a.blueprint_version,
    database_uuid: a.database_id,
    status: a.status,
    is_dry_run: a.is_dry_run,
    execution_log: a.execution_log,
    total_duration_ms: a.total_duration_ms,
    statements_total: a.statements_total,
    statements_succeeded: a.statements_succeeded,
    statements_failed: a.statements_failed,
    error_message: a.error_message,
    variable_values: a.variable_values,
    job_id: a.job_id,
    started_at: iso(a.started_at),
    completed_at: iso(a.completed_at),
    created_at: iso(a.created_at),
  }
}

export function blueprintRoutes(app: FastifyInstance, deps: DatabasesApiDeps): void {
  const { blueprints } = deps
  const deadlineMs = deps.config.deadlines.requestTimeoutMs
  const longestWait = deadlineMs > 0 ? Math.max(1, Math.floor(deadlineMs / 1000) - 2) : Infinity

  app.get('/blueprints', {
    config: { operation: 'blueprints.list', scope: 'blueprints:read' },
    schema: { summary: "The team's blueprints, newest first (cursor: starting_after)", tags, querystring: ListQuery },
  }, async (req) => {
    const q = req.query as Static<typeof ListQuery>
    const page = await blueprints.list(teamsOf(req), q.limit ?? 25, q.starting_after)
    return { data: page.data.map((b) => blueprintView(b, false)), has_more: page.hasMore, request_id: req.id }
  })

  app.post('/blueprints', {
    config: { operation: 'blueprints.create', scope: 'blueprints:write' },
    schema: { summary: "Create a blueprint (version 1); its SQL must parse with the engine's parser", tags, body: CreateBody },
  }, async (req, reply) => {
    const created = await blueprints.create(teamsOf(req), req.body as Static<typeof CreateBody>)
    return reply.code(201).send(ok(req, blueprintView(created, true), { message: 'Blueprint created' }))
  })

  app.get('/blueprints/:uuid', {
    config: { operation: 'blueprints.get', scope: 'blueprints:read' },
    schema: { summary: 'One blueprint with its SQL, at its current version or ?version=n', tags, params: UuidParams, querystring: GetQuery },
  }, async (req) => {
    const { version } = req.query as Static<typeof GetQuery>
    return ok(req, blueprintView(await blueprints.get(teamsOf(req), (req.params as { uuid: string }).uuid, version), true))
  })

  app.patch('/blueprints/:uuid', {
    config: { operation: 'blueprints.update', scope: 'blueprints:write' },
    schema: { summary: 'Update a blueprint: a new version (earlier versions are kept)', tags, params: UuidParams, body: UpdateBody },
  }, async (req) => ok(req, blueprintView(await blueprints.update(teamsOf(req), (req.params as { uuid: string }).uuid, req.body as Static<typeof UpdateBody>), true)))

  app.delete('/blueprints/:uuid', {
    config: { operation: 'blueprints.delete', scope: 'blueprints:write' },
    schema: { summary: 'Delete a blueprint (its applications are kept)', tags, params: UuidParams },
  }, async (req) => {
    const { uuid } = req.params as { uuid: string }
    await blueprints.delete(teamsOf(req), uuid)
    return ok(req, { object: 'blueprint', uuid, deleted: true }, { message: 'Blueprint deleted' })
  })

  app.post('/blueprint_validations', {
    config: { operation: 'blueprints.validate', scope: 'blueprints:read' },
    schema: { summary: "Parse SQL with the engine's parser: statements, errors with line and column, forbidden statements", tags, body: ValidateBody },
  }, async (req) => {
    const body = req.body as Static<typeof ValidateBody>
    const parsed = await blueprints.validate(body.sql_content, body.db_type ?? 'postgres', body.variables)
    return ok(req, {
      valid: parsed.valid,
      statement_count: parsed.statements.length,
      errors: parsed.errors.map(describeIssue),
      warnings: parsed.warnings.map(describeIssue),
      error_details: parsed.errors,
      manifest: {
        db_type: body.db_type ?? 'postgres',
        placeholders: parsed.placeholders,
        statements: parsed.statements.map((s) => ({ index: s.index, kind: s.kind, line: s.line })),
      },
    })
  })

  app.post('/databases/:uuid/blueprint_applications', {
    config: { operation: 'blueprints.apply', scope: 'blueprints:write' },
    schema: { summary: 'Apply a blueprint to a database (a durable job): 200 when finished (wait=true), else 202', tags, params: UuidParams, body: ApplyBody },
  }, async (req, reply) => {
    const body = req.body as Static<typeof ApplyBody>
    const scope = teamsOf(req)
    let record = await blueprints.apply(scope, (req.params as { uuid: string }).uuid, body)
    if (body.wait ?? true) record = await blueprints.waitUntilFinished(scope, record.id, Math.min(body.timeout ?? 30, longestWait), req.deadlineSignal())
    const finished = !['pending', 'running'].includes(record.status)
    const message = finished ? `Blueprint application ${record.status.replace('_', ' ')}` : 'Blueprint application accepted; poll its status'
    return reply.code(finished ? 200 : 202).send(ok(req, applicationView(record), { message, ...(finished ? {} : { poll_url: `/api/v1/blueprint_applications/${record.id}` }) }))
  })

  app.get('/blueprint_applications/:id', {
    config: { operation: 'blueprints.application', scope: 'blueprints:read' },
    schema: { summary: 'A blueprint application: status and per-statement results', tags, params: IdParams },
  }, async (req) => ok(req, applicationView(await blueprints.getApplication(teamsOf(req), (req.params as { id: number }).id))))
}
