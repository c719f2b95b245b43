// Editing an existing API key (admin key only): its rights, client binding, activity, expiry and IP allow list,
// through PATCH /admin/api-keys/{id}. The API validates (unknown rights, dates, addresses) and its message is
// shown as it is; the reply is the key's record only, so no secret is ever shown here.
import { useState } from 'preact/hooks'
import { call, type Reply, type Session } from '../api'
import { ErrorNote } from '../ui'

/** the rights as checkboxes; used by the creation form and the editor */
export function RightsPicker({ rights, chosen, onChange }: { rights: string[]; chosen: string[]; onChange: (next: string[]) => void }) {
  return (
    <fieldset><legend>Rights</legend>
      {rights.map((r) => (
        <label key={r} class="check"><input type="checkbox" checked={chosen.includes(r)}
          onChange={(e) => onChange((e.target as HTMLInputElement).checked ? [...chosen, r] : chosen.filter((x) => x !== r))} /> {r}</label>
      ))}
    </fieldset>
  )
}

const list = (text: string) => text.split(/[\s,]+/).filter(Boolean)
const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x))

/** what the form changed, so fields left alone are not rewritten (and not re-validated) */
function changesOf(key: any, form: { rights: string[]; client: string; active: boolean; expires: string; ips: string }) {
  const changes: Record<string, unknown> = {}
  if (!sameSet(form.rights, key.rights)) changes.rights = form.rights
  if (form.client !== (key.client_name ?? '')) changes.client_name = form.client || null
  if (form.active !== key.is_active) changes.is_active = form.active
  if (form.expires.trim() !== (key.expires_at ?? '')) changes.expires_at = form.expires.trim() || null
  if (!sameSet(list(form.ips), key.allowed_ips)) changes.allowed_ips = list(form.ips)
  return changes
}

export function KeyEditor({ session, apiKey, rights, onSaved, onClose }: {
  session: Session; apiKey: any; rights: string[]; onSaved: (record: any) => void; onClose: () => void
}) {
  const [chosen, setChosen] = useState<string[]>(apiKey.rights)
  const [client, setClient] = useState<string>(apiKey.client_name ?? '')
  const [active, setActive] = useState<boolean>(apiKey.is_active)
  const [expires, setExpires] = useState<string>(apiKey.expires_at ?? '')
  const [ips, setIps] = useState<string>(apiKey.allowed_ips.join(', '))
  const [failed, setFailed] = useState<Reply | null>(null)
  const [busy, setBusy] = useState(false)
  // a binding to a client this credential cannot list still shows as itself
  const clients = [...new Set([...session.clients, ...(apiKey.client_name ? [apiKey.client_name] : [])])]
  const save = async (e: Event) => {
    e.preventDefault()
    const changes = changesOf(apiKey, { rights: chosen, client, active, expires, ips })
    if (Object.keys(changes).length === 0) return onClose()
    setBusy(true)
    const r = await call(session, 'PATCH', `/admin/api-keys/${encodeURIComponent(apiKey.id)}`, { body: changes })
    setBusy(false)
    if (!r.ok) return setFailed(r)
    onSaved(r.body.record)
  }
  const title = `Edit API key ${apiKey.name}`
  return (
    <form class="create" onSubmit={save} aria-label={title}>
      <h3>{title} <span class="muted">(ath_{apiKey.public_id}.…)</span></h3>
      <ErrorNote reply={failed} title="Not saved" />
      <RightsPicker rights={rights} chosen={chosen} onChange={setChosen} />
      <div class="field"><label for="edit-client">Bound to client</label>
        <select id="edit-client" value={client} onChange={(e) => setClient((e.target as HTMLSelectElement).value)}>
          <option value="">any client</option>{clients.map((c) => <option key={c}>{c}</option>)}</select></div>
      <label class="check"><input type="checkbox" checked={active} onChange={(e) => setActive((e.target as HTMLInputElement).checked)} /> Active (an inactive key is refused)</label>
      <div class="field"><label for="edit-expires">Expires (RFC 3339 date-time or a date; empty: never)</label>
        <input id="edit-expires" value={expires} placeholder="2030-01-31T00:00:00Z" onInput={(e) => setExpires((e.target as HTMLInputElement).value)} /></div>
      <div class="field"><label for="edit-ips">Allowed addresses or CIDR ranges (comma-separated; empty: any)</label>
        <input id="edit-ips" value={ips} onInput={(e) => setIps((e.target as HTMLInputElement).value)} /></div>
      <button type="submit" disabled={busy}>Save changes</button>
      <button type="button" onClick={onClose}>Cancel</button>
    </form>
  )
}
