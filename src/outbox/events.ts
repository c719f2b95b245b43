// The shapes of events: what a writer hands the outbox, what subscribers and consumers get, and the payloads.
// Every payload is a versioned document `{ type, version, ... }`; a change to its fields is a new version.

/** an event about to be written; `payload` carries its own type and version */
export interface NewEvent<P extends EventPayload = EventPayload> {
  payload: P
  /** the data source (client) a row event was written to */
  source?: string | null
  /** who the event belongs to, "<kind>:<id>" */
  tenant?: string | null
  requestId?: string | null
}

export interface EventPayload {
  type: string
  version: number
  [field: string]: unknown
}

/** a committed event as subscribers and durable consumers see it */
export interface AtriumEvent<P extends EventPayload = EventPayload> {
  /** the dispatch order: increasing in commit order */
  id: number
  type: string
  version: number
  source: string | null
  tenant: string | null
  requestId: string | null
  /** when it was written (ISO-8601) */
  at: string
  payload: P
}

export type RowEventType = 'row.inserted' | 'row.updated' | 'row.deleted'

/** version 1 of a row event: the rows a write through Atrium wrote, published with X-Publish-Event */
export interface RowEventV1 extends EventPayload {
  type: RowEventType
  version: 1
  /** the X-Publish-Event value, naming the event for downstream consumers */
  name: string
  source: string
  table: string
  /** the written rows as the write returned them (deleted rows as they were) */
  rows: unknown[]
  request_id: string | null
  /** the table is enabled for capture: realtime subscribers get the change event the database recorded instead */
  captured?: true
}

export type ChangeEventType = 'change.inserted' | 'change.updated' | 'change.deleted'

/**
 * version 1 of a change event, for realtime subscribers: the rows of a committed write to a table that has
 * subscribers (origin "atrium": a write through Atrium without X-Publish-Event) or that is enabled for capture
 * (origin "database": recorded by a trigger on the source, whoever wrote).
 */
export interface ChangeEventV1 extends EventPayload {
  type: ChangeEventType
  version: 1
  origin: 'atrium' | 'database'
  source: string
  table: string
  /** the rows as written (deleted rows as they were) */
  rows: unknown[]
  /** captured UPDATE and DELETE: the rows as they were before, in the order of `rows`; null when unknown */
  old_rows: unknown[] | null
  request_id: string | null
}

export type JobEventType = 'job.succeeded' | 'job.failed' | 'job.cancelled'

/** version 1 of a job outcome, written in the transaction that finishes the job record */
export interface JobEventV1 extends EventPayload {
  type: JobEventType
  version: 1
  job_id: string
  kind: string
  /** set when the job failed */
  error: { code: string; message: string } | null
}


/** version 1 of webhook.disabled: an endpoint turned off because nothing reached it for about a day */
export interface WebhookDisabledEventV1 extends EventPayload {
  type: 'webhook.disabled'
  version: 1
  webhook_id: string
  url: string
  reason: string
}

/**
 * version 1 of database.provisioned / database.deleted / database.paused / database.resumed: a database of the
 * Databases API became usable, went away, or its login was shut out or let in again
 */
export interface DatabaseEventV1 extends EventPayload {
  type: 'database.provisioned' | 'database.deleted' | 'database.paused' | 'database.resumed'
  version: 1
  database_id: string
  team_id: number
  name: string
  db_type: string
  region: string
}

/** version 1 of blueprint.applied: a blueprint application (not a dry run) completed on a database */
export interface BlueprintEventV1 extends EventPayload {
  type: 'blueprint.applied'
  version: 1
  application_id: number
  blueprint_id: string
  blueprint_version: number
  database_id: string
  team_id: number
  status: string
}

/** version 1 of database.quota_warning: a database's storage crossed warning_threshold_pct of its hard limit (once per crossing) */
export interface QuotaWarningEventV1 extends EventPayload {
  type: 'database.quota_warning'
  version: 1
  database_id: string
  team_id: number
  name: string
  used_bytes: number
  limit_bytes: number
  warning_threshold_pct: number
  used_pct: number
}
