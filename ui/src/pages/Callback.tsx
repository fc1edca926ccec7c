// Where "Try the login" sends the browser back: `{issuer}/admin/callback`. It hands the
// authorization response (code, state, iss, or an error) to the Latchkey tab that started the
// login, over a same-origin BroadcastChannel, and removes it from the address bar and history
// at once. It never navigates anywhere, so it cannot be an open redirect; the code goes only to
// pages of this origin, and only the starting tab holds the PKCE verifier that redeems it.

import { CheckCircle2, XCircle } from 'lucide-react'
import { useEffect, useState } from 'react'

export const LOGIN_CHANNEL = 'latchkey-try-login'

export interface CallbackMessage {
  type: 'callback'
  params: Record<string, string>
}

export interface AckMessage {
  type: 'ack'
  state: string
}

type Phase = 'waiting' | 'done' | 'orphan'

export function CallbackPage() {
  const [phase, setPhase] = useState<Phase>('waiting')
  const [params] = useState(() => {
    const p = new URLSearchParams(window.location.search)
    // Also a fragment (response_mode=fragment).
    new URLSearchParams(window.location.hash.slice(1)).forEach((v, k) => p.set(k, v))
    return Object.fromEntries(p.entries())
  })
  useEffect(() => {
    document.title = 'Signing in… · Latchkey'
    window.history.replaceState(null, '', window.location.pathname)
    const ch = new BroadcastChannel(LOGIN_CHANNEL)
    const timer = setTimeout(() => setPhase((p) => (p === 'waiting' ? 'orphan' : p)), 3000)
    ch.onmessage = (e: MessageEvent<AckMessage>) => {
      if (e.data?.type === 'ack' && e.data.state === params.state) {
        setPhase('done')
        clearTimeout(timer)
        // A popup closes itself; a tab the browser opened stays, saying so.
        setTimeout(() => window.close(), 600)
      }
    }
    ch.postMessage({ type: 'callback', params } satisfies CallbackMessage)
    return () => {
      clearTimeout(timer)
      ch.close()
    }
  }, [params])
  const error = params.error
  return (
    <main className="callback-page" data-testid="callback" data-phase={phase}>
      <div className="panel" style={{ padding: 24, maxWidth: 520 }}>
        {phase === 'waiting' && <p>Handing the answer to the Latchkey tab that started this login…</p>}
        {phase === 'done' && (
          <div className="row" style={{ alignItems: 'flex-start' }}>
            {error ? <XCircle size={20} color="var(--red)" /> : <CheckCircle2 size={20} color="var(--green)" />}
            <div className="stack-sm">
              <strong>{error ? `The login ended with ${error}` : 'Signed in'}</strong>
              <span className="muted">The result is on the client’s page in Latchkey. You can close this tab.</span>
            </div>
          </div>
        )}
        {phase === 'orphan' && (
          <div className="stack-sm">
            <strong>No Latchkey page is waiting for this login</strong>
            <span className="muted">The tab that started it was closed or reloaded. Start the login again from the client’s page: the answer that arrived here is not kept.</span>
          </div>
        )}
      </div>
    </main>
  )
}
