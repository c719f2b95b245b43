// Blueprints of the Databases API: a team's SQL templates with typed `{{name}}` variables, versioned (each
// update is a new version), judged by the engine's own parser, and applied to the team's databases by a
// durable job that records per-statement results and publishes blueprint.applied (outbox).
import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import type { Catalog } from '../catalog/catalog.js'
import { AppError } from '../errors/app-error.js'
import type { JobContext, JobQueue } from '../jobs/job-queue.js'
import type { BlueprintEventV1 } from '../outbox/events.js'
import type { Outbox } from '../outbox/outbox.js'
import type { DatabaseRecord, Databases, TeamScope } from '../provisioning/databases-service.js'
import { ENGINES, type Engine } from '../provisioning/managed-servers.js'
import type { Executor } from '../sources/driver.js'
import { describeIssue, parseBlueprint, type ParseResult } from './blueprint-parser.js'
import { runStatements } from './blueprint-runner.js'
import {
  addVersion, findApplication, findBlueprint, finishApplication, insertApplication, insertBlueprint, listBlueprints, markRunning, setApplicationJob,
  softDeleteBlueprint, type ApplicationRecord, type BlueprintRecord,
} from './blueprint-store.js'
import { parseDeclarations, resolveValues, type Declarations, type VariableValue } from './variables.js'

export type { ApplicationRecord, BlueprintRecord } from './blueprint-store.js'

export const APPLY_JOB = 'blueprint.apply'
/** how often a waiting application request looks at the record */
const WAIT_POLL_MS = 150

export interface BlueprintsDeps {
  catalog: Catalog
  jobs: JobQueue
  outbox: Outbox
  databases: Databases
  logger: Logger
}

export interface BlueprintInput {
  name?: string
  description?: string | null
  sql_content?: string
  variables?: unknown
  db_type?: string
  team_id?: number
}

export interface ApplyInput {
  blueprint_uuid: string
  version?: number
  variables?: Record<string, unknown> | null
  dry_run?: boolean
}

const notFound = (id: string): never => {
  throw new AppError('blueprint_not_found', `no blueprint ${id}`, { hint: "GET /api/v1/blueprints lists your team's blueprints" })
}
const slugOf = (name: string) => name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 100) || 'blueprint'

/** a parse with errors as a 422 listing them (line and column each) */
function refuseInvalid(parsed: ParseResult): void {
  if (parsed.valid) return
  throw new AppError('blueprint_invalid', `the blueprint's SQL is not valid: ${describeIssue(parsed.errors[0]!)}`, {
    data: { field: 'sql_content', errors: parsed.errors, warnings: parsed.warnings },
    hint: 'POST /api/v1/blueprint_validations shows every error with its line and column',
  })
}

export class Blueprints {
  constructor(private readonly deps: BlueprintsDeps) {}

  async start(): Promise<void> {
    // a failed application is not retried (it has its outcome); a retry only follows an attempt that was cut
    // off (a crash, kill -9): PostgreSQL rolled that attempt back, so it runs again; on MySQL it may have
    // committed DDL, so the retry records the application as failed instead (see run)
    await this.deps.jobs.define(APPLY_JOB, (data: { application_id: number }, ctx) => this.run(data.application_id, ctx), { retryLimit: 1, retryDelay: 2, expireIn: 900 })
    // a database created with a blueprint gets its application in the transaction that makes it active
    this.deps.databases.whenActivated((tx, record) => this.applyOnCreate(tx, record))
  }

  async validate(sql: string, engine: Engine, variables: unknown): Promise<ParseResult> {
    return parseBlueprint(sql, engine, parseDeclarations(variables))
  }

  async create(scope: TeamScope, input: Required<Pick<BlueprintInput, 'name' | 'sql_content'>> & BlueprintInput): Promise<BlueprintRecord> {
    const engine = engineOf(input.db_type)
    const teamId = input.team_id ?? scope.primaryTeamId
    if (!scope.teamIds.includes(teamId)) throw new AppError('team_not_found', `no team ${teamId}`, { data: { field: 'team_id' } })
    const variables = parseDeclarations(input.variables)
    refuseInvalid(await parseBlueprint(input.sql_content, engine, variables))
    const id = randomUUID()
    return this.deps.catalog.transaction(async (tx) => {
      await insertBlueprint(tx, { id, team_id: teamId, name: input.name, slug: slugOf(input.name), description: input.description ?? null, db_type: engine, sql_content: input.sql_content, variables })
      return (await findBlueprint(tx, [teamId], id))!
    })
  }

  async get(scope: TeamScope, id: string, version?: number): Promise<BlueprintRecord> {
    const found = await findBlueprint(this.deps.catalog, scope.teamIds, id, version)
    if (!found && version !== undefined && (await findBlueprint(this.deps.catalog, scope.teamIds, id))) {
      throw new AppError('validation_failed', `blueprint ${id} has no version ${version}`, { data: { field: 'version' } })
    }
    return found ?? notFound(id)
  }

  async list(scope: TeamScope, limit: number, startingAfter?: string): Promise<{ data: BlueprintRecord[]; hasMore: boolean }> {
    if (startingAfter !== undefined && !(await findBlueprint(this.deps.catalog, scope.teamIds, startingAfter))) {
      throw new AppError('validation_failed', `starting_after: no blueprint ${startingAfter} in your teams`, { data: { field: 'starting_after' } })
    }
    const rows = await listBlueprints(this.deps.catalog, scope.teamIds, limit, startingAfter)
    return { data: rows.slice(0, limit), hasMore: rows.length > limit }
  }

  /** every update is a new version holding the whole blueprint as it now is */
  async update(scope: TeamScope, id: string, changes: BlueprintInput): Promise<BlueprintRecord> {
    const current = await this.get(scope, id)
    const variables = changes.variables === undefined ? current.variables : parseDeclarations(changes.variables)
    const sql = changes.sql_content ?? current.sql_content
    refuseInvalid(await parseBlueprint(sql, current.db_type, variables))
    const name = changes.name ?? current.name
    return this.deps.catalog.transaction(async (tx) => {
      // the row lock of a concurrent update orders the versions; a blueprint deleted meanwhile is gone
      if (!(await findBlueprint(tx, scope.teamIds, id))) notFound(id)
      await addVersion(tx, id, { name, slug: slugOf(name), description: changes.description === undefined ? current.description : changes.description, sql_content: sql, variables })
      return (await findBlueprint(tx, scope.teamIds, id))!
    })
  }

  async delete(scope: TeamScope, id: string): Promise<void> {
    if (!(await this.deps.catalog.transaction((tx) => softDeleteBlueprint(tx, scope.teamIds, id)))) notFound(id)
  }

  /**
   * The checks a database create with a blueprint makes before anything is written: the blueprint is the
   * team's and of the engine, and the variables fit its declarations (then bound by the application).
   */
  async checkForDatabase(scope: TeamScope, blueprintId: string, engine: string, variables: Record<string, unknown> | null | undefined): Promise<{ id: string; variables: Record<string, VariableValue> }> {
    const found = await findBlueprint(this.deps.catalog, scope.teamIds, blueprintId)
    if (!found) throw new AppError('blueprint_not_found', `no blueprint ${blueprintId}`, { data: { field: 'blueprint_uuid' } })
    if (found.db_type !== engine) throw new AppError('validation_failed', `blueprint ${blueprintId} is for ${found.db_type}, not ${engine}`, { data: { field: 'blueprint_uuid' } })
    const values = resolveValues(found.variables, variables)
    refuseInvalid(await parseBlueprint(found.sql_content, found.db_type, found.variables, values))
    return { id: found.id, variables: values }
  }

  /** records an application and enqueues its job in one transaction */
  async apply(scope: TeamScope, databaseId: string, input: ApplyInput): Promise<ApplicationRecord> {
    const database = await this.deps.databases.get(scope, databaseId)
    if (database.status !== 'active') {
      throw new AppError('validation_failed', `database ${databaseId} is ${database.status}; blueprints apply to active databases`, { data: { field: 'uuid', status: database.status } })
    }
    const found = await findBlueprint(this.deps.catalog, [database.team_id], input.blueprint_uuid, input.version)
    if (!found) {
      if (input.version !== undefined && (await findBlueprint(this.deps.catalog, [database.team_id], input.blueprint_uuid))) {
        throw new AppError('validation_failed', `blueprint ${input.blueprint_uuid} has no version ${input.version}`, { data: { field: 'version' } })
      }
      throw new AppError('blueprint_not_found', `no blueprint ${input.blueprint_uuid} in the database's team`, { data: { field: 'blueprint_uuid' } })
    }
    if (found.db_type !== database.db_type) throw new AppError('validation_failed', `blueprint ${found.id} is for ${found.db_type}, the database is ${database.db_type}`, { data: { field: 'blueprint_uuid' } })
    if (input.dry_run && database.db_type !== 'postgres') {
      throw new AppError('validation_failed', 'dry_run needs PostgreSQL: MySQL commits DDL implicitly, so a dry run could not be rolled back', { data: { field: 'dry_run' } })
    }
    const values = resolveValues(found.variables, input.variables)
    const parsed = await parseBlueprint(found.sql_content, found.db_type, found.variables, values)
    refuseInvalid(parsed)
    return this.deps.catalog.transaction(async (tx) => {
      const id = await this.enqueue(tx, found, database, values, parsed.statements.length, input.dry_run ?? false)
      return (await findApplication(tx, null, id))!
    })
  }

  async getApplication(scope: TeamScope, id: number): Promise<ApplicationRecord> {
    return (await findApplication(this.deps.catalog, scope.teamIds, id))
      ?? (() => { throw new AppError('blueprint_application_not_found', `no blueprint application ${id}`) })()
  }

  /** the application once it finished, or as it is when `seconds` pass or `signal` aborts */
  async waitUntilFinished(scope: TeamScope, id: number, seconds: number, signal?: AbortSignal): Promise<ApplicationRecord> {
    const until = Date.now() + seconds * 1000
    for (;;) {
      const record = await this.getApplication(scope, id)
      if (!['pending', 'running'].includes(record.status) || Date.now() >= until || signal?.aborted) return record
      await new Promise((resolve) => setTimeout(resolve, Math.min(WAIT_POLL_MS, Math.max(1, until - Date.now()))))
    }
  }

  private async enqueue(tx: Executor, found: BlueprintRecord, database: DatabaseRecord, values: Record<string, VariableValue>, total: number, dryRun: boolean): Promise<number> {
    const id = await insertApplication(tx, {
      team_id: database.team_id, blueprint_id: found.id, blueprint_version: found.version, database_id: database.id,
      is_dry_run: dryRun, variable_values: values, statements_total: total,
    })
    const jobId = await this.deps.jobs.enqueue(APPLY_JOB, { application_id: id }, { tx, owner: { kind: 'tenant', id: `team:${database.team_id}` } })
    await setApplicationJob(tx, id, jobId)
    return id
  }

  /** the provisioning job's hook: the blueprint named at create, at its version of that moment */
  private async applyOnCreate(tx: Executor, record: DatabaseRecord & { blueprint_id?: string | null; blueprint_variables?: Record<string, VariableValue> | null }): Promise<void> {
    if (!record.blueprint_id) return
    const found = await findBlueprint(tx, [record.team_id], record.blueprint_id)
    if (!found) return
    const parsed = await parseBlueprint(found.sql_content, found.db_type, found.variables, record.blueprint_variables ?? {})
    const id = await this.enqueue(tx, found, record, record.blueprint_variables ?? {}, parsed.statements.length, false)
    await tx.query({ sql: 'UPDATE atrium.managed_databases SET blueprint_application_id = $2 WHERE id = $1', params: [record.id, id] })
  }

  /** the job: parse the named version again with the stored values, run it, record the outcome and its event */
  private async run(applicationId: number, ctx: JobContext): Promise<{ application_id: number; status: string }> {
    const app = await findApplication(this.deps.catalog, null, applicationId)
    if (!app || !['pending', 'running'].includes(app.status)) return { application_id: applicationId, status: app?.status ?? 'missing' }
    const finish = async (outcome: Parameters<typeof finishApplication>[2]) => {
      await this.deps.catalog.transaction(async (tx) => {
        await finishApplication(tx, applicationId, outcome)
        if (outcome.status === 'completed' && !app.is_dry_run) await this.writeEvent(tx, app, outcome.status)
      })
      this.deps.outbox.committed()
      return { application_id: applicationId, status: outcome.status }
    }
    const failed = (message: string) => finish({ status: 'failed', execution_log: [], statements_succeeded: 0, statements_failed: 0, error_message: message, total_duration_ms: 0 })
    const database = await this.deps.databases.findAny(app.database_id)
    if (!database || database.deleted_at || database.status !== 'active') return failed(`database ${app.database_id} is not active`)
    if (app.status === 'running' && database.db_type === 'mysql') {
      return failed('the application was interrupted while it ran; MySQL may have committed its DDL, so it is not run again (check the database, then apply again)')
    }
    const found = await findBlueprint(this.deps.catalog, [app.team_id], app.blueprint_id, app.blueprint_version)
    if (!found) return failed(`blueprint ${app.blueprint_id} version ${app.blueprint_version} no longer exists`)
    const parsed = await parseBlueprint(found.sql_content, found.db_type, found.variables, app.variable_values)
    if (!parsed.valid) return failed(`the blueprint's SQL is not valid: ${describeIssue(parsed.errors[0]!)}`)
    await markRunning(this.deps.catalog, applicationId)
    const url = this.deps.databases.connectionString(database, this.deps.databases.password(database))
    let outcome: Awaited<ReturnType<typeof runStatements>>
    try {
      outcome = await runStatements(database.db_type, url, parsed.statements, app.is_dry_run, ctx.signal)
    } catch (err) {
      // cut off by shutdown or cancellation: the job runs again (PostgreSQL rolled the attempt back)
      if (ctx.signal.aborted) throw err
      this.deps.logger.warn({ application: applicationId, err: (err as Error).message }, 'blueprint application failed before its statements ran')
      return failed(`the database could not be reached: ${(err as Error).message}`)
    }
    return finish(outcome)
  }

  private async writeEvent(tx: Executor, app: ApplicationRecord, status: string): Promise<void> {
    const payload: BlueprintEventV1 = {
      type: 'blueprint.applied', version: 1, application_id: app.id, blueprint_id: app.blueprint_id, blueprint_version: app.blueprint_version,
      database_id: app.database_id, team_id: app.team_id, status,
    }
    await this.deps.outbox.write(tx, { payload, tenant: `team:${app.team_id}` })
  }
}

function engineOf(dbType: string | undefined): Engine {
  const engine = (dbType ?? 'postgres') as Engine
  if (!ENGINES.includes(engine)) throw new AppError('validation_failed', `db_type must be one of ${ENGINES.join(', ')}`, { data: { field: 'db_type' } })
  return engine
}

export type { Declarations }
