// What a PostgreSQL source's own catalogue says about the functions and relations raw SQL names: volatility and
// kind from pg_proc, and the schema an unqualified relation name resolves to. Looked up on demand, one query for
// all the names a request misses, and cached per schema-cache generation; never used on the planned-query paths.
import type { Executor } from './driver.js'
import type { DbSchema } from './schema.js'

export interface FunctionCandidate {
  schema: string
  /** pg_proc.prokind: f function, p procedure, a aggregate, w window */
  kind: string
  /** provolatile, raised to `v` when an aggregate's support functions are volatile */
  volatility: 'i' | 's' | 'v'
}

export interface FunctionName {
  /** the schema written in the SQL, or null for a name resolved through search_path */
  schema: string | null
  name: string
}

/**
 * Entries expire so that functions and tables changed outside Atrium are seen within a minute; changes made
 * through Atrium replace the schema cache, which starts a fresh catalogue cache at once.
 */
export const CATALOGUE_TTL_MS = 60_000
/** a statement naming thousands of functions still makes one bounded query */
const MAX_CACHED = 5_000

// Unqualified function names are looked up where PostgreSQL looks (current_schemas(true): pg_catalog, the temp
// schema and search_path); every overload counts, so the most volatile one decides. An aggregate's own
// provolatile says nothing about its transition functions, so those are read too.
const LOOKUP_SQL = `
SELECT json_build_object(
  'functions', (SELECT coalesce(json_agg(json_build_object('i', x.i, 'schema', n.nspname, 'kind', p.prokind,
      'volatility', CASE WHEN p.provolatile = 'v' OR EXISTS (
          SELECT 1 FROM pg_aggregate a JOIN pg_proc sp ON sp.oid IN (a.aggtransfn, a.aggfinalfn, a.aggcombinefn,
            a.aggserialfn, a.aggdeserialfn, a.aggmtransfn, a.aggminvtransfn, a.aggmfinalfn)
          WHERE a.aggfnoid = p.oid AND sp.provolatile = 'v') THEN 'v' ELSE p.provolatile::text END)), '[]'::json)
    FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS x(schema, name, i)
    JOIN pg_proc p ON p.proname = x.name
    JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE CASE WHEN x.schema IS NULL THEN n.nspname = ANY (current_schemas(true)) ELSE n.nspname = x.schema END),
  'relations', (SELECT coalesce(json_agg(json_build_object('name', x.name, 'schema', n.nspname)), '[]'::json)
    FROM unnest($3::text[]) AS x(name)
    JOIN pg_class c ON c.oid = to_regclass(quote_ident(x.name))
    JOIN pg_namespace n ON n.oid = c.relnamespace)
)::text AS doc`

interface Entry<T> {
  value: T
  at: number
}

export class PgCatalogue {
  private readonly functions = new Map<string, Entry<FunctionCandidate[]>>()
  private readonly relations = new Map<string, Entry<string>>()

  constructor(private readonly db: () => Executor, private readonly now: () => number = Date.now) {}

  /**
   * Answers the pg_proc candidates of each function name (an empty list: no such function, which PostgreSQL
   * will report itself) and the schema each unqualified relation name resolves to (absent: no such relation
   * yet). Only misses reach the database; unknown names are not cached, so a new function or table is seen
   * by the next request.
   */
  async lookup(functions: FunctionName[], relations: string[]): Promise<{
    functions: Map<string, FunctionCandidate[]>
    relations: Map<string, string>
  }> {
    const fnOut = new Map<string, FunctionCandidate[]>()
    const relOut = new Map<string, string>()
    const fnMiss: FunctionName[] = []
    const relMiss: string[] = []
    for (const f of functions) {
      const k = functionKey(f)
      if (fnOut.has(k)) continue
      const hit = this.fresh(this.functions.get(k))
      if (hit) fnOut.set(k, hit)
      else { fnOut.set(k, []); fnMiss.push(f) }
    }
    for (const r of new Set(relations)) {
      const hit = this.fresh(this.relations.get(r))
      if (hit !== undefined) relOut.set(r, hit)
      else relMiss.push(r)
    }
    if (fnMiss.length === 0 && relMiss.length === 0) return { functions: fnOut, relations: relOut }

    const res = await this.db().query({ sql: LOOKUP_SQL, params: [fnMiss.map((f) => f.schema), fnMiss.map((f) => f.name), relMiss] }, { arrayRows: true })
    const doc = JSON.parse((res.rows[0] as unknown as string[])[0]) as {
      functions: Array<{ i: number; schema: string; kind: string; volatility: FunctionCandidate['volatility'] }>
      relations: Array<{ name: string; schema: string }>
    }
    for (const row of doc.functions) fnOut.get(functionKey(fnMiss[row.i - 1]))!.push({ schema: row.schema, kind: row.kind, volatility: row.volatility })
    for (const row of doc.relations) relOut.set(row.name, row.schema)

    if (this.functions.size + this.relations.size > MAX_CACHED) { this.functions.clear(); this.relations.clear() }
    const at = this.now()
    for (const f of fnMiss) {
      const found = fnOut.get(functionKey(f))!
      if (found.length > 0) this.functions.set(functionKey(f), { value: found, at })
    }
    for (const r of relMiss) {
      const schema = relOut.get(r)
      if (schema !== undefined) this.relations.set(r, { value: schema, at })
    }
    return { functions: fnOut, relations: relOut }
  }

  private fresh<T>(entry: Entry<T> | undefined): T | undefined {
    return entry && this.now() - entry.at < CATALOGUE_TTL_MS ? entry.value : undefined
  }
}

export const functionKey = (f: FunctionName) => `${f.schema ?? ''}\u0000${f.name}`

// One catalogue cache per schema-cache generation: refreshing the schema (after DDL through Atrium, or
// POST /schema/refresh) replaces the DbSchema object, and with it this cache.
const catalogues = new WeakMap<DbSchema, PgCatalogue>()

export function catalogueFor(schema: DbSchema, db: () => Executor): PgCatalogue {
  let catalogue = catalogues.get(schema)
  if (!catalogue) {
    catalogue = new PgCatalogue(db)
    catalogues.set(schema, catalogue)
  }
  return catalogue
}
