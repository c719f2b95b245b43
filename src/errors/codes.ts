// The catalogue of stable error codes. Wire-stable: never rename or reuse a code; retire it with a comment.
// `status` is the HTTP status of every family; a family that speaks another protocol's codes keeps its own
// table next to its renderer (PostgREST's codes and statuses: api/rest/postgrest-codes.ts).

export type Stage = 'request' | 'auth' | 'plan' | 'execute' | 'server'

export interface CodeSpec {
  status: number
  stage: Stage
}

export const codes = {
  // request: the shape of what was sent
  invalid_request: { status: 400, stage: 'request' },
  invalid_json: { status: 400, stage: 'request' },
  body_too_large: { status: 413, stage: 'request' },
  unsupported_media_type: { status: 415, stage: 'request' },
  route_not_found: { status: 404, stage: 'request' },
  registry_entry_not_found: { status: 404, stage: 'request' },
  missing_client_header: { status: 400, stage: 'request' },
  unknown_client: { status: 400, stage: 'request' },
  missing_tenant_header: { status: 400, stage: 'request' },
  invalid_filter: { status: 400, stage: 'request' },
  invalid_select: { status: 400, stage: 'request' },
  invalid_order: { status: 400, stage: 'request' },
  aggregates_not_supported: { status: 400, stage: 'request' },
  invalid_range: { status: 416, stage: 'request' },
  invalid_preference: { status: 400, stage: 'request' },
  not_acceptable: { status: 406, stage: 'request' },
  singular_row_expected: { status: 406, stage: 'execute' },
  missing_filter: { status: 400, stage: 'request' },
  invalid_upstream: { status: 400, stage: 'request' },
  upstream_not_supported: { status: 400, stage: 'request' },

  // plan: names checked against the schema cache
  unknown_table: { status: 400, stage: 'plan' },
  unknown_column: { status: 400, stage: 'plan' },
  unknown_relationship: { status: 400, stage: 'plan' },
  ambiguous_relationship: { status: 400, stage: 'plan' },
  unknown_function: { status: 404, stage: 'plan' },
  unsupported_feature: { status: 400, stage: 'plan' },
  read_only_relation: { status: 405, stage: 'plan' },

  // auth: who is calling and what they may do
  missing_api_key: { status: 401, stage: 'auth' },
  invalid_api_key: { status: 401, stage: 'auth' },
  expired_api_key: { status: 401, stage: 'auth' },
  inactive_api_key: { status: 403, stage: 'auth' },
  admin_key_required: { status: 403, stage: 'auth' },
  client_not_allowed: { status: 403, stage: 'auth' },
  missing_right: { status: 403, stage: 'auth' },
  ip_not_allowed: { status: 403, stage: 'auth' },
  key_locked_in: { status: 403, stage: 'auth' },
  rate_limited: { status: 429, stage: 'auth' },
  client_frozen: { status: 423, stage: 'auth' },

  // realtime: the WebSocket gateway's messages and connections (docs/realtime.md)
  upgrade_required: { status: 426, stage: 'request' },
  invalid_message: { status: 400, stage: 'request' },
  unknown_action: { status: 400, stage: 'request' },
  authentication_required: { status: 401, stage: 'auth' },
  too_many_in_flight: { status: 429, stage: 'request' },
  too_many_subscriptions: { status: 429, stage: 'request' },
  subscription_not_found: { status: 404, stage: 'request' },
  slow_consumer: { status: 429, stage: 'request' },
  too_many_connections: { status: 503, stage: 'request' },

  // the MCP endpoint (src/api/mcp/, docs/agents.md)
  mcp_method_not_allowed: { status: 405, stage: 'request' },

  // execute: what the database said
  unique_violation: { status: 409, stage: 'execute' },
  foreign_key_violation: { status: 409, stage: 'execute' },
  not_null_violation: { status: 400, stage: 'execute' },
  check_violation: { status: 400, stage: 'execute' },
  invalid_value: { status: 400, stage: 'execute' },
  sql_error: { status: 400, stage: 'execute' },
  insufficient_privilege: { status: 403, stage: 'execute' },
  read_only_transaction: { status: 403, stage: 'execute' },
  statement_timeout: { status: 504, stage: 'execute' },
  source_unavailable: { status: 503, stage: 'execute' },
  catalog_unavailable: { status: 503, stage: 'execute' },
  upstream_error: { status: 502, stage: 'execute' },
  upstream_rejected: { status: 400, stage: 'execute' },

  // admin catalog and management DDL
  client_exists: { status: 409, stage: 'request' },
  client_not_found: { status: 404, stage: 'request' },
  api_key_not_found: { status: 404, stage: 'request' },
  right_not_found: { status: 404, stage: 'request' },
  enforcement_override_not_found: { status: 404, stage: 'request' },
  read_only_client: { status: 409, stage: 'request' },
  client_statistics_not_found: { status: 404, stage: 'request' },
  vacuum_health_not_found: { status: 404, stage: 'request' },
  query_optimization_not_found: { status: 404, stage: 'request' },
  key_not_client_bound: { status: 403, stage: 'auth' },
  invalid_identifier: { status: 400, stage: 'request' },
  data_type_not_allowed: { status: 400, stage: 'request' },
  invalid_default_expression: { status: 400, stage: 'request' },
  index_method_not_allowed: { status: 400, stage: 'request' },
  extension_not_allowed: { status: 400, stage: 'request' },
  reserved_column: { status: 400, stage: 'plan' },
  table_exists: { status: 409, stage: 'execute' },
  table_not_found: { status: 404, stage: 'plan' },
  column_exists: { status: 409, stage: 'execute' },
  column_not_found: { status: 404, stage: 'plan' },
  index_exists: { status: 409, stage: 'execute' },
  index_not_found: { status: 404, stage: 'plan' },
  extension_exists: { status: 409, stage: 'execute' },
  audit_log_missing: { status: 503, stage: 'execute' },

  // server
  internal_error: { status: 500, stage: 'server' },

  // input limits: bad input is refused before any SQL is sent
  nul_byte: { status: 400, stage: 'request' },
  limit_exceeded: { status: 400, stage: 'request' },
  // raw SQL classification (both dialects): constructs read differently, names outside the exposed schemas
  ambiguous_sql: { status: 400, stage: 'request' },
  schema_not_exposed: { status: 403, stage: 'plan' },
  // data sources: the catalog is never one
  client_is_catalog: { status: 400, stage: 'request' },
  // deadlines and raw-SQL sessions
  request_timeout: { status: 504, stage: 'server' },
  too_many_concurrent_queries: { status: 429, stage: 'execute' },
  // object store: buckets, keys, objects, multipart uploads and signed URLs
  invalid_bucket_name: { status: 400, stage: 'request' },
  invalid_object_key: { status: 400, stage: 'request' },
  invalid_object_metadata: { status: 400, stage: 'request' },
  object_not_found: { status: 404, stage: 'execute' },
  object_key_conflict: { status: 409, stage: 'execute' },
  object_precondition_failed: { status: 412, stage: 'execute' },
  object_too_large: { status: 413, stage: 'request' },
  multipart_upload_not_found: { status: 404, stage: 'execute' },
  invalid_multipart_part: { status: 400, stage: 'request' },
  invalid_signed_url: { status: 403, stage: 'auth' },
  signed_url_expired: { status: 403, stage: 'auth' },
  object_store_error: { status: 502, stage: 'execute' },
  // storage (/storage/*): connections (s3_id), buckets and their limits, object versions
  storage_catalog_not_found: { status: 404, stage: 'request' },
  bucket_not_found: { status: 404, stage: 'request' },
  bucket_already_exists: { status: 409, stage: 'execute' },
  bucket_not_empty: { status: 409, stage: 'execute' },
  bucket_not_public: { status: 400, stage: 'request' },
  mime_type_not_allowed: { status: 415, stage: 'request' },
  object_version_not_found: { status: 404, stage: 'execute' },
  object_exists: { status: 409, stage: 'execute' },
  // storage file records (/storage/files*, /storage/multipart/*)
  storage_file_not_found: { status: 404, stage: 'request' },
  storage_file_deleted: { status: 410, stage: 'request' },
  storage_file_exists: { status: 409, stage: 'execute' },
  storage_file_not_uploaded: { status: 409, stage: 'execute' },
  storage_upload_mismatch: { status: 400, stage: 'execute' },
  storage_upload_in_progress: { status: 409, stage: 'execute' },
  // sessions: JWT bearer tokens (HS256 secret or JWKS)
  invalid_session_token: { status: 401, stage: 'auth' },
  expired_session_token: { status: 401, stage: 'auth' },
  session_keys_unavailable: { status: 503, stage: 'auth' },
  // jobs: job records (src/jobs/); job_failed and job_expired are recorded on a job, not sent as a reply
  job_not_found: { status: 404, stage: 'request' },
  invalid_cursor: { status: 400, stage: 'request' },
  job_failed: { status: 500, stage: 'execute' },
  job_expired: { status: 504, stage: 'execute' },
  // pipelines (src/pipelines/)
  invalid_pipeline: { status: 400, stage: 'request' },
  invalid_expression: { status: 400, stage: 'request' },
  pipeline_template_not_found: { status: 404, stage: 'request' },
  // webhooks (src/webhooks/); webhook_delivery_failed is recorded on a delivery job, not sent as a reply
  webhook_not_found: { status: 404, stage: 'request' },
  webhook_delivery_not_found: { status: 404, stage: 'request' },
  webhook_url_not_allowed: { status: 400, stage: 'request' },
  webhook_delivery_pending: { status: 409, stage: 'request' },
  webhook_delivery_failed: { status: 502, stage: 'execute' },
  // the Databases API (Polykomos): platform keys, validation, idempotency, provisioned databases
  validation_failed: { status: 422, stage: 'request' },
  missing_required_field: { status: 422, stage: 'request' },
  missing_scope: { status: 403, stage: 'auth' },
  inactive_key_expired: { status: 403, stage: 'auth' },
  monthly_quota_exceeded: { status: 429, stage: 'auth' },
  idempotency_key_reused: { status: 422, stage: 'request' },
  idempotency_key_in_use: { status: 409, stage: 'request' },
  database_not_found: { status: 404, stage: 'request' },
  team_not_found: { status: 404, stage: 'request' },
  database_type_not_available: { status: 422, stage: 'request' },
  provisioning_failed: { status: 502, stage: 'execute' },
  blueprint_not_found: { status: 404, stage: 'request' },
  blueprint_invalid: { status: 422, stage: 'request' },
  blueprint_application_not_found: { status: 404, stage: 'request' },
  // deferred gateway requests (src/deferred/); deferred_result_too_large is recorded on a request, not sent as a reply
  deferred_request_not_found: { status: 404, stage: 'request' },
  deferred_not_supported: { status: 400, stage: 'request' },
  deferred_not_requeueable: { status: 409, stage: 'request' },
  deferred_result_too_large: { status: 507, stage: 'execute' },
  // public routes (src/public-routes/)
  public_route_not_found: { status: 404, stage: 'request' },
  public_route_exists: { status: 409, stage: 'request' },
  public_operation_not_allowed: { status: 405, stage: 'request' },
  public_parameter_not_allowed: { status: 400, stage: 'request' },
  // backups (src/backups/); backup_failed and backup_checksum_mismatch are recorded on a backup job, not sent as a reply
  backup_not_found: { status: 404, stage: 'request' },
  backup_schedule_not_found: { status: 404, stage: 'request' },
  backup_tool_missing: { status: 422, stage: 'request' },
  backup_tool_too_old: { status: 422, stage: 'request' },
  backup_target_in_use: { status: 409, stage: 'request' },
  backup_target_mismatch: { status: 409, stage: 'request' },
  backup_failed: { status: 500, stage: 'execute' },
  backup_checksum_mismatch: { status: 500, stage: 'execute' },
  // gateway provisioning (/admin/provision*, /api/v2/supabase/*): local instances and hosting providers' APIs
  instance_not_found: { status: 404, stage: 'request' },
  instance_exists: { status: 409, stage: 'request' },
  docker_unavailable: { status: 422, stage: 'request' },
  provider_credentials_missing: { status: 400, stage: 'request' },
  provider_error: { status: 502, stage: 'execute' },
  provider_unavailable: { status: 503, stage: 'execute' },
  // the Assistant API (src/assistant/, /api)
  missing_session_token: { status: 401, stage: 'auth' },
  assistant_connection_not_found: { status: 404, stage: 'request' },
  assistant_connection_exists: { status: 409, stage: 'request' },
  assistant_connection_unavailable: { status: 503, stage: 'execute' },
  assistant_connection_not_allowed: { status: 400, stage: 'request' },
  assistant_provider_not_configured: { status: 400, stage: 'request' },
  assistant_provider_failed: { status: 502, stage: 'execute' },
  assistant_question_not_understood: { status: 400, stage: 'plan' },
  assistant_sql_refused: { status: 403, stage: 'plan' },
  assistant_sql_invalid: { status: 400, stage: 'plan' },
  database_not_active: { status: 409, stage: 'request' },
  query_execution_failed: { status: 422, stage: 'execute' },
  // the Workspace API (src/tenancy/, src/warehouse/, docs/workspace.md)
  workspace_user_unknown: { status: 401, stage: 'auth' },
  workspace_role_required: { status: 403, stage: 'auth' },
  tenant_not_found: { status: 404, stage: 'request' },
  workspace_user_not_found: { status: 404, stage: 'request' },
  project_not_found: { status: 404, stage: 'request' },
  dataset_not_found: { status: 404, stage: 'request' },
  workspace_table_not_found: { status: 404, stage: 'request' },
  workspace_email_taken: { status: 409, stage: 'request' },
  workspace_name_taken: { status: 409, stage: 'request' },
  workspace_not_empty: { status: 409, stage: 'request' },
  invalid_table_schema: { status: 422, stage: 'request' },
  table_schema_change_refused: { status: 422, stage: 'execute' },
  invalid_query: { status: 422, stage: 'request' },
  query_not_found: { status: 404, stage: 'request' },
  query_job_not_found: { status: 404, stage: 'request' },
  query_result_not_ready: { status: 409, stage: 'request' },
  warehouse_unavailable: { status: 503, stage: 'execute' },
  workspace_quota_exceeded: { status: 429, stage: 'request' },
} as const satisfies Record<string, CodeSpec>

export type ErrorCode = keyof typeof codes
