// Checking a token against a protected resource: the token picker (a recent access token
// from the token store, or a pasted one), the curl line, and the inline check used by the
// token view and the Inspect page.

import { useMutation, useQuery } from '@tanstack/react-query'
import { ShieldQuestion } from 'lucide-react'
import { useEffect, useId, useMemo, useState } from 'react'
import { Link } from 'react-router'
import { api } from '../api/client'
import { keys, useResources, useTokens } from '../api/queries'
import type { Resource, TokenItem } from '../api/types'
import { useServerNow } from '../lib/clock'
import { formatDuration } from '../lib/format'
import { ruleMethod } from '../lib/resourceForm'
import { liveState } from '../lib/tokenState'
import { ErrorBox, Panel, Segmented } from './ui'
import { VerdictView } from './Verdict'

export const CALL_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const

/** Shell-quotes a value for a POSIX shell: `'it'\''s'`. */
export const shq = (s: string): string => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`)

/** The curl line for one call to a resource; `token` may be a placeholder such as `$ACCESS_TOKEN`. */
export function curlForCall(url: string, method: string, token: string, body?: string): string {
  const lines = [`curl -i${method === 'GET' ? '' : ` -X ${method}`} ${shq(url)}`]
  if (token) {
    const t = token.startsWith('$') ? `"Authorization: Bearer ${token}"` : shq(`Authorization: Bearer ${token}`)
    lines.push(`  -H ${t}`)
  }
  if (body && method !== 'GET' && method !== 'HEAD') lines.push(`  -H 'Content-Type: application/json'`, `  --data ${shq(body)}`)
  return lines.join(' \\\n')
}

/** A path to try for a rule pattern: `/books/*` → `/books/1`. */
export const samplePath = (pattern: string): string => pattern.replace(/\*\*?/g, '1') || '/'

/** `books` resource + `/books/1` → the absolute URL a developer's test calls. */
export function callUrl(r: Pick<Resource, 'name' | 'identifier'>, path: string, issuer: string | undefined): string {
  const base = r.identifier ?? `${issuer ?? ''}/resources/${r.name}`
  const p = path.trim()
  return `${base}${p === '' || p.startsWith('/') ? p : `/${p}`}`
}

function tokenLabel(t: TokenItem, now: number): string {
  const left = t.expires_at - now
  const who = t.username ? `${t.username} via ${t.client_id}` : t.client_id
  const life = liveState(t, now) === 'active' ? `${formatDuration(left)} left` : liveState(t, now)
  return `${who} · ${t.scope || 'no scope'} · ${life}`
}

export type TokenChoice = { mode: 'recent'; id: string } | { mode: 'paste'; text: string }

/**
 * Resolves a choice to the token string: a recent token's value comes from the token store
 * (`GET /admin/api/tokens/{id}`), a pasted one is used as is.
 */
export function useChosenToken(choice: TokenChoice): { token: string; loading: boolean; error: unknown } {
  const id = choice.mode === 'recent' ? choice.id : ''
  const q = useQuery({ queryKey: keys.token(id), queryFn: () => api.token(id), enabled: !!id })
  if (choice.mode === 'paste') return { token: choice.text.trim(), loading: false, error: null }
  return { token: q.data?.token ?? '', loading: !!id && q.isPending, error: q.error }
}

/**
 * Pick one of the recent access tokens, or paste any token. Recent id_tokens are offered too,
 * apart: sending one to an API is a classic mistake, and the verdict's `kind` row says so.
 */
export function TokenPicker({ value, onChange }: { value: TokenChoice; onChange: (c: TokenChoice) => void }) {
  const tokens = useTokens({ kind: 'access_token' })
  const idTokens = useTokens({ kind: 'id_token' })
  const now = useServerNow()
  const id = useId()
  const recent = useMemo(() => (tokens.data?.items ?? []).slice(0, 50), [tokens.data])
  const recentId = useMemo(() => (idTokens.data?.items ?? []).slice(0, 10), [idTokens.data])
  // Start on the newest active token when there is one and nothing was chosen.
  useEffect(() => {
    if (value.mode === 'recent' && !value.id && recent.length) {
      const first = recent.find((t) => liveState(t, now) === 'active') ?? recent[0]
      onChange({ mode: 'recent', id: first.id })
    }
  }, [value, recent, now, onChange])
  return (
    <div className="stack-sm">
      <div className="row" style={{ justifyContent: 'space-between' }}>
        <label className="label" htmlFor={`${id}-tok`} style={{ fontWeight: 550 }}>Token</label>
        <Segmented
          label="Token source"
          value={value.mode}
          onChange={(m) => onChange(m === 'recent' ? { mode: 'recent', id: recent[0]?.id ?? '' } : { mode: 'paste', text: '' })}
          options={[{ value: 'recent', label: 'Recent token' }, { value: 'paste', label: 'Paste' }]}
        />
      </div>
      {value.mode === 'recent' ? (
        recent.length === 0 ? (
          <p className="muted small" style={{ minHeight: 32, display: 'flex', alignItems: 'center' }}>
            {tokens.isPending ? 'Loading tokens…' : <span>No access token issued yet. Get one with a client (the token command under “From your own API tests”, or the <Link to="/">Overview</Link>): it shows up here at once. Or paste one.</span>}
          </p>
        ) : (
          <select id={`${id}-tok`} className="input" value={value.id} onChange={(e) => onChange({ mode: 'recent', id: e.target.value })} aria-label="Recent access token">
            <optgroup label="Access tokens">
              {recent.map((t) => <option key={t.id} value={t.id}>{tokenLabel(t, now)}</option>)}
            </optgroup>
            {recentId.length > 0 && (
              <optgroup label="ID tokens (not meant for APIs: see what one says)">
                {recentId.map((t) => <option key={t.id} value={t.id}>id_token · {tokenLabel(t, now)}</option>)}
              </optgroup>
            )}
          </select>
        )
      ) : (
        <textarea
          id={`${id}-tok`}
          className="input"
          rows={3}
          spellCheck={false}
          placeholder="eyJhbGciOiJSUzI1NiIsInR5cCI6ImF0K2p3dCIs…  (empty: call without a token)"
          aria-label="Pasted token"
          value={value.text}
          onChange={(e) => onChange({ mode: 'paste', text: e.target.value })}
        />
      )}
    </div>
  )
}

/**
 * "Check against a resource": the verdict of one resource on `token`, without calling it
 * (nothing is recorded).
 */
export function CheckAgainstResource({ token, id = 'check-resource' }: { token: string; id?: string }) {
  const resources = useResources()
  const [name, setName] = useState('')
  const [method, setMethod] = useState('GET')
  const [path, setPath] = useState('/')
  const check = useMutation({ mutationFn: (r: { name: string; method: string; path: string }) => api.checkResource(r.name, { token, method: r.method, path: r.path }) })
  const list = resources.data ?? []
  const chosen = name || list[0]?.name || ''
  const resource = list.find((r) => r.name === chosen)
  // A new token or resource: the previous verdict no longer applies.
  const { reset } = check
  useEffect(() => reset(), [token, chosen, reset])
  return (
    <Panel title="Check against a resource" hint="would this API accept the token? nothing is recorded" id={id}>
      {resources.isPending ? <p className="muted">Loading resources…</p> : list.length === 0 ? (
        <div className="row muted">
          <ShieldQuestion size={16} />
          <span>No protected resource yet. <Link to="/resources/new?example=books">Add one</Link> (for example <code>books</code> requiring <code>read_books</code>) to see whether it would accept this token, and why not.</span>
        </div>
      ) : (
        <div className="stack-sm" style={{ gap: 12 }}>
          <form
            className="tryit-grid"
            style={{ gridTemplateColumns: 'minmax(140px, 1fr) 104px minmax(0, 1.4fr) auto' }}
            onSubmit={(e) => {
              e.preventDefault()
              if (chosen) check.mutate({ name: chosen, method, path: path.trim() || '/' })
            }}
            aria-label="Check against a resource"
          >
            <div className="field">
              <label htmlFor={`${id}-resource`}>Resource</label>
              <select id={`${id}-resource`} className="input mono" value={chosen} onChange={(e) => setName(e.target.value)}>
                {list.map((r) => <option key={r.name} value={r.name}>{r.name}</option>)}
              </select>
            </div>
            <div className="field">
              <label htmlFor={`${id}-method`}>Method</label>
              <select id={`${id}-method`} className="input mono" value={method} onChange={(e) => setMethod(e.target.value)}>
                {CALL_METHODS.map((m) => <option key={m}>{m}</option>)}
              </select>
            </div>
            <div className="field">
              <label htmlFor={`${id}-path`}>Path</label>
              <input id={`${id}-path`} className="input mono" value={path} onChange={(e) => setPath(e.target.value)} placeholder="/books" />
            </div>
            <button type="submit" className="btn primary" disabled={!chosen || check.isPending || !token}>
              {check.isPending ? 'Checking…' : 'Check'}
            </button>
          </form>
          {resource?.rules && resource.rules.length > 0 && (
            <div className="row small muted">
              Rules:
              {resource.rules.map((r, i) => (
                <button key={i} type="button" className="chip mono" onClick={() => { setMethod(ruleMethod(r) ?? 'GET'); setPath(samplePath(r.path)) }} title={`Needs ${r.scopes.join(' ') || 'no extra scope'}`}>
                  {ruleMethod(r) ?? 'any'} {r.path}
                </button>
              ))}
            </div>
          )}
          {check.error && <ErrorBox error={check.error} title="Could not check the token" />}
          {check.data && (
            <div data-testid="check-verdict" className="stack-sm" style={{ gap: 8 }}>
              <VerdictView verdict={check.data} />
              <p className="muted small">
                <Link to={`/resources/${encodeURIComponent(chosen)}`}>Open {chosen}</Link> to call it for real and watch its calls.
              </p>
            </div>
          )}
        </div>
      )}
    </Panel>
  )
}
