// The assistant workload of `npm run bench`: chat overhead (Atrium's time for a chat with auto_execute, minus the
// time the provider took, against a local OpenAI-compatible stub that answers at once) and the throughput of
// /api/files/profile on a generated CSV (MB/s).
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { SignJWT } from 'jose'

export const BENCH_JWT_SECRET = 'bench-jwt-secret-0123456789abcdef0123456789'

export interface ModelStub {
  baseUrl: string
  /** ms the stub spent on each request, in order */
  spentMs: number[]
  close(): Promise<void>
}

/** an OpenAI-compatible chat-completions endpoint that always answers the same SQL */
export async function startModelStub(sql: string): Promise<ModelStub> {
  const spentMs: number[] = []
  const server = createServer((req, res) => {
    const t0 = performance.now()
    req.resume()
    req.on('end', () => {
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({
        id: 'bench', object: 'chat.completion', created: 0, model: 'bench-model',
        choices: [{ index: 0, message: { role: 'assistant', content: `\`\`\`sql\n${sql}\n\`\`\`` }, finish_reason: 'stop', logprobs: null }],
        usage: { prompt_tokens: 100, completion_tokens: 10, total_tokens: 110 },
      }))
      spentMs.push(performance.now() - t0)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { baseUrl: `http://127.0.0.1:${port}/v1`, spentMs, close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }) }
}

export interface AssistantBenchOptions {
  base: string
  stub: ModelStub
  /** the PostgreSQL database the connection points at */
  database: { host: string; port: number; database: string; user: string; password?: string }
  chats: number
  /** bytes of the generated CSV, and how many times it is profiled */
  csvBytes: number
  profiles: number
  maxSeconds: number
}

const pct = (xs: number[], p: number) => (xs.length ? +[...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))].toFixed(2) : 0)

function csvOf(bytes: number): Buffer {
  const lines = ['id,name,category,price,created']
  let size = lines[0].length + 1
  for (let i = 0; size < bytes; i++) {
    const line = `${i},name ${i % 997},cat${i % 13},${(i % 10_000) / 100},2024-0${1 + (i % 9)}-1${i % 10}`
    lines.push(line)
    size += line.length + 1
  }
  return Buffer.from(`${lines.join('\n')}\n`)
}

export async function assistantWorkload(opts: AssistantBenchOptions) {
  const now = Math.floor(Date.now() / 1000)
  const token = await new SignJWT({ sub: 'bench', role: 'authenticated' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(now + 3600).sign(new TextEncoder().encode(BENCH_JWT_SECRET))
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
  const name = `bench-${Date.now().toString(36)}`
  const created = await fetch(`${opts.base}/api/connections`, { method: 'POST', headers, body: JSON.stringify({ name, provider: 'postgres', config: opts.database }) })
  if (created.status !== 201) throw new Error(`assistant connection: ${created.status} ${await created.text()}`)
  try {
    // sequential, so each request's provider time is the stub's entry of the same index
    const overhead: number[] = []
    const total: number[] = []
    const deadline = performance.now() + opts.maxSeconds * 1000
    for (let i = 0; i < opts.chats && performance.now() < deadline; i++) {
      const before = opts.stub.spentMs.length
      const t0 = performance.now()
      const res = await fetch(`${opts.base}/api/chat`, { method: 'POST', headers, body: JSON.stringify({ connection_id: name, prompt: 'the ten cheapest items', provider: 'openai', auto_execute: true }) })
      if (!res.ok) throw new Error(`chat: ${res.status} ${await res.text()}`)
      await res.arrayBuffer()
      const ms = performance.now() - t0
      total.push(ms)
      overhead.push(ms - (opts.stub.spentMs[before] ?? 0))
    }
    const csv = csvOf(opts.csvBytes)
    let profiled = 0
    const p0 = performance.now()
    for (let i = 0; i < opts.profiles && performance.now() < deadline + opts.maxSeconds * 1000; i++) {
      const form = new FormData()
      form.append('file', new Blob([csv]), 'bench.csv')
      const res = await fetch(`${opts.base}/api/files/profile`, { method: 'POST', headers: { authorization: headers.authorization }, body: form })
      if (!res.ok) throw new Error(`profile: ${res.status} ${await res.text()}`)
      await res.arrayBuffer()
      profiled++
    }
    const seconds = (performance.now() - p0) / 1000
    const mb = (csv.length * profiled) / 2 ** 20
    return {
      chat: { requests: total.length, p50Ms: pct(total, 0.5), p99Ms: pct(total, 0.99), overheadP50Ms: pct(overhead, 0.5), overheadP99Ms: pct(overhead, 0.99) },
      profile: { csvMb: +(csv.length / 2 ** 20).toFixed(2), files: profiled, seconds: +seconds.toFixed(2), mbPerSec: +(mb / seconds).toFixed(2) },
    }
  } finally {
    await fetch(`${opts.base}/api/connections/${name}`, { method: 'DELETE', headers: { authorization: headers.authorization } })
  }
}
