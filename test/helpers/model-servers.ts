// Local servers that speak the OpenAI chat-completions and the Anthropic messages wire protocols, answering from a
// script, so the production SDK code path runs against them. Each records what it was sent.
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { TestContext } from 'node:test'

/** an answer's text and usage, or an HTTP failure */
export type ScriptedReply = { text: string; prompt?: number; completion?: number } | { status: number; message: string }

export interface ModelServer {
  /** the base URL the SDK is pointed at */
  baseUrl: string
  /** the replies still to send, in order; a request with none left gets a 500 */
  script(...replies: ScriptedReply[]): void
  /** the JSON bodies and headers of every request received */
  received: Array<{ path: string; body: any; headers: IncomingMessage['headers'] }>
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

async function start(t: Pick<TestContext, 'after'>, basePath: string, shape: (reply: { text: string; prompt: number; completion: number }, body: any) => unknown, errorShape: (message: string) => unknown): Promise<ModelServer> {
  const queue: ScriptedReply[] = []
  const received: ModelServer['received'] = []
  const server: Server = createServer(async (req, res) => {
    const text = await readBody(req)
    let body: any = null
    try { body = JSON.parse(text) } catch { /* recorded as null */ }
    received.push({ path: req.url ?? '', body, headers: req.headers })
    const reply = queue.shift() ?? { status: 500, message: 'the test script has no reply left' }
    // no retries in tests: the SDKs retry on 5xx unless told the request should not be retried
    res.setHeader('x-should-retry', 'false')
    res.setHeader('content-type', 'application/json')
    if ('status' in reply) {
      res.statusCode = reply.status
      res.end(JSON.stringify(errorShape(reply.message)))
      return
    }
    res.end(JSON.stringify(shape({ text: reply.text, prompt: reply.prompt ?? 100, completion: reply.completion ?? 20 }, body)))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  const { port } = server.address() as AddressInfo
  return { baseUrl: `http://127.0.0.1:${port}${basePath}`, script: (...r) => { queue.push(...r) }, received }
}

/** POST {baseUrl}/chat/completions, as OpenAI (and Ollama, vLLM, llama.cpp) answer it */
export function startOpenAiServer(t: Pick<TestContext, 'after'>): Promise<ModelServer> {
  return start(t, '/v1', (r, body) => ({
    id: 'chatcmpl-test',
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: body?.model ?? 'unknown',
    choices: [{ index: 0, message: { role: 'assistant', content: r.text }, finish_reason: 'stop', logprobs: null }],
    usage: { prompt_tokens: r.prompt, completion_tokens: r.completion, total_tokens: r.prompt + r.completion },
  }), (message) => ({ error: { message, type: 'server_error', code: null } }))
}

/** POST {baseUrl}/v1/messages, as the Anthropic API answers it */
export function startAnthropicServer(t: Pick<TestContext, 'after'>): Promise<ModelServer> {
  return start(t, '', (r, body) => ({
    id: 'msg_test',
    type: 'message',
    role: 'assistant',
    model: body?.model ?? 'unknown',
    content: [{ type: 'text', text: r.text }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: r.prompt, output_tokens: r.completion },
  }), (message) => ({ type: 'error', error: { type: 'api_error', message } }))
}
