// Chat: a question becomes SQL through the Assistant API (/api/chat), shown and editable, then run (/api/execute).
import { useEffect, useState } from 'preact/hooks'
import { call, type Reply, type Session } from '../api'
import { ErrorNote, Grid, Notice } from '../ui'

export function ChatView({ session }: { session: Session }) {
  const [providers, setProviders] = useState<string[]>([])
  const [provider, setProvider] = useState('')
  // an Assistant connection is the user's own (POST /api/connections), not a gateway client: typed, not picked
  const [connection, setConnection] = useState('')
  const [prompt, setPrompt] = useState('')
  const [sql, setSql] = useState('')
  const [answer, setAnswer] = useState<any | null>(null)
  const [results, setResults] = useState<any | null>(null)
  const [failed, setFailed] = useState<Reply | null>(null)
  const [busy, setBusy] = useState(false)
  useEffect(() => {
    if (!session.can.assistant) return
    call(session, 'GET', '/api/providers').then((r) => {
      if (!r.ok) return setFailed(r)
      const names = (r.body.providers ?? r.body ?? []).map((p: any) => (typeof p === 'string' ? p : p.name ?? p.id))
      setProviders(names); setProvider(names[0] ?? '')
    })
  }, [session])
  if (!session.can.assistant) {
    return <Notice>The Assistant API answers session tokens only, and this server {session.kind === 'session' ? 'did not accept this one for it' : 'needs you to sign in with one (a JWT) to use chat'}. Everything else here works with this credential.</Notice>
  }
  const ask = async (e: Event) => {
    e.preventDefault()
    setBusy(true); setFailed(null); setResults(null)
    const r = await call(session, 'POST', '/api/chat', { body: { connection_id: connection, prompt, ...(provider ? { provider } : {}) } })
    setBusy(false)
    if (!r.ok) return setFailed(r)
    setAnswer(r.body); setSql(r.body.sql ?? '')
  }
  const run = async () => {
    setBusy(true); setFailed(null)
    const r = await call(session, 'POST', '/api/execute', { body: { connection_id: connection, sql } })
    setBusy(false)
    if (!r.ok) return setFailed(r)
    setResults(r.body.results)
  }
  const rows = results ? results.rows.map((row: unknown[]) => Object.fromEntries(results.columns.map((c: string, i: number) => [c, row[i]]))) : []
  return (
    <section aria-label="Chat">
      <form onSubmit={ask}>
        <div class="toolbar">
          <div class="field"><label for="chat-connection">Connection</label><input id="chat-connection" value={connection} onInput={(e) => setConnection((e.target as HTMLInputElement).value)} required placeholder="your connection's name" aria-describedby="chat-connection-note" /></div>
          <div class="field"><label for="chat-provider">Provider</label><select id="chat-provider" value={provider} onChange={(e) => setProvider((e.target as HTMLSelectElement).value)}>
            {providers.map((p) => <option key={p}>{p}</option>)}</select></div>
        </div>
        <p id="chat-connection-note" class="muted">One of your Assistant connections (made with POST /api/connections), or a provisioned database's uuid.</p>
        <label for="chat-prompt">Question</label>
        <input id="chat-prompt" value={prompt} onInput={(e) => setPrompt((e.target as HTMLInputElement).value)} required placeholder="e.g. how many orders are there?" />
        <button type="submit" disabled={busy}>Ask</button>
      </form>
      <ErrorNote reply={failed} />
      {answer && (
        <>
          <label for="chat-sql">SQL from {answer.provider}{answer.model ? ` (${answer.model})` : ''} — edit it before running if needed</label>
          <textarea id="chat-sql" rows={5} value={sql} onInput={(e) => setSql((e.target as HTMLTextAreaElement).value)} spellcheck={false} />
          <button type="button" onClick={run} disabled={busy || !sql.trim()}>Run</button>
        </>
      )}
      {results && <><p role="status">{results.row_count} rows{results.truncated ? ' (truncated)' : ''}</p><Grid caption="Chat results" columns={results.columns} rows={rows} /></>}
    </section>
  )
}
