// PostgREST's own error codes (and, where PostgREST differs, statuses) for Atrium's codes, sent by /rest/v1 only.
// An error that came from the database with a SQLSTATE sends that instead; a code missing here sends PGRST000.
import type { ErrorCode } from '../../errors/codes.js'

export interface PostgrestCode {
  code: string
  /** PostgREST's HTTP status when it differs from Atrium's */
  status?: number
}

export const postgrestCodes: Partial<Record<ErrorCode, PostgrestCode>> = {
  invalid_request: { code: 'PGRST102' },
  invalid_json: { code: 'PGRST102' },
  body_too_large: { code: 'PGRST102' },
  unsupported_media_type: { code: 'PGRST102' },
  route_not_found: { code: 'PGRST125' },
  invalid_filter: { code: 'PGRST100' },
  invalid_select: { code: 'PGRST100' },
  invalid_order: { code: 'PGRST100' },
  aggregates_not_supported: { code: 'PGRST123' },
  invalid_range: { code: 'PGRST103' },
  invalid_preference: { code: 'PGRST122' },
  not_acceptable: { code: 'PGRST107' },
  singular_row_expected: { code: 'PGRST116' },
  missing_filter: { code: 'PGRST106' },
  unknown_table: { code: 'PGRST205', status: 404 },
  unknown_column: { code: '42703' },
  unknown_relationship: { code: 'PGRST200' },
  ambiguous_relationship: { code: 'PGRST201', status: 300 },
  unknown_function: { code: 'PGRST202' },
  unsupported_feature: { code: 'PGRST127' },
  read_only_relation: { code: 'PGRST120' },
  missing_api_key: { code: 'PGRST301' },
  invalid_api_key: { code: 'PGRST301' },
  expired_api_key: { code: 'PGRST303' },
  inactive_api_key: { code: 'PGRST301' },
  admin_key_required: { code: 'PGRST301' },
  client_not_allowed: { code: 'PGRST301' },
  missing_right: { code: '42501' },
  ip_not_allowed: { code: 'PGRST301' },
  key_locked_in: { code: 'PGRST301' },
  unique_violation: { code: '23505' },
  foreign_key_violation: { code: '23503' },
  not_null_violation: { code: '23502' },
  check_violation: { code: '23514' },
  invalid_value: { code: '22P02' },
  insufficient_privilege: { code: '42501' },
  read_only_transaction: { code: '25006' },
  statement_timeout: { code: '57014' },
  source_unavailable: { code: 'PGRST001' },
  catalog_unavailable: { code: 'PGRST002' },
  key_not_client_bound: { code: 'PGRST301' },
  table_exists: { code: '42P07' },
  table_not_found: { code: '42P01' },
  column_exists: { code: '42701' },
  column_not_found: { code: '42703' },
  index_exists: { code: '42P07' },
  index_not_found: { code: '42704' },
  extension_exists: { code: '42710' },
  nul_byte: { code: 'PGRST100' },
  limit_exceeded: { code: 'PGRST100' },
  schema_not_exposed: { code: 'PGRST106' },
  invalid_session_token: { code: 'PGRST301' },
  expired_session_token: { code: 'PGRST303' },
}

export const postgrestCodeOf = (code: ErrorCode): PostgrestCode => postgrestCodes[code] ?? { code: 'PGRST000' }
