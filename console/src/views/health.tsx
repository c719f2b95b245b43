// Health: GET /health (public) and charts of requests, latency and errors from /metrics, sampled while open.
import { useEffect, useState } from 'preact/hooks'
import { call, type Session } from '../api'
import { parseMetrics, ratesOf, type Sample } from '../prometheus'
import { Notice } from '../ui'

const SAMPLE_MS = 2000
const KEEP = 60

function Chart({ title, unit, values }: { title: string; unit: string; values: number[] }) {
  const w = 320, h = 100
  const max = Math.max(1e-9, ...values)
  const points = values.map((v, i) => `${(i / Math.max(1, KEEP - 2)) * w},${h - (v / max) * (h - 4) - 2}`).join(' ')
  const last = values.at(-1) ?? 0
  return (
    <figure class="chart">
      <figcaption>{title}: <strong>{last.toFixed(2)} {unit}</strong> <span class="muted">(peak {Math.max(0, ...values).toFixed(2)})</span></figcaption>
      <svg viewBox={`0 0 ${w} ${h}`} role="img" aria-label={`${title}, last ${values.length} samples, latest ${last.toFixed(2)} ${unit}`}>
        <rect x="0" y="0" width={w} height={h} class="chart-bg" />
        {values.length > 1 && <polyline points={points} class="chart-line" />}
      </svg>
    </figure>
  )
}

export function HealthView({ session }: { session: Session }) {
  const [health, setHealth] = useState<any>(null)
  const [samples, setSamples] = useState<Sample[]>([])
  useEffect(() => {
    call(session, 'GET', '/health').then((r) => setHealth(r.body))
    if (!session.can.metrics) return
    let stopped = false
    let timer: ReturnType<typeof setTimeout>
    const tick = async () => {
      const r = await call(session, 'GET', '/metrics')
      if (r.ok) setSamples((s) => [...s, parseMetrics(r.body)].slice(-KEEP))
      if (!stopped) timer = setTimeout(tick, SAMPLE_MS)
    }
    tick()
    return () => { stopped = true; clearTimeout(timer) }
  }, [session])
  const rates = ratesOf(samples)
  return (
    <section aria-label="Health">
      {health && (
        <dl class="facts">
          <dt>Status</dt><dd>{health.status ?? '—'}</dd>
          {health.version && <><dt>Version</dt><dd>{health.version}</dd></>}
          {health.catalog && <><dt>Catalog</dt><dd>{health.catalog.status}</dd></>}
        </dl>
      )}
      {!session.can.metrics
        ? <Notice>Charts come from /metrics, which this credential may not read (the admin key, or a key with <code>schema.read</code> when metrics are protected).</Notice>
        : (
          <div class="charts">
            <Chart title="Requests" unit="per second" values={rates.map((r) => r.rps)} />
            <Chart title="Mean latency" unit="ms" values={rates.map((r) => r.latencyMs)} />
            <Chart title="Server errors (5xx)" unit="per second" values={rates.map((r) => r.eps)} />
            {rates.length === 0 && <p class="muted">Collecting samples…</p>}
          </div>
        )}
    </section>
  )
}
