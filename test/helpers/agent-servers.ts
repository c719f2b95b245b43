// Real agents on 127.0.0.1 for the agent gateway's tests: an MCP server (the official SDK's McpServer over
// streamable HTTP, stateless) and an A2A server (the official SDK's request handler under express), each
// counting the calls it receives and able to answer slowly.
import { randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { TestContext } from 'node:test'
import { AgentEvent, DefaultRequestHandler, InMemoryTaskStore, type AgentExecutor } from '@a2a-js/sdk/server'
import { agentCardHandler, jsonRpcHandler, UserBuilder } from '@a2a-js/sdk/server/express'
import { AGENT_CARD_PATH, Role, type AgentCard } from '@a2a-js/sdk'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import express from 'express'
import { z } from 'zod'

type Hooks = Pick<TestContext, 'after'>

export interface AgentServer {
  /** the endpoint to register: the MCP endpoint, or the A2A agent's base URL */
  url: string
  /** requests received (MCP: HTTP requests; A2A: messages executed) */
  calls: number
  /** what the last A2A message's text parts said */
  lastText?: string
  /** A2A: times the agent card was read */
  cardReads: number
  /** MCP: tools/call executions running now, and the most that ever ran at once */
  inFlight: number
  peakInFlight: number
  /** MCP: tools/call executions started */
  toolCalls: number
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** a header every request must carry, else the server answers 401 (as an agent behind an API gateway would) */
export interface RequiredHeader {
  name: string
  value: string
}

const refused = (required: RequiredHeader | undefined, headers: Record<string, string | string[] | undefined>) =>
  required !== undefined && headers[required.name.toLowerCase()] !== required.value

async function listen(t: Hooks, server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  }))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** an MCP server with tools add(a, b), sleep(ms) and fail(); `delayMs` slows every tools/call */
export async function startMcpAgent(t: Hooks, opts: { name?: string; delayMs?: number; requireHeader?: RequiredHeader } = {}): Promise<AgentServer> {
  const state: AgentServer = { url: '', calls: 0, cardReads: 0, inFlight: 0, peakInFlight: 0, toolCalls: 0 }
  // every tool counts itself while it runs: one server shared by several agents shows their calls at once
  const counted = async <T>(fn: () => Promise<T>): Promise<T> => {
    state.toolCalls++
    state.peakInFlight = Math.max(state.peakInFlight, ++state.inFlight)
    try {
      return await fn()
    } finally {
      state.inFlight--
    }
  }
  const http = createServer(async (req, res) => {
    state.calls++
    if (refused(opts.requireHeader, req.headers)) {
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' }).end('{"error":"unauthorized"}')
      return
    }
    const server = new McpServer({ name: opts.name ?? 'calculator', version: '2.1.0' })
    server.registerTool('add', { description: 'Adds two numbers', inputSchema: { a: z.number(), b: z.number() } }, async ({ a, b }) => counted(async () => {
      if (opts.delayMs) await sleep(opts.delayMs)
      return { content: [{ type: 'text' as const, text: String(a + b) }], structuredContent: { sum: a + b } }
    }))
    server.registerTool('sleep', { description: 'Answers after ms milliseconds', inputSchema: { ms: z.number() } }, async ({ ms }) => counted(async () => {
      await sleep(ms)
      return { content: [{ type: 'text' as const, text: `slept ${ms}` }] }
    }))
    server.registerTool('fail', { description: 'Always fails' }, async () => ({ content: [{ type: 'text', text: 'the tool broke' }], isError: true }))
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined })
    res.on('close', () => {
      void transport.close()
      void server.close()
    })
    await server.connect(transport)
    await transport.handleRequest(req, res)
  })
  state.url = `${await listen(t, http)}/mcp`
  return state
}

/** an A2A agent that echoes the text it is sent, after `delayMs`; with `requireHeader`, only to requests carrying it */
export async function startA2aAgent(t: Hooks, opts: { name?: string; delayMs?: number; requireHeader?: RequiredHeader } = {}): Promise<AgentServer> {
  const state: AgentServer = { url: '', calls: 0, cardReads: 0, inFlight: 0, peakInFlight: 0, toolCalls: 0 }
  const app = express()
  // the card too: an agent behind a gateway shows nothing without the credential
  app.use((req, res, next) => {
    if (refused(opts.requireHeader, req.headers)) res.status(401).json({ error: 'unauthorized' })
    else next()
  })
  const http = createServer(app)
  const base = await listen(t, http)
  const card = {
    name: opts.name ?? 'echo agent',
    description: 'Echoes what it is told',
    version: '1.4.0',
    supportedInterfaces: [{ url: `${base}/a2a/jsonrpc`, protocolBinding: 'JSONRPC', protocolVersion: '1.0', tenant: '' }],
    provider: undefined,
    capabilities: { streaming: false, pushNotifications: false, extensions: [], extendedAgentCard: false },
    securitySchemes: {},
    securityRequirements: [],
    defaultInputModes: ['text/plain'],
    defaultOutputModes: ['text/plain'],
    skills: [{ id: 'echo', name: 'Echo', description: 'Says back what it hears', tags: ['text'], examples: ['hello'], inputModes: ['text/plain'], outputModes: ['text/plain'], securityRequirements: [] }],
    signatures: [],
  } as unknown as AgentCard
  const executor: AgentExecutor = {
    async execute(ctx, bus) {
      state.calls++
      if (opts.delayMs) await sleep(opts.delayMs)
      const text = ctx.userMessage.parts.map((p) => (p.content?.$case === 'text' ? p.content.value : p.content?.$case === 'data' ? JSON.stringify(p.content.value) : '')).join(' ')
      state.lastText = text
      bus.publish(AgentEvent.message({
        messageId: randomUUID(), contextId: ctx.contextId, taskId: '', role: Role.ROLE_AGENT,
        parts: [{ content: { $case: 'text', value: `echo: ${text}` }, metadata: undefined, filename: '', mediaType: 'text/plain' }],
        metadata: undefined, extensions: [], referenceTaskIds: [],
      }))
      bus.finished()
    },
    async cancelTask() {},
  }
  const handler = new DefaultRequestHandler(card, new InMemoryTaskStore(), executor)
  app.use(`/${AGENT_CARD_PATH}`, (_req, _res, next) => {
    state.cardReads++
    next()
  }, agentCardHandler({ agentCardProvider: handler }))
  app.use('/a2a/jsonrpc', jsonRpcHandler({ requestHandler: handler, userBuilder: UserBuilder.noAuthentication }))
  state.url = base
  return state
}
