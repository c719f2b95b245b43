// The load generator, run as its own process (pinned to another core than the servers): drives one
// workload against one target with autocannon and prints the figures as JSON.
import autocannon from 'autocannon'

export interface LoadConfig {
  base: string
  workload: string
  connections: number
  durationSeconds: number
  warmupSeconds: number
  apiKey?: string
  items: number
  orders: number
}

type Req = { method: string; path: string; body?: string; headers?: Record<string, string> }

const rand = (n: number) => 1 + Math.floor(Math.random() * n)
const insertBodies = (n: number) => Array.from({ length: 4 }, (_, b) => Array.from({ length: n }, (_, i) => ({
  id: b * n + i, name: `bulk ${i}`, category: `cat${i % 20}`, price: (i % 1000) / 10, in_stock: i % 2 === 0, created_at: '2024-06-01T00:00:00Z',
})))

function generator(cfg: LoadConfig): () => Req {
  const rows = insertBodies(1000)
  const bulk = rows.map((r) => JSON.stringify(r))
  // head: true sends no rows back (as Prefer: return=minimal), as the VALUES baseline returns nothing
  const gatewayBulk = rows.map((r) => JSON.stringify({ table_name: 'items_ins', insert_body: r, head: true }))
  // without columns the gateway sends every written row back, as VALUES … RETURNING * does
  const gatewayBulkAll = rows.map((r) => JSON.stringify({ table_name: 'items_ins', insert_body: r }))
  const json = { 'content-type': 'application/json' }
  const fetchBody = (conditions: unknown[], extra: object = {}) => JSON.stringify({ table_name: 'items', conditions, ...extra })
  const gw = (client: string) => ({ ...json, 'x-athena-client': client })
  switch (cfg.workload) {
    case 'w1-rest': return () => ({ method: 'GET', path: `/rest/v1/items?id=eq.${rand(cfg.items)}`, headers: { 'x-athena-client': 'bench' } })
    case 'w1-gateway': return () => ({ method: 'POST', path: '/gateway/fetch', headers: gw('bench'), body: fetchBody([{ eq_column: 'id', eq_value: String(rand(cfg.items)) }]) })
    case 'w1-base': return () => ({ method: 'GET', path: `/w1/${rand(cfg.items)}` })
    case 'w1-post-base': return () => ({ method: 'POST', path: '/w1', headers: json, body: fetchBody([{ eq_column: 'id', eq_value: String(rand(cfg.items)) }]) })
    case 'w1-my-gateway': return () => ({ method: 'POST', path: '/gateway/fetch', headers: gw('benchmy'), body: fetchBody([{ eq_column: 'id', eq_value: String(rand(cfg.items)) }]) })
    case 'w1-my-base': return () => ({ method: 'GET', path: `/my/w1/${rand(cfg.items)}` })
    case 'w1-my-post-base': return () => ({ method: 'POST', path: '/my/w1', headers: json, body: fetchBody([{ eq_column: 'id', eq_value: String(rand(cfg.items)) }]) })
    case 'w2-rest': return () => ({ method: 'GET', path: `/rest/v1/items?category=eq.cat${rand(20) - 1}&order=id&limit=100`, headers: { 'x-athena-client': 'bench' } })
    case 'w2-gateway': return () => ({ method: 'POST', path: '/gateway/fetch', headers: gw('bench'), body: fetchBody([{ eq_column: 'category', eq_value: `cat${rand(20) - 1}` }], { sort_by: { field: 'id' }, limit: 100 }) })
    case 'w2-base': return () => ({ method: 'GET', path: `/w2/cat${rand(20) - 1}` })
    case 'w2-post-base': return () => ({ method: 'POST', path: '/w2', headers: json, body: fetchBody([{ eq_column: 'category', eq_value: `cat${rand(20) - 1}` }], { sort_by: { field: 'id' }, limit: 100 }) })
    case 'w2-my-gateway': return () => ({ method: 'POST', path: '/gateway/fetch', headers: gw('benchmy'), body: fetchBody([{ eq_column: 'category', eq_value: `cat${rand(20) - 1}` }], { sort_by: { field: 'id' }, limit: 100 }) })
    case 'w2-my-base': return () => ({ method: 'GET', path: `/my/w2/cat${rand(20) - 1}` })
    case 'w2-my-post-base': return () => ({ method: 'POST', path: '/my/w2', headers: json, body: fetchBody([{ eq_column: 'category', eq_value: `cat${rand(20) - 1}` }], { sort_by: { field: 'id' }, limit: 100 }) })
    case 'w3-rest': return () => ({ method: 'POST', path: '/rest/v1/items_ins', headers: { ...json, 'x-athena-client': 'bench', prefer: 'return=minimal' }, body: bulk[rand(4) - 1] })
    case 'w3-gateway': return () => ({ method: 'PUT', path: '/gateway/insert', headers: gw('bench'), body: gatewayBulk[rand(4) - 1] })
    case 'w3-base': return () => ({ method: 'POST', path: '/w3', headers: json, body: bulk[rand(4) - 1] })
    case 'w3-gateway-repr': return () => ({ method: 'PUT', path: '/gateway/insert', headers: gw('bench'), body: gatewayBulkAll[rand(4) - 1] })
    case 'w3-rest-repr': return () => ({ method: 'POST', path: '/rest/v1/items_ins', headers: { ...json, 'x-athena-client': 'bench', prefer: 'return=representation' }, body: bulk[rand(4) - 1] })
    case 'w3-repr-base': return () => ({ method: 'POST', path: '/w3?returning=1', headers: json, body: bulk[rand(4) - 1] })
    case 'w4-rest': return () => ({ method: 'GET', path: `/rest/v1/orders?select=*,customers(*)&order=id&limit=50&offset=${rand(cfg.orders - 50) - 1}`, headers: { 'x-athena-client': 'bench' } })
    case 'w4-base': return () => ({ method: 'GET', path: `/w4/${rand(cfg.orders - 50) - 1}` })
    case 'w7-rest': return () => ({ method: 'GET', path: `/rest/v1/items?select=in_stock,count(),price.sum(),price.max()&category=eq.cat${rand(20) - 1}`, headers: { 'x-athena-client': 'bench' } })
    case 'w7-base': return () => ({ method: 'GET', path: `/w7/cat${rand(20) - 1}` })
    // the same read as w1-gateway, as an MCP tools/call of read_rows (stateless: one POST, answered as JSON)
    case 'w1-mcp': return () => ({ method: 'POST', path: '/mcp', headers: { ...json, accept: 'application/json, text/event-stream' }, body: JSON.stringify({
      jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'read_rows', arguments: { client: 'bench', table: 'items', filters: [{ column: 'id', operator: 'eq', value: rand(cfg.items) }], limit: 1 } },
    }) })
    case 'w6-gateway': return () => ({ method: 'POST', path: '/gateway/query', headers: gw('bench'), body: JSON.stringify({ query: `SELECT * FROM items WHERE id = ${rand(cfg.items)}` }) })
    case 'w6-base': return () => ({ method: 'POST', path: '/w6', headers: json, body: JSON.stringify({ query: `SELECT * FROM items WHERE id = ${rand(cfg.items)}` }) })
    default: throw new Error(`unknown workload ${cfg.workload}`)
  }
}

async function run(cfg: LoadConfig, seconds: number) {
  const next = generator(cfg)
  const auth = cfg.apiKey ? { apikey: cfg.apiKey } : {}
  return autocannon({
    url: cfg.base,
    connections: cfg.connections,
    duration: seconds,
    requests: [{
      setupRequest: (req) => {
        const r = next()
        return { ...req, method: r.method as never, path: r.path, body: r.body, headers: { ...auth, ...(r.headers ?? {}) } }
      },
    }],
  })
}

const cfg = JSON.parse(process.argv[2]) as LoadConfig
const warm = cfg.warmupSeconds > 0 ? await run(cfg, cfg.warmupSeconds) : undefined
const r = await run(cfg, cfg.durationSeconds)
process.stdout.write(JSON.stringify({
  reqPerSec: r.requests.average,
  p50: r.latency.p50,
  p99: r.latency.p99,
  errors: r.errors + r.timeouts,
  non2xx: r.non2xx,
  total: r.requests.total,
  // every request sent, warm-up included: the server did the work of each, so CPU time is divided by this
  sent: (warm?.requests.sent ?? 0) + r.requests.sent,
}))
