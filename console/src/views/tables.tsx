// Tables: rows through /rest/v1 (PostgREST syntax) with filters, sort and pages; inline edit and insert for
// credentials that may write. A refused write (403) is shown and the write controls are put away.
import { useEffect, useState } from 'preact/hooks'
import { call, type Reply, type Session } from '../api'
import { ClientPicker, display, ErrorNote, Grid, Notice } from '../ui'

const OPS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'like', 'ilike', 'is'] as const
interface Filter { column: string; op: string; value: string }
interface Column { column_name: string; data_type: string | null; is_nullable: string | null; column_default: string | null }

/** the text typed in an editor as the JSON value the column takes */
function parseValue(text: string, column: Column | undefined): unknown {
  if (text === '' && column?.is_nullable === 'YES') return null
  const type = (column?.data_type ?? '').toLowerCase()
  if (/int|numeric|decimal|real|double|float|serial/.test(type) && text.trim() !== '' && Number.isFinite(Number(text))) return Number(text)
  if (/bool/.test(type) && /^(true|false)$/i.test(text)) return text.toLowerCase() === 'true'
  if (/json/.test(type)) { try { return JSON.parse(text) } catch { return text } }
  return text
}

const pathOf = (table: string) => `/rest/v1/${encodeURIComponent(table)}`

export function TablesView({ session }: { session: Session }) {
  const remembered = JSON.parse(sessionStorage.getItem('atrium.console.table') ?? 'null')
  const [client, setClient] = useState<string>(remembered?.client ?? session.clients[0] ?? '')
  const [tables, setTables] = useState<string[]>([])
  const [table, setTable] = useState<string>(remembered?.table ?? '')
  const [columns, setColumns] = useState<Column[]>([])
  const [primaryKey, setPrimaryKey] = useState<string[]>([])
  const [rows, setRows] = useState<Record<string, unknown>[]>([])
  const [total, setTotal] = useState<number | null>(null)
  const [filters, setFilters] = useState<Filter[]>([])
  const [sort, setSort] = useState<{ column: string; ascending: boolean } | null>(null)
  const [page, setPage] = useState(0)
  const [pageSize, setPageSize] = useState(25)
  const [failed, setFailed] = useState<Reply | null>(null)
  const [refused, setRefused] = useState<Reply | null>(null)
  const [editing, setEditing] = useState<{ row: number; column: string; text: string } | null>(null)
  const [draft, setDraft] = useState<Record<string, string> | null>(null)
  const [saved, setSaved] = useState('')
  const [version, setVersion] = useState(0)
  const mayWrite = refused === null

  useEffect(() => {
    if (!client) return
    call(session, 'GET', '/schema/tables', { client }).then((r) => r.ok && setTables(r.body.tables.map((t: any) => t.table_name)))
  }, [client])
  useEffect(() => {
    setColumns([]); setPrimaryKey([])
    if (!client || !table) return
    call(session, 'GET', `/schema/columns?table_name=${encodeURIComponent(table)}`, { client }).then((r) => {
      if (r.ok) { setColumns(r.body.columns); setPrimaryKey(r.body.primary_key ?? []) }
    })
  }, [client, table])
  useEffect(() => {
    setRows([]); setTotal(null); setFailed(null)
    if (!client || !table) return
    const q = new URLSearchParams({ select: '*', limit: String(pageSize), offset: String(page * pageSize) })
    if (sort) q.set('order', `${sort.column}.${sort.ascending ? 'asc' : 'desc'}`)
    for (const f of filters) if (f.column && f.value !== '') q.append(f.column, `${f.op}.${f.value}`)
    // a short pause, so typing a filter value asks once rather than per key
    const timer = setTimeout(() => call(session, 'GET', `${pathOf(table)}?${q}`, { client, headers: { prefer: 'count=exact' } }).then((r) => {
      if (!r.ok) return setFailed(r)
      setRows(r.body)
      const range = r.headers.get('content-range')
      const n = range ? Number(range.split('/')[1]) : NaN
      setTotal(Number.isFinite(n) ? n : null)
    }), 150)
    return () => clearTimeout(timer)
  }, [client, table, filters, sort, page, pageSize, version])

  const write = async (method: string, query: string, body: unknown, done: string) => {
    setSaved('')
    const r = await call(session, method, `${pathOf(table)}${query}`, { client, body, headers: { prefer: 'return=representation' } })
    if (r.status === 401 || r.status === 403) { setRefused(r); setEditing(null); setDraft(null); return false }
    if (!r.ok) { setFailed(r); return false }
    setFailed(null)
    setSaved(done)
    setVersion((v) => v + 1)
    return true
  }
  const keyQuery = (row: Record<string, unknown>) => '?' + primaryKey.map((k) => `${encodeURIComponent(k)}=eq.${encodeURIComponent(String(row[k]))}`).join('&')
  const saveEdit = async () => {
    if (!editing) return
    const row = rows[editing.row]
    const column = columns.find((c) => c.column_name === editing.column)
    if (await write('PATCH', keyQuery(row), { [editing.column]: parseValue(editing.text, column) }, `Saved ${editing.column}.`)) setEditing(null)
  }
  const insert = async (e: Event) => {
    e.preventDefault()
    if (!draft) return
    const body: Record<string, unknown> = {}
    for (const c of columns) if ((draft[c.column_name] ?? '') !== '') body[c.column_name] = parseValue(draft[c.column_name], c)
    if (await write('POST', '', body, 'Row inserted.')) setDraft(null)
  }
  const names = rows.length ? Object.keys(rows[0]) : columns.map((c) => c.column_name)
  const pages = total === null ? null : Math.max(1, Math.ceil(total / pageSize))

  return (
    <section aria-label="Rows">
      <div class="toolbar">
        <ClientPicker clients={session.clients} value={client} onChange={(c) => { setClient(c); setTable(''); setPage(0) }} id="rows-client" />
        <div class="field"><label for="rows-table">Table</label>
          {tables.length
            ? <select id="rows-table" value={table} onChange={(e) => { setTable((e.target as HTMLSelectElement).value); setPage(0); setFilters([]); setSort(null) }}>
                <option value="">Choose a table</option>{tables.map((t) => <option key={t}>{t}</option>)}
              </select>
            : <input id="rows-table" value={table} onChange={(e) => setTable((e.target as HTMLInputElement).value)} placeholder="table name" />}
        </div>
      </div>
      {table && (
        <fieldset class="filters">
          <legend>Filters</legend>
          {filters.map((f, i) => (
            <div class="filter" key={i}>
              <div class="field"><label for={`filter-column-${i}`}>Column</label><select id={`filter-column-${i}`} value={f.column} onChange={(e) => setFilters(filters.map((g, j) => j === i ? { ...g, column: (e.target as HTMLSelectElement).value } : g))}>
                {names.map((n) => <option key={n}>{n}</option>)}</select></div>
              <div class="field"><label for={`filter-op-${i}`}>Operator</label><select id={`filter-op-${i}`} value={f.op} onChange={(e) => setFilters(filters.map((g, j) => j === i ? { ...g, op: (e.target as HTMLSelectElement).value } : g))}>
                {OPS.map((o) => <option key={o}>{o}</option>)}</select></div>
              <div class="field"><label for={`filter-value-${i}`}>Value</label><input id={`filter-value-${i}`} value={f.value} onInput={(e) => { setPage(0); setFilters(filters.map((g, j) => j === i ? { ...g, value: (e.target as HTMLInputElement).value } : g)) }} /></div>
              <button type="button" onClick={() => setFilters(filters.filter((_, j) => j !== i))}>Remove filter</button>
            </div>
          ))}
          <button type="button" onClick={() => setFilters([...filters, { column: names[0] ?? '', op: 'eq', value: '' }])}>Add filter</button>
        </fieldset>
      )}
      <ErrorNote reply={failed} />
      {refused && <ErrorNote reply={refused} title="Write refused">
        <div>This credential may read this table but not write it, so editing is turned off.</div></ErrorNote>}
      {saved && <p role="status" class="ok">{saved}</p>}
      {table && !failed && (
        <>
          <Grid caption={`Rows of ${table}`} columns={names} rows={rows} sort={sort}
            onSort={(c) => { setSort(sort?.column === c ? { column: c, ascending: !sort.ascending } : { column: c, ascending: true }); setPage(0) }}
            renderCell={(row, c, i) => {
              if (editing && editing.row === i && editing.column === c) {
                return (
                  <form class="cell-edit" onSubmit={(e) => { e.preventDefault(); saveEdit() }}>
                    <label class="sr-only" for="cell-editor">New value of {c}</label>
                    <input id="cell-editor" autoFocus value={editing.text} onInput={(e) => setEditing({ ...editing, text: (e.target as HTMLInputElement).value })}
                      onKeyDown={(e) => { if (e.key === 'Escape') setEditing(null) }} />
                    <button type="submit">Save</button>
                  </form>
                )
              }
              const text = display(row[c])
              if (!mayWrite || primaryKey.length === 0) return <span class={row[c] === null ? 'null' : ''}>{text}</span>
              return <button type="button" class="cell" title="Edit" aria-label={`Edit ${c} = ${text}`}
                onClick={() => setEditing({ row: i, column: c, text: row[c] === null ? '' : typeof row[c] === 'object' ? JSON.stringify(row[c]) : String(row[c]) })}>{text}</button>
            }} />
          <div class="pager" role="group" aria-label="Pages">
            <button type="button" disabled={page === 0} onClick={() => setPage(page - 1)}>Previous page</button>
            <span aria-live="polite">Page {page + 1}{pages ? ` of ${pages}` : ''}{total !== null ? ` · ${total} rows` : ''}</span>
            <button type="button" disabled={pages !== null && page + 1 >= pages} onClick={() => setPage(page + 1)}>Next page</button>
            <div class="field"><label for="page-size">Rows per page</label><select id="page-size" value={pageSize} onChange={(e) => { setPageSize(Number((e.target as HTMLSelectElement).value)); setPage(0) }}>
              {[10, 25, 50, 100].map((n) => <option key={n} value={n}>{n}</option>)}</select></div>
          </div>
          {mayWrite && primaryKey.length === 0 && columns.length > 0 && <Notice>This table has no primary key, so its rows cannot be edited here.</Notice>}
          {mayWrite && columns.length > 0 && (draft === null
            ? <button type="button" onClick={() => setDraft({})}>Insert a row</button>
            : (
              <form class="insert" onSubmit={insert} aria-label="New row">
                <h2>New row</h2>
                {columns.map((c) => (
                  <div class="field" key={c.column_name}><label for={`new-${c.column_name}`}>{c.column_name} <span class="muted">{c.data_type}{c.column_default ? ', has a default' : ''}{c.is_nullable === 'YES' ? ', nullable' : ''}</span></label>
                    <input id={`new-${c.column_name}`} name={c.column_name} value={draft[c.column_name] ?? ''} onInput={(e) => setDraft({ ...draft, [c.column_name]: (e.target as HTMLInputElement).value })} />
                  </div>
                ))}
                <button type="submit">Insert</button> <button type="button" onClick={() => setDraft(null)}>Cancel</button>
              </form>
            ))}
        </>
      )}
      {!table && <p class="muted">Choose a table to see its rows.</p>}
    </section>
  )
}
