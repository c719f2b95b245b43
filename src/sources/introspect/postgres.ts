// Reads tables, views, columns, keys, foreign keys and functions of the exposed PostgreSQL schemas in one round trip.
import type { Executor } from '../driver.js'
import { categorize, DbSchema, type FunctionInfo, type RawTable } from '../schema.js'

const INTROSPECT_SQL = `
WITH rels AS (
  SELECT c.oid, n.nspname AS schema, c.relname AS name, c.relkind
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
),
cols AS (
  SELECT a.attrelid AS oid, json_agg(json_build_object(
    'name', a.attname,
    'type', format_type(a.atttypid, a.atttypmod),
    'baseType', CASE WHEN t.typcategory = 'A' THEN format_type(t.typelem, NULL) ELSE format_type(a.atttypid, NULL) END,
    'nullable', NOT a.attnotnull,
    'default', pg_get_expr(d.adbin, d.adrelid),
    'position', a.attnum,
    'generated', a.attgenerated <> '' OR a.attidentity = 'a'
  ) ORDER BY a.attnum) AS columns
  FROM pg_attribute a
  JOIN rels r ON r.oid = a.attrelid
  JOIN pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
  WHERE a.attnum > 0 AND NOT a.attisdropped
  GROUP BY a.attrelid
),
keys AS (
  SELECT con.conrelid AS oid, con.contype, con.conname,
    (SELECT array_agg(att.attname ORDER BY k.ord) FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
       JOIN pg_attribute att ON att.attrelid = con.conrelid AND att.attnum = k.attnum) AS columns,
    fn.nspname AS ref_schema, fc.relname AS ref_table,
    (SELECT array_agg(att.attname ORDER BY k.ord) FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
       JOIN pg_attribute att ON att.attrelid = con.confrelid AND att.attnum = k.attnum) AS ref_columns
  FROM pg_constraint con
  JOIN rels r ON r.oid = con.conrelid
  LEFT JOIN pg_class fc ON fc.oid = con.confrelid
  LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
  WHERE con.contype IN ('p', 'u', 'f')
)
SELECT json_build_object(
  'tables', (SELECT coalesce(json_agg(json_build_object(
      'schema', r.schema, 'name', r.name, 'relkind', r.relkind,
      'insertable', r.relkind IN ('r', 'p') OR (r.relkind = 'v' AND pg_relation_is_updatable(r.oid, true) & 8 = 8),
      'columns', coalesce(c.columns, '[]'::json),
      'primaryKey', (SELECT k.columns FROM keys k WHERE k.oid = r.oid AND k.contype = 'p'),
      'uniques', (SELECT json_agg(k.columns) FROM keys k WHERE k.oid = r.oid AND k.contype = 'u'),
      'foreignKeys', (SELECT json_agg(json_build_object('name', k.conname, 'schema', r.schema, 'table', r.name,
          'columns', k.columns, 'refSchema', k.ref_schema, 'refTable', k.ref_table, 'refColumns', k.ref_columns))
        FROM keys k WHERE k.oid = r.oid AND k.contype = 'f' AND k.ref_schema = ANY($1::text[]))
    ) ORDER BY r.schema, r.name), '[]'::json)
    FROM rels r LEFT JOIN cols c ON c.oid = r.oid),
  'functions', (SELECT coalesce(json_agg(json_build_object(
      'schema', n.nspname, 'name', p.proname,
      'argNames', p.proargnames, 'argModes', p.proargmodes,
      'argTypes', (SELECT json_agg(format_type(t, NULL) ORDER BY o) FROM unnest(p.proargtypes) WITH ORDINALITY x(t, o)),
      'allArgTypes', (SELECT json_agg(format_type(t, NULL) ORDER BY o) FROM unnest(p.proallargtypes) WITH ORDINALITY x(t, o)),
      'nargs', p.pronargs, 'nargdefaults', p.pronargdefaults,
      'returnType', format_type(p.prorettype, NULL), 'returnsSet', p.proretset,
      'returnsComposite', rt.typtype = 'c' OR p.prorettype = 'record'::regtype,
      'returnSchema', rn.nspname, 'returnRelation', rc.relname,
      'volatility', p.provolatile
    )), '[]'::json)
    FROM pg_proc p
    JOIN pg_namespace n ON n.oid = p.pronamespace
    JOIN pg_type rt ON rt.oid = p.prorettype
    LEFT JOIN pg_class rc ON rc.oid = rt.typrelid AND rc.relkind IN ('r', 'p', 'v', 'm', 'f')
    LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
    WHERE n.nspname = ANY($1::text[]) AND p.prokind = 'f')
)::text AS doc`

const RELKIND: Record<string, RawTable['kind']> = { r: 'table', p: 'table', v: 'view', m: 'materialized_view', f: 'foreign_table' }
const VOLATILITY: Record<string, FunctionInfo['volatility']> = { i: 'immutable', s: 'stable', v: 'volatile' }

export async function introspectPostgres(db: Executor, schemas: string[]): Promise<DbSchema> {
  const res = await db.query({ sql: INTROSPECT_SQL, params: [schemas] }, { arrayRows: true })
  const doc = JSON.parse((res.rows[0] as unknown as string[])[0])
  const tables: RawTable[] = doc.tables.map((t: any) => ({
    schema: t.schema,
    name: t.name,
    kind: RELKIND[t.relkind],
    insertable: t.insertable,
    columns: t.columns.map((c: any) => ({ ...c, category: categorize(c.type) })),
    primaryKey: t.primaryKey ?? [],
    uniques: t.uniques ?? [],
    foreignKeys: t.foreignKeys ?? [],
  }))
  const functions: FunctionInfo[] = doc.functions.map((f: any) => {
    const inputArgs: FunctionInfo['args'] = []
    const types: string[] = f.argTypes ?? []
    // proargnames/proargmodes cover OUT/TABLE columns too; keep only input arguments, in order.
    let inputIndex = 0
    const names: string[] = f.argNames ?? []
    const modes: string[] | null = f.argModes
    const outputColumns: FunctionInfo['outputColumns'] = []
    for (let i = 0; i < (modes ? modes.length : f.nargs); i++) {
      const mode = modes ? modes[i] : 'i'
      if (mode === 'o' || mode === 't' || mode === 'b') outputColumns.push({ name: names[i] ?? `column${i + 1}`, type: f.allArgTypes?.[i] ?? 'text' })
      if (mode !== 'i' && mode !== 'b' && mode !== 'v') continue
      inputArgs.push({ name: names[i] ?? '', type: types[inputIndex], hasDefault: inputIndex >= f.nargs - f.nargdefaults })
      inputIndex++
    }
    return {
      schema: f.schema,
      name: f.name,
      args: inputArgs,
      returnType: f.returnType,
      returnsSet: f.returnsSet,
      returnsRelation: f.returnRelation ? { schema: f.returnSchema, name: f.returnRelation } : null,
      returnsRows: Boolean(f.returnsComposite),
      outputColumns,
      volatility: VOLATILITY[f.volatility] ?? 'volatile',
    }
  })
  return new DbSchema(schemas, tables, functions)
}
