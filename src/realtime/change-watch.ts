// Which tables change events are wanted for, known in memory on every node so that a write asks a Set, never the
// catalog: tables enabled for capture (atrium.realtime_tables: the database records every change itself), and
// tables with live subscribers on any node (atrium.realtime_watch: each node registers the tables its connections
// subscribe to). A change to either is announced on the catalog at once and re-read every realtime.watchRefreshMs.
import type { Logger } from 'pino'
import type { Catalog } from '../catalog/catalog.js'

export const WATCH_CHANNEL = 'atrium_realtime_watch'

/** what a write through Atrium does for its table's subscribers */
export type WatchState = 'captured' | 'subscribed' | null

/** client names are case-insensitive everywhere; table names are as the schema spells them */
export const watchKey = (client: string, table: string) => `${client.toLowerCase()}\u0000${table}`

export interface ChangeWatchOptions {
  catalog: Catalog
  instanceId: string
  refreshMs: number
  logger: Logger
}

export class ChangeWatch {
  private captured = new Set<string>()
  /** the clients with tables enabled for capture, as the catalog names them */
  private capturing = new Set<string>()
  private subscribed = new Set<string>()
  /** the tables this node's connections subscribe to, with how many subscriptions each */
  private readonly local = new Map<string, { client: string; table: string; count: number }>()
  private timer: NodeJS.Timeout | undefined
  private refreshing: Promise<void> | undefined
  private listeners: Array<() => void> = []

  constructor(private readonly opts: ChangeWatchOptions) {}

  async start(): Promise<void> {
    const { catalog } = this.opts
    await catalog.listen(WATCH_CHANNEL, () => void this.refresh())
    catalog.onListenerReconnect(() => void this.refresh())
    await this.refresh()
    this.timer = setInterval(() => void this.heartbeat(), this.opts.refreshMs)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    await this.refreshing
    await this.opts.catalog.query({ sql: 'DELETE FROM atrium.realtime_watch WHERE instance_id = $1', params: [this.opts.instanceId] }).catch(() => {})
  }

  stateOf(client: string, table: string): WatchState {
    const key = watchKey(client, table)
    if (this.captured.has(key)) return 'captured'
    return this.subscribed.has(key) || this.local.has(key) ? 'subscribed' : null
  }

  /** how many tables this node knows change events are wanted for (captured, or subscribed to on any node) */
  watchedTables(): number {
    return new Set([...this.captured, ...this.subscribed, ...this.local.keys()]).size
  }

  /** the clients with tables enabled for capture */
  capturedClients(): ReadonlySet<string> {
    return this.capturing
  }

  /** runs `fn` after every refresh (the capture drainer follows the enabled tables) */
  onChange(fn: () => void): void {
    this.listeners.push(fn)
  }

  /** a subscription to the table was added on this node; the first one registers the table for every node */
  async add(client: string, table: string): Promise<void> {
    const key = watchKey(client, table)
    const entry = this.local.get(key)
    if (entry) {
      entry.count++
      return
    }
    this.local.set(key, { client: client.toLowerCase(), table, count: 1 })
    await this.opts.catalog.query({
      sql: `WITH w AS (INSERT INTO atrium.realtime_watch (instance_id, client_name, table_name) VALUES ($1, $2, $3)
              ON CONFLICT (instance_id, client_name, table_name) DO UPDATE SET seen_at = now() RETURNING 1)
            SELECT pg_notify($4, '') FROM w`,
      params: [this.opts.instanceId, client.toLowerCase(), table, WATCH_CHANNEL],
    })
  }

  /** a subscription went away; the last one on this node unregisters the table */
  remove(client: string, table: string): void {
    const key = watchKey(client, table)
    const entry = this.local.get(key)
    if (!entry || --entry.count > 0) return
    this.local.delete(key)
    this.opts.catalog.query({
      sql: `WITH w AS (DELETE FROM atrium.realtime_watch WHERE instance_id = $1 AND client_name = $2 AND table_name = $3 RETURNING 1)
            SELECT pg_notify($4, '') FROM w`,
      params: [this.opts.instanceId, entry.client, table, WATCH_CHANNEL],
    }).catch((err: Error) => this.opts.logger.debug({ err: err.message }, 'could not unregister a watched table (it expires)'))
  }

  /** tells every node to re-read (a table was enabled or disabled for capture) */
  async announce(): Promise<void> {
    await this.opts.catalog.query({ sql: 'SELECT pg_notify($1, \'\')', params: [WATCH_CHANNEL] })
  }

  /** keeps this node's rows alive (a node that stops refreshing is ignored after three periods), then re-reads */
  private async heartbeat(): Promise<void> {
    try {
      await this.opts.catalog.query({ sql: 'UPDATE atrium.realtime_watch SET seen_at = now() WHERE instance_id = $1', params: [this.opts.instanceId] })
      // the rows of nodes that died without saying so (already ignored) are removed after a day
      await this.opts.catalog.query({ sql: 'DELETE FROM atrium.realtime_watch WHERE seen_at < now() - interval \'1 day\'', params: [] })
    } catch (err) {
      this.opts.logger.debug({ err: (err as Error).message }, 'could not refresh watched tables')
    }
    await this.refresh()
  }

  /** re-reads both sets; one read at a time, another asked meanwhile runs after it */
  refresh(): Promise<void> {
    const run = async () => {
      try {
        const ttl = (this.opts.refreshMs * 3) / 1000
        const res = await this.opts.catalog.query({
          sql: `SELECT 'captured' AS kind, client_name, table_name FROM atrium.realtime_tables
                UNION ALL
                SELECT DISTINCT 'subscribed', client_name, table_name FROM atrium.realtime_watch WHERE seen_at > now() - make_interval(secs => $1)`,
          params: [ttl],
        })
        const captured = new Set<string>()
        const subscribed = new Set<string>()
        const capturing = new Set<string>()
        for (const r of res.rows) (r.kind === 'captured' ? captured : subscribed).add(watchKey(String(r.client_name), String(r.table_name)))
        for (const r of res.rows) if (r.kind === 'captured') capturing.add(String(r.client_name))
        this.captured = captured
        this.capturing = capturing
        this.subscribed = subscribed
      } catch (err) {
        this.opts.logger.debug({ err: (err as Error).message }, 'could not read watched tables')
      }
      for (const fn of this.listeners) fn()
    }
    const next = (this.refreshing ?? Promise.resolve()).then(run)
    this.refreshing = next
    void next.finally(() => { if (this.refreshing === next) this.refreshing = undefined })
    return next
  }
}
