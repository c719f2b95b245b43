// Probes of the configured mirror URLs (cluster.mirrors): reachability, latency, throughput and the version a
// mirror reports. Read by GET /health/cluster and, as gauges, by GET /metrics.
import { maskUrl } from '../auth/secret-box.js'
import type { Config } from '../config/schema.js'

export interface MirrorHealth {
  url: string
  status: 'online' | 'offline'
  latency_ms: number | null
  download_bytes_per_sec: number | null
  cargo_toml_version: string | null
  message: string | null
}

async function probeMirror(url: string, timeoutMs: number): Promise<MirrorHealth> {
  const started = performance.now()
  try {
    const res = await fetch(new URL('/', url), { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } })
    const body = await res.arrayBuffer()
    const elapsed = performance.now() - started
    let version: string | null = null
    try {
      const doc = JSON.parse(Buffer.from(body).toString('utf8'))
      version = doc.cargo_toml_version ?? doc.version ?? null
    } catch {
      /* a mirror that answers non-JSON is still reachable */
    }
    return {
      url,
      status: res.ok ? 'online' : 'offline',
      latency_ms: Math.round(elapsed * 100) / 100,
      download_bytes_per_sec: elapsed > 0 ? Math.round(body.byteLength / (elapsed / 1000)) : null,
      cargo_toml_version: version,
      message: res.ok ? null : `HTTP ${res.status}`,
    }
  } catch (err) {
    const e = err as Error
    const reason = e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : ((e.cause as Error)?.message ?? e.message)
    return { url, status: 'offline', latency_ms: null, download_bytes_per_sec: null, cargo_toml_version: null, message: reason }
  }
}

/** every mirror, probed in parallel; a URL configured with credentials never shows them */
export async function probeMirrors(cluster: Config['cluster']): Promise<MirrorHealth[]> {
  const results = await Promise.all(cluster.mirrors.map((m) => probeMirror(m, cluster.probeTimeoutMs)))
  return results.map((r) => ({ ...r, url: maskUrl(r.url) }))
}
