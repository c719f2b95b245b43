// Atrium as an MCP server: the tools and resources one caller sees, built for one request. Every tool is one or two
// calls of Atrium's own HTTP routes made with the caller's credential (`callRoute`), so an agent can never do more
// than its key: rights, client binding, IP policy, rate limits and the raw-SQL classification are the routes'. A
// route's refusal comes back as a tool error (isError) carrying the route's code and message. No Fastify here.
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js'
import { ErrorCode, McpError, type CallToolResult, type ReadResourceResult } from '@modelcontextprotocol/sdk/types.js'
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv'
import { z } from 'zod'
import { bodyOf, RouteRefusal, type RouteAnswer } from './route-answer.js'

/** one route call on behalf of the caller; the credential and address are the caller's, added by the caller of this module */
export interface RouteCall {
  method: 'GET' | 'POST'
  url: string
  client?: string
  headers?: Record<string, string>
  payload?: unknown
}

/** the keys of a table from the schema cache, asked only after the caller's describe route has passed */
export interface TableKeys {
  primary_key: string[]
  foreign_keys: Array<{ columns: string[]; references: { schema: string; table: string; columns: string[] } }>
}

export interface McpCaller {
  /** what presented the credential: the admin key, an API key, a session (a user) or a platform key */
  kind: 'admin' | 'key' | 'user' | 'platform'
  /** an API key's client binding: the only data source it may see */
  boundClient: string | null
}

export interface AtriumMcpOptions {
  caller: McpCaller
  version: string
  callRoute(call: RouteCall): Promise<RouteAnswer>
  keysOf(client: string, table: string, schema: string | undefined): Promise<TableKeys | undefined>
}

/** rows one read_rows call may return: an answer goes whole into a model's context */
export const MAX_READ_ROWS = 1000
/** the longest get_query_job waits for a job to finish */
export const MAX_JOB_WAIT_SECONDS = 20
/** resources listed at most (clients × tables) */
const MAX_LISTED_RESOURCES = 2000
const JOB_POLL_MS = 250

// A server is built per request (the endpoint is stateless), so what does not depend on the caller is built once:
// the input schemas (whole objects: a raw shape is wrapped anew at each registration), and the SDK's JSON Schema
// validator (an Ajv instance per server would cost every request).
const jsonSchemaValidator = new AjvJsonSchemaValidator()
const Client = z.string().min(1).max(128).describe('the data source (client) name, as list_data_sources returns it')
const Table = z.string().min(1).max(256).describe('the table or view name; "schema.table" for another exposed schema')
const FILTER_OPERATORS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'like', 'ilike', 'is', 'in'] as const
const Scalar = z.union([z.string(), z.number(), z.boolean(), z.null()])
const ClientInput = z.object({ client: Client })
const TableInput = z.object({ client: Client, table: Table })
const ReadRowsInput = z.object({
  client: Client,
  table: Table,
  columns: z.array(z.string().min(1)).max(200).optional().describe('the columns to return; all when omitted'),
  filters: z.array(z.object({
    column: z.string().min(1),
    operator: z.enum(FILTER_OPERATORS),
    value: z.union([Scalar, z.array(z.union([z.string(), z.number()]))]).describe('for "in", an array; for "is", null, true or false'),
  })).max(50).optional(),
  order: z.object({ column: z.string().min(1), direction: z.enum(['asc', 'desc']).optional() }).optional(),
  limit: z.number().int().min(1).max(MAX_READ_ROWS).optional().describe(`rows to return (default 100, at most ${MAX_READ_ROWS})`),
  offset: z.number().int().min(0).optional(),
})
const RunSqlInput = z.object({ client: Client, sql: z.string().min(1).max(100_000) })
const TenantId = z.string().min(1).max(100).optional().describe('the tenant to act in: only for the admin key (a user acts in their own)')
const RunSavedQueryInput = z.object({ query_id: z.string().min(1).max(100), query_text: z.string().min(1).max(100_000).optional(), tenant_id: TenantId })
const QueryJobInput = z.object({
  job_id: z.string().min(1).max(100),
  page: z.number().int().min(1).optional(),
  page_size: z.number().int().min(1).max(200).optional(),
  wait_seconds: z.number().min(0).max(MAX_JOB_WAIT_SECONDS).optional(),
  tenant_id: TenantId,
})

const json = (value: unknown): CallToolResult => ({ content: [{ type: 'text', text: JSON.stringify(value) }] })
const toolError = (text: string): CallToolResult => ({ content: [{ type: 'text', text }], isError: true })

/** a tool's answer: its value as JSON text, or the refusal of the route it called as a tool error */
async function answer(run: () => Promise<unknown>): Promise<CallToolResult> {
  try {
    return json(await run())
  } catch (err) {
    if (err instanceof RouteRefusal) return toolError(err.message)
    throw err
  }
}

export function buildAtriumMcpServer(opts: AtriumMcpOptions): McpServer {
  const { caller, callRoute } = opts
  const server = new McpServer({ name: 'atrium', version: opts.version }, { capabilities: { tools: {}, resources: {} }, jsonSchemaValidator })
  const call = async (c: RouteCall) => bodyOf(await callRoute(c))

  /** the data sources the caller may see: the clients (one, for a bound key) or a platform key's team databases */
  async function dataSources(): Promise<Array<Record<string, unknown>>> {
    if (caller.kind === 'platform') {
      const page = await call({ method: 'GET', url: '/api/v1/databases?limit=100' }) as { data: Array<Record<string, unknown>> }
      return page.data.map((d) => ({ name: d.name, uuid: d.uuid, db_type: d.db_type, db_name: d.db_name, status: d.status, region: d.region }))
    }
    const { clients } = await call({ method: 'GET', url: '/clients' }) as { clients: string[] }
    const bound = caller.boundClient?.toLowerCase()
    return clients.filter((c) => bound === undefined || c.toLowerCase() === bound).map((name) => ({ name }))
  }

  async function tablesOf(client: string): Promise<Array<{ schema: string; name: string; type: string }>> {
    const { tables } = await call({ method: 'GET', url: '/schema/tables', client }) as { tables: Array<{ table_schema: string; table_name: string; table_type: string }> }
    return tables.map((t) => ({ schema: t.table_schema, name: t.table_name, type: t.table_type }))
  }

  /** columns through the caller's own /schema/columns (which decides whether they may see them), then the keys */
  async function describe(client: string, table: string): Promise<Record<string, unknown>> {
    const dot = table.indexOf('.')
    const [schema, name] = dot > 0 ? [table.slice(0, dot), table.slice(dot + 1)] : [undefined, table]
    const query = new URLSearchParams({ table_name: name, ...(schema ? { table_schema: schema } : {}) })
    const { columns } = await call({ method: 'GET', url: `/schema/columns?${query}`, client }) as { columns: Array<Record<string, unknown>> }
    const keys = await opts.keysOf(client, name, schema)
    return {
      client,
      table: name,
      ...(schema ? { schema } : {}),
      columns: columns.map((c) => ({ name: c.column_name, type: c.data_type, nullable: c.is_nullable === 'YES', default: c.column_default })),
      primary_key: keys?.primary_key ?? [],
      foreign_keys: keys?.foreign_keys ?? [],
    }
  }

  server.registerTool('list_data_sources', {
    title: 'List data sources',
    description: caller.kind === 'platform'
      ? "The Databases API databases of this platform key's teams"
      : 'The data sources (clients) this credential may use; pass a name as `client` to the other tools',
    annotations: { readOnlyHint: true },
  }, () => answer(async () => ({ data_sources: await dataSources() })))

  if (caller.kind !== 'platform') registerDataTools()
  if (caller.kind === 'user' || caller.kind === 'admin') registerWorkspaceTools()
  return server

  function registerDataTools(): void {
    server.registerTool('list_tables', {
      title: 'List tables',
      description: 'Tables and views of one data source',
      inputSchema: ClientInput,
      annotations: { readOnlyHint: true },
    }, ({ client }) => answer(async () => ({ client, tables: await tablesOf(client) })))

    server.registerTool('describe_table', {
      title: 'Describe a table',
      description: 'Columns (name, type, nullable, default), primary key and foreign keys of one table',
      inputSchema: TableInput,
      annotations: { readOnlyHint: true },
    }, ({ client, table }) => answer(() => describe(client, table)))

    server.registerTool('read_rows', {
      title: 'Read rows',
      description: `Rows of one table: chosen columns, filters (all must hold), one order and a limit (at most ${MAX_READ_ROWS})`,
      inputSchema: ReadRowsInput,
      annotations: { readOnlyHint: true },
    }, ({ client, table, columns, filters, order, limit, offset }) => answer(async () => {
      const envelope = await call({
        method: 'POST',
        url: '/gateway/fetch',
        client,
        payload: {
          table_name: table,
          ...(columns?.length ? { columns } : {}),
          ...(filters?.length ? { conditions: filters.map((f) => ({ column: f.column, operator: f.operator, value: f.value })) } : {}),
          ...(order ? { sort_by: { field: order.column, direction: order.direction ?? 'asc' } } : {}),
          limit: limit ?? 100,
          ...(offset ? { offset } : {}),
        },
      }) as { data: unknown[] }
      return { client, table, rows: envelope.data, row_count: envelope.data.length }
    }))

    server.registerTool('run_sql', {
      title: 'Run SQL',
      description: 'Runs SQL on one data source. It is classified by what will run (read, write, DDL) and needs the matching right: a read-only credential cannot write',
      inputSchema: RunSqlInput,
      annotations: { destructiveHint: true },
    }, ({ client, sql }) => answer(async () => {
      const envelope = await call({ method: 'POST', url: '/gateway/query', client, payload: { query: sql } }) as { data: unknown; meta?: Record<string, unknown> }
      return { client, rows: envelope.data, ...envelope.meta }
    }))

    server.registerResource('table-schema', new ResourceTemplate('atrium://{client}/tables/{table}', {
      list: async () => {
        const resources: Array<{ uri: string; name: string; mimeType: string }> = []
        for (const source of await dataSources().catch(() => [])) {
          const client = String(source.name)
          for (const t of await tablesOf(client).catch(() => [])) {
            if (resources.length >= MAX_LISTED_RESOURCES) return { resources }
            resources.push({ uri: tableUri(client, t.name), name: `${client}.${t.name}`, mimeType: 'application/json' })
          }
        }
        return { resources }
      },
    }), {
      title: 'Table schema',
      description: 'The columns and keys of one table, as describe_table gives them',
      mimeType: 'application/json',
    }, async (uri, vars): Promise<ReadResourceResult> => {
      const client = decodeURIComponent(String(vars.client))
      const table = decodeURIComponent(String(vars.table))
      try {
        const described = await describe(client, table)
        return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(described) }] }
      } catch (err) {
        // resources have no isError: a refusal is the read's error, with the route's status and code as its data
        if (err instanceof RouteRefusal) throw new McpError(ErrorCode.InvalidParams, err.message, { status: err.status, code: err.code })
        throw err
      }
    })
  }

  function registerWorkspaceTools(): void {
    const tenantHeader = (tenantId: string | undefined): Record<string, string> => (tenantId ? { 'x-tenant-id': tenantId } : {})

    server.registerTool('run_saved_query', {
      title: 'Run a saved Workspace query',
      description: 'Submits a query job for a saved query (its own text, or `query_text` run in its place) and answers the job id; get_query_job reads its result',
      inputSchema: RunSavedQueryInput,
    }, ({ query_id, query_text, tenant_id }) => answer(async () => {
      const headers = tenantHeader(tenant_id)
      const text = query_text ?? (await call({ method: 'GET', url: `/api/v1/queries/${encodeURIComponent(query_id)}`, headers }) as { query_text: string }).query_text
      return call({ method: 'POST', url: '/api/v1/queries/run', headers, payload: { query_id, query_text: text } })
    }))

    server.registerTool('get_query_job', {
      title: 'Get a Workspace query job and its result',
      description: `The job's status; once done, one page of its rows. wait_seconds (at most ${MAX_JOB_WAIT_SECONDS}) waits for it to finish`,
      inputSchema: QueryJobInput,
      annotations: { readOnlyHint: true },
    }, ({ job_id, page, page_size, wait_seconds, tenant_id }, extra) => answer(async () => {
      const headers = tenantHeader(tenant_id)
      const jobUrl = `/api/v1/query_jobs/${encodeURIComponent(job_id)}`
      const until = Date.now() + (wait_seconds ?? 0) * 1000
      let job = await call({ method: 'GET', url: jobUrl, headers }) as { status: string; error_result: unknown }
      while (!['done', 'failed', 'cancelled'].includes(job.status) && Date.now() < until && !extra.signal.aborted) {
        await new Promise((resolve) => setTimeout(resolve, JOB_POLL_MS))
        job = await call({ method: 'GET', url: jobUrl, headers }) as typeof job
      }
      if (job.status !== 'done') return { job_id, status: job.status, error: job.error_result }
      const query = new URLSearchParams({ page: String(page ?? 1), page_size: String(page_size ?? 50) })
      return { job_id, status: job.status, result: await call({ method: 'GET', url: `${jobUrl}/results?${query}`, headers }) }
    }))
  }
}

const tableUri = (client: string, table: string) => `atrium://${encodeURIComponent(client)}/tables/${encodeURIComponent(table)}`
