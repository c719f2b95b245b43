// The agents workload of `npm run bench`: one MCP tools/call routed through the agent gateway
// (POST /api/v1/agent-gateway/route) against the same call made directly with the official MCP SDK — a new
// session, tools/call, close, as the gateway makes it — to a local MCP server on 127.0.0.1. Calls are
// sequential and alternate between the two, so drift touches both alike; the ratio is of the medians.
import { SignJWT } from 'jose'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { startMcpAgent } from '../test/helpers/agent-servers.js'
import { BENCH_JWT_SECRET } from './assistant.js'

export interface AgentsBenchOptions {
  base: string
  adminKey: string
  calls: number
  maxSeconds: number
}

const pct = (xs: number[], p: number) => (xs.length ? +[...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))].toFixed(2) : 0)

async function json(res: Response, what: string): Promise<any> {
  if (!res.ok) throw new Error(`${what}: ${res.status} ${await res.text()}`)
  return res.json()
}

export async function agentsWorkload(opts: AgentsBenchOptions) {
  const closers: Array<() => unknown> = []
  const mcp = await startMcpAgent({ after: (fn: () => unknown) => { closers.push(fn) } } as never)
  try {
    const admin = { authorization: `Bearer ${opts.adminKey}`, 'content-type': 'application/json' }
    const tenant = await json(await fetch(`${opts.base}/api/v1/tenants`, { method: 'POST', headers: admin, body: JSON.stringify({ name: `bench ${Date.now()}` }) }), 'tenant')
    const email = `bench-${Date.now().toString(36)}@bench.example.test`
    await json(await fetch(`${opts.base}/api/v1/users`, { method: 'POST', headers: { ...admin, 'x-tenant-id': tenant.id }, body: JSON.stringify({ email, name: 'bench', role: 'Org admin' }) }), 'user')
    const now = Math.floor(Date.now() / 1000)
    const token = await new SignJWT({ sub: `bench-agents-${now}`, email }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(now + 3600).sign(new TextEncoder().encode(BENCH_JWT_SECRET))
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
    const project = await json(await fetch(`${opts.base}/api/v1/projects`, { method: 'POST', headers, body: JSON.stringify({ name: 'bench agents' }) }), 'project')
    const agent = await json(await fetch(`${opts.base}/api/v1/agents`, { method: 'POST', headers, body: JSON.stringify({ name: 'bench calculator', protocol: 'MCP', endpoint_url: mcp.url, project_id: project.id }) }), 'agent')
    // unlimited: the workload measures the gateway, not its limits
    await json(await fetch(`${opts.base}/api/v1/agents/${agent.id}/rate-limit`, { method: 'PUT', headers, body: JSON.stringify({ max_requests_per_second: 0, max_requests_per_minute: 0, max_requests_per_hour: 0, max_concurrency: 0 }) }), 'rate limit')

    const body = JSON.stringify({ agent_id: agent.id, project_id: project.id, message: { tool: 'add', arguments: { a: 2, b: 3 } } })
    const routed = async () => {
      const answer = await json(await fetch(`${opts.base}/api/v1/agent-gateway/route`, { method: 'POST', headers, body }), 'route')
      if (answer.error) throw new Error(`route: ${JSON.stringify(answer.error)}`)
    }
    const direct = async () => {
      const client = new Client({ name: 'bench', version: '1' })
      await client.connect(new StreamableHTTPClientTransport(new URL(mcp.url)))
      try {
        const result = await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } })
        if (result.isError) throw new Error('direct call failed')
      } finally {
        await client.close()
      }
    }
    const times = { routed: [] as number[], direct: [] as number[] }
    const timed = async (fn: () => Promise<void>, into: number[]) => {
      const t0 = performance.now()
      await fn()
      into.push(performance.now() - t0)
    }
    for (let i = 0; i < 5; i++) { await routed(); await direct() } // warm-up: connections, JIT
    const deadline = performance.now() + opts.maxSeconds * 1000
    for (let i = 0; i < opts.calls && performance.now() < deadline; i++) {
      await timed(routed, times.routed)
      await timed(direct, times.direct)
    }
    const figures = {
      calls: times.routed.length,
      routed: { p50Ms: pct(times.routed, 0.5), p99Ms: pct(times.routed, 0.99) },
      direct: { p50Ms: pct(times.direct, 0.5), p99Ms: pct(times.direct, 0.99) },
    }
    return { ...figures, p50Ratio: +(figures.routed.p50Ms / figures.direct.p50Ms).toFixed(2), overheadP50Ms: +(figures.routed.p50Ms - figures.direct.p50Ms).toFixed(2) }
  } finally {
    for (const close of closers) await close()
  }
}
