// Reads the few series of /metrics the Health view charts, from Prometheus's text format.

export interface Sample {
  at: number
  requests: number
  errors: number
  durationSum: number
  durationCount: number
  pools: Record<string, { total: number; idle: number; waiting: number }>
}

const LINE = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})?\s+(\S+)/

function labelsOf(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const m of (text ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) out[m[1]] = m[2]
  return out
}

export function parseMetrics(text: string, at = Date.now()): Sample {
  const s: Sample = { at, requests: 0, errors: 0, durationSum: 0, durationCount: 0, pools: {} }
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue
    const m = LINE.exec(line)
    if (!m) continue
    const [, name, rawLabels, rawValue] = m
    const value = Number(rawValue)
    if (!Number.isFinite(value)) continue
    if (name === 'athena_http_requests_total') {
      s.requests += value
      if (Number(labelsOf(rawLabels).status) >= 500) s.errors += value
    } else if (name === 'athena_http_request_duration_seconds_sum') s.durationSum += value
    else if (name === 'athena_http_request_duration_seconds_count') s.durationCount += value
    else if (name === 'athena_pool_connections') {
      const l = labelsOf(rawLabels)
      const pool = (s.pools[l.source] ??= { total: 0, idle: 0, waiting: 0 })
      if (l.state === 'total' || l.state === 'idle' || l.state === 'waiting') pool[l.state] = value
    }
  }
  return s
}

/** per-interval rates between consecutive samples: requests/s, errors/s (5xx), mean latency in ms */
export function ratesOf(samples: Sample[]) {
  const out: Array<{ at: number; rps: number; eps: number; latencyMs: number }> = []
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1], b = samples[i]
    const secs = Math.max((b.at - a.at) / 1000, 0.001)
    const n = b.durationCount - a.durationCount
    out.push({
      at: b.at,
      rps: Math.max(0, (b.requests - a.requests) / secs),
      eps: Math.max(0, (b.errors - a.errors) / secs),
      latencyMs: n > 0 ? ((b.durationSum - a.durationSum) / n) * 1000 : 0,
    })
  }
  return out
}
