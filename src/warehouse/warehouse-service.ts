// Projects → datasets → tables of a Workspace tenant: their catalog records (atrium.ws_projects, ws_datasets,
// ws_tables) and, for tables, the engine's tables in step with them. Framework-free; every lookup is scoped to
// the actor's tenant, so another tenant's id is a 404. Roles are checked here (tenancy/roles.ts).
import type { Catalog } from '../catalog/catalog.js'
import { AppError } from '../errors/app-error.js'
import { isUuid, type Window } from '../tenancy/paging.js'
import { requireRole, type WorkspaceActor } from '../tenancy/roles.js'
import type { WarehouseEngine } from './engine.js'
import { diffSchemas, parseTableSchema, storedSchema, type TableSchema } from './table-schema.js'

export interface Project {
  id: string
  tenant_id: string
  name: string
  description: string | null
  created_at: Date
  archived_at: Date | null
}

export interface Dataset extends Project {
  project_id: string
}

export interface Table {
  id: string
  tenant_id: string
  dataset_id: string
  name: string
  schema: TableSchema
  created_at: Date
  archived_at: Date | null
}

export interface WarehouseDeps {
  catalog: Catalog
  engine: WarehouseEngine
}

/** how SQL names a dataset (dataset.table): an identifier, unique among the tenant's datasets */
const DATASET_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/
const TABLE_NAME = DATASET_NAME

function checkName(kind: 'dataset' | 'table', name: string): void {
  const shape = kind === 'dataset' ? DATASET_NAME : TABLE_NAME
  if (!shape.test(name)) {
    throw new AppError('validation_failed', `a ${kind} name is 1–63 letters, digits or _, not starting with a digit (SQL names tables as dataset.table)`, { data: { loc: ['body', 'name'] } })
  }
}

export class Warehouse {
  constructor(private readonly deps: WarehouseDeps) {}

  // ---- projects ----

  async createProject(actor: WorkspaceActor, input: { name: string; description?: string | null }): Promise<Project> {
    requireRole(actor, 'projects.write')
    const [row] = await this.deps.catalog.rows<Project>(
      'INSERT INTO atrium.ws_projects (tenant_id, name, description) VALUES ($1, $2, $3) RETURNING *',
      [actor.tenantId, input.name, input.description ?? null],
    )
    return row!
  }

  async listProjects(actor: WorkspaceActor, w: Window): Promise<Project[]> {
    requireRole(actor, 'projects.read')
    return this.deps.catalog.rows<Project>(
      'SELECT * FROM atrium.ws_projects WHERE tenant_id = $1 AND archived_at IS NULL ORDER BY created_at, id OFFSET $2 LIMIT $3',
      [actor.tenantId, w.skip, w.limit],
    )
  }

  async getProject(actor: WorkspaceActor, id: string): Promise<Project> {
    requireRole(actor, 'projects.read')
    return this.project(actor.tenantId, id)
  }

  async updateProject(actor: WorkspaceActor, id: string, input: { name?: string | null; description?: string | null }): Promise<Project> {
    requireRole(actor, 'projects.write')
    await this.project(actor.tenantId, id)
    const [row] = await this.deps.catalog.rows<Project>(
      `UPDATE atrium.ws_projects SET name = coalesce($3, name), description = CASE WHEN $4 THEN $5 ELSE description END
       WHERE tenant_id = $1 AND id = $2 AND archived_at IS NULL RETURNING *`,
      [actor.tenantId, id, input.name ?? null, input.description !== undefined, input.description ?? null],
    )
    if (!row) throw notFound('project', id)
    return row
  }

  /** soft delete; a project that still has datasets is refused, so no dataset is left without a project */
  async archiveProject(actor: WorkspaceActor, id: string): Promise<void> {
    requireRole(actor, 'projects.write')
    await this.project(actor.tenantId, id)
    const [dataset] = await this.deps.catalog.rows('SELECT 1 FROM atrium.ws_datasets WHERE project_id = $1 AND archived_at IS NULL LIMIT 1', [id])
    if (dataset) throw new AppError('workspace_not_empty', 'the project still has datasets', { hint: 'delete its datasets first' })
    await this.deps.catalog.rows('UPDATE atrium.ws_projects SET archived_at = now() WHERE tenant_id = $1 AND id = $2', [actor.tenantId, id])
  }

  // ---- datasets ----

  async createDataset(actor: WorkspaceActor, input: { name: string; description?: string | null; project_id: string }): Promise<Dataset> {
    requireRole(actor, 'datasets.write')
    checkName('dataset', input.name)
    await this.project(actor.tenantId, input.project_id, ['body', 'project_id'])
    const [row] = await this.deps.catalog.rows<Dataset>(
      'INSERT INTO atrium.ws_datasets (tenant_id, project_id, name, description) VALUES ($1, $2, $3, $4) RETURNING *',
      [actor.tenantId, input.project_id, input.name, input.description ?? null],
    ).catch(nameTaken('dataset', input.name))
    return row!
  }

  async listDatasets(actor: WorkspaceActor, w: Window, projectId?: string): Promise<Dataset[]> {
    requireRole(actor, 'datasets.read')
    if (projectId !== undefined) await this.project(actor.tenantId, projectId)
    return this.deps.catalog.rows<Dataset>(
      `SELECT * FROM atrium.ws_datasets WHERE tenant_id = $1 AND archived_at IS NULL AND ($2::uuid IS NULL OR project_id = $2)
       ORDER BY created_at, id OFFSET $3 LIMIT $4`,
      [actor.tenantId, projectId ?? null, w.skip, w.limit],
    )
  }

  async getDataset(actor: WorkspaceActor, id: string): Promise<Dataset> {
    requireRole(actor, 'datasets.read')
    return this.dataset(actor.tenantId, id)
  }

  async updateDataset(actor: WorkspaceActor, id: string, input: { name?: string | null; description?: string | null; project_id?: string | null }): Promise<Dataset> {
    requireRole(actor, 'datasets.write')
    await this.dataset(actor.tenantId, id)
    if (input.name != null) checkName('dataset', input.name)
    if (input.project_id != null) await this.project(actor.tenantId, input.project_id, ['body', 'project_id'])
    const [row] = await this.deps.catalog.rows<Dataset>(
      `UPDATE atrium.ws_datasets SET name = coalesce($3, name), project_id = coalesce($4, project_id),
              description = CASE WHEN $5 THEN $6 ELSE description END
       WHERE tenant_id = $1 AND id = $2 AND archived_at IS NULL RETURNING *`,
      [actor.tenantId, id, input.name ?? null, input.project_id ?? null, input.description !== undefined, input.description ?? null],
    ).catch(nameTaken('dataset', input.name ?? ''))
    if (!row) throw notFound('dataset', id)
    return row
  }

  async archiveDataset(actor: WorkspaceActor, id: string): Promise<void> {
    requireRole(actor, 'datasets.write')
    await this.dataset(actor.tenantId, id)
    const [table] = await this.deps.catalog.rows('SELECT 1 FROM atrium.ws_tables WHERE dataset_id = $1 AND archived_at IS NULL LIMIT 1', [id])
    if (table) throw new AppError('workspace_not_empty', 'the dataset still has tables', { hint: 'delete its tables first' })
    await this.deps.catalog.rows('UPDATE atrium.ws_datasets SET archived_at = now() WHERE tenant_id = $1 AND id = $2', [actor.tenantId, id])
  }

  // ---- tables ----

  /** the catalog row and the engine's table: the row commits only once the engine has the table */
  async createTable(actor: WorkspaceActor, input: { name: string; schema: unknown; dataset_id: string }): Promise<Table> {
    requireRole(actor, 'tables.write')
    checkName('table', input.name)
    const schema = storedSchema(parseTableSchema(input.schema))
    await this.dataset(actor.tenantId, input.dataset_id, ['body', 'dataset_id'])
    return this.deps.catalog.transaction(async (tx) => {
      const row = (await tx.query({
        sql: 'INSERT INTO atrium.ws_tables (tenant_id, dataset_id, name, schema) VALUES ($1, $2, $3, $4::jsonb) RETURNING *',
        params: [actor.tenantId, input.dataset_id, input.name, JSON.stringify(schema)],
      }).catch(nameTaken('table', input.name))).rows[0] as unknown as Table
      await this.deps.engine.createTable({ tenantId: actor.tenantId, datasetId: row.dataset_id, tableId: row.id }, schema.columns)
      return row
    })
  }

  async listTables(actor: WorkspaceActor, w: Window, datasetId?: string): Promise<Table[]> {
    requireRole(actor, 'tables.read')
    if (datasetId !== undefined) await this.dataset(actor.tenantId, datasetId)
    return this.deps.catalog.rows<Table>(
      `SELECT * FROM atrium.ws_tables WHERE tenant_id = $1 AND archived_at IS NULL AND ($2::uuid IS NULL OR dataset_id = $2)
       ORDER BY created_at, id OFFSET $3 LIMIT $4`,
      [actor.tenantId, datasetId ?? null, w.skip, w.limit],
    )
  }

  async getTable(actor: WorkspaceActor, id: string): Promise<Table> {
    requireRole(actor, 'tables.read')
    return this.table(actor.tenantId, id)
  }

  /**
   * A new name and/or schema. Schema changes are applied to the engine's table (add, rename via old_name,
   * drop, nullability) in one engine transaction that commits only after the catalog's record does; anything
   * that cannot be applied is a 422 and changes nothing. Moving a table to another dataset is refused.
   */
  async updateTable(actor: WorkspaceActor, id: string, input: { name?: string | null; schema?: unknown; dataset_id?: string | null }): Promise<Table> {
    requireRole(actor, 'tables.write')
    const current = await this.table(actor.tenantId, id)
    if (input.dataset_id != null && input.dataset_id !== current.dataset_id) {
      throw new AppError('table_schema_change_refused', 'a table cannot move to another dataset; create it there and import its rows', { data: { loc: ['body', 'dataset_id'] } })
    }
    if (input.name != null) checkName('table', input.name)
    const next = input.schema != null ? parseTableSchema(input.schema) : null
    const changes = next ? diffSchemas(current.schema, next) : []
    const schema = next ? storedSchema(next) : current.schema
    const save = async () => {
      const [row] = await this.deps.catalog.rows<Table>(
        'UPDATE atrium.ws_tables SET name = coalesce($3, name), schema = $4::jsonb, changed_at = CASE WHEN schema = $4::jsonb THEN changed_at ELSE now() END WHERE tenant_id = $1 AND id = $2 AND archived_at IS NULL RETURNING *',
        [actor.tenantId, id, input.name ?? null, JSON.stringify(schema)],
      ).catch(nameTaken('table', input.name ?? ''))
      if (!row) throw notFound('table', id)
      return row
    }
    if (changes.length === 0) return save()
    let saved: Table | undefined
    await this.deps.engine.alterTable({ tenantId: actor.tenantId, datasetId: current.dataset_id, tableId: id }, changes, async () => { saved = await save() })
    return saved!
  }

  /**
   * Soft delete in the catalog, then the engine's table is dropped: a crash between the two leaves an
   * engine table no record names (its name is the never-reused id), never a record without its table.
   */
  async archiveTable(actor: WorkspaceActor, id: string): Promise<void> {
    requireRole(actor, 'tables.write')
    const current = await this.table(actor.tenantId, id)
    await this.deps.catalog.rows('UPDATE atrium.ws_tables SET archived_at = now() WHERE tenant_id = $1 AND id = $2', [actor.tenantId, id])
    await this.deps.engine.dropTable({ tenantId: actor.tenantId, datasetId: current.dataset_id, tableId: id })
  }

  // ---- lookups: a live row of the tenant, or 404 ----

  private async project(tenantId: string, id: string, loc?: string[]): Promise<Project> {
    const [row] = isUuid(id) ? await this.deps.catalog.rows<Project>('SELECT * FROM atrium.ws_projects WHERE tenant_id = $1 AND id = $2 AND archived_at IS NULL', [tenantId, id]) : []
    if (!row) throw notFound('project', id, loc)
    return row
  }

  private async dataset(tenantId: string, id: string, loc?: string[]): Promise<Dataset> {
    const [row] = isUuid(id) ? await this.deps.catalog.rows<Dataset>('SELECT * FROM atrium.ws_datasets WHERE tenant_id = $1 AND id = $2 AND archived_at IS NULL', [tenantId, id]) : []
    if (!row) throw notFound('dataset', id, loc)
    return row
  }

  private async table(tenantId: string, id: string): Promise<Table> {
    const [row] = isUuid(id) ? await this.deps.catalog.rows<Table>('SELECT * FROM atrium.ws_tables WHERE tenant_id = $1 AND id = $2 AND archived_at IS NULL', [tenantId, id]) : []
    if (!row) throw notFound('table', id)
    return row
  }
}

const NOT_FOUND_CODES = { project: 'project_not_found', dataset: 'dataset_not_found', table: 'workspace_table_not_found' } as const

function notFound(kind: keyof typeof NOT_FOUND_CODES, id: string, loc?: string[]): AppError {
  return new AppError(NOT_FOUND_CODES[kind], `no ${kind} ${id} in your tenant`, loc ? { data: { loc } } : {})
}

function nameTaken(kind: 'dataset' | 'table', name: string) {
  return (err: unknown): never => {
    if (err instanceof AppError && err.code === 'unique_violation') {
      throw new AppError('workspace_name_taken', kind === 'dataset'
        ? `a dataset named "${name}" already exists in your tenant (SQL names datasets by name)`
        : `a table named "${name}" already exists in this dataset`)
    }
    throw err
  }
}
