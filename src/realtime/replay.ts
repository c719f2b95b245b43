// Replay after a reconnect: the retained committed events of one table after the last event id a client saw, read
// from the outbox table. Bounded twice: the event must be at most realtime.replayWindowSeconds old (and not yet
// pruned), and at most realtime.maxReplayEvents may match; otherwise 410 replay_unavailable tells the client to
// re-read the table instead.
import type { Catalog } from '../catalog/catalog.js'
import { AppError } from '../errors/app-error.js'
import { toEvent } from '../outbox/event-store.js'
import type { AtriumEvent } from '../outbox/events.js'

export interface ReplayQuery {
  client: string
  table: string
  /** outbox event types the subscription receives */
  types: readonly string[]
  since: number
  windowSeconds: number
  maxEvents: number
}

export async function readReplay(catalog: Catalog, q: ReplayQuery): Promise<AtriumEvent[]> {
  const res = await catalog.query({
    sql: `SELECT EXISTS (SELECT 1 FROM atrium.events WHERE id <= $1 AND created_at >= now() - make_interval(secs => $2)) AS within,
                 (SELECT coalesce(max(id), 0) FROM atrium.events) AS newest`,
    params: [q.since, q.windowSeconds],
  })
  const { within, newest } = res.rows[0] as { within: boolean; newest: string }
  // a since at or after the newest event missed nothing, however old it is
  if (q.since >= Number(newest)) return []
  const tooOld = () => new AppError('replay_unavailable', `event ${q.since} is older than the replay window (${q.windowSeconds} s) or no longer retained`, {
    hint: 're-read the table, then subscribe without since',
  })
  if (!within) throw tooOld()
  const rows = await catalog.query({
    sql: `SELECT id, type, version, payload, source, tenant, request_id, created_at FROM atrium.events
           WHERE id > $1 AND type = ANY($2::text[]) AND lower(payload->>'source') = lower($3) AND payload->>'table' = $4
             AND payload->>'captured' IS NULL
           ORDER BY id LIMIT $5`,
    params: [q.since, q.types, q.client, q.table, q.maxEvents + 1],
  })
  if (rows.rows.length > q.maxEvents) {
    throw new AppError('replay_unavailable', `more than ${q.maxEvents} events of ${q.table} were committed after event ${q.since}`, {
      hint: 're-read the table, then subscribe without since',
    })
  }
  return rows.rows.map(toEvent)
}
