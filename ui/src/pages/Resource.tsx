// One protected resource: where it is, the curl a developer's own test would use, a try-it
// panel (send a call, or only check) with the verdict rows, and its calls arriving live.

import { useMutation } from '@tanstack/react-query'
import { ChevronDown, ChevronRight, ExternalLink, Pencil, Radio, Send, ShieldQuestion } from 'lucide-react'
import { Fragment, useCallback, useMemo, useRef, useState, type ReactNode } from 'react'
import { Link, useParams } from 'react-router'
import { api, type ResourceCallInput } from '../api/client'
import { useClients, useDiscovery, useResourceCalls, useResourceProfiles, useResources, useStatus } from '../api/queries'
import type { Resource, ResourceCall, ResourcePolicy, ResourceResponse, Verdict } from '../api/types'
import { Code } from '../components/Code'
import {
  CALL_METHODS, callUrl, curlForCall, samplePath, TokenPicker, useChosenToken, type TokenChoice,
} from '../components/ResourceCheck'
import { CallDetail, proxyRowText } from '../components/Proxy'
import { checkLabel, firstFailure, VerdictView } from '../components/Verdict'
import { CopyButton, EmptyState, ErrorBox, Loading, PageHeader, Panel, Ticks } from '../components/ui'
import { useServerNow } from '../lib/clock'
import { formatTime, formatTtl, relative } from '../lib/format'
import { audienceList, DEFAULT_PROFILE, overrides, ruleMethod } from '../lib/resourceForm'

export function statusClass(s: number): string {
  if (s >= 500) return 'revoked'
  if (s >= 400) return 'expired'
  if (s >= 300) return 'info'
  return 'active'
}

export function StatusCode({ status }: { status: number }) {
  return <span className={`badge plain ${statusClass(status)}`} style={{ minWidth: 44 }} data-status={status}>{status}</span>
}

export function ResourcePage() {
  const { name = '' } = useParams()
  const resources = useResources()
  const r = resources.data?.find((x) => x.name === name)
  if (resources.isPending) return <div className="page"><Loading rows={6} /></div>
  if (resources.error) return <div className="page"><ErrorBox error={resources.error} title="Could not load the resources" /></div>
  if (!r) {
    return (
      <div className="page">
        <PageHeader title="Resource not found" crumbs={<Link to="/resources">Resources</Link>} />
        <ErrorBox title="No such resource" error={new Error(`There is no resource "${name}". It may have been deleted.`)} />
      </div>
    )
  }
  return <ResourceView key={r.name} r={r} />
}

/** A client that can get a token this resource accepts with curl (client credentials, the scopes). */
function TokenRecipe({ r }: { r: Resource }) {
  const clients = useClients()
  const discovery = useDiscovery()
  const needed = r.required_scopes
  const c = clients.data?.find((x) => x.grant_types.includes('client_credentials') && needed.every((s) => x.scopes.includes(s)))
    ?? clients.data?.find((x) => x.grant_types.includes('client_credentials'))
  if (!c || !discovery.data?.token_endpoint) return null
  const scope = [...new Set([...needed, ...(r.rules ?? []).flatMap((x) => x.scopes)])].filter((s) => c.scopes.includes(s)).join(' ')
  const auth = c.token_endpoint_auth_method === 'client_secret_post'
    ? `-d client_id=${c.client_id} -d client_secret=${c.client_secret ?? '$CLIENT_SECRET'}`
    : `-u '${c.client_id}:${c.client_secret ?? '$CLIENT_SECRET'}'`
  return (
    <>
      <h3>Get a token from the client <Link to={`/clients/${encodeURIComponent(c.client_id)}`} className="mono">{c.client_id}</Link></h3>
      <Code language="bash" wrap code={`ACCESS_TOKEN=$(curl -s ${discovery.data.token_endpoint} ${auth} \\\n  -d grant_type=client_credentials${scope ? ` -d scope='${scope}'` : ''} | jq -r .access_token)`} />
    </>
  )
}

function ResourceView({ r }: { r: Resource }) {
  const status = useStatus()
  const profiles = useResourceProfiles()
  const issuer = status.data?.issuer
  const identifier = r.identifier ?? `${issuer ?? ''}/resources/${r.name}`
  const aud = audienceList(r)
  // A path the API serves: the first rule that matches GET, else the resource's root.
  const getRule = r.rules?.find((rule) => (ruleMethod(rule) ?? 'GET') === 'GET')
  const examplePath = getRule ? samplePath(getRule.path) : '/'
  const profile = profiles.data?.find((p) => p.name === (r.profile ?? DEFAULT_PROFILE))
  const ov = overrides(r)
  return (
    <div className="page">
      <PageHeader
        crumbs={<><Link to="/resources">Resources</Link><span>/</span></>}
        title={<span className="mono" style={{ fontSize: 'inherit' }}>{r.name}</span>}
        sub={<>A protected API at <span className="mono">{identifier}/…</span>{r.upstream ? <>, {r.mode === 'observe' ? 'observing' : 'guarding'} <span className="mono">{r.upstream}</span></> : null}</>}
        actions={<Link className="btn" to={`/resources/${encodeURIComponent(r.name)}/edit`}><Pencil size={14} /> Edit</Link>}
      />
      <div className="grid2" style={{ alignItems: 'start' }}>
        <div className="stack">
        <Panel title="Where it is">
          <div className="kv">
            <span className="k">Identifier</span><span className="v" data-testid="identifier">{identifier}</span><span className="c"><CopyButton text={identifier} small /></span>
            <span className="k">Metadata</span>
            <span className="v">{r.metadata_url ? <a href={r.metadata_url} target="_blank" rel="noreferrer">{r.metadata_url} <ExternalLink size={11} /></a> : <span className="muted">—</span>}</span>
            <span className="c">{r.metadata_url && <CopyButton text={r.metadata_url} small />}</span>
            {r.upstream && (
              <>
                <span className="k">Upstream</span>
                <span className="v" data-testid="proxy-settings">
                  <span>
                    {r.upstream} <span style={{ fontFamily: 'var(--font)' }}>· mode <span className="mono">{r.mode ?? 'enforce'}</span> ({(r.mode ?? 'enforce') === 'observe' ? 'every call forwarded, refusals explained' : 'refusals answered by Latchkey, accepted calls forwarded'}) · timeout {formatTtl(r.upstream_timeout ?? 60)}{r.upstream_timeout === undefined ? ' (default)' : ''}</span>
                  </span>
                </span>
                <span className="c"><CopyButton text={r.upstream} small /></span>
              </>
            )}
            <span className="k">Accepts aud</span>
            <span className="v"><span className="chips">{[...aud, identifier].map((a) => <span key={a} className="tag">{a}</span>)}</span></span><span className="c" />
            <span className="k">Requires</span>
            <span className="v">
              <span className="stack-sm" style={{ gap: 4 }}>
                <span className="chips">{r.required_scopes.length ? r.required_scopes.map((s) => <span key={s} className="tag accent">{s}</span>) : <span className="muted" style={{ fontFamily: 'var(--font)' }}>no scope on every call</span>}</span>
                {(r.rules ?? []).map((x, i) => (
                  <span key={i} className="small" style={{ fontFamily: 'var(--font)' }}>
                    <span className="mono">{ruleMethod(x) ?? 'any'} {x.path}</span> also needs {x.scopes.length ? x.scopes.map((s) => <span key={s} className="tag accent" style={{ marginLeft: 4 }}>{s}</span>) : 'nothing more'}
                  </span>
                ))}
              </span>
            </span><span className="c" />
            <span className="k">Validation</span>
            <span className="v" style={{ fontFamily: 'var(--font)' }}>
              <span>
                {r.validation === 'introspection' ? 'introspection (RFC 7662)' : 'JWT, against the cached JWKS'} · profile <span className="mono">{r.profile ?? DEFAULT_PROFILE}</span>
                {ov.length > 0 && <span className="muted"> · overrides {ov.join(', ')}</span>}
              </span>
            </span><span className="c" />
          </div>
          {profile && <p className="muted small" style={{ marginTop: 10 }}>{profile.description}</p>}
        </Panel>
        {r.effective && <Effective r={r} policy={r.effective} profile={profile?.name ?? r.profile ?? DEFAULT_PROFILE} />}
        </div>
        <Panel title="From your own API tests" hint="what a client of this API sends">
          <div className="stack-sm">
            <TokenRecipe r={r} />
            <h3>Call the API with it</h3>
            <Code language="bash" wrap code={curlForCall(callUrl(r, examplePath, issuer), 'GET', '$ACCESS_TOKEN')} />
            <p className="muted small">
              A refusal answers 401 or 403 with <code>WWW-Authenticate</code> and the verdict as JSON; an accepted call carries a <code>Latchkey-Verdict</code> header.
            </p>
          </div>
        </Panel>
      </div>
      <TryIt r={r} issuer={issuer} defaultPath={examplePath} />
      <Calls r={r} />
    </div>
  )
}

const IAT: Record<ResourcePolicy['iat'], string> = {
  ignore: 'not looked at',
  numeric: 'must be a number when present',
  not_in_future: 'not in the future, when present',
  required: 'required, not in the future',
}

/** What the simulated API checks, resolved; the values the resource sets itself are marked. */
function Effective({ r, policy: p, profile }: { r: Resource; policy: ResourcePolicy; profile: string }) {
  const own = new Set(overrides(r))
  const mark = (k: string) => (own.has(k) ? <span className="tag accent" style={{ marginLeft: 6 }} title="Set on this resource, overriding the profile">override</span> : null)
  const rows: [string, string, ReactNode][] = [
    ['accepted_typ', 'typ', <>{p.accepted_typ.length ? p.accepted_typ.join(', ') : 'any'}{p.typ_required ? ' (required)' : ' (when present)'}</>],
    ['algorithms', 'alg', p.algorithms.join(', ')],
    ['jwks_cache', 'JWKS', <>cached {formatTtl(p.jwks_cache)}; {p.jwks_refetch_on_unknown_kid ? `refetched on an unknown kid (at most every ${formatTtl(p.jwks_refetch_cooldown)})` : 'not refetched on an unknown kid'}{own.has('jwks_refetch_on_unknown_kid') && !own.has('jwks_cache') ? mark('jwks_refetch_on_unknown_kid') : null}</>],
    ['expected_issuer', 'iss', <>{r.expected_issuer ?? 'the issuer'}, exactly{p.iss_required ? '; required' : ''}</>],
    ['aud', 'aud', p.aud_required ? 'required; the identifier or an audience' : 'checked when present'],
    ['leeway', 'exp, nbf, iat', <>exp {p.exp_required ? 'required' : 'when present'}; nbf {p.check_nbf ? 'checked' : 'ignored'}; iat {IAT[p.iat]}; leeway {formatTtl(p.leeway)}{r.clock_offset ? `; the API's clock is ${r.clock_offset > 0 ? 'ahead' : 'behind'} by ${formatTtl(Math.abs(r.clock_offset))}` : ''}{own.has('clock_offset') ? mark('clock_offset') : null}</>],
    ['scope', 'scopes', <>read from {p.scope_claims.join(', then ')}</>],
    ['kind', 'kind', p.reject_other_kinds ? 'id_tokens and refresh tokens refused' : 'not told apart'],
    ['bearer_methods', 'token in', p.bearer_methods.map((m) => (m === 'header' ? 'Authorization header' : m === 'body' ? 'form body' : 'query')).join(', ')],
  ]
  return (
    <Panel title="What it checks" hint={<>profile <span className="mono">{profile}</span>{own.size ? `, ${own.size} override${own.size === 1 ? '' : 's'}` : ''}</>} right={<Link className="btn sm ghost" to={`/resources/${encodeURIComponent(r.name)}/edit`}>Change</Link>}>
      <div className="kv two policy" data-testid="effective">
        {rows.map(([k, label, v]) => (
          <Fragment key={k}>
            <span className="k mono">{label}</span>
            <span className="v" style={{ fontFamily: 'var(--font)' }}><span>{v}{mark(k)}</span></span>
          </Fragment>
        ))}
      </div>
    </Panel>
  )
}

function TryIt({ r, issuer, defaultPath }: { r: Resource; issuer?: string; defaultPath: string }) {
  const [choice, setChoice] = useState<TokenChoice>({ mode: 'recent', id: '' })
  const onChoice = useCallback((c: TokenChoice) => setChoice(c), [])
  const [method, setMethod] = useState('GET')
  const [path, setPath] = useState(defaultPath)
  const [body, setBody] = useState('')
  const chosen = useChosenToken(choice)
  const [result, setResult] = useState<{ kind: 'call'; res: ResourceResponse; input: ResourceCallInput } | { kind: 'check'; verdict: Verdict; input: ResourceCallInput } | null>(null)
  const send = useMutation({
    mutationFn: async (input: ResourceCallInput) => ({ kind: 'call' as const, res: await api.callResource(r.name, input), input }),
    onSuccess: setResult,
  })
  const check = useMutation({
    mutationFn: async (input: ResourceCallInput) => ({ kind: 'check' as const, verdict: await api.checkResource(r.name, { token: input.token, method: input.method, path: input.path }), input }),
    onSuccess: setResult,
  })
  const input: ResourceCallInput = { method, path: path.trim() || '/', token: chosen.token, body: body.trim() || undefined }
  const withBody = method !== 'GET'
  const busy = send.isPending || check.isPending
  const error = send.error ?? check.error ?? chosen.error
  const res = result?.kind === 'call' ? result.res : null
  const verdict = result?.kind === 'call' ? result.res.verdict : result?.verdict
  const parsedBody = useMemo(() => {
    if (!res) return null
    try {
      return JSON.stringify(JSON.parse(res.body), null, 2)
    } catch {
      return null
    }
  }, [res])
  const shownInput = result?.input ?? input
  return (
    <Panel title="Try it" hint="send a call as your app would, or only check the token" id="try-it">
      <div className="stack">
        <form
          className="stack"
          onSubmit={(e) => {
            e.preventDefault()
            send.mutate(input)
          }}
          aria-label="Try it"
        >
          <TokenPicker value={choice} onChange={onChoice} />
          <div className="tryit-grid">
            <div className="field">
              <label htmlFor="try-method">Method</label>
              <select id="try-method" className="input mono" value={method} onChange={(e) => setMethod(e.target.value)}>
                {CALL_METHODS.map((m) => <option key={m}>{m}</option>)}
              </select>
            </div>
            <div className="field">
              <label htmlFor="try-path">Path</label>
              <div className="input-group" style={{ gap: 0 }}>
                <span className="mono muted small ellipsis" style={{ padding: '0 8px', maxWidth: '45%' }} title={`${r.identifier ?? ''}`}>/resources/{r.name}</span>
                <input id="try-path" className="input mono" value={path} onChange={(e) => setPath(e.target.value)} placeholder="/books" />
              </div>
            </div>
            <div className="row" style={{ flexWrap: 'nowrap' }}>
              <button type="button" className="btn" disabled={busy || chosen.loading || !chosen.token} onClick={() => check.mutate(input)} title="The verdict without calling the API: nothing is recorded">
                <ShieldQuestion size={14} /> Check only
              </button>
              <button type="submit" className="btn primary" disabled={busy || chosen.loading}>
                <Send size={14} /> {send.isPending ? 'Sending…' : 'Send'}
              </button>
            </div>
          </div>
          {(r.rules?.length ?? 0) > 0 && (
            <div className="row small muted">
              Try a rule:
              {r.rules!.map((x, i) => (
                <button key={i} type="button" className="chip mono" onClick={() => { setMethod(ruleMethod(x) ?? 'GET'); setPath(samplePath(x.path)) }} title={`Needs ${x.scopes.join(' ') || 'no extra scope'}`}>
                  {ruleMethod(x) ?? 'any'} {x.path}
                </button>
              ))}
            </div>
          )}
          {withBody && (
            <div className="field">
              <label htmlFor="try-body">Body <span className="muted small" style={{ fontWeight: 400 }}>optional, JSON</span></label>
              <textarea id="try-body" className="input" rows={3} spellCheck={false} value={body} onChange={(e) => setBody(e.target.value)} placeholder={'{ "title": "Through the Looking-Glass" }'} />
            </div>
          )}
        </form>
        {error ? <ErrorBox error={error} title="The call did not go through" /> : null}
        {result && (
          <div className="stack" data-testid="try-result" style={{ gap: 14 }}>
            {res && (
              <div className="status-line" data-testid="response-status">
                <StatusCode status={res.status} />
                <span className="mono">{res.statusText}</span>
                <span className="muted small">{res.durationMs.toFixed(0)} ms · {shownInput.method} {shownInput.path}</span>
              </div>
            )}
            {verdict ? <VerdictView verdict={verdict} /> : res && <p className="muted">The answer carries no verdict (an upstream answered, or the server does not attach one).</p>}
            <div className="resp-grid">
              {res && (
                <div className="stack-sm">
                  <h3>Response body</h3>
                  {res.body ? <Code code={parsedBody ?? res.body} language={parsedBody ? 'json' : 'text'} wrap maxHeight={240} /> : <p className="muted small">Empty body.</p>}
                  <details>
                    <summary className="muted small" style={{ cursor: 'pointer' }}>Response headers ({res.headers.length})</summary>
                    <Code code={res.headers.map(([k, v]) => `${k}: ${v}`).join('\n')} language="text" wrap />
                  </details>
                </div>
              )}
              <div className="stack-sm" style={res ? undefined : { gridColumn: '1 / -1' }}>
                <h3>The same call with curl</h3>
                <Code code={curlForCall(callUrl(r, shownInput.path, issuer), shownInput.method, shownInput.token || '', shownInput.body)} language="bash" wrap />
                {result.kind === 'check' && <p className="muted small">Checked without calling: this was not recorded among the calls.</p>}
              </div>
            </div>
          </div>
        )}
      </div>
    </Panel>
  )
}

function Calls({ r }: { r: Resource }) {
  const calls = useResourceCalls(r.name)
  const now = useServerNow()
  const [open, setOpen] = useState<Set<ResourceCall['id']>>(new Set())
  const initial = useRef<Set<ResourceCall['id']> | null>(null)
  if (calls.data && !initial.current) initial.current = new Set(calls.data.map((c) => c.id))
  const toggle = (id: ResourceCall['id']) => {
    const n = new Set(open)
    if (n.has(id)) n.delete(id)
    else n.add(id)
    setOpen(n)
  }
  const rows = calls.data ?? []
  return (
    <Panel
      title="Recent calls"
      hint="live: calls from your apps, curl and Try it appear as they happen"
      right={<span className="live small muted"><Radio size={13} /> {rows.length} call{rows.length === 1 ? '' : 's'}</span>}
      flush
    >
      {calls.error ? <div style={{ padding: 16 }}><ErrorBox error={calls.error} title="Could not load the calls" /></div> : calls.isPending ? <Loading rows={3} /> : rows.length === 0 ? (
        <EmptyState icon={<Radio size={22} />} title="No calls yet">
          <p>Send one with Try it above, or with the curl command: each call shows up here with its verdict, without a reload.</p>
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="table calls" data-testid="calls-table">
            {/* Fixed widths: a long verdict line is cut with an ellipsis instead of widening the table. */}
            <colgroup>
              <col style={{ width: 40 }} />
              <col style={{ width: 96 }} />
              <col style={{ width: '20%' }} />
              <col style={{ width: 72 }} />
              <col style={{ width: '13%' }} />
              <col style={{ width: '13%' }} />
              <col />
            </colgroup>
            <thead><tr><th style={{ width: 28 }}><span className="sr-only">Expand</span></th><th>Time</th><th>Request</th><th>Status</th><th>Client</th><th>Subject</th><th>Verdict</th></tr></thead>
            <tbody>
              {rows.map((c) => {
                const isOpen = open.has(c.id)
                const f = firstFailure(c.verdict)
                const fresh = initial.current && !initial.current.has(c.id)
                return (
                  <Fragment key={c.id}>
                    <tr className={`clickable ${isOpen ? 'expanded' : ''} ${fresh ? 'fresh' : ''}`} onClick={() => toggle(c.id)} aria-expanded={isOpen} data-call-id={c.id}>
                      <td>
                        <button type="button" className="btn icon ghost sm" aria-label={isOpen ? 'Collapse' : 'Expand'} onClick={(e) => { e.stopPropagation(); toggle(c.id) }}>
                          {isOpen ? <ChevronDown size={14} /> : <ChevronRight size={14} />}
                        </button>
                      </td>
                      <td className="nowrap num muted" title={relative(c.at / 1000, now)}>{formatTime(c.at / 1000)}</td>
                      <td className="mono ellipsis" title={`${c.method} ${c.path}`}><strong>{c.method}</strong> {c.path}</td>
                      <td><StatusCode status={c.status} /></td>
                      <td className="mono ellipsis" title={c.client_id ?? undefined}>{c.client_id ?? <span className="faint">—</span>}</td>
                      <td className="mono ellipsis" title={c.sub ?? undefined}>{c.sub ?? <span className="faint">—</span>}</td>
                      <td className="first ellipsis" title={c.proxy ? proxyRowText(c.proxy, c.verdict, c.status) : f?.explanation} data-testid="call-outcome">
                        {c.proxy ? <Ticks text={proxyRowText(c.proxy, c.verdict, c.status)} /> : c.verdict.allowed ? <span className="muted">all checks passed</span> : f ? <><strong>{checkLabel(f.check)}</strong>: <Ticks text={f.explanation ?? 'failed'} /></> : <span className="muted">refused</span>}
                      </td>
                    </tr>
                    {isOpen && (
                      <tr><td colSpan={7} className="detail"><div style={{ padding: 16 }}><CallDetail verdict={c.verdict} proxy={c.proxy} status={c.status} /></div></td></tr>
                    )}
                  </Fragment>
                )
              })}
            </tbody>
          </table>
        </div>
      )}
    </Panel>
  )
}
