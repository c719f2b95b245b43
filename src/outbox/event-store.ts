// SQL of the outbox tables (atrium.events, atrium.pending_events, atrium.event_cursors); no dispatching.
import type { Executor, Row } from '../sources/driver.js'
import type { AtriumEvent, EventPayload, NewEvent } from './events.js'

/** committed events are announced on this channel; NOTIFY inside a transaction is sent on commit */
export const EVENTS_CHANNEL = 'atrium_events'
// Taken (transaction-scoped) before an event id is drawn and held until commit: ids then commit in the order
// they were drawn, so a reader that saw id N never later finds a smaller one. Any constant, the same in every
// process sharing the catalog.
const ID_ORDER_LOCK = 727_274_007
const COLUMNS = 'id, type, version, payload, source, tenant, request_id, created_at'

export interface PendingRow {
  id: string
  source: string
  dialect: 'postgres' | 'mysql'
  source_tx: string
  state: 'preparing' | 'prepared'
  type: string | null
  version: number | null
  payload: EventPayload | null
  tenant: string | null
  request_id: string | null
  origin: string
  created_at: string
}

/**
 * Appends a committed-with-`tx` event and announces it on commit; returns its id. The id-order lock is held
 * until `tx` ends, so callers write events last in their transaction.
 */
export async function insertEvent(tx: Executor, event: NewEvent, origin: string): Promise<number> {
  await tx.query({ sql: 'SELECT pg_advisory_xact_lock($1)', params: [ID_ORDER_LOCK] })
  const res = await tx.query({
    sql: `WITH e AS (
            INSERT INTO atrium.events (type, version, payload, source, tenant, request_id, origin)
            VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7) RETURNING id)
          SELECT id, pg_notify($8, id::text) FROM e`,
    params: [event.payload.type, event.payload.version, JSON.stringify(event.payload), event.source ?? null, event.tenant ?? null, event.requestId ?? null, origin, EVENTS_CHANNEL],
  })
  return Number(res.rows[0].id)
}

/**
 * Appends several events in one statement (their ids in array order) under the same lock as insertEvent,
 * announced once on commit; returns how many were written.
 */
export async function insertEvents(tx: Executor, events: readonly NewEvent[], origin: string): Promise<number> {
  if (!events.length) return 0
  await tx.query({ sql: 'SELECT pg_advisory_xact_lock($1)', params: [ID_ORDER_LOCK] })
  const rows = events.map((e) => ({ type: e.payload.type, version: e.payload.version, payload: e.payload, source: e.source ?? null, tenant: e.tenant ?? null, request_id: e.requestId ?? null }))
  const res = await tx.query({
    sql: `WITH e AS (
            INSERT INTO atrium.events (type, version, payload, source, tenant, request_id, origin)
            SELECT r.type, r.version, r.payload, r.source, r.tenant, r.request_id, $2
            FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(doc, n),
              jsonb_to_record(e.doc) AS r(type text, version integer, payload jsonb, source text, tenant text, request_id text)
            ORDER BY e.n RETURNING id)
          SELECT count(*) AS n, pg_notify($3, max(id)::text) FROM e`,
    params: [JSON.stringify(rows), origin, EVENTS_CHANNEL],
  })
  return Number(res.rows[0].n)
}

export async function eventsAfter(db: Executor, afterId: number, limit: number): Promise<AtriumEvent[]> {
  const res = await db.query({ sql: `SELECT ${COLUMNS} FROM atrium.events WHERE id > $1 ORDER BY id LIMIT $2`, params: [afterId, limit] })
  return res.rows.map(toEvent)
}

export async function lastEventId(db: Executor): Promise<number> {
  const res = await db.query({ sql: 'SELECT coalesce(max(id), 0) AS id FROM atrium.events', params: [] })
  return Number(res.rows[0].id)
}


export async function insertPending(db: Executor, row: Omit<PendingRow, 'created_at'>): Promise<void> {
  await db.query({
    sql: `INSERT INTO atrium.pending_events (id, source, dialect, source_tx, state, type, version, payload, tenant, request_id, origin)
          VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11)`,
    params: [row.id, row.source, row.dialect, row.source_tx, row.state, row.type, row.version, row.payload && JSON.stringify(row.payload), row.tenant, row.request_id, row.origin],
  })
}

/** MySQL/MariaDB: the XA transaction is prepared; false when recovery already gave the row up */
export async function markPrepared(db: Executor, id: string, event: NewEvent): Promise<boolean> {
  const res = await db.query({
    sql: `UPDATE atrium.pending_events SET state = 'prepared', type = $2, version = $3, payload = $4::jsonb, tenant = $5, request_id = $6
          WHERE id = $1 AND state = 'preparing' RETURNING id`,
    params: [id, event.payload.type, event.payload.version, JSON.stringify(event.payload), event.tenant ?? null, event.requestId ?? null],
  })
  return res.rows.length === 1
}

export async function deletePending(db: Executor, id: string): Promise<void> {
  await db.query({ sql: 'DELETE FROM atrium.pending_events WHERE id = $1', params: [id] })
}

/** the pending row, locked for this transaction; null when it is gone or another transaction holds it */
export async function lockPending(tx: Executor, id: string): Promise<PendingRow | null> {
  const res = await tx.query({ sql: 'SELECT * FROM atrium.pending_events WHERE id = $1 FOR UPDATE SKIP LOCKED', params: [id] })
  return (res.rows[0] as unknown as PendingRow | undefined) ?? null
}

/** moves a locked pending row whose source committed into atrium.events; returns the event id */
export async function publishPending(tx: Executor, row: PendingRow): Promise<number> {
  await tx.query({ sql: 'DELETE FROM atrium.pending_events WHERE id = $1', params: [row.id] })
  return insertEvent(tx, { payload: row.payload!, source: row.source, tenant: row.tenant, requestId: row.request_id }, row.origin)
}

/** ids of pending rows older than `ms`, oldest first */
export async function stalePending(db: Executor, ms: number, limit: number): Promise<string[]> {
  const res = await db.query({
    sql: `SELECT id FROM atrium.pending_events WHERE created_at < now() - make_interval(secs => $1) ORDER BY created_at LIMIT $2`,
    params: [ms / 1000, limit],
  })
  return res.rows.map((r) => r.id as string)
}

/**
 * One batch of a durable consumer: locks its cursor row (created at 0, or at the newest event with
 * `fromNow`), reads the events after it and, once `handle` succeeded, moves the cursor past them.
 */
export async function cursorBatch(tx: Executor, consumer: string, limit: number, fromNow: boolean): Promise<{ events: AtriumEvent[]; advance(): Promise<void> }> {
  await tx.query({
    sql: `INSERT INTO atrium.event_cursors (consumer, last_id)
          VALUES ($1, CASE WHEN $2 THEN (SELECT coalesce(max(id), 0) FROM atrium.events) ELSE 0 END) ON CONFLICT (consumer) DO NOTHING`,
    params: [consumer, fromNow],
  })
  const cur = await tx.query({ sql: 'SELECT last_id FROM atrium.event_cursors WHERE consumer = $1 FOR UPDATE', params: [consumer] })
  const events = await eventsAfter(tx, Number(cur.rows[0].last_id), limit)
  return {
    events,
    advance: async () => {
      if (!events.length) return
      await tx.query({ sql: 'UPDATE atrium.event_cursors SET last_id = $2, updated_at = now() WHERE consumer = $1', params: [consumer, events[events.length - 1].id] })
    },
  }
}

export function toEvent(row: Row): AtriumEvent {
  return {
    id: Number(row.id),
    type: row.type as string,
    version: Number(row.version),
    source: (row.source as string | null) ?? null,
    tenant: (row.tenant as string | null) ?? null,
    requestId: (row.request_id as string | null) ?? null,
    at: row.created_at as string,
    payload: row.payload as EventPayload,
  }
}
