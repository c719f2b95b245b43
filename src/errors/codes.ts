// The catalogue of stable error codes. Wire-stable: never rename or reuse a code; retire it with a comment.
// `status` is the HTTP status on every family unless `restStatus` gives PostgREST's own status for /rest/v1;
// `pgrst` is the code /rest/v1 sends when the error did not come from the database with a SQLSTATE.

export type Stage = 'request' | 'auth' | 'plan' | 'execute' | 'server'

export interface CodeSpec {
  status: number
  stage: Stage
  pgrst?: string
  restStatus?: number
}

export const codes = {
  // request: the shape of what was sent
  invalid_request: { status: 400, stage: 'request', pgrst: 'PGRST102' },
  invalid_json: { status: 400, stage: 'request', pgrst: 'PGRST102' },
  body_too_large: { status: 413, stage: 'request', pgrst: 'PGRST102' },
  unsupported_media_type: { status: 415, stage: 'request', pgrst: 'PGRST102' },
  route_not_found: { status: 404, stage: 'request', pgrst: 'PGRST125' },
  missing_client_header: { status: 400, stage: 'request', pgrst: 'PGRST000' },
  unknown_client: { status: 400, stage: 'request', pgrst: 'PGRST000' },
  missing_tenant_header: { status: 400, stage: 'request', pgrst: 'PGRST000' },
  invalid_filter: { status: 400, stage: 'request', pgrst: 'PGRST100' },
  invalid_select: { status: 400, stage: 'request', pgrst: 'PGRST100' },
  invalid_order: { status: 400, stage: 'request', pgrst: 'PGRST100' },
  aggregates_not_supported: { status: 400, stage: 'request', pgrst: 'PGRST123' },
  invalid_range: { status: 416, stage: 'request', pgrst: 'PGRST103' },
  invalid_preference: { status: 400, stage: 'request', pgrst: 'PGRST122' },
  not_acceptable: { status: 406, stage: 'request', pgrst: 'PGRST107' },
  singular_row_expected: { status: 406, stage: 'execute', pgrst: 'PGRST116' },
  missing_filter: { status: 400, stage: 'request', pgrst: 'PGRST106' },
  invalid_upstream: { status: 400, stage: 'request', pgrst: 'PGRST000' },
  upstream_not_supported: { status: 400, stage: 'request', pgrst: 'PGRST000' },

  // plan: names checked against the schema cache
  unknown_table: { status: 400, stage: 'plan', pgrst: 'PGRST205', restStatus: 404 },
  unknown_column: { status: 400, stage: 'plan', pgrst: '42703' },
  unknown_relationship: { status: 400, stage: 'plan', pgrst: 'PGRST200' },
  ambiguous_relationship: { status: 400, stage: 'plan', pgrst: 'PGRST201', restStatus: 300 },
  unknown_function: { status: 404, stage: 'plan', pgrst: 'PGRST202' },
  unsupported_feature: { status: 400, stage: 'plan', pgrst: 'PGRST127' },
  read_only_relation: { status: 405, stage: 'plan', pgrst: 'PGRST120' },

  // auth: who is calling and what they may do
  missing_api_key: { status: 401, stage: 'auth', pgrst: 'PGRST301' },
  invalid_api_key: { status: 401, stage: 'auth', pgrst: 'PGRST301' },
  expired_api_key: { status: 401, stage: 'auth', pgrst: 'PGRST303' },
  inactive_api_key: { status: 403, stage: 'auth', pgrst: 'PGRST301' },
  admin_key_required: { status: 403, stage: 'auth', pgrst: 'PGRST301' },
  client_not_allowed: { status: 403, stage: 'auth', pgrst: 'PGRST301' },
  missing_right: { status: 403, stage: 'auth', pgrst: '42501' },
  ip_not_allowed: { status: 403, stage: 'auth', pgrst: 'PGRST301' },
  key_locked_in: { status: 403, stage: 'auth', pgrst: 'PGRST301' },
  rate_limited: { status: 429, stage: 'auth', pgrst: 'PGRST000' },
  client_frozen: { status: 423, stage: 'auth', pgrst: 'PGRST000' },

  // execute: what the database said
  unique_violation: { status: 409, stage: 'execute', pgrst: '23505' },
  foreign_key_violation: { status: 409, stage: 'execute', pgrst: '23503' },
  not_null_violation: { status: 400, stage: 'execute', pgrst: '23502' },
  check_violation: { status: 400, stage: 'execute', pgrst: '23514' },
  invalid_value: { status: 400, stage: 'execute', pgrst: '22P02' },
  sql_error: { status: 400, stage: 'execute', pgrst: 'PGRST000' },
  insufficient_privilege: { status: 403, stage: 'execute', pgrst: '42501' },
  read_only_transaction: { status: 403, stage: 'execute', pgrst: '25006' },
  statement_timeout: { status: 504, stage: 'execute', pgrst: '57014' },
  source_unavailable: { status: 503, stage: 'execute', pgrst: 'PGRST001' },
  catalog_unavailable: { status: 503, stage: 'execute', pgrst: 'PGRST002' },
  upstream_error: { status: 502, stage: 'execute', pgrst: 'PGRST000' },
  upstream_rejected: { status: 400, stage: 'execute', pgrst: 'PGRST000' },

  // admin catalog and management DDL
  client_exists: { status: 409, stage: 'request', pgrst: 'PGRST000' },
  client_not_found: { status: 404, stage: 'request', pgrst: 'PGRST000' },
  api_key_not_found: { status: 404, stage: 'request', pgrst: 'PGRST000' },
  right_not_found: { status: 404, stage: 'request', pgrst: 'PGRST000' },
  enforcement_override_not_found: { status: 404, stage: 'request', pgrst: 'PGRST000' },
  read_only_client: { status: 409, stage: 'request', pgrst: 'PGRST000' },
  client_statistics_not_found: { status: 404, stage: 'request', pgrst: 'PGRST000' },
  vacuum_health_not_found: { status: 404, stage: 'request', pgrst: 'PGRST000' },
  key_not_client_bound: { status: 403, stage: 'auth', pgrst: 'PGRST301' },
  invalid_identifier: { status: 400, stage: 'request', pgrst: 'PGRST000' },
  data_type_not_allowed: { status: 400, stage: 'request', pgrst: 'PGRST000' },
  invalid_default_expression: { status: 400, stage: 'request', pgrst: 'PGRST000' },
  index_method_not_allowed: { status: 400, stage: 'request', pgrst: 'PGRST000' },
  extension_not_allowed: { status: 400, stage: 'request', pgrst: 'PGRST000' },
  reserved_column: { status: 400, stage: 'plan', pgrst: 'PGRST000' },
  table_exists: { status: 409, stage: 'execute', pgrst: '42P07' },
  table_not_found: { status: 404, stage: 'plan', pgrst: '42P01' },
  column_exists: { status: 409, stage: 'execute', pgrst: '42701' },
  column_not_found: { status: 404, stage: 'plan', pgrst: '42703' },
  index_exists: { status: 409, stage: 'execute', pgrst: '42P07' },
  index_not_found: { status: 404, stage: 'plan', pgrst: '42704' },
  extension_exists: { status: 409, stage: 'execute', pgrst: '42710' },
  audit_log_missing: { status: 503, stage: 'execute', pgrst: 'PGRST000' },

  // server
  internal_error: { status: 500, stage: 'server', pgrst: 'PGRST000' },

  // input limits: bad input is refused before any SQL is sent
  nul_byte: { status: 400, stage: 'request', pgrst: 'PGRST100' },
  limit_exceeded: { status: 400, stage: 'request', pgrst: 'PGRST100' },
  // raw SQL classification (both dialects): constructs read differently, names outside the exposed schemas
  ambiguous_sql: { status: 400, stage: 'request', pgrst: 'PGRST000' },
  schema_not_exposed: { status: 403, stage: 'plan', pgrst: 'PGRST106' },
  // data sources: the catalog is never one
  client_is_catalog: { status: 400, stage: 'request', pgrst: 'PGRST000' },
  // deadlines and raw-SQL sessions
  request_timeout: { status: 504, stage: 'server', pgrst: 'PGRST000' },
  too_many_concurrent_queries: { status: 429, stage: 'execute', pgrst: 'PGRST000' },
  // object store: buckets, keys, objects, multipart uploads and signed URLs
  invalid_bucket_name: { status: 400, stage: 'request', pgrst: 'PGRST000' },
  invalid_object_key: { status: 400, stage: 'request', pgrst: 'PGRST000' },
  invalid_object_metadata: { status: 400, stage: 'request', pgrst: 'PGRST000' },
  object_not_found: { status: 404, stage: 'execute', pgrst: 'PGRST000' },
  object_key_conflict: { status: 409, stage: 'execute', pgrst: 'PGRST000' },
  object_precondition_failed: { status: 412, stage: 'execute', pgrst: 'PGRST000' },
  object_too_large: { status: 413, stage: 'request', pgrst: 'PGRST000' },
  multipart_upload_not_found: { status: 404, stage: 'execute', pgrst: 'PGRST000' },
  invalid_multipart_part: { status: 400, stage: 'request', pgrst: 'PGRST000' },
  invalid_signed_url: { status: 403, stage: 'auth', pgrst: 'PGRST000' },
  signed_url_expired: { status: 403, stage: 'auth', pgrst: 'PGRST000' },
  object_store_error: { status: 502, stage: 'execute', pgrst: 'PGRST000' },
  // sessions: JWT bearer tokens (HS256 secret or JWKS)
  invalid_session_token: { status: 401, stage: 'auth', pgrst: 'PGRST301' },
  expired_session_token: { status: 401, stage: 'auth', pgrst: 'PGRST303' },
  session_keys_unavailable: { status: 503, stage: 'auth', pgrst: 'PGRST000' },
  // jobs: job records (src/jobs/); job_failed and job_expired are recorded on a job, not sent as a reply
  job_not_found: { status: 404, stage: 'request', pgrst: 'PGRST000' },
  invalid_cursor: { status: 400, stage: 'request', pgrst: 'PGRST000' },
  job_failed: { status: 500, stage: 'execute', pgrst: 'PGRST000' },
  job_expired: { status: 504, stage: 'execute', pgrst: 'PGRST000' },
} as const satisfies Record<string, CodeSpec>

export type ErrorCode = keyof typeof codes
