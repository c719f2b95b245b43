// Tables enabled for realtime capture (admin): enabling installs the capture trigger on the source and records the
// table in the catalog; every node then follows it (change-watch.ts) and drains its changes (capture-drainer.ts).
import type { Catalog } from '../catalog/catalog.js'
import { AppError } from '../errors/app-error.js'
import { resolveTable } from '../query/plan/plan-read.js'
import { planContextFor } from '../query/pipeline.js'
import type { SourceRegistry } from '../sources/registry.js'
import type { ChangeWatch } from './change-watch.js'
import { captureDialectOf } from './capture/capture-drainer.js'

export interface RealtimeTablesDeps {
  catalog: Catalog
  registry: SourceRegistry
  changeWatch: ChangeWatch
}

export interface RealtimeTable {
  client: string
  schema: string
  table: string
  enabled_at: string
}

const toTable = (r: Record<string, unknown>): RealtimeTable => ({
  client: String(r.client_name), schema: String(r.table_schema), table: String(r.table_name), enabled_at: new Date(r.enabled_at as string).toISOString(),
})

export async function listRealtimeTables(deps: RealtimeTablesDeps, clientName: string): Promise<RealtimeTable[]> {
  const source = deps.registry.resolve(clientName)
  const res = await deps.catalog.query({ sql: 'SELECT * FROM atrium.realtime_tables WHERE client_name = $1 ORDER BY table_name', params: [source.name] })
  return res.rows.map(toTable)
}

/** installs capture on a table (again, when it already is: after altering its columns on MySQL) */
export async function enableRealtimeTable(deps: RealtimeTablesDeps, clientName: string, tableName: string): Promise<RealtimeTable> {
  const source = deps.registry.resolve(clientName)
  const dialect = captureDialectOf(source)
  const table = resolveTable(await planContextFor(source), { name: tableName })
  if (!dialect || table.kind !== 'table') {
    throw new AppError('realtime_unsupported_table', `"${table.name}" is a ${table.kind.replace('_', ' ')}: only tables can be enabled for realtime capture`, {
      hint: 'enable the tables a view reads from, and subscribe to those',
    })
  }
  await dialect.install(source.driver, table)
  const res = await deps.catalog.query({
    sql: `INSERT INTO atrium.realtime_tables (client_name, table_schema, table_name) VALUES ($1, $2, $3)
          ON CONFLICT (client_name, table_name) DO UPDATE SET table_schema = EXCLUDED.table_schema RETURNING *`,
    params: [source.name, table.schema, table.name],
  })
  await deps.changeWatch.announce()
  await deps.changeWatch.refresh()
  return toTable(res.rows[0])
}

export async function disableRealtimeTable(deps: RealtimeTablesDeps, clientName: string, tableName: string): Promise<RealtimeTable> {
  const source = deps.registry.resolve(clientName)
  const res = await deps.catalog.query({ sql: 'SELECT * FROM atrium.realtime_tables WHERE client_name = $1 AND table_name = $2', params: [source.name, tableName] })
  if (!res.rows.length) {
    throw new AppError('realtime_table_not_found', `table "${tableName.slice(0, 128)}" of client "${source.name}" is not enabled for realtime capture`, {
      hint: `GET /admin/clients/${source.name}/realtime/tables lists the enabled tables`,
    })
  }
  const enabled = toTable(res.rows[0])
  // the nodes learn first that the table is no longer captured, then the trigger goes: in between a write may be
  // delivered twice (Atrium's change event and the captured one), never by neither
  await deps.catalog.query({ sql: 'DELETE FROM atrium.realtime_tables WHERE client_name = $1 AND table_name = $2', params: [source.name, tableName] })
  await deps.changeWatch.announce()
  await deps.changeWatch.refresh()
  await captureDialectOf(source)!.uninstall(source.driver, { schema: enabled.schema, name: enabled.table })
  return enabled
}
