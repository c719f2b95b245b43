// The in-process event bus: row changes and job outcomes go out here; webhooks, sockets and metrics listen.
import { EventEmitter } from 'node:events'

export interface RowEvent {
  type: 'row.inserted' | 'row.updated' | 'row.deleted'
  source: string
  table: string
  rows: unknown[]
  /** the X-Publish-Event value the caller sent, naming the event for downstream consumers */
  name?: string
  requestId?: string
  at: string
}

export type AtriumEvent = RowEvent

export class EventBus {
  private readonly emitter = new EventEmitter()

  constructor() {
    this.emitter.setMaxListeners(0)
  }

  publish(event: AtriumEvent): void {
    // listeners must never break the request that caused the event
    for (const name of [event.type, '*']) {
      for (const listener of this.emitter.listeners(name)) {
        try {
          ;(listener as (e: AtriumEvent) => void)(event)
        } catch {
          /* a failing subscriber is its own problem */
        }
      }
    }
  }

  subscribe(type: AtriumEvent['type'] | '*', handler: (event: AtriumEvent) => void): () => void {
    this.emitter.on(type, handler)
    return () => this.emitter.off(type, handler)
  }
}
