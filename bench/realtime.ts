// The realtime workload: change events from commit to two WebSocket subscribers. Writers insert one row per
// request through PUT /gateway/insert, with no header: the subscriptions alone make the writes publish change
// events (the row's name carries its sequence number); two subscribers on /wss/gateway receive every event. Reports events per second delivered to each subscriber, the
// latency from the event's commit (its committed_at, on the same machine's clock) to its arrival, and from
// sending the write to the event's arrival (p50, p99, over both subscribers).
import WebSocket from 'ws'

export interface RealtimeFigures {
  writers: number
  seconds: number
  written: number
  /** events received by each subscriber */
  received: [number, number]
  eventsPerSec: number
  /** commit (committed_at) → event received */
  commitP50Ms: number
  commitP99Ms: number
  /** write sent → event received */
  p50Ms: number
  p99Ms: number
  lost: number
}

const percentile = (xs: number[], p: number) => (xs.length ? +[...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))].toFixed(2) : 0)

async function subscriber(base: string, apiKey: string, onEvent: (seq: number, committedAt: number) => void): Promise<WebSocket> {
  const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/wss/gateway`, { headers: { apikey: apiKey, 'x-athena-client': 'bench' } })
  await new Promise<void>((resolve, reject) => {
    ws.on('error', reject)
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString())
      if (m.type === 'ready') ws.send(JSON.stringify({ id: 'sub', action: 'subscribe', payload: { table: 'items_ins', event: 'INSERT', filter: 'category=eq.realtime' } }))
      else if (m.id === 'sub') (m.status === 200 ? resolve() : reject(new Error(`subscribe failed: ${JSON.stringify(m.body)}`)))
      else if (m.type === 'event') for (const row of m.rows) onEvent(Number(row.name), Date.parse(m.committed_at))
    })
  })
  return ws
}

/** `writers` concurrent writers for `seconds` (at most `maxWrites` writes), then a short wait for the last events */
export async function realtimeWorkload(base: string, apiKey: string, opts: { writers: number; seconds: number; maxWrites: number }): Promise<RealtimeFigures> {
  const sentAt = new Map<number, number>()
  const latencies: number[] = []
  const fromCommit: number[] = []
  const received: [number, number] = [0, 0]
  const sockets = await Promise.all([0, 1].map((i) => subscriber(base, apiKey, (seq, committedAt) => {
    const t0 = sentAt.get(seq)
    if (t0 === undefined) return
    received[i]++
    latencies.push(performance.now() - t0)
    fromCommit.push(Date.now() - committedAt)
  })))
  let seq = 0
  const stopAt = performance.now() + opts.seconds * 1000
  const started = performance.now()
  const writer = async () => {
    while (performance.now() < stopAt && seq < opts.maxWrites) {
      const n = seq++
      sentAt.set(n, performance.now())
      const res = await fetch(`${base}/gateway/insert`, {
        method: 'PUT',
        headers: { apikey: apiKey, 'x-athena-client': 'bench', 'content-type': 'application/json' },
        body: JSON.stringify({ table_name: 'items_ins', insert_body: { id: 10_000_000 + n, name: String(n), category: 'realtime', price: 1, in_stock: true } }),
      })
      if (!res.ok) throw new Error(`realtime write failed: ${res.status} ${await res.text()}`)
      await res.arrayBuffer()
    }
  }
  await Promise.all(Array.from({ length: opts.writers }, writer))
  // the last events are in flight: wait until both have them all, at most 5 s
  const drainUntil = performance.now() + 5_000
  while ((received[0] < seq || received[1] < seq) && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 20))
  const seconds = (performance.now() - started) / 1000
  for (const ws of sockets) ws.close()
  return {
    writers: opts.writers,
    seconds: +seconds.toFixed(2),
    written: seq,
    received,
    eventsPerSec: Math.round((received[0] + received[1]) / 2 / seconds),
    commitP50Ms: percentile(fromCommit, 0.5),
    commitP99Ms: percentile(fromCommit, 0.99),
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    lost: 2 * seq - received[0] - received[1],
  }
}
