// Figures GET /metrics adds at scrape time, beside the process's own counters: the mirror probes of
// /health/cluster and the last 24 hours of the request log (every process's requests, per client). Both cost a
// round trip, so one scrape's figures are reused for REUSE_MS by the scrapes that follow.
import type { Catalog } from '../catalog/catalog.js'
import type { Config } from '../config/schema.js'
import { probeMirrors, type MirrorHealth } from './cluster-probe.js'

export interface DayFigures {
  client: string
  requests: number
  errors: number
  mean_ms: number
  p95_ms: number
}

export interface ScrapeFiguresSnapshot {
  mirrors: MirrorHealth[]
  /** undefined when the catalog could not be read */
  day: DayFigures[] | undefined
}

const REUSE_MS = 15_000

export class ScrapeFigures {
  private last: { at: number; figures: Promise<ScrapeFiguresSnapshot> } | undefined

  constructor(private readonly catalog: Catalog, private readonly cluster: Config['cluster']) {}

  get(): Promise<ScrapeFiguresSnapshot> {
    const now = Date.now()
    if (!this.last || now - this.last.at > REUSE_MS) this.last = { at: now, figures: this.collect() }
    return this.last.figures
  }

  private async collect(): Promise<ScrapeFiguresSnapshot> {
    const [mirrors, day] = await Promise.all([probeMirrors(this.cluster), lastDay(this.catalog).catch(() => undefined)])
    return { mirrors, day }
  }
}

/** per client: requests, errors (status 400 and above), and mean and 95th percentile durations over 24 hours */
async function lastDay(catalog: Catalog): Promise<DayFigures[]> {
  const rows = await catalog.rows<{ client: string; requests: string; errors: string; mean_ms: number; p95_ms: number }>(
    `SELECT coalesce(client_name, '') AS client, count(*) AS requests, count(*) FILTER (WHERE status >= 400) AS errors,
            avg(duration_ms)::float8 AS mean_ms, percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms)::float8 AS p95_ms
     FROM atrium.request_log WHERE at > now() - interval '24 hours' GROUP BY 1 ORDER BY 1`,
  )
  return rows.map((r) => ({ client: r.client, requests: Number(r.requests), errors: Number(r.errors), mean_ms: r.mean_ms, p95_ms: r.p95_ms }))
}
