// The schema cache's model: tables, views, columns, keys, relationships and functions of one data source.
// Built once per source by an introspector and looked up (never queried) on the request path.

export type ColumnCategory = 'number' | 'string' | 'boolean' | 'json' | 'array' | 'time' | 'other'

export interface ColumnInfo {
  name: string
  /** SQL type as the database formats it, e.g. `integer`, `text[]`, `timestamp with time zone` */
  type: string
  /** element type for arrays (PostgreSQL), else the type itself */
  baseType: string
  category: ColumnCategory
  nullable: boolean
  default: string | null
  position: number
  generated: boolean
}

export interface ForeignKey {
  name: string
  schema: string
  table: string
  columns: string[]
  refSchema: string
  refTable: string
  refColumns: string[]
}

export type RelationKind = 'table' | 'view' | 'materialized_view' | 'foreign_table'

export interface TableInfo {
  schema: string
  name: string
  kind: RelationKind
  insertable: boolean
  columns: ColumnInfo[]
  columnMap: ReadonlyMap<string, ColumnInfo>
  primaryKey: string[]
  uniques: string[][]
  /** foreign keys declared on this table (many-to-one) */
  foreignKeys: ForeignKey[]
  /** foreign keys of other tables pointing here (one-to-many) */
  referencedBy: ForeignKey[]
}

export interface FunctionArg {
  name: string
  type: string
  hasDefault: boolean
}

export interface FunctionInfo {
  schema: string
  name: string
  args: FunctionArg[]
  returnType: string
  returnsSet: boolean
  /** the relation whose rows it returns (SETOF table / composite), if any */
  returnsRelation: { schema: string; name: string } | null
  /** true when it returns a table-like set (SETOF composite, RETURNS TABLE) whose rows are JSON objects */
  returnsRows: boolean
  /** OUT / RETURNS TABLE columns, in order */
  outputColumns: Array<{ name: string; type: string }>
  volatility: 'immutable' | 'stable' | 'volatile'
}

export interface RawTable extends Omit<TableInfo, 'columnMap' | 'referencedBy'> {}

export class DbSchema {
  readonly tables = new Map<string, TableInfo>()
  readonly functions = new Map<string, FunctionInfo[]>()
  readonly loadedAt = new Date()

  /** @param schemas exposed schemas, the first is where unqualified names are looked up */
  constructor(readonly schemas: string[], tables: RawTable[], functions: FunctionInfo[]) {
    const built: TableInfo[] = tables.map((t) => ({
      ...t,
      columns: [...t.columns].sort((a, b) => a.position - b.position),
      columnMap: new Map(t.columns.map((c) => [c.name, c])),
      referencedBy: [],
    }))
    for (const t of built) this.tables.set(key(t.schema, t.name), t)
    for (const t of built) for (const fk of t.foreignKeys) this.tables.get(key(fk.refSchema, fk.refTable))?.referencedBy.push(fk)
    for (const f of functions) {
      const k = key(f.schema, f.name)
      this.functions.set(k, [...(this.functions.get(k) ?? []), f])
    }
  }

  get defaultSchema(): string {
    return this.schemas[0]
  }

  /** finds `name` or `schema.name` among the exposed schemas */
  findTable(name: string, schema?: string): TableInfo | undefined {
    return this.tables.get(key(schema ?? this.defaultSchema, name))
  }

  findFunctions(name: string, schema?: string): FunctionInfo[] {
    return this.functions.get(key(schema ?? this.defaultSchema, name)) ?? []
  }

  tableNames(schema = this.defaultSchema): string[] {
    return [...this.tables.values()].filter((t) => t.schema === schema).map((t) => t.name)
  }
}

const key = (schema: string, name: string) => `${schema}\u0000${name}`

export function categorize(type: string): ColumnCategory {
  const t = type.toLowerCase()
  if (t.endsWith('[]') || t === 'array') return 'array'
  if (t === 'boolean' || t === 'bool' || t === 'tinyint(1)' || t === 'bit(1)') return 'boolean'
  if (/^(small|big|tiny|medium)?int|^integer|^numeric|^decimal|^real|^double|^float|^serial|^year|^money/.test(t)) return 'number'
  if (t === 'json' || t === 'jsonb') return 'json'
  if (/^(timestamp|date|time|interval|datetime)/.test(t)) return 'time'
  if (/char|text|uuid|citext|enum|set|name|inet|cidr|macaddr|xml|tsvector/.test(t)) return 'string'
  return 'other'
}
