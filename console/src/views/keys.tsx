// Keys and webhooks: API keys (create — the secret shown once —, edit, revoke) and webhook endpoints (create,
// delete, deliveries) with the admin key; a platform key sees itself and its team's webhook endpoints.
import { useEffect, useState } from 'preact/hooks'
import { call, type Reply, type Session } from '../api'
import { ErrorNote, Grid, Notice } from '../ui'
import { KeyEditor, RightsPicker } from './key-editor'

/** a secret shown once: the API answers it only in the creation reply, and the console keeps no copy */
function SecretOnce({ label, secret, onDone }: { label: string; secret: string; onDone: () => void }) {
  return (
    <div class="secret" role="alert">
      <p><strong>{label}</strong> It is shown this once: copy it now, Atrium keeps only its hash.</p>
      <label for="new-secret" class="sr-only">The new secret</label>
      <input id="new-secret" readOnly value={secret} onFocus={(e) => (e.target as HTMLInputElement).select()} />
      <button type="button" onClick={() => navigator.clipboard?.writeText(secret)}>Copy</button>
      <button type="button" onClick={onDone}>I have stored it</button>
    </div>
  )
}

export function KeysView({ session }: { session: Session }) {
  if (session.can.admin) return <><ApiKeys session={session} /><Webhooks session={session} base="/admin/webhooks" /></>
  return <><PlatformKey session={session} /><Webhooks session={session} base="/api/v1/webhook_endpoints" /></>
}

function ApiKeys({ session }: { session: Session }) {
  const [keys, setKeys] = useState<any[]>([])
  const [rights, setRights] = useState<string[]>([])
  const [failed, setFailed] = useState<Reply | null>(null)
  const [secret, setSecret] = useState('')
  const [name, setName] = useState('')
  const [client, setClient] = useState('')
  const [chosen, setChosen] = useState<string[]>(['gateway.read'])
  const [editing, setEditing] = useState<any | null>(null)
  const [saved, setSaved] = useState('')
  const [version, setVersion] = useState(0)
  useEffect(() => {
    call(session, 'GET', '/admin/api-keys').then((r) => (r.ok ? setKeys(r.body.api_keys) : setFailed(r)))
  }, [version])
  useEffect(() => { call(session, 'GET', '/admin/api-key-rights').then((r) => r.ok && setRights(r.body.rights.map((x: any) => x.name))) }, [])
  const create = async (e: Event) => {
    e.preventDefault()
    const r = await call(session, 'POST', '/admin/api-keys', { body: { name, rights: chosen, ...(client ? { client_name: client } : {}) } })
    if (!r.ok) return setFailed(r)
    setFailed(null); setSecret(r.body.api_key); setName(''); setVersion((v) => v + 1)
  }
  const revoke = async (key: any) => {
    if (!confirm(`Revoke the key "${key.name}"? Requests with it will be refused.`)) return
    const r = await call(session, 'DELETE', `/admin/api-keys/${encodeURIComponent(key.id)}`)
    if (!r.ok) return setFailed(r)
    if (editing?.id === key.id) setEditing(null)
    setVersion((v) => v + 1)
  }
  return (
    <section aria-labelledby="keys-h">
      <h2 id="keys-h">API keys</h2>
      {secret && <SecretOnce label="The new API key:" secret={secret} onDone={() => setSecret('')} />}
      <ErrorNote reply={failed} />
      <form class="create" onSubmit={create} aria-label="New API key">
        <div class="field"><label for="key-name">Name</label><input id="key-name" required value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} /></div>
        <div class="field"><label for="key-client">Bound to client (optional)</label>
          <select id="key-client" value={client} onChange={(e) => setClient((e.target as HTMLSelectElement).value)}>
            <option value="">any client</option>{session.clients.map((c) => <option key={c}>{c}</option>)}</select></div>
        <RightsPicker rights={rights} chosen={chosen} onChange={setChosen} />
        <button type="submit">Create key</button>
      </form>
      <Grid caption="API keys" columns={['name', 'key', 'client', 'rights', 'active', 'expires']}
        rows={keys.map((k) => ({ name: k.name, key: `ath_${k.public_id}.…`, client: k.client_name ?? 'any', rights: k.rights.join(', '), active: k.is_active ? 'yes' : 'no', expires: k.expires_at ?? 'never' }))}
        extraHeader="Actions" renderExtra={(_r, i) => <>
          <button type="button" onClick={() => { setSaved(''); setEditing(keys[i]) }} aria-label={`Edit ${keys[i].name}`}>Edit</button>{' '}
          <button type="button" onClick={() => revoke(keys[i])} aria-label={`Revoke ${keys[i].name}`}>Revoke</button></>} />
      {saved && <p role="status" class="ok">{saved}</p>}
      {editing && <KeyEditor key={editing.id} session={session} apiKey={editing} rights={rights} onClose={() => setEditing(null)}
        onSaved={(record) => { setEditing(null); setSaved(`Saved the key "${record.name}".`); setVersion((v) => v + 1) }} />}
    </section>
  )
}

function PlatformKey({ session }: { session: Session }) {
  const key = session.me?.api_key
  return (
    <section aria-labelledby="pk-h">
      <h2 id="pk-h">This platform key</h2>
      {key ? <dl class="facts"><dt>Name</dt><dd>{key.name}</dd><dt>Key</dt><dd><code>{key.preview}</code></dd><dt>Scopes</dt><dd>{key.permissions.join(', ')}</dd>
        <dt>Requests per minute</dt><dd>{key.controls?.requests_per_minute ?? '—'}</dd></dl> : <p>—</p>}
      <Notice>Platform keys are created with the admin key (POST /admin/platform-keys); sign in with it to manage API keys.</Notice>
    </section>
  )
}

function Webhooks({ session, base }: { session: Session; base: string }) {
  const [hooks, setHooks] = useState<any[]>([])
  const [failed, setFailed] = useState<Reply | null>(null)
  const [url, setUrl] = useState('')
  const [secret, setSecret] = useState('')
  const [deliveries, setDeliveries] = useState<{ id: string; rows: any[] } | null>(null)
  const [version, setVersion] = useState(0)
  // the admin routes answer in the gateway envelope ({data}); the Databases API answers {data: [...]}
  const listOf = (body: any) => body.data?.webhooks ?? body.data ?? []
  useEffect(() => { call(session, 'GET', base).then((r) => (r.ok ? setHooks(listOf(r.body)) : setFailed(r))) }, [version])
  const create = async (e: Event) => {
    e.preventDefault()
    const r = await call(session, 'POST', base, { body: { url } })
    if (!r.ok) return setFailed(r)
    setFailed(null); setUrl(''); setSecret(r.body.data?.secret ?? r.body.secret ?? ''); setVersion((v) => v + 1)
  }
  const remove = async (id: string) => {
    if (!confirm('Delete this webhook endpoint?')) return
    const r = await call(session, 'DELETE', `${base}/${encodeURIComponent(id)}`)
    if (!r.ok) return setFailed(r)
    setVersion((v) => v + 1)
  }
  // the admin route sends webhook.test; the Databases API's sends a test delivery
  const sendTest = async (id: string) => {
    const r = await call(session, 'POST', `${base}/${encodeURIComponent(id)}/${base.startsWith('/admin') ? 'test' : 'test_deliveries'}`)
    if (!r.ok) return setFailed(r)
    await show(id)
  }
  const show = async (id: string) => {
    const r = await call(session, 'GET', `${base}/${encodeURIComponent(id)}/deliveries`)
    if (!r.ok) return setFailed(r)
    setDeliveries({ id, rows: r.body.data?.deliveries ?? r.body.data ?? [] })
  }
  return (
    <section aria-labelledby="hooks-h">
      <h2 id="hooks-h">Webhooks</h2>
      {secret && <SecretOnce label="The endpoint's signing secret:" secret={secret} onDone={() => setSecret('')} />}
      <ErrorNote reply={failed} />
      <form class="create" onSubmit={create} aria-label="New webhook endpoint">
        <div class="field"><label for="hook-url">Endpoint URL</label><input id="hook-url" type="url" required value={url} onInput={(e) => setUrl((e.target as HTMLInputElement).value)} /></div>
        <button type="submit">Add endpoint</button>
      </form>
      <Grid caption="Webhook endpoints" columns={['url', 'enabled', 'created']}
        rows={hooks.map((h) => ({ url: h.url, enabled: h.enabled === false ? 'no' : 'yes', created: h.created_at }))}
        extraHeader="Actions" renderExtra={(_r, i) => <>
          <button type="button" onClick={() => show(hooks[i].id)} aria-label={`Deliveries of ${hooks[i].url}`}>Deliveries</button>{' '}
          <button type="button" onClick={() => sendTest(hooks[i].id)} aria-label={`Send a test event to ${hooks[i].url}`}>Send test</button>{' '}
          <button type="button" onClick={() => remove(hooks[i].id)} aria-label={`Delete ${hooks[i].url}`}>Delete</button></>} />
      {deliveries && <>
        <h3>Deliveries <button type="button" onClick={() => show(deliveries.id)}>Refresh</button></h3>
        <Grid caption="Deliveries" columns={['event_type', 'status', 'attempts', 'response_status', 'last_error', 'created_at']}
          rows={deliveries.rows.map((d) => ({ ...d, event_type: d.event_type ?? d.type }))} />
      </>}
    </section>
  )
}
