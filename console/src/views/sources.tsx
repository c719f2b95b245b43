// Sources: every data source with its engine, status, pool and statistics (admin key), or the clients this
// credential may name; a schema browser of tables, columns, keys and relationships; a platform key's databases.
import { useEffect, useState } from 'preact/hooks'
import { call, type Reply, type Session } from '../api'
import { parseMetrics, type Sample } from '../prometheus'
import { ClientPicker, ErrorNote, Grid, Notice } from '../ui'

const engineOf = (uri: string | null, source: string) => source === 'embedded' ? 'postgresql (embedded)' : uri?.startsWith('mysql') || uri?.startsWith('mariadb') ? 'mysql' : uri ? 'postgresql' : 'unknown'

export function SourcesView({ session, nav }: { session: Session; nav: (path: string) => void }) {
  if (session.kind === 'platform') return <DatabasesList session={session} />
  return (
    <>
      <SourceList session={session} />
      <SchemaBrowser session={session} nav={nav} />
    </>
  )
}

function SourceList({ session }: { session: Session }) {
  const [runtime, setRuntime] = useState<any[] | null>(null)
  const [stats, setStats] = useState<Record<string, any>>({})
  const [pools, setPools] = useState<Sample['pools']>({})
  const [failed, setFailed] = useState<Reply | null>(null)
  useEffect(() => {
    if (!session.can.admin) return
    call(session, 'GET', '/admin/clients').then((r) => (r.ok ? setRuntime(r.body.runtime) : setFailed(r)))
    call(session, 'GET', '/admin/clients/statistics').then((r) => {
      if (r.ok) setStats(Object.fromEntries((r.body.data ?? r.body.statistics ?? []).map((s: any) => [s.client_name, s])))
    })
    if (session.can.metrics) call(session, 'GET', '/metrics').then((r) => r.ok && setPools(parseMetrics(r.body).pools))
  }, [session])
  if (!session.can.admin) {
    return (
      <section aria-labelledby="sources-h">
        <h2 id="sources-h">Data sources</h2>
        {session.clients.length
          ? <ul>{session.clients.map((c) => <li key={c}><code>{c}</code></li>)}</ul>
          : <Notice>This credential may not list data sources (it needs the <code>schema.read</code> right). Type the client it is bound to in each view.</Notice>}
        <p class="muted">Engines, pools and statistics are shown to the admin key.</p>
      </section>
    )
  }
  return (
    <section aria-labelledby="sources-h">
      <h2 id="sources-h">Data sources</h2>
      <ErrorNote reply={failed} />
      {runtime && (
        <Grid caption="Data sources" columns={['client', 'engine', 'status', 'pool', 'requests', 'failed', 'last request']}
          rows={runtime.map((c) => {
            const pool = pools[c.client_name]
            const s = stats[c.client_name]
            return {
              client: c.client_name,
              engine: engineOf(c.pg_uri, c.source),
              status: [!c.is_active ? 'inactive' : c.is_frozen ? 'frozen' : 'active', c.pool_connected ? 'connected' : 'not connected', ...c.warnings.map(() => 'warning')].join(', '),
              pool: pool ? `${pool.total} open, ${pool.idle} idle, ${pool.waiting} waiting` : '—',
              requests: s?.total_requests ?? 0,
              failed: s?.failed_requests ?? 0,
              'last request': s?.last_request_at ?? '—',
            }
          })} />
      )}
    </section>
  )
}

function SchemaBrowser({ session, nav }: { session: Session; nav: (path: string) => void }) {
  const [client, setClient] = useState(session.clients[0] ?? '')
  const [tables, setTables] = useState<any[]>([])
  const [table, setTable] = useState<any | null>(null)
  const [detail, setDetail] = useState<any | null>(null)
  const [failed, setFailed] = useState<Reply | null>(null)
  useEffect(() => {
    setTables([]); setTable(null); setDetail(null); setFailed(null)
    if (!client) return
    call(session, 'GET', '/schema/tables', { client }).then((r) => (r.ok ? setTables(r.body.tables) : setFailed(r)))
  }, [client])
  useEffect(() => {
    setDetail(null)
    if (!table) return
    call(session, 'GET', `/schema/columns?table_name=${encodeURIComponent(table.table_name)}&table_schema=${encodeURIComponent(table.table_schema)}`, { client })
      .then((r) => (r.ok ? setDetail(r.body) : setFailed(r)))
  }, [table])
  const rel = (fk: any, dir: 'out' | 'in') => dir === 'out'
    ? `${fk.columns.join(', ')} → ${fk.references.table_schema}.${fk.references.table_name} (${fk.references.columns.join(', ')})`
    : `${fk.table_schema}.${fk.table_name} (${fk.columns.join(', ')}) → ${fk.references.columns.join(', ')}`
  return (
    <section aria-labelledby="schema-h">
      <h2 id="schema-h">Schema</h2>
      <ClientPicker clients={session.clients} value={client} onChange={setClient} id="schema-client" />
      <ErrorNote reply={failed} />
      <div class="split">
        <ul class="table-list" aria-label="Tables">
          {tables.map((t) => (
            <li key={`${t.table_schema}.${t.table_name}`}>
              <button type="button" class="link" aria-pressed={table === t} onClick={() => setTable(t)}>{t.table_schema}.{t.table_name}</button>
              <span class="muted"> {t.table_type === 'VIEW' ? 'view' : ''}</span>
            </li>
          ))}
        </ul>
        {detail && table && (
          <div>
            <h3>{table.table_schema}.{table.table_name}</h3>
            <p>Primary key: {detail.primary_key?.length ? <code>{detail.primary_key.join(', ')}</code> : 'none'}</p>
            <Grid caption={`Columns of ${table.table_name}`} columns={['column_name', 'data_type', 'is_nullable', 'column_default']} rows={detail.columns} />
            <h4>Relationships</h4>
            {(detail.foreign_keys?.length ?? 0) + (detail.referenced_by?.length ?? 0) === 0 && <p class="muted">None.</p>}
            <ul>
              {detail.foreign_keys?.map((fk: any) => <li key={fk.name}>references: {rel(fk, 'out')}</li>)}
              {detail.referenced_by?.map((fk: any) => <li key={fk.name}>referenced by: {rel(fk, 'in')}</li>)}
            </ul>
            <button type="button" onClick={() => {
              sessionStorage.setItem('atrium.console.table', JSON.stringify({ client, table: table.table_name, schema: table.table_schema }))
              nav('tables')
            }}>Browse rows</button>
          </div>
        )}
      </div>
    </section>
  )
}

function DatabasesList({ session }: { session: Session }) {
  const [dbs, setDbs] = useState<any[] | null>(null)
  const [failed, setFailed] = useState<Reply | null>(null)
  useEffect(() => { call(session, 'GET', '/api/v1/databases').then((r) => (r.ok ? setDbs(r.body.data) : setFailed(r))) }, [session])
  return (
    <section aria-labelledby="dbs-h">
      <h2 id="dbs-h">Databases of your team</h2>
      <Notice>A platform key manages databases through the Databases API; sign in with an API key or a session token to browse their rows.</Notice>
      <ErrorNote reply={failed} />
      {dbs && <Grid caption="Databases" columns={['uuid', 'name', 'type', 'status', 'region']} rows={dbs.map((d) => ({ uuid: d.uuid, name: d.name, type: d.db_type, status: d.status, region: d.region }))} />}
    </section>
  )
}
