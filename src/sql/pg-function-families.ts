// What PostgreSQL functions do beyond their volatility: the families that reach outside the transaction (and so
// need the `ddl` class whatever pg_proc says) and the few volatile functions that are still reads. Data only.

export interface FunctionFamily {
  /** short name shown in refusals, e.g. "server files" */
  family: string
  /** why calling it is more than a read */
  why: string
  /** exact lower-case names */
  names?: readonly string[]
  /** lower-case name prefixes */
  prefixes?: readonly string[]
}

/**
 * Matched on the lower-cased function name whatever its schema (so an extension installed in any schema, or a
 * user function that borrows the name, is caught too): a false positive costs a right, a miss costs the wall.
 */
export const PG_FUNCTION_FAMILIES: readonly FunctionFamily[] = [
  { family: 'dblink', why: 'opens connections to other databases', prefixes: ['dblink'] },
  { family: 'foreign data wrappers', why: 'manages connections to other servers', prefixes: ['postgres_fdw_'] },
  { family: 'large objects', why: 'creates, reads or writes large objects and server files', prefixes: ['lo_'], names: ['loread', 'lowrite'] },
  {
    family: 'server files',
    why: 'reads or writes files on the database server',
    prefixes: ['pg_read_', 'pg_ls_', 'pg_file_', 'pg_stat_file'],
    names: ['pg_logdir_ls', 'pg_current_logfile', 'pg_hba_file_rules', 'pg_ident_file_mappings', 'pg_show_all_file_settings', 'pg_config'],
  },
  { family: 'dynamic SQL', why: 'runs SQL text or reads whole tables and schemas by name, past the table checks',
    prefixes: ['query_to_xml', 'cursor_to_xml', 'table_to_xml', 'schema_to_xml', 'database_to_xml'], names: ['ts_stat', 'ts_rewrite'] },
  {
    family: 'backend signalling',
    why: 'signals or inspects other sessions',
    names: ['pg_cancel_backend', 'pg_terminate_backend', 'pg_signal_backend', 'pg_log_backend_memory_contexts', 'pg_stat_get_activity'],
    prefixes: ['pg_stat_get_backend_'],
  },
  { family: 'advisory locks', why: 'takes locks that outlive the statement and block other callers', prefixes: ['pg_advisory_', 'pg_try_advisory_'] },
  { family: 'settings', why: 'changes server or session settings (timeouts, search_path)', names: ['set_config'] },
  {
    family: 'replication',
    why: 'creates, drops or reads replication slots and origins',
    prefixes: ['pg_create_', 'pg_drop_replication', 'pg_copy_', 'pg_replication_', 'pg_logical_'],
  },
  {
    family: 'server administration',
    why: 'acts on the whole server (configuration, logs, WAL, backups, statistics)',
    names: ['pg_reload_conf', 'pg_rotate_logfile', 'pg_switch_wal', 'pg_promote', 'pg_wal_replay_pause', 'pg_wal_replay_resume',
      'pg_import_system_collations', 'pg_stat_statements_reset', 'pg_prewarm'],
    prefixes: ['pg_backup_', 'pg_start_backup', 'pg_stop_backup', 'pg_stat_reset'],
  },
  { family: 'notifications', why: 'sends a notification to other sessions', names: ['pg_notify'] },
  { family: 'snapshots', why: 'exports a snapshot other sessions can import', names: ['pg_export_snapshot'] },
  // pg_proc calls these stable, yet each call from a read-only caller burns a transaction id
  { family: 'transaction ids', why: 'assigns a transaction id', names: ['txid_current', 'pg_current_xact_id'] },
]

/**
 * Volatile pg_catalog functions that only compute a value, so calling them is still a read. They count only
 * when they resolve to pg_catalog; a same-named function in another schema is judged by its own volatility.
 * Not here on purpose: `setseed` (changes the session's generator), `txid_current`/`pg_current_xact_id`
 * (assign a transaction id), `nextval`/`setval` (change a sequence), `pg_sleep*` (holds a connection: a write,
 * and bounded by the statement timeout).
 */
export const PG_VOLATILE_READS: ReadonlySet<string> = new Set(['random', 'random_normal', 'gen_random_uuid', 'clock_timestamp', 'timeofday'])

const exact = new Map<string, FunctionFamily>()
for (const f of PG_FUNCTION_FAMILIES) for (const n of f.names ?? []) exact.set(n, f)
const byPrefix = PG_FUNCTION_FAMILIES.flatMap((f) => (f.prefixes ?? []).map((p) => [p, f] as const))

/** the family a function name belongs to, if any (case-insensitive, schema ignored) */
export function functionFamilyOf(name: string): FunctionFamily | undefined {
  const n = name.toLowerCase()
  return exact.get(n) ?? byPrefix.find(([p]) => n.startsWith(p))?.[1]
}
