// The shell: sign-in, then a navigation of the views this credential may use, routed by path under /console/.
import { useEffect, useState } from 'preact/hooks'
import { loadSession, saveSession, signIn, SignInError, type Session } from './api'
import { ChatView } from './views/chat'
import { HealthView } from './views/health'
import { JobsView } from './views/jobs'
import { KeysView } from './views/keys'
import { SourcesView } from './views/sources'
import { SqlView } from './views/sql'
import { TablesView } from './views/tables'

const BASE = '/console/'

interface ViewDef {
  path: string
  title: string
  /** whether this credential can use the view at all; the others are left out of the navigation */
  shown: (s: Session) => boolean
  render: (s: Session, nav: (path: string) => void) => preact.JSX.Element
}

const dataPlane = (s: Session) => s.kind !== 'platform'
const VIEWS: ViewDef[] = [
  { path: '', title: 'Sources', shown: () => true, render: (s, nav) => <SourcesView session={s} nav={nav} /> },
  { path: 'tables', title: 'Tables', shown: dataPlane, render: (s) => <TablesView session={s} /> },
  { path: 'sql', title: 'SQL', shown: dataPlane, render: (s) => <SqlView session={s} /> },
  { path: 'chat', title: 'Chat', shown: dataPlane, render: (s) => <ChatView session={s} /> },
  { path: 'jobs', title: 'Jobs', shown: (s) => s.can.admin || s.can.databases || s.kind === 'session' || s.kind === 'key', render: (s) => <JobsView session={s} /> },
  { path: 'keys', title: 'Keys and webhooks', shown: (s) => s.can.admin || s.can.databases, render: (s) => <KeysView session={s} /> },
  { path: 'health', title: 'Health', shown: () => true, render: (s) => <HealthView session={s} /> },
]

const currentPath = () => location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length).split('/')[0] : ''

export function App() {
  const [session, setSession] = useState<Session | null>(loadSession)
  const [path, setPath] = useState(currentPath)
  useEffect(() => {
    const onPop = () => setPath(currentPath())
    addEventListener('popstate', onPop)
    return () => removeEventListener('popstate', onPop)
  }, [])
  const nav = (to: string) => {
    history.pushState(null, '', BASE + to + location.search)
    setPath(to)
  }
  if (!session) return <SignIn onSignedIn={(s) => { saveSession(s); setSession(s) }} />
  const views = VIEWS.filter((v) => v.shown(session))
  const view = views.find((v) => v.path === path) ?? views[0]
  document.title = `${view.title} · Atrium console`
  const who = { admin: 'admin key', key: 'API key', platform: 'platform key', session: 'session' }[session.kind]
  return (
    <div class="shell">
      <a class="skip" href="#main">Skip to content</a>
      <header class="top">
        <span class="brand">Atrium</span>
        <nav aria-label="Views">
          <ul>
            {views.map((v) => (
              <li key={v.path}>
                <a href={BASE + v.path} aria-current={v === view ? 'page' : undefined}
                  onClick={(e) => { if (e.ctrlKey || e.metaKey || e.shiftKey) return; e.preventDefault(); nav(v.path) }}>{v.title}</a>
              </li>
            ))}
          </ul>
        </nav>
        <span class="who">Signed in with {session.kind === 'admin' ? 'the' : 'a'} {who}</span>
        <button type="button" onClick={() => { saveSession(null); setSession(null) }}>Sign out</button>
      </header>
      <main id="main" tabIndex={-1}>
        <h1>{view.title}</h1>
        {view.render(session, nav)}
      </main>
    </div>
  )
}

function SignIn({ onSignedIn }: { onSignedIn: (s: Session) => void }) {
  const [credential, setCredential] = useState('')
  const [error, setError] = useState('')
  const [busy, setBusy] = useState(false)
  const submit = async (e: Event) => {
    e.preventDefault()
    setBusy(true)
    setError('')
    try {
      onSignedIn(await signIn(credential.trim()))
    } catch (err) {
      setError(err instanceof SignInError ? err.message : `Sign-in failed: ${(err as Error).message}`)
    } finally {
      setBusy(false)
    }
  }
  return (
    <main id="main" class="signin">
      <h1>Sign in to Atrium</h1>
      <form onSubmit={submit}>
        <label for="credential">Admin key, API key (ath_…), platform key (pk_live_…) or session token (JWT)</label>
        <input id="credential" type="password" autoComplete="off" required value={credential}
          onInput={(e) => setCredential((e.target as HTMLInputElement).value)} aria-describedby="credential-note" />
        <p id="credential-note" class="muted">It is kept in this browser tab only, and sent to this server only.</p>
        <button type="submit" disabled={busy || !credential.trim()}>{busy ? 'Signing in…' : 'Sign in'}</button>
        {error && <p class="error" role="alert">{error}</p>}
      </form>
    </main>
  )
}
