// The registry of data sources by client name: config, environment, catalog and the embedded default.
import { AppError } from '../errors/app-error.js'
import { Source, type SourceDefinition } from './source.js'

export class SourceRegistry {
  private readonly sources = new Map<string, Source>()

  /**
   * onRegistered runs for every source added or replaced, without being awaited: background work such as
   * the privilege check, which must never delay a registration or a request
   */
  constructor(
    private readonly onDriverError?: (source: string, err: Error) => void,
    private readonly onRegistered?: (source: Source) => void,
  ) {}

  /** adds or replaces a source; a replaced source's pool is closed */
  async register(def: SourceDefinition): Promise<Source> {
    const previous = this.sources.get(def.name)
    const source = new Source(def, this.onDriverError)
    this.sources.set(def.name, source)
    if (previous) await previous.close()
    this.onRegistered?.(source)
    return source
  }

  async unregister(name: string): Promise<boolean> {
    const source = this.sources.get(name)
    if (!source) return false
    this.sources.delete(name)
    await source.close()
    return true
  }

  /** the source by its exact name, private ones included: only for callers that checked who may use it */
  get(name: string): Source | undefined {
    return this.sources.get(name)
  }

  /**
   * The source named by X-Athena-Client (or a body's client_name), or a 400 that names the problem. Every surface
   * that lets a caller name a client goes through here, so a private source (an Assistant connection) answers as
   * an unknown client to everyone, the admin key included: its owner reaches it only through /api.
   */
  resolve(name: string | undefined): Source {
    if (name === undefined || name.trim() === '') {
      throw new AppError('missing_client_header', 'X-Athena-Client header is required', {
        hint: 'send X-Athena-Client with the name of a client (GET /clients, with the admin key, lists them)',
      })
    }
    const source = this.sources.get(name.trim().toLowerCase()) ?? this.sources.get(name.trim())
    if (!source || source.owner !== null) {
      throw new AppError('unknown_client', `unknown X-Athena-Client "${name}"`, {
        hint: 'client names are case-insensitive; GET /clients (admin key) lists them',
      })
    }
    return source
  }

  list(): Source[] {
    return [...this.sources.values()]
  }

  /** the names a caller may send as X-Athena-Client: private sources are left out */
  names(): string[] {
    return this.list().filter((s) => s.owner === null).map((s) => s.name).sort()
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.sources.values()].map((s) => s.close()))
  }
}
