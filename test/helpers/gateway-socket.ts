// A WebSocket gateway client for tests: a real `ws` connection to /wss/gateway, with replies matched by id and
// every other message kept in arrival order for the test to wait on.
import WebSocket from 'ws'

export interface Closed {
  code: number
  reason: string
}

export class GatewaySocket {
  readonly messages: any[] = []
  readonly closed: Promise<Closed>
  private nextId = 1
  private waiters: Array<{ test: (m: any) => boolean; resolve: (m: any) => void }> = []

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const message = JSON.parse(data.toString())
      this.messages.push(message)
      for (const w of [...this.waiters]) {
        if (w.test(message)) {
          this.waiters.splice(this.waiters.indexOf(w), 1)
          w.resolve(message)
        }
      }
    })
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })))
  }

  /** opens a connection; `path` may carry a query (`/wss/gateway?apikey=…`) */
  static open(baseUrl: string, opts: { path?: string; headers?: Record<string, string> } = {}): Promise<GatewaySocket> {
    const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}${opts.path ?? '/wss/gateway'}`, { headers: opts.headers })
    const socket = new GatewaySocket(ws)
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(socket))
      ws.once('error', reject)
    })
  }

  /** the first message (already received or still to come) that passes `test` */
  next(test: (m: any) => boolean, what = 'a message', ms = 15_000): Promise<any> {
    const seen = this.messages.find(test)
    if (seen) {
      this.messages.splice(this.messages.indexOf(seen), 1)
      return Promise.resolve(seen)
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.messages).slice(0, 500)}`)), ms)
      this.waiters.push({
        test,
        resolve: (m) => {
          clearTimeout(timer)
          this.messages.splice(this.messages.indexOf(m), 1)
          resolve(m)
        },
      })
    })
  }

  /** sends a message with a fresh id and waits for its reply */
  request(action: string, payload?: unknown, extra: Record<string, unknown> = {}): Promise<any> {
    const id = `m${this.nextId++}`
    this.ws.send(JSON.stringify({ id, action, payload, ...extra }))
    return this.next((m) => m.id === id && (m.type === 'reply' || m.type === 'pong'), `the reply to ${action}`)
  }

  event(test: (m: any) => boolean = () => true, ms?: number): Promise<any> {
    return this.next((m) => m.type === 'event' && test(m), 'an event', ms)
  }

  close(): void {
    this.ws.close()
  }
}
