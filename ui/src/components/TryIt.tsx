// "Try it" on a client's page: runs the client's flows the way an app would and shows what it
// got and every request it made, as curl.
//
// - Authorization code: builds the request (PKCE S256, state, nonce, the chosen scopes, prompt,
//   login_hint), opens Latchkey's login page in a popup, receives the answer at
//   `{issuer}/admin/callback` (pages/Callback.tsx, over a same-origin BroadcastChannel), checks
//   state and iss (RFC 9207), exchanges the code at /token from this page, and checks the
//   id_token's nonce.
// - Client credentials and password: one POST to /token.
// The token requests go from the browser to /token on this same origin (no CORS involved),
// authenticated with the client's secret as its registered method says; they appear in the
// request log like any app's requests.

import { useQueryClient } from '@tanstack/react-query'
import { ExternalLink, LogIn, Play, RefreshCw } from 'lucide-react'
import { useEffect, useMemo, useRef, useState } from 'react'
import { Link } from 'react-router'
import { api, serverPrefix, type ProtocolAnswer } from '../api/client'
import { keys, useDiscovery, useUsers } from '../api/queries'
import type { Client, GrantType } from '../api/types'
import { formCurl, withSecretLine, type CurlAuth } from '../lib/curl'
import { decodeJwt } from '../lib/jwt'
import { randomToken, s256 } from '../lib/pkce'
import { LOGIN_CHANNEL, type AckMessage, type CallbackMessage } from '../pages/Callback'
import { Code, Json } from './Code'
import { CopyButton, ErrorBox, Field, Panel, Segmented } from './ui'

type Flow = 'authorization_code' | 'client_credentials' | 'password'

/** The callback route Latchkey serves for "Try the login". */
export function callbackUrl(): string {
  return `${window.location.origin}${serverPrefix()}/admin/callback`
}

function authOf(c: Client): CurlAuth {
  const method = c.token_endpoint_auth_method ?? (c.client_secret ? 'client_secret_basic' : 'none')
  return { method, clientId: c.client_id, secret: c.client_secret }
}

/** The form fields and Basic credentials `c` sends to /token with `form`. */
function authenticate(c: Client, form: Record<string, string>): { form: Record<string, string>; basic?: { id: string; secret: string } } {
  const a = authOf(c)
  if (a.method === 'client_secret_basic' && a.secret !== undefined) return { form, basic: { id: c.client_id, secret: a.secret } }
  if (a.method === 'client_secret_post') return { form: { client_id: c.client_id, ...form, client_secret: a.secret ?? '' } }
  return { form: { client_id: c.client_id, ...form } }
}

interface Step {
  title: string
  /** The curl that reproduces it (secret as a variable), or a URL for a browser step. */
  curl?: string
  url?: string
  note?: string
  status?: number
  body?: unknown
}

const TOKEN_FIELDS = ['access_token', 'refresh_token', 'id_token'] as const

/** Links each token in a response to its page (looked up by value). */
function TokenLinks({ answer }: { answer: Record<string, unknown> }) {
  const [ids, setIds] = useState<Record<string, string>>({})
  useEffect(() => {
    let live = true
    for (const f of TOKEN_FIELDS) {
      const t = answer[f]
      if (typeof t !== 'string') continue
      api.inspectToken(t).then((d) => {
        if (live && d.record) setIds((m) => ({ ...m, [f]: d.record!.id }))
      }, () => {})
    }
    return () => {
      live = false
    }
  }, [answer])
  const present = TOKEN_FIELDS.filter((f) => typeof answer[f] === 'string')
  if (present.length === 0) return null
  return (
    <div className="row" data-testid="token-links">
      <span className="muted small">Open:</span>
      {present.map((f) => ids[f] ? (
        <Link key={f} className="btn sm" to={`/tokens/${encodeURIComponent(ids[f])}`} data-token-kind={f}>{f.replace(/_/g, ' ')}</Link>
      ) : (
        <span key={f} className="btn sm" aria-disabled="true">{f.replace(/_/g, ' ')}</span>
      ))}
    </div>
  )
}

function Checks({ items }: { items: { ok: boolean; text: string }[] }) {
  if (items.length === 0) return null
  return (
    <ul className="checklist" data-testid="login-checks">
      {items.map((c) => <li key={c.text} className={c.ok ? 'ok' : 'bad'}>{c.ok ? '✓' : '✗'} {c.text}</li>)}
    </ul>
  )
}

function StepList({ steps, auth }: { steps: Step[]; auth: CurlAuth }) {
  const [withSecret, setWithSecret] = useState(true)
  if (steps.length === 0) return null
  const needsSecret = steps.some((s) => s.curl?.includes('CLIENT_SECRET'))
  return (
    <div className="stack-sm" data-testid="steps">
      <div className="row">
        <h3>Requests made</h3>
        {needsSecret && auth.secret !== undefined && (
          <label className="check small" style={{ marginLeft: 'auto' }}>
            <input type="checkbox" checked={withSecret} onChange={(e) => setWithSecret(e.target.checked)} /> Copy with the client’s secret
          </label>
        )}
      </div>
      <ol className="steps">
        {steps.map((s, i) => (
          <li key={i} className="stack-sm">
            <div className="row">
              <strong>{i + 1}. {s.title}</strong>
              {s.status !== undefined && <span className={`badge plain ${s.status < 400 ? 'active' : 'revoked'}`}>{s.status}</span>}
            </div>
            {s.url && <Code code={s.url} language="text" wrap />}
            {s.curl && <Code code={withSecretLine(s.curl, auth, withSecret)} language="bash" wrap />}
            {s.note && <p className="muted small">{s.note}</p>}
          </li>
        ))}
      </ol>
    </div>
  )
}

function Result({ answer }: { answer: ProtocolAnswer }) {
  if (!answer.body) return <ErrorBox error={new Error(answer.text || `HTTP ${answer.status}`)} title={`The token endpoint answered ${answer.status}`} />
  const ok = answer.status === 200
  return (
    <div className="stack-sm" data-testid="try-result" data-ok={ok}>
      {ok ? <h3>Tokens received</h3> : <ErrorBox error={new Error(`${answer.body.error ?? ''}: ${answer.body.error_description ?? ''}`)} title={`The token endpoint refused (${answer.status})`} />}
      <Json value={answer.body} wrap />
      {ok && <TokenLinks answer={answer.body} />}
    </div>
  )
}

interface Pending {
  state: string
  nonce: string
  verifier: string
  redirectUri: string
}

function CodeFlow({ client }: { client: Client }) {
  const qc = useQueryClient()
  const discovery = useDiscovery()
  const users = useUsers()
  const callback = callbackUrl()
  const registered = client.redirect_uris.includes(callback)
  const [scopes, setScopes] = useState<string[]>(() => client.scopes)
  const [prompt, setPrompt] = useState('')
  const [hint, setHint] = useState('')
  const [steps, setSteps] = useState<Step[]>([])
  const [checks, setChecks] = useState<{ ok: boolean; text: string }[]>([])
  const [answer, setAnswer] = useState<ProtocolAnswer | null>(null)
  const [error, setError] = useState<unknown>(null)
  const [phase, setPhase] = useState<'idle' | 'waiting' | 'exchanging' | 'done'>('idle')
  const [registering, setRegistering] = useState(false)
  const [blockedUrl, setBlockedUrl] = useState<string | null>(null)
  const pending = useRef<Pending | null>(null)
  // Stable while the client is, so the channel below is not reopened on every render (a
  // message arriving between a close and the next open would be lost).
  const auth = useMemo(() => authOf(client), [client])

  const register = async () => {
    setRegistering(true)
    setError(null)
    try {
      const c = await api.updateClient(client.client_id, { ...client, redirect_uris: [...client.redirect_uris, callback] })
      qc.setQueryData<Client[]>(keys.clients, (l) => l?.map((x) => (x.client_id === c.client_id ? c : x)))
    } catch (e) {
      setError(e)
    } finally {
      setRegistering(false)
    }
  }

  const tokenEndpoint = discovery.data?.token_endpoint
  const issuer = discovery.data?.issuer

  // The answer arrives from the callback page.
  useEffect(() => {
    const ch = new BroadcastChannel(LOGIN_CHANNEL)
    ch.onmessage = async (e: MessageEvent<CallbackMessage>) => {
      const p = pending.current
      if (e.data?.type !== 'callback' || !p || e.data.params.state !== p.state) return
      pending.current = null
      ch.postMessage({ type: 'ack', state: p.state } satisfies AckMessage)
      const params = e.data.params
      const shown = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, k === 'code' ? `${v.slice(0, 6)}…` : v]))
      setSteps((s) => [...s, { title: `The browser came back to ${callback}`, body: shown, note: `With ${Object.keys(params).join(', ')}.` }])
      const c: { ok: boolean; text: string }[] = [{ ok: true, text: 'state matches the one sent (CSRF protection, RFC 6749 §10.12)' }]
      if (params.iss !== undefined) c.push({ ok: params.iss === issuer, text: `iss is ${params.iss}${params.iss === issuer ? ', this issuer' : `, not ${issuer}`} (RFC 9207)` })
      setChecks(c)
      if (params.error) {
        setError(new Error(`${params.error}${params.error_description ? `: ${params.error_description}` : ''}`))
        setPhase('done')
        return
      }
      if (!params.code || !tokenEndpoint) {
        setError(new Error('The answer has no code.'))
        setPhase('done')
        return
      }
      setPhase('exchanging')
      const form = { grant_type: 'authorization_code', code: params.code, redirect_uri: p.redirectUri, code_verifier: p.verifier }
      const a = authenticate(client, form)
      try {
        const res = await api.protocolPost(tokenEndpoint, a.form, a.basic)
        setSteps((s) => [...s, {
          title: 'Exchange the code for tokens',
          curl: formCurl(tokenEndpoint, Object.entries(form), auth),
          status: res.status,
          note: 'The code is single-use: running this again answers invalid_grant and revokes the tokens it gave (RFC 6749 §4.1.2).',
        }])
        setAnswer(res)
        const idt = typeof res.body?.id_token === 'string' ? decodeJwt(res.body.id_token) : null
        if (idt?.payload) {
          const aud = idt.payload.aud
          const auds = Array.isArray(aud) ? aud : [aud]
          setChecks((x) => [
            ...x,
            { ok: idt.payload!.nonce === p.nonce, text: `id_token nonce ${idt.payload!.nonce === p.nonce ? 'matches' : 'does not match'} the one sent (OIDC Core §3.1.3.7)` },
            { ok: idt.payload!.iss === issuer, text: `id_token iss is ${String(idt.payload!.iss)}` },
            { ok: auds.includes(client.client_id), text: `id_token aud ${auds.includes(client.client_id) ? 'includes' : 'does not include'} ${client.client_id}` },
          ])
        }
      } catch (err) {
        setError(err)
      }
      setPhase('done')
    }
    return () => ch.close()
  }, [client, issuer, tokenEndpoint, callback, auth])

  const start = async () => {
    setError(null)
    setAnswer(null)
    setChecks([])
    setBlockedUrl(null)
    const authorize = discovery.data?.authorization_endpoint
    if (!authorize) return
    // Open the window first, inside the click (a popup blocker allows that), then point it.
    const win = window.open('about:blank', 'latchkey-login', 'popup,width=540,height=760')
    try {
      const verifier = randomToken(32)
      const p: Pending = { state: randomToken(16), nonce: randomToken(16), verifier, redirectUri: callback }
      const q = new URLSearchParams({
        response_type: 'code',
        client_id: client.client_id,
        redirect_uri: callback,
        scope: scopes.join(' '),
        state: p.state,
        nonce: p.nonce,
        code_challenge: await s256(verifier),
        code_challenge_method: 'S256',
      })
      if (prompt) q.set('prompt', prompt)
      if (hint.trim()) q.set('login_hint', hint.trim())
      let url = `${authorize}?${q.toString()}`
      const first: Step[] = []
      // A client (or server) that requires PAR pushes the request first (RFC 9126) and sends
      // only client_id and the request_uri through the browser.
      const par = discovery.data?.pushed_authorization_request_endpoint
      if (par && (client.require_pushed_authorization_requests || discovery.data?.require_pushed_authorization_requests)) {
        const pushedForm = Object.fromEntries(q.entries())
        const a = authenticate(client, pushedForm)
        const res = await api.protocolPost(par, a.form, a.basic)
        first.push({ title: 'Push the authorization request (RFC 9126)', curl: formCurl(par, Object.entries(pushedForm), auth), status: res.status, body: res.body })
        const uri = res.body?.request_uri
        if (res.status !== 201 || typeof uri !== 'string') {
          win?.close()
          setSteps(first)
          setError(new Error(`The push was refused: ${String(res.body?.error ?? res.status)}${res.body?.error_description ? `: ${String(res.body.error_description)}` : ''}`))
          setPhase('done')
          return
        }
        url = `${authorize}?${new URLSearchParams({ client_id: client.client_id, request_uri: uri }).toString()}`
      }
      pending.current = p
      setSteps([...first, { title: 'Open the authorization request in the browser', url, note: first.length ? 'Only client_id and the single-use request_uri travel through the browser; the code_verifier stays in this page.' : `PKCE S256 (the code_verifier stays in this page), state and nonce are fresh random values.` }])
      setPhase('waiting')
      if (win) win.location.href = url
      else setBlockedUrl(url)
    } catch (e) {
      win?.close()
      setError(e)
    }
  }

  if (!registered) {
    return (
      <div className="stack-sm" data-testid="register-callback">
        <p>
          To run the login here, Latchkey needs the browser to come back to <code>{callback}</code>, which is not a redirect URI of this client yet.
          Register it once (it is added to the client’s redirect URIs; remove it there any time).
        </p>
        <div className="row">
          <button type="button" className="btn primary" onClick={register} disabled={registering}>
            {registering ? 'Registering…' : 'Register the callback on this client'}
          </button>
        </div>
        {error ? <ErrorBox error={error} title="The callback was not registered" /> : null}
      </div>
    )
  }
  return (
    <div className="stack">
      <div className="grid2">
        <Field label="Scopes">
          <div className="chips" role="group" aria-label="Scopes to request">
            {client.scopes.map((s) => {
              const on = scopes.includes(s)
              return (
                <button key={s} type="button" className="chip mono" aria-pressed={on} onClick={() => setScopes(on ? scopes.filter((x) => x !== s) : [...scopes, s])}>{s}</button>
              )
            })}
            {client.scopes.length === 0 && <span className="muted small">The client has no allowed scopes.</span>}
          </div>
        </Field>
        <div className="grid2" style={{ gap: 12 }}>
          <Field label="prompt" htmlFor="try-prompt">
            <select id="try-prompt" className="input" value={prompt} onChange={(e) => setPrompt(e.target.value)}>
              <option value="">(none)</option>
              <option value="login">login: ask again</option>
              <option value="consent">consent</option>
              <option value="none">none: no page at all</option>
              <option value="select_account">select_account</option>
            </select>
          </Field>
          <Field label="login_hint" htmlFor="try-hint">
            <input id="try-hint" className="input mono" list="try-users" value={hint} onChange={(e) => setHint(e.target.value)} placeholder="e.g. alice" />
            <datalist id="try-users">{users.data?.map((u) => <option key={u.username} value={u.username} />)}</datalist>
          </Field>
        </div>
      </div>
      <div className="row">
        <button type="button" className="btn primary" onClick={start} disabled={!discovery.data || phase === 'exchanging'} data-testid="try-login">
          <LogIn size={14} /> {phase === 'waiting' ? 'Try the login again' : 'Try the login'}
        </button>
        {phase === 'waiting' && <span className="muted small" role="status">Waiting for the login in the other window…</span>}
        {phase === 'exchanging' && <span className="muted small" role="status">Exchanging the code…</span>}
      </div>
      {blockedUrl && (
        <p className="small">The browser blocked the popup. <a href={blockedUrl} target="_blank" rel="opener">Open the login in a new tab <ExternalLink size={11} /></a></p>
      )}
      {error ? <ErrorBox error={error} title="The login did not finish" /> : null}
      <Checks items={checks} />
      {answer && <Result answer={answer} />}
      {answer?.body?.refresh_token && tokenEndpoint ? <RefreshStep client={client} tokenEndpoint={tokenEndpoint} refreshToken={String(answer.body.refresh_token)} onStep={(s, a) => { setSteps((x) => [...x, s]); setAnswer(a) }} /> : null}
      <StepList steps={steps} auth={auth} />
    </div>
  )
}

function RefreshStep({ client, tokenEndpoint, refreshToken, onStep }: { client: Client; tokenEndpoint: string; refreshToken: string; onStep: (s: Step, a: ProtocolAnswer) => void }) {
  const [busy, setBusy] = useState(false)
  const refresh = async () => {
    setBusy(true)
    const form = { grant_type: 'refresh_token', refresh_token: refreshToken }
    const a = authenticate(client, form)
    try {
      const res = await api.protocolPost(tokenEndpoint, a.form, a.basic)
      onStep({ title: 'Refresh the tokens', curl: formCurl(tokenEndpoint, Object.entries(form), authOf(client)), status: res.status }, res)
    } finally {
      setBusy(false)
    }
  }
  return (
    <div className="row">
      <button type="button" className="btn" onClick={refresh} disabled={busy} data-testid="try-refresh"><RefreshCw size={13} /> Use the refresh token</button>
    </div>
  )
}

function DirectFlow({ client, grant }: { client: Client; grant: 'client_credentials' | 'password' }) {
  const discovery = useDiscovery()
  const users = useUsers()
  const [scopes, setScopes] = useState<string[]>(() => client.scopes.filter((s) => grant === 'password' || (s !== 'openid' && s !== 'offline_access')))
  const [username, setUsername] = useState('')
  const [password, setPassword] = useState('')
  const [steps, setSteps] = useState<Step[]>([])
  const [answer, setAnswer] = useState<ProtocolAnswer | null>(null)
  const [error, setError] = useState<unknown>(null)
  const [busy, setBusy] = useState(false)
  const auth = authOf(client)
  const tokenEndpoint = discovery.data?.token_endpoint
  const run = async (e: React.FormEvent) => {
    e.preventDefault()
    if (!tokenEndpoint) return
    setBusy(true)
    setError(null)
    const form: Record<string, string> = { grant_type: grant }
    if (grant === 'password') Object.assign(form, { username, password })
    if (scopes.length) form.scope = scopes.join(' ')
    const a = authenticate(client, form)
    try {
      const res = await api.protocolPost(tokenEndpoint, a.form, a.basic)
      const shownForm = Object.entries(form).map(([k, v]): [string, string] => [k, k === 'password' ? '$PASSWORD' : v])
      let curl = formCurl(tokenEndpoint, shownForm, auth)
      if (grant === 'password') curl = curl.replace(`'password=$PASSWORD'`, '"password=${PASSWORD:?set PASSWORD first}"')
      setSteps([{ title: grant === 'password' ? 'Exchange the user’s password for tokens' : 'Ask for a token as the client', curl, status: res.status }])
      setAnswer(res)
    } catch (err) {
      setError(err)
    } finally {
      setBusy(false)
    }
  }
  return (
    <form className="stack" onSubmit={run} aria-label={grant === 'password' ? 'Password grant' : 'Client credentials'}>
      <Field label="Scopes">
        <div className="chips" role="group" aria-label="Scopes to request">
          {client.scopes.map((s) => {
            const on = scopes.includes(s)
            return <button key={s} type="button" className="chip mono" aria-pressed={on} onClick={() => setScopes(on ? scopes.filter((x) => x !== s) : [...scopes, s])}>{s}</button>
          })}
        </div>
      </Field>
      {grant === 'password' && (
        <div className="grid2">
          <Field label="Username" htmlFor="try-username">
            <input id="try-username" className="input mono" list="try-pw-users" value={username} onChange={(e) => setUsername(e.target.value)} autoComplete="off" />
            <datalist id="try-pw-users">{users.data?.map((u) => <option key={u.username} value={u.username} />)}</datalist>
          </Field>
          <Field label="Password" htmlFor="try-password">
            <input id="try-password" className="input" type="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="off" />
          </Field>
        </div>
      )}
      <div className="row">
        <button type="submit" className="btn primary" disabled={busy || !tokenEndpoint || (grant === 'password' && (!username || !password))} data-testid="try-direct">
          <Play size={14} /> {busy ? 'Asking…' : grant === 'password' ? 'Sign in with the password' : 'Get a token'}
        </button>
      </div>
      {error ? <ErrorBox error={error} title="No token" /> : null}
      {answer && <Result answer={answer} />}
      <StepList steps={steps} auth={auth} />
    </form>
  )
}

const FLOW_LABEL: Record<Flow, string> = {
  authorization_code: 'Login (authorization code)',
  client_credentials: 'Client credentials',
  password: 'Password',
}

/** The Try-it panel for a saved client. */
export function TryIt({ client }: { client: Client }) {
  const flows = (['authorization_code', 'client_credentials', 'password'] as Flow[]).filter((f) => client.grant_types.includes(f as GrantType))
  const [flow, setFlow] = useState<Flow | undefined>(flows[0])
  const current = flow && flows.includes(flow) ? flow : flows[0]
  const auth = authOf(client)
  const unsupported = !['client_secret_basic', 'client_secret_post', 'none'].includes(auth.method)
  return (
    <Panel
      title="Try it"
      hint="run this client’s flows as an app would"
      id="try-it"
      right={flows.length > 1 && current ? <Segmented label="Flow" value={current} onChange={setFlow} options={flows.map((f) => ({ value: f, label: FLOW_LABEL[f] }))} /> : undefined}
    >
      {unsupported ? (
        <p className="muted">
          {auth.method === 'client_secret_jwt'
            ? <>This client authenticates with client_secret_jwt: sign an assertion in the <a href="#assertion-example">example assertion</a> panel above and run its curl.</>
            : <>This client authenticates with {auth.method}: it signs a client assertion with its own key, which Latchkey does not hold, so it cannot be tried from here; the <a href="#assertion-example">example assertion</a> above shows how your app does it.</>}
        </p>
      ) : !current ? (
        <p className="muted">Allow the authorization code, client credentials or password grant to try this client here.</p>
      ) : current === 'authorization_code' ? (
        <CodeFlow key={client.client_id} client={client} />
      ) : (
        <DirectFlow key={`${client.client_id}-${current}`} client={client} grant={current} />
      )}
    </Panel>
  )
}

/** The settings an app needs, as env vars, with one copy. */
export function ClientQuickStart({ client }: { client: Client }) {
  const discovery = useDiscovery()
  const d = discovery.data
  if (!d) return null
  const auth = authOf(client)
  const env = [
    `OIDC_ISSUER=${d.issuer}`,
    `OIDC_DISCOVERY_URL=${d.issuer}/.well-known/openid-configuration`,
    `OIDC_CLIENT_ID=${client.client_id}`,
    ...(client.client_secret ? [`OIDC_CLIENT_SECRET=${client.client_secret}`] : []),
    ...(client.redirect_uris.filter((u) => u !== callbackUrl())[0] ? [`OIDC_REDIRECT_URI=${client.redirect_uris.filter((u) => u !== callbackUrl())[0]}`] : []),
    ...(client.scopes.length ? [`OIDC_SCOPE="${client.scopes.join(' ')}"`] : []),
  ].join('\n')
  // JWT client authentication: the Example assertion panel shows the request instead.
  const jwtAuth = auth.method === 'private_key_jwt' || auth.method === 'client_secret_jwt'
  const cc = client.grant_types.includes('client_credentials') && !jwtAuth && d.token_endpoint
  const ccScopes = client.scopes.filter((s) => s !== 'openid' && s !== 'offline_access')
  const curl = cc ? withSecretLine(formCurl(d.token_endpoint!, [['grant_type', 'client_credentials'], ...(ccScopes.length ? [['scope', ccScopes.join(' ')] as [string, string]] : [])], auth), auth, true) : null
  return (
    <Panel title="Quick start" hint="what an app needs to use this client" id="quick-start" right={<CopyButton text={env} label="Copy env" small />}>
      <div className="qs">
        <div className="stack-sm">
          <h3>Environment</h3>
          <Code code={env} language="bash" copy={false} wrap />
          <p className="muted small">
            Token endpoint auth: <code>{auth.method}</code>
            {client.grant_types.includes('authorization_code') && <> · PKCE S256{auth.method === 'none' ? ' (required: public client)' : ''}</>}
          </p>
        </div>
        <div className="stack-sm">
          <h3>{cc ? 'Get a token with curl' : 'Sign in'}</h3>
          {curl ? <Code code={curl} language="bash" wrap /> : jwtAuth ? (
            <p className="muted">This client authenticates with <code>{auth.method}</code>: the <a href="#assertion-example">example assertion</a> below makes the token request.</p>
          ) : (
            <p className="muted">Point your app’s OIDC library at the discovery URL with the values on the left; or use <a href="#try-it">Try it</a> to run the login here.</p>
          )}
        </div>
      </div>
    </Panel>
  )
}
