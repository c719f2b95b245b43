// Jobs: the durable job records (query jobs, exports, backups, provisioning, pipelines, blueprint applications)
// with their progress and errors, polled while the view is open. The admin key sees every job and can start a
// backup; a session sees its Workspace query jobs; a platform key sees its databases' provisioning status.
// An API key or a session also sees the gateway calls it deferred (Prefer: respond-async).
import { useEffect, useState } from 'preact/hooks'
import { call, errorOf, type Reply, type Session } from '../api'
import { ClientPicker, ErrorNote, Grid, Notice } from '../ui'

const POLL_MS = 1000

/** calls `load` now and every POLL_MS while mounted, one call at a time */
function usePoll(load: () => Promise<void>, deps: unknown[]) {
  useEffect(() => {
    let stopped = false
    let timer: ReturnType<typeof setTimeout>
    const tick = async () => {
      await load().catch(() => {})
      if (!stopped) timer = setTimeout(tick, POLL_MS)
    }
    tick()
    return () => { stopped = true; clearTimeout(timer) }
  }, deps)
}

export function JobsView({ session }: { session: Session }) {
  if (session.can.admin) return <AdminJobs session={session} />
  if (session.kind === 'platform') return <ProvisioningStatus session={session} />
  // an API key has no Workspace query jobs: only its deferred requests are asked for
  if (session.kind === 'key') return <DeferredRequests session={session} />
  return <><DeferredRequests session={session} /><QueryJobs session={session} /></>
}

const percent = (p: number) => `${Math.round(p * 100)}%`

function AdminJobs({ session }: { session: Session }) {
  const [jobs, setJobs] = useState<any[]>([])
  const [kind, setKind] = useState('')
  const [failed, setFailed] = useState<Reply | null>(null)
  const [client, setClient] = useState(session.clients[0] ?? '')
  const [started, setStarted] = useState('')
  usePoll(async () => {
    const r = await call(session, 'GET', `/admin/jobs?limit=50${kind ? `&kind=${encodeURIComponent(kind)}` : ''}`)
    if (!r.ok) return setFailed(r)
    setFailed(null)
    setJobs(r.body.data.jobs)
  }, [kind])
  const backup = async () => {
    setStarted('')
    const r = await call(session, 'POST', '/admin/backups', { body: { client_name: client, label: 'from the console' } })
    if (!r.ok) return setFailed(r)
    setStarted(`Backup of ${client} queued as job ${r.body.job_uuid}.`)
  }
  const cancel = async (id: string) => {
    const r = await call(session, 'POST', `/admin/jobs/${encodeURIComponent(id)}/cancel`)
    if (!r.ok) setFailed(r)
  }
  const kinds = [...new Set(jobs.map((j) => j.kind))].sort()
  return (
    <section aria-label="Jobs">
      <div class="toolbar">
        <div class="field"><label for="job-kind">Kind</label><select id="job-kind" value={kind} onChange={(e) => setKind((e.target as HTMLSelectElement).value)}>
          <option value="">all</option>{[...new Set([...kinds, kind].filter(Boolean))].map((k) => <option key={k}>{k}</option>)}</select></div>
        <ClientPicker clients={session.clients} value={client} onChange={setClient} id="backup-client" />
        <button type="button" onClick={backup} disabled={!client}>Back up this source</button>
      </div>
      {started && <p role="status" class="ok">{started}</p>}
      <ErrorNote reply={failed} />
      <p class="muted">Refreshed every second.</p>
      <Grid caption="Jobs" columns={['kind', 'status', 'progress', 'message', 'error', 'attempts', 'created', 'finished', 'id']}
        rows={jobs.map((j) => ({
          kind: j.kind, status: j.status, progress: percent(j.progress), message: j.progress_message ?? '',
          error: j.error ? `${j.error.code}: ${j.error.message}` : '', attempts: `${j.attempts}/${j.max_attempts}`,
          created: j.created_at, finished: j.finished_at ?? '', id: j.id,
        }))}
        extraHeader="Actions"
        renderExtra={(_row, i) => ['queued', 'running'].includes(jobs[i].status)
          ? <button type="button" onClick={() => cancel(jobs[i].id)} aria-label={`Cancel job ${jobs[i].id}`}>Cancel</button> : null} />
    </section>
  )
}

/** the newest deferred gateway requests of this key or session (GET /gateway/deferred lists only the caller's) */
function DeferredRequests({ session }: { session: Session }) {
  const [requests, setRequests] = useState<any[] | null>(null)
  const [failed, setFailed] = useState<Reply | null>(null)
  usePoll(async () => {
    const r = await call(session, 'GET', `/gateway/deferred?limit=${DEFERRED_SHOWN}`)
    if (!r.ok) return setFailed(r)
    setFailed(null)
    setRequests(r.body.data.requests)
  }, [])
  return (
    <section aria-label="Deferred requests">
      <h2>Deferred gateway requests</h2>
      <p class="muted">Calls sent with <code>Prefer: respond-async</code>, the {DEFERRED_SHOWN} newest; <code>GET /gateway/deferred/&#123;id&#125;</code> reads one's answer.</p>
      <ErrorNote reply={failed} />
      {requests && <Grid caption="Deferred requests" columns={['id', 'operation', 'client', 'status', 'created', 'finished', 'error']}
        rows={requests.map((d) => ({
          id: d.request_id, operation: d.operation, client: d.client, status: d.status, created: d.created_at,
          finished: d.finished_at ?? '', error: d.error ? `${d.error.code}: ${d.error.message}` : '',
        }))} />}
    </section>
  )
}

/** one page is enough for a glance; the API pages further (next_cursor) */
const DEFERRED_SHOWN = 50

function QueryJobs({ session }: { session: Session }) {
  const [jobs, setJobs] = useState<any[] | null>(null)
  const [failed, setFailed] = useState<Reply | null>(null)
  usePoll(async () => {
    // the Workspace API lists the session's tenant's query jobs, newest first, as {query_jobs: [...]}
    const r = await call(session, 'GET', '/api/v1/query_jobs?limit=50')
    if (!r.ok) return setFailed(r)
    setFailed(null)
    setJobs(r.body.query_jobs)
  }, [])
  if (failed && !jobs) {
    return <Notice>Jobs are shown to the admin key, to Workspace users (their tenant's query jobs) and to platform keys (their team's databases). This credential has none to show: {failed.status === 401 ? `the Workspace API did not accept it (${errorOf(failed).message})` : 'it may not list them'}.</Notice>
  }
  return (
    <section aria-label="Query jobs">
      <h2>Query jobs</h2>
      <ErrorNote reply={failed} />
      {jobs && <Grid caption="Query jobs" columns={['id', 'status', 'query', 'rows', 'error', 'created', 'ended']}
        rows={jobs.map((j) => ({
          id: j.id, status: j.status, query: j.query_text, rows: j.total_rows ?? '',
          error: j.error_result ? `${j.error_result.reason}: ${j.error_result.message}` : '', created: j.created, ended: j.ended ?? '',
        }))} />}
    </section>
  )
}

function ProvisioningStatus({ session }: { session: Session }) {
  const [dbs, setDbs] = useState<any[]>([])
  const [failed, setFailed] = useState<Reply | null>(null)
  usePoll(async () => {
    const r = await call(session, 'GET', '/api/v1/databases')
    if (!r.ok) return setFailed(r)
    setDbs(r.body.data)
  }, [])
  return (
    <section aria-label="Provisioning">
      <h2>Databases being provisioned</h2>
      <ErrorNote reply={failed} />
      <Grid caption="Databases" columns={['uuid', 'name', 'status']} rows={dbs.map((d) => ({ uuid: d.uuid, name: d.name, status: d.status }))} />
    </section>
  )
}
