// A short-lived cache of fetch results per (source, normalized request), dropped when Atrium writes to a table it read.
import { createHash } from 'node:crypto'

interface Entry {
  value: string
  rows: number
  extra: Record<string, unknown>
  expires: number
  tables: string[]
}

export class ResultCache {
  private readonly entries = new Map<string, Entry>()
  /** source\0table → keys of entries that read it */
  private readonly byTable = new Map<string, Set<string>>()

  constructor(private readonly ttlMs: number, private readonly maxEntries: number) {}

  get enabled(): boolean {
    return this.ttlMs > 0 && this.maxEntries > 0
  }

  static key(source: string, request: unknown): string {
    return createHash('sha256').update(source).update('\0').update(stableJson(request)).digest('hex').slice(0, 32)
  }

  get(key: string): Entry | undefined {
    const entry = this.entries.get(key)
    if (!entry) return undefined
    if (entry.expires <= Date.now()) {
      this.remove(key, entry)
      return undefined
    }
    return entry
  }

  set(key: string, source: string, tables: string[], value: string, rows: number, extra: Record<string, unknown>): void {
    if (!this.enabled) return
    if (this.entries.size >= this.maxEntries) {
      // Maps iterate in insertion order: the first key is the oldest entry
      const oldest = this.entries.keys().next().value as string
      this.remove(oldest, this.entries.get(oldest)!)
    }
    const scoped = tables.map((t) => `${source}\0${t}`)
    this.entries.set(key, { value, rows, extra, expires: Date.now() + this.ttlMs, tables: scoped })
    for (const t of scoped) {
      const keys = this.byTable.get(t) ?? new Set()
      keys.add(key)
      this.byTable.set(t, keys)
    }
  }

  /** drops every entry that read `table` on `source`; returns how many */
  invalidate(source: string, table: string): number {
    const keys = this.byTable.get(`${source}\0${table}`)
    if (!keys) return 0
    let n = 0
    for (const key of [...keys]) {
      const entry = this.entries.get(key)
      if (entry) {
        this.remove(key, entry)
        n++
      }
    }
    this.byTable.delete(`${source}\0${table}`)
    return n
  }

  invalidateSource(source: string): void {
    for (const t of [...this.byTable.keys()]) if (t.startsWith(`${source}\0`)) this.invalidate(source, t.slice(source.length + 1))
  }

  private remove(key: string, entry: Entry): void {
    this.entries.delete(key)
    for (const t of entry.tables) this.byTable.get(t)?.delete(key)
  }
}

/** JSON with sorted object keys, so equal requests hash equally whatever their key order */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}
