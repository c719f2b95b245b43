// TypeBox schemas shared by the gateway routes: headers and the Athena request bodies (types + OpenAPI).
import { Type } from '@sinclair/typebox'

export const ClientHeader = Type.Object({
  'x-athena-client': Type.Optional(Type.String({ description: 'selects the data source (client)' })),
})

export const GatewayHeaders = Type.Object({
  'x-athena-client': Type.Optional(Type.String({ description: 'selects the data source (client)' })),
  'x-strip-nulls': Type.Optional(Type.String({ description: 'true drops null-valued keys from rows' })),
  'x-user-id': Type.Optional(Type.String()),
  'x-company-id': Type.Optional(Type.String()),
  'x-organization-id': Type.Optional(Type.String()),
  'x-publish-event': Type.Optional(Type.String({ description: 'publish the written rows as an event with this name' })),
  prefer: Type.Optional(Type.String({ description: 'respond-async: queue the call and answer 202 with a request id (GET /gateway/deferred/{request_id}); return=minimal: a write sends no rows back (`data` is [])' })),
  'x-athena-deferred': Type.Optional(Type.String({ description: 'true: the same as Prefer: respond-async' })),
})

const Columns = Type.Union([Type.String(), Type.Array(Type.String())], { description: 'select list: "id,name,customer:customer_id(name)" or an array' })
const Sort = Type.Object({
  field: Type.Optional(Type.String()),
  direction: Type.Optional(Type.Union(['asc', 'desc', 'ascending', 'descending'].map((d) => Type.Literal(d)))),
})
export const Condition = Type.Object({
  eq_column: Type.Optional(Type.String()),
  eq_value: Type.Optional(Type.Unknown()),
  column: Type.Optional(Type.String()),
  operator: Type.Optional(Type.String()),
  value: Type.Optional(Type.Unknown()),
}, { additionalProperties: true })
const Head = Type.Boolean({ description: 'true: send no rows back (`data` is []), as Prefer: return=minimal' })
const Rows = Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Array(Type.Record(Type.String(), Type.Unknown()))])

export const FetchBody = Type.Object({
  table_name: Type.Optional(Type.String({ minLength: 1 })),
  view_name: Type.Optional(Type.String({ minLength: 1 })),
  columns: Type.Optional(Columns),
  conditions: Type.Optional(Type.Array(Condition)),
  limit: Type.Optional(Type.Integer({ minimum: 0 })),
  offset: Type.Optional(Type.Integer({ minimum: 0 })),
  current_page: Type.Optional(Type.Integer({ minimum: 1 })),
  page_size: Type.Optional(Type.Integer({ minimum: 1 })),
  total_pages: Type.Optional(Type.Integer()),
  strip_nulls: Type.Optional(Type.Boolean()),
  group_by: Type.Optional(Type.String({ minLength: 1 })),
  time_granularity: Type.Optional(Type.Union([Type.Literal('day'), Type.Literal('hour'), Type.Literal('minute')])),
  aggregation_column: Type.Optional(Type.String({ minLength: 1 })),
  aggregation_strategy: Type.Optional(Type.Literal('cumulative_sum')),
  aggregation_dedup: Type.Optional(Type.Boolean()),
  sortBy: Type.Optional(Sort),
  sort_by: Type.Optional(Sort),
  update_body: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  head: Type.Optional(Type.Boolean({ description: 'with update_body: send no rows back (`data` is []), as Prefer: return=minimal; a fetch ignores it' })),
}, { additionalProperties: true })

export const InsertBody = Type.Object({
  table_name: Type.Optional(Type.String({ minLength: 1 })),
  view_name: Type.Optional(Type.String({ minLength: 1 })),
  insert_body: Rows,
  update_body: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  on_conflict: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])),
  columns: Type.Optional(Columns),
  default_to_null: Type.Optional(Type.Boolean()),
  strip_nulls: Type.Optional(Type.Boolean()),
  head: Type.Optional(Head),
}, { additionalProperties: true })

export const DeleteBody = Type.Object({
  table_name: Type.Optional(Type.String({ minLength: 1 })),
  view_name: Type.Optional(Type.String({ minLength: 1 })),
  resource_id: Type.Optional(Type.Union([Type.String(), Type.Number()])),
  conditions: Type.Optional(Type.Array(Condition)),
  columns: Type.Optional(Columns),
  head: Type.Optional(Head),
}, { additionalProperties: true })

export const SqlBody = Type.Object({
  query: Type.Optional(Type.String({ minLength: 1, description: 'raw SQL; several statements run in one transaction' })),
  dry_run: Type.Optional(Type.Boolean({ description: "classify only: answer meta.sql_class, required_right and allowed; nothing runs" })),
  sql: Type.Optional(Type.String({ minLength: 1, description: 'alias of query' })),
}, { additionalProperties: true })

export const QuerySqlBody = Type.Object({
  query: Type.String({ minLength: 1 }),
  driver: Type.Union([Type.Literal('athena'), Type.Literal('postgresql'), Type.Literal('supabase')]),
  db_name: Type.String({ minLength: 1, description: 'the client (data source) to run on' }),
}, { additionalProperties: false })

export const RpcBody = Type.Object({
  function_name: Type.Optional(Type.String({ minLength: 1 })),
  function: Type.Optional(Type.String({ minLength: 1 })),
  schema: Type.Optional(Type.String({ minLength: 1 })),
  args: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  params: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  columns: Type.Optional(Columns),
  conditions: Type.Optional(Type.Array(Condition)),
  limit: Type.Optional(Type.Integer({ minimum: 0 })),
  offset: Type.Optional(Type.Integer({ minimum: 0 })),
  sort_by: Type.Optional(Sort),
  sortBy: Type.Optional(Sort),
  strip_nulls: Type.Optional(Type.Boolean()),
}, { additionalProperties: true })
