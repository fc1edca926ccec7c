import { useMutation } from '@tanstack/react-query'
import { AlertTriangle, KeyRound, ScanSearch, ShieldAlert, ShieldCheck } from 'lucide-react'
import { useMemo, useState } from 'react'
import { Link } from 'react-router'
import type { JSONWebKeySet } from 'jose'
import { api } from '../api/client'
import { useStatus } from '../api/queries'
import { CheckAgainstResource } from '../components/ResourceCheck'
import { TokenView } from '../components/TokenView'
import { ErrorBox, Field, PageHeader, Panel, Segmented } from '../components/ui'
import { useClockOffset, useServerNow } from '../lib/clock'
import { decodeJwt } from '../lib/jwt'
import { stripBearer, timeVerdict, verifySignature, type KeySource, type VerifyResult } from '../lib/verify'

interface Finding {
  level: 'bad' | 'warn' | 'ok'
  title: string
  text: string
  testid: string
}

/** What a reader should know about a token at a glance: unsigned, foreign, expired, … */
function findings(token: string, issuer: string | undefined, now: number, offset: number): Finding[] {
  const d = decodeJwt(token)
  if (!d) return []
  const out: Finding[] = []
  const alg = typeof d.header?.alg === 'string' ? d.header.alg : undefined
  if (alg && alg.toLowerCase() === 'none') {
    out.push({ level: 'bad', testid: 'finding-unsigned', title: 'Unsigned token (alg: none)', text: 'It carries no signature, so anyone can write one like it. No verifier should accept it (RFC 8725 §3.1).' })
  } else if (alg?.startsWith('HS')) {
    out.push({ level: 'warn', testid: 'finding-hmac', title: `Signed with a shared secret (${alg})`, text: 'No JWKS publishes the key: verify it below by pasting the secret.' })
  }
  const iss = typeof d.payload?.iss === 'string' ? d.payload.iss : undefined
  if (iss && issuer && iss !== issuer) {
    out.push({ level: 'warn', testid: 'finding-issuer', title: 'From another issuer', text: `Its iss is ${iss}; this server is ${issuer}. Only that issuer’s keys can verify it: paste them below.` })
  }
  const t = timeVerdict(d.payload, now, offset)
  if (t && t.state !== 'valid') out.push({ level: t.state === 'no-exp' ? 'warn' : 'bad', testid: `finding-${t.state}`, title: t.state === 'expired' ? 'Expired' : t.state === 'not-yet-valid' ? 'Not yet valid' : 'Never expires', text: t.message })
  else if (t) out.push({ level: 'ok', testid: 'finding-valid', title: 'Within its validity', text: t.message })
  return out
}

function FindingRow({ f }: { f: Finding }) {
  return (
    <div className={`verdict ${f.level === 'ok' ? 'ok' : f.level === 'warn' ? 'warn' : 'bad'}`} data-testid={f.testid}>
      {f.level === 'ok' ? <ShieldCheck size={18} /> : f.level === 'warn' ? <AlertTriangle size={18} /> : <ShieldAlert size={18} />}
      <div><div className="t">{f.title}</div><div className="m">{f.text}</div></div>
    </div>
  )
}

const SOURCES: { value: KeySource; label: string }[] = [
  { value: 'secret', label: 'Secret' },
  { value: 'pem', label: 'PEM' },
  { value: 'jwk', label: 'JWK / JWKS' },
  { value: 'jwks-url', label: 'JWKS URL' },
]

function VerifyWithKey({ token }: { token: string }) {
  const alg = decodeJwt(token)?.header?.alg
  const [source, setSource] = useState<KeySource>(typeof alg === 'string' && alg.startsWith('HS') ? 'secret' : 'jwks-url')
  const [input, setInput] = useState('')
  const [b64, setB64] = useState(false)
  const [result, setResult] = useState<VerifyResult | null>(null)
  const [busy, setBusy] = useState(false)
  const [fetchError, setFetchError] = useState<unknown>(null)
  const run = async (e: React.FormEvent) => {
    e.preventDefault()
    setBusy(true)
    setResult(null)
    setFetchError(null)
    try {
      let jwks: JSONWebKeySet | undefined
      if (source === 'jwks-url') {
        try {
          jwks = (await api.fetchJwks(input.trim())).jwks as JSONWebKeySet
        } catch (err) {
          setFetchError(err)
          return
        }
      }
      setResult(await verifySignature(token, source, source === 'secret' ? input : input.trim(), { secretIsBase64url: b64, jwks }))
    } finally {
      setBusy(false)
    }
  }
  const placeholder = {
    secret: 'e.g. my-shared-secret',
    pem: '-----BEGIN PUBLIC KEY-----\n…\n-----END PUBLIC KEY-----',
    jwk: '{"kty": "RSA", "kid": "…", "n": "…", "e": "AQAB"}  or  {"keys": […]}',
    'jwks-url': 'e.g. http://127.0.0.1:4000/.well-known/jwks.json',
  }[source]
  return (
    <Panel title="Verify with a key" hint="checked in this browser with jose" right={<Segmented label="Key type" value={source} onChange={(v) => { setSource(v); setResult(null); setFetchError(null) }} options={SOURCES} />}>
      <form className="stack-sm" onSubmit={run} aria-label="Verify with a key">
        <Field
          label={{ secret: 'Shared secret (HS256/384/512)', pem: 'Public key or certificate (PEM)', jwk: 'JWK or JWK Set (JSON)', 'jwks-url': 'JWKS URL on this machine' }[source]}
          htmlFor="verify-key"
          help={source === 'jwks-url' ? 'Latchkey fetches it for the browser (the page may only talk to its own server), and only from 127.0.0.1, [::1] or localhost.' : 'Nothing leaves this browser.'}
        >
          {source === 'secret' || source === 'jwks-url' ? (
            <input id="verify-key" className="input mono" value={input} onChange={(e) => setInput(e.target.value)} placeholder={placeholder} autoComplete="off" spellCheck={false} />
          ) : (
            <textarea id="verify-key" className="input" rows={5} value={input} onChange={(e) => setInput(e.target.value)} placeholder={placeholder} spellCheck={false} />
          )}
        </Field>
        <div className="row">
          <button type="submit" className="btn primary" disabled={busy || !input.trim()}><KeyRound size={14} /> {busy ? 'Verifying…' : 'Verify signature'}</button>
          {source === 'secret' && (
            <label className="check small"><input type="checkbox" checked={b64} onChange={(e) => setB64(e.target.checked)} /> The secret is base64url-encoded</label>
          )}
        </div>
        {fetchError ? <ErrorBox error={fetchError} title="The JWKS could not be fetched" /> : null}
        {result && (
          <div className={`verdict ${result.ok ? 'ok' : 'bad'}`} data-testid="verify-result" data-ok={result.ok} role="status">
            {result.ok ? <ShieldCheck size={18} /> : <ShieldAlert size={18} />}
            <div><div className="t">{result.ok ? 'Signature verified' : 'Not verified'}</div><div className="m">{result.message}</div></div>
          </div>
        )}
      </form>
    </Panel>
  )
}

export function InspectPage() {
  const [text, setText] = useState('')
  const inspect = useMutation({ mutationFn: (t: string) => api.inspectToken(t) })
  const status = useStatus()
  const now = useServerNow()
  const offset = useClockOffset()
  const token = stripBearer(text)
  const submit = (e?: React.FormEvent) => {
    e?.preventDefault()
    if (token) inspect.mutate(token)
  }
  const d = inspect.data
  const shown = inspect.variables
  const found = useMemo(() => (shown ? findings(shown, status.data?.issuer, Math.floor(now), offset) : []), [shown, status.data?.issuer, now, offset])
  const isJwt = !!(shown && decodeJwt(shown))
  return (
    <div className="page">
      <PageHeader
        title="Inspect a token"
        sub="Paste any JWT or opaque token (a leading “Bearer ” is fine): decoded, checked against this server’s keys and clock, introspected, and verifiable with any key you paste."
      />
      <Panel>
        <form onSubmit={submit} className="stack-sm">
          <label htmlFor="inspect-token" className="sr-only">Token</label>
          <textarea
            id="inspect-token"
            className="input"
            rows={4}
            spellCheck={false}
            placeholder="Paste a token, e.g. Bearer eyJhbGciOiJSUzI1NiIs…"
            value={text}
            onChange={(e) => setText(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && (e.metaKey || e.ctrlKey)) submit()
            }}
          />
          <div className="row">
            <button type="submit" className="btn primary" disabled={!token || inspect.isPending}>
              <ScanSearch size={14} /> {inspect.isPending ? 'Inspecting…' : 'Inspect'}
            </button>
            <span className="muted small">Ctrl+Enter · the token is sent only to this Latchkey server.</span>
            {d?.record && <Link className="btn sm ghost" to={`/tokens/${encodeURIComponent(d.record.id)}`} style={{ marginLeft: 'auto' }}>Open in Tokens</Link>}
          </div>
        </form>
      </Panel>
      {found.length > 0 && (
        <section className="stack-sm" aria-label="At a glance" data-testid="findings">
          {found.map((f) => <FindingRow key={f.testid} f={f} />)}
        </section>
      )}
      {shown && isJwt && <VerifyWithKey key={shown} token={shown} />}
      {inspect.error && <ErrorBox error={inspect.error} title="This is not a token Latchkey can read" />}
      {/* A resource still has a verdict on what Latchkey cannot decode (the format check). */}
      {inspect.error && inspect.variables && <CheckAgainstResource token={inspect.variables} />}
      {d && <TokenView detail={d} refreshing={inspect.isPending} onRefresh={() => inspect.mutate(d.token)} />}
    </div>
  )
}
