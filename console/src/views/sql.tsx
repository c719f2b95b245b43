// SQL: an editor whose statement class (and whether this credential may run it) is shown before running, from
// POST /gateway/query with dry_run; results in a grid, errors with their position, a row limit, CSV export.
import { useEffect, useRef, useState } from 'preact/hooks'
import { call, errorOf, type Reply, type Session } from '../api'
import { toCsv } from '../csv'
import { ClientPicker, download, ErrorNote, Grid } from '../ui'

/** line, column and the line's text for a 1-based character position in the SQL (PostgreSQL's error position) */
export function locate(sql: string, position: number) {
  const before = sql.slice(0, Math.max(0, position - 1))
  const line = before.split('\n').length
  const column = before.length - before.lastIndexOf('\n')
  return { line, column, text: sql.split('\n')[line - 1] ?? '' }
}

export function SqlView({ session }: { session: Session }) {
  const [client, setClient] = useState(session.clients[0] ?? '')
  const [sql, setSql] = useState('select 1 as one')
  const [limit, setLimit] = useState(1000)
  const [klass, setKlass] = useState<{ sql_class: string; allowed: boolean; required_right: string; reason?: string } | null>(null)
  const [classError, setClassError] = useState('')
  const [result, setResult] = useState<{ rows: Record<string, unknown>[]; meta: any; ran: string } | null>(null)
  const [failed, setFailed] = useState<{ reply: Reply; sql: string } | null>(null)
  const [running, setRunning] = useState(false)
  const editor = useRef<HTMLTextAreaElement>(null)

  // classify as the user types, after a short pause, so the class is known before running
  useEffect(() => {
    setKlass(null); setClassError('')
    if (!client || !sql.trim()) return
    const timer = setTimeout(async () => {
      const r = await call(session, 'POST', '/gateway/query', { client, body: { query: sql, dry_run: true } })
      if (r.ok) setKlass(r.body.meta)
      else setClassError(errorOf(r).message)
    }, 300)
    return () => clearTimeout(timer)
  }, [client, sql])

  const run = async () => {
    setRunning(true); setFailed(null)
    const r = await call(session, 'POST', '/gateway/query', { client, body: { query: sql } })
    setRunning(false)
    if (!r.ok) {
      setResult(null)
      setFailed({ reply: r, sql })
      const pos = errorOf(r).position
      if (pos && editor.current) { editor.current.focus(); editor.current.setSelectionRange(pos - 1, pos) }
      return
    }
    setResult({ rows: r.body.data ?? [], meta: r.body.meta ?? {}, ran: sql })
  }
  const shown = result ? result.rows.slice(0, limit) : []
  const columns = shown.length ? Object.keys(shown[0]) : []
  const pos = failed ? errorOf(failed.reply).position : undefined
  const at = failed && pos ? locate(failed.sql, pos) : null

  return (
    <section aria-label="SQL editor">
      <div class="toolbar">
        <ClientPicker clients={session.clients} value={client} onChange={setClient} id="sql-client" />
        <div class="field"><label for="sql-limit">Row limit</label><input id="sql-limit" type="number" min={1} max={100000} value={limit} onChange={(e) => setLimit(Math.max(1, Number((e.target as HTMLInputElement).value) || 1))} /></div>
      </div>
      <label for="sql-text">SQL <span class="muted">(Ctrl+Enter runs it)</span></label>
      <textarea id="sql-text" ref={editor} rows={8} spellcheck={false} value={sql} aria-describedby="sql-class"
        onInput={(e) => setSql((e.target as HTMLTextAreaElement).value)}
        onKeyDown={(e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); run() } }} />
      <p id="sql-class" class="sql-class" aria-live="polite">
        {klass
          ? <>Statement class: <strong data-class={klass.sql_class}>{klass.sql_class}</strong>{klass.allowed ? ' — you may run it' : <> — <span class="warn">not allowed for this credential (needs <code>{klass.required_right}</code>)</span></>}{klass.reason ? ` (${klass.reason})` : ''}</>
          : classError ? <span class="warn">{classError}</span> : 'Statement class: …'}
      </p>
      <button type="button" onClick={run} disabled={running || !sql.trim() || !client}>{running ? 'Running…' : 'Run'}</button>
      {failed && (
        <ErrorNote reply={failed.reply}>
          {at && <pre class="caret" aria-label={`at line ${at.line}, column ${at.column}`}>{`line ${at.line}, column ${at.column}:\n${at.text}\n${' '.repeat(at.column - 1)}^`}</pre>}
        </ErrorNote>
      )}
      {result && (
        <div class="results">
          <p role="status">
            {result.meta.returned_row_count ?? result.rows.length} rows returned{result.meta.rows_affected ? `, ${result.meta.rows_affected} affected` : ''}
            {result.meta.sql_class ? ` · ran as ${result.meta.sql_class}` : ''}
            {result.rows.length > limit ? ` · showing the first ${limit}` : ''}
            {result.meta.truncated ? ' · the server stopped at its row limit' : ''}
          </p>
          <button type="button" disabled={!columns.length} onClick={() => download('query.csv', 'text/csv', toCsv(columns, shown))}>Export CSV</button>
          <Grid caption="Query results" columns={columns} rows={shown} />
        </div>
      )}
    </section>
  )
}
