// Prometheus metrics for one Atrium process (its own registry, so several apps can share a process in tests).
import client from 'prom-client'

export class Metrics {
  readonly registry = new client.Registry()
  readonly startedAt = Date.now()
  readonly requests: client.Counter<'route' | 'method' | 'status'>
  readonly fetchCache: client.Counter<'result'>
  readonly managementMutations: client.Counter<'operation' | 'status'>
  readonly rateLimited: client.Counter<'scope'>
  readonly requestLogDropped: client.Counter<'reason'>
  readonly admissionEventsDropped: client.Counter
  /** calls the agent gateway made to Workspace agents, by protocol and outcome (ok, error, timeout, rate_limited) */
  readonly agentCalls: client.Counter<'protocol' | 'outcome'>
  readonly agentCallSeconds: client.Histogram<'protocol'>

  constructor(poolStats: () => Array<{ source: string; total: number; idle: number; waiting: number }>) {
    const registers = [this.registry]
    const startedAt = this.startedAt
    new client.Gauge({
      name: 'athena_uptime_seconds',
      help: 'Seconds since this Atrium process started',
      registers,
      collect() {
        this.set((Date.now() - startedAt) / 1000)
      },
    })
    // Counted in plain numbers per series on the request path and handed to prom-client when scraped: a
    // labelled inc() validates and hashes its labels on every call.
    const series = this.requestSeries
    this.requests = new client.Counter({
      name: 'athena_http_requests_total',
      help: 'HTTP requests by route pattern, method and status',
      labelNames: ['route', 'method', 'status'],
      registers,
      collect() {
        this.reset()
        for (const s of series.values()) this.inc(s.labels, s.count)
      },
    })
    this.registry.registerMetric(requestDurations(series) as unknown as client.Metric)
    this.fetchCache = new client.Counter({ name: 'athena_fetch_cache_events_total', help: 'Fetch result cache hits, misses and invalidations', labelNames: ['result'], registers })
    this.managementMutations = new client.Counter({ name: 'athena_management_mutations_total', help: 'Management DDL operations by outcome', labelNames: ['operation', 'status'], registers })
    this.rateLimited = new client.Counter({ name: 'athena_rate_limited_total', help: 'Requests refused by a rate limit, by scope', labelNames: ['scope'], registers })
    this.admissionEventsDropped = new client.Counter({ name: 'athena_admission_events_dropped_total', help: 'Admission events (refused requests) not recorded because their buffer was full (catalog slow or down)', registers })
    this.agentCalls = new client.Counter({ name: 'athena_agent_calls_total', help: 'Calls routed to Workspace agents by protocol and outcome', labelNames: ['protocol', 'outcome'], registers })
    this.agentCallSeconds = new client.Histogram({ name: 'athena_agent_call_duration_seconds', help: 'Time Workspace agents took to answer routed calls', labelNames: ['protocol'], buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers })
    this.requestLogDropped = new client.Counter({ name: 'athena_request_log_dropped_total', help: 'Request log entries dropped: overflow (catalog down too long) or unwritable (the catalog refused the line)', labelNames: ['reason'], registers })
    new client.Gauge({
      name: 'athena_pool_connections',
      help: 'Database pool connections per source and state',
      labelNames: ['source', 'state'],
      registers,
      collect() {
        this.reset()
        for (const s of poolStats()) {
          this.set({ source: s.source, state: 'total' }, s.total)
          this.set({ source: s.source, state: 'idle' }, s.idle)
          this.set({ source: s.source, state: 'waiting' }, s.waiting)
        }
      },
    })
    client.collectDefaultMetrics({ register: this.registry })
  }

  /** the WebSocket gateway's figures, read from its hub when scraped */
  observeRealtime(stats: () => { connections: number; subscriptions: number; events_delivered: number; slow_consumers_dropped: number }): void {
    const registers = [this.registry]
    const gauge = (name: string, help: string, pick: (s: ReturnType<typeof stats>) => number) =>
      new client.Gauge({ name, help, registers, collect() { this.set(pick(stats())) } })
    const counter = (name: string, help: string, pick: (s: ReturnType<typeof stats>) => number) =>
      new client.Counter({ name, help, registers, collect() { this.reset(); this.inc(pick(stats())) } })
    gauge('athena_realtime_connections', 'Open WebSocket gateway connections on this process', (s) => s.connections)
    gauge('athena_realtime_subscriptions', 'Table subscriptions held by this process\'s connections', (s) => s.subscriptions)
    counter('athena_realtime_events_delivered_total', 'Change events sent to subscribers by this process', (s) => s.events_delivered)
    counter('athena_realtime_slow_consumers_dropped_total', 'WebSocket connections dropped for leaving more than realtime.maxBufferedBytes unread', (s) => s.slow_consumers_dropped)
  }

  /**
   * Gauges set just before a scrape from figures the process gathers then (monitoring/scrape-figures.ts):
   * the mirror probes of /health/cluster, and the request log's last 24 hours per client.
   */
  private readonly scrapeGauges = (() => {
    const registers = [this.registry]
    const gauge = (name: string, help: string, labelNames: string[]) => new client.Gauge({ name, help, labelNames, registers })
    return {
      mirrorUp: gauge('athena_cluster_mirror_up', 'Whether a configured cluster mirror answered its last probe (1) or not (0)', ['url']),
      mirrorLatency: gauge('athena_cluster_mirror_latency_seconds', 'Latency of a cluster mirror\'s last successful probe', ['url']),
      requests24h: gauge('athena_requests_24h', 'Requests in the request log over the last 24 hours (all processes), per client', ['client']),
      errors24h: gauge('athena_request_errors_24h', 'Requests answered with a status of 400 or more over the last 24 hours, per client', ['client']),
      duration24h: gauge('athena_request_duration_ms_24h', 'Request durations over the last 24 hours, per client: mean and p95', ['client', 'stat']),
    }
  })()

  setScrapeFigures(figures: { mirrors: Array<{ url: string; status: string; latency_ms: number | null }>; day: Array<{ client: string; requests: number; errors: number; mean_ms: number; p95_ms: number }> | undefined }): void {
    const g = this.scrapeGauges
    g.mirrorUp.reset()
    g.mirrorLatency.reset()
    for (const m of figures.mirrors) {
      g.mirrorUp.set({ url: m.url }, m.status === 'online' ? 1 : 0)
      if (m.latency_ms !== null) g.mirrorLatency.set({ url: m.url }, m.latency_ms / 1000)
    }
    // the catalog unreadable: the last figures stay rather than dropping to nothing
    if (!figures.day) return
    for (const gauge of [g.requests24h, g.errors24h, g.duration24h]) gauge.reset()
    for (const d of figures.day) {
      g.requests24h.set({ client: d.client }, d.requests)
      g.errors24h.set({ client: d.client }, d.errors)
      g.duration24h.set({ client: d.client, stat: 'mean' }, d.mean_ms)
      g.duration24h.set({ client: d.client, stat: 'p95' }, d.p95_ms)
    }
  }

  /** per route, method and status: its labels, its request count and its latency histogram */
  private readonly requestSeries = new RequestSeriesIndex()

  /** counts one request; the series is looked up once per route/method/status, not per request */
  observeRequest(route: string, method: string, status: number, seconds: number): void {
    const series = this.requestSeries.get(route, method, status)
    series.count++
    series.sum += seconds
    let i = 0
    while (i < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[i]) i++
    series.buckets[i]++
  }
}

/**
 * The series by route, method and status, in nested maps: the route pattern and method are the same string
 * objects request after request, so a lookup costs no new key string (and no hashing of one).
 */
class RequestSeriesIndex {
  private readonly byRoute = new Map<string, Map<string, Map<number, RequestSeries>>>()
  private readonly all: RequestSeries[] = []

  get(route: string, method: string, status: number): RequestSeries {
    let byMethod = this.byRoute.get(route)
    if (!byMethod) this.byRoute.set(route, (byMethod = new Map()))
    let byStatus = byMethod.get(method)
    if (!byStatus) byMethod.set(method, (byStatus = new Map()))
    let series = byStatus.get(status)
    if (!series) {
      series = { labels: { route, method, status: String(status) }, count: 0, sum: 0, buckets: new Array<number>(DURATION_BUCKETS.length + 1).fill(0) }
      byStatus.set(status, series)
      this.all.push(series)
    }
    return series
  }

  values(): readonly RequestSeries[] {
    return this.all
  }

  clear(): void {
    this.byRoute.clear()
    this.all.length = 0
  }
}

interface RequestSeries {
  labels: { route: string; method: string; status: string }
  count: number
  sum: number
  /** requests per latency bucket (not cumulative); the last one is above every bound */
  buckets: number[]
}

const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/**
 * athena_http_request_duration_seconds, a histogram exported from the counts kept by observeRequest. A
 * prom-client Histogram validates and hashes its labels on every observation, a cost on every request; this
 * hands the registry the same exposition (cumulative _bucket series with `le`, _sum, _count) when scraped.
 */
function requestDurations(series: RequestSeriesIndex) {
  const name = 'athena_http_request_duration_seconds'
  const help = 'HTTP request latency by route pattern, method and status'
  return {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    async get() {
      const values: Array<{ labels: Record<string, string | number>; value: number; metricName: string }> = []
      for (const s of series.values()) {
        let cumulative = 0
        DURATION_BUCKETS.forEach((le, i) => {
          cumulative += s.buckets[i]
          values.push({ labels: { ...s.labels, le }, value: cumulative, metricName: `${name}_bucket` })
        })
        values.push({ labels: { ...s.labels, le: '+Inf' }, value: s.count, metricName: `${name}_bucket` })
        values.push({ labels: s.labels, value: s.sum, metricName: `${name}_sum` })
        values.push({ labels: s.labels, value: s.count, metricName: `${name}_count` })
      }
      return { name, help, type: 'histogram', aggregator: 'sum', values }
    },
    reset() {
      series.clear()
    },
  }
}
