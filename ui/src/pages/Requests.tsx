import { Activity, ChevronDown, ChevronRight, Zap } from 'lucide-react'
import { Link, useNavigate, useSearchParams } from 'react-router'
import { ruleLike } from '../lib/faults'
import { Fragment, useMemo, useState, useSyncExternalStore } from 'react'
import { useClients, useRequests } from '../api/queries'
import type { Client, LoggedRequest } from '../api/types'
import { shq } from '../lib/curl'
import { Code, Json } from '../components/Code'
import { CopyButton, EmptyState, ErrorBox, Loading, PageHeader, Panel, Ticks } from '../components/ui'
import { CallDetail, proxyRowText } from '../components/Proxy'
import { verdictLine } from '../components/Verdict'
import { AssertionView } from '../components/AssertionReport'
import { DpopView } from '../components/DpopReport'
import { formatTime } from '../lib/format'

function statusClass(s: number) {
  if (s >= 500) return 'revoked'
  if (s >= 400) return 'expired'
  if (s >= 300) return 'info'
  return 'active'
}

function ParamTable({ rows, empty }: { rows: { name: string; value: string; source?: string }[]; empty: string }) {
  if (rows.length === 0) return <p className="muted small">{empty}</p>
  return (
    <table className="table claims">
      <tbody>
        {rows.map((p, i) => (
          <tr key={`${p.name}-${i}`}>
            <td className="name">{p.name}</td>
            <td className="value">{p.value}</td>
            {p.source !== undefined && <td className="desc" style={{ width: 1 }}>{p.source}</td>}
          </tr>
        ))}
      </tbody>
    </table>
  )
}

/** The fault mark of a changed response, and "make the next request like this one fail". */
function FaultLine({ r }: { r: LoggedRequest }) {
  const navigate = useNavigate()
  const like = ruleLike(r)
  return (
    <div className="row" style={{ gap: 10, alignItems: 'center' }}>
      {r.fault && (
        <span className="fault-mark" data-testid="request-fault"><Zap size={13} aria-hidden="true" /> Changed by fault rule “{r.fault.rule}”: {r.fault.change}</span>
      )}
      {like && (
        <button type="button" className="btn sm" data-testid="fail-like-this" onClick={() => navigate(`/faults?rule=${encodeURIComponent(JSON.stringify(like))}`)}>
          <Zap size={13} /> Make the next request like this one fail…
        </button>
      )}
    </div>
  )
}

/** The link between a pushed authorization request (RFC 9126) and the authorization requests that used it. */
function PushLine({ r, onJump }: { r: LoggedRequest; onJump: (id: number) => void }) {
  const p = r.pushed
  if (!p) return null
  const jump = (id: number) => (
    <button key={id} type="button" className="btn sm" data-testid="push-link" onClick={() => onJump(id)}>#{id}</button>
  )
  const used = p.authorize_ids ?? []
  return (
    <div className="row wrap" style={{ gap: 8, alignItems: 'center' }} data-testid="request-pushed">
      {p.push_id !== undefined || used.length > 0 || r.path.endsWith('/par') ? (
        r.path.endsWith('/par') ? (
          <>
            <span>Pushed authorization request (RFC 9126).</span>
            {used.length === 0
              ? <span className="muted">Not used at /authorize yet.</span>
              : <><span>Used by /authorize:</span>{used.map(jump)}{used.length > 1 && <span className="muted">(a request_uri is single use: the later ones were refused)</span>}</>}
          </>
        ) : (
          <><span>The parameters of this request were pushed in</span>{p.push_id !== undefined ? jump(p.push_id) : <span className="muted">a push no longer in the log</span>}</>
        )
      ) : (
        <span>Its push is not in the log (it left the log, or the request_uri was never issued).</span>
      )}
      <code className="small" style={{ overflowWrap: 'anywhere' }}>{p.request_uri}</code>
    </div>
  )
}

function Detail({ r, onJump }: { r: LoggedRequest; onJump: (id: number) => void }) {
  return (
    <div className="stack" style={{ padding: 16, gap: 16 }}>
      <FaultLine r={r} />
      {r.outbound && (
        <p className="small" data-testid="request-outbound">
          Sent by Latchkey: an OpenID Connect Back-Channel Logout token for <strong>{r.outbound.client_id}</strong>{' '}
          (session <span className="mono">{r.outbound.sid.slice(0, 10)}…</span>), <strong>{r.outbound.outcome}</strong>
          {r.outbound.error ? `: ${r.outbound.error}` : ''}. <Link to="/sessions">See the session</Link>
        </p>
      )}
      <PushLine r={r} onJump={onJump} />
      {r.verdict && (r.proxy ? (
        <div data-testid="request-verdict"><CallDetail verdict={r.verdict} proxy={r.proxy} status={r.status} /></div>
      ) : (
        <div className="stack-sm" data-testid="request-verdict">
          <h3>Latchkey's verdict on the token</h3>
          <CallDetail verdict={r.verdict} status={r.status} />
        </div>
      ))}
      {r.assertion && <AssertionView a={r.assertion} />}
      {r.dpop && <DpopView d={r.dpop} />}
      <DetailGrid r={r} />
    </div>
  )
}

/** Lines setting the variables a logged curl needs, for those the UI knows (the client secret). */
export function curlWithSecrets(r: LoggedRequest, client: Client | undefined): string | null {
  const vars = r.curl_variables ?? []
  const secret = client?.client_secret
  if (secret === undefined) return null
  const lines: string[] = []
  if (vars.includes('CLIENT_SECRET')) lines.push(`CLIENT_SECRET=${shq(secret)}`)
  if (vars.includes('CLIENT_SECRET_FORM_URLENCODED')) lines.push(`CLIENT_SECRET_FORM_URLENCODED=${shq(new URLSearchParams({ x: secret }).toString().slice(2))}`)
  return lines.length ? `${lines.join('\n')}\n${r.curl}` : null
}

function useClientOf(r: LoggedRequest): Client | undefined {
  const clients = useClients()
  return r.client_id ? clients.data?.find((c) => c.client_id === r.client_id) : undefined
}

function CurlBlock({ r }: { r: LoggedRequest }) {
  const client = useClientOf(r)
  const withSecret = curlWithSecrets(r, client)
  const others = (r.curl_variables ?? []).filter((v) => !v.startsWith('CLIENT_SECRET'))
  return (
    <div className="stack-sm" data-testid="curl-block">
      <Code code={r.curl} language="bash" wrap copy={false} />
      <div className="row">
        <CopyButton text={r.curl} label="Copy" small title="Copy the command as is: set the variables it names first" />
        {withSecret && <CopyButton text={withSecret} label="Copy with the client’s secret" small title="The copied text sets CLIENT_SECRET, then runs the command" />}
      </div>
      <p className="muted small">
        Secrets and tokens are shell variables such as <code>$CLIENT_SECRET</code>: the command stops with “set CLIENT_SECRET first” instead of sending an empty one.
        {others.length > 0 && <> Set {others.map((v, i) => <Fragment key={v}>{i ? ', ' : ''}<code>{v}</code></Fragment>)} before running it.</>}
      </p>
    </div>
  )
}

function DetailGrid({ r }: { r: LoggedRequest }) {
  return (
    <div className="grid2">
      <div className="stack-sm">
        <h3>Request</h3>
        <ParamTable rows={r.params} empty="No parameters." />
        {r.body_note && <p className="muted small">{r.body_note}</p>}
        <h3 style={{ marginTop: 8 }}>Headers</h3>
        <ParamTable rows={r.headers} empty="No headers recorded." />
      </div>
      <div className="stack-sm">
        <h3>Response <span className="muted small" style={{ fontWeight: 450 }}>{r.status}{r.response.content_type ? ` · ${r.response.content_type}` : ''} · {r.duration_ms.toFixed(1)} ms</span></h3>
        {r.response_body !== undefined && r.response_body !== null ? (
          <div data-testid="response-body"><Json value={r.response_body} /></div>
        ) : (
          <p className="muted small" data-testid="response-body">
            {r.response.location
              ? <>A redirect to <code className="tick">{r.response.location}</code> (codes and tokens redacted).</>
              : r.response.content_type?.startsWith('text/html') ? 'An HTML page (not recorded).' : 'No JSON body was recorded for this response.'}
          </p>
        )}
        {r.response_body !== undefined && r.response_body !== null && <p className="muted small">Tokens and secrets in it are shown as [redacted].</p>}
        <h3 style={{ marginTop: 8 }}>Reproduce with curl</h3>
        <CurlBlock r={r} />
      </div>
    </div>
  )
}

/** The row's copy: with the client's secret when the command needs it and the UI knows it. */
function RowCopy({ r }: { r: LoggedRequest }) {
  const withSecret = curlWithSecrets(r, useClientOf(r))
  return <CopyButton text={withSecret ?? r.curl} small title={withSecret ? 'Copy as curl, with the client’s secret' : 'Copy as curl'} />
}

/** Whether the viewport is at least `px` wide, following resizes. */
function useMinWidth(px: number): boolean {
  const q = `(min-width: ${px}px)`
  return useSyncExternalStore(
    (cb) => {
      const m = window.matchMedia(q)
      m.addEventListener('change', cb)
      return () => m.removeEventListener('change', cb)
    },
    () => window.matchMedia(q).matches,
    () => true,
  )
}

export function RequestsPage() {
  const { data, error, isPending } = useRequests()
  // Below 1200 px the duration column gives its room to the outcome.
  const wide = useMinWidth(1200)
  // `?id=N` (a link from the Sessions page) opens that entry.
  const [params] = useSearchParams()
  const [open, setOpen] = useState<Set<number>>(() => new Set(params.get('id') ? [Number(params.get('id'))] : []))
  const [text, setText] = useState('')
  const [method, setMethod] = useState('')
  const [outcome, setOutcome] = useState('')
  const [client, setClient] = useState('')
  const items = useMemo(() => data?.items ?? [], [data])
  const clients = useMemo(() => [...new Set(items.map((r) => r.client_id).filter((c): c is string => !!c))].sort(), [items])
  const rows = items.filter((r) => {
    if (method && r.method !== method) return false
    if (client && r.client_id !== client) return false
    if (outcome === 'ok' && r.status >= 400) return false
    if (outcome === 'error' && r.status < 400) return false
    if (text && !`${r.path} ${r.response.error ?? ''} ${r.params.map((p) => p.value).join(' ')}`.toLowerCase().includes(text.toLowerCase())) return false
    return true
  })
  const toggle = (id: number) => {
    const n = new Set(open)
    if (n.has(id)) n.delete(id)
    else n.add(id)
    setOpen(n)
  }
  /** Opens a linked entry (clearing filters that would hide it) and scrolls to it. */
  const jump = (id: number) => {
    setText(''); setMethod(''); setOutcome(''); setClient('')
    setOpen((o) => new Set(o).add(id))
    requestAnimationFrame(() => document.getElementById(`request-${id}`)?.scrollIntoView({ block: 'center', behavior: 'smooth' }))
  }
  const filtered = !!(text || method || outcome || client)
  return (
    <div className="page">
      <PageHeader title="Requests" sub="Every request your apps make to the protocol endpoints, and the back-channel logouts Latchkey sends them, live. Secrets and tokens are redacted." />
      {error && <ErrorBox error={error} title="Could not load the request log" />}
      <Panel flush>
        <div className="toolbar" role="search" aria-label="Filter requests">
          <input className="input" type="search" placeholder="Filter by path, error, parameter…" value={text} onChange={(e) => setText(e.target.value)} aria-label="Search" style={{ minWidth: 240 }} />
          <select className="input" value={method} onChange={(e) => setMethod(e.target.value)} aria-label="Method">
            <option value="">Any method</option><option>GET</option><option>POST</option><option>PUT</option><option>PATCH</option><option>DELETE</option>
          </select>
          <select className="input" value={outcome} onChange={(e) => setOutcome(e.target.value)} aria-label="Outcome">
            <option value="">Any status</option><option value="ok">Success (1xx–3xx)</option><option value="error">Errors (4xx–5xx)</option>
          </select>
          <select className="input" value={client} onChange={(e) => setClient(e.target.value)} aria-label="Client">
            <option value="">All clients</option>
            {clients.map((c) => <option key={c}>{c}</option>)}
          </select>
          <span className="count">{data ? `${rows.length} of ${items.length}` : ''}</span>
        </div>
        {isPending ? <Loading rows={4} /> : rows.length === 0 ? (
          filtered ? <EmptyState icon={<Activity size={22} />} title="No request matches these filters" /> : (
            <EmptyState icon={<Activity size={22} />} title="No requests yet">
              <p>Requests to /token, /authorize, /introspect and the other endpoints show up here as they happen, with the response and a curl command to replay them.</p>
            </EmptyState>
          )
        ) : (
          <div className="table-wrap">
            <table className="table fixed" data-testid="requests-table">
              {/* Fixed widths: a long outcome is cut with an ellipsis instead of widening the table
                  (and the expanded detail with it) past the window. */}
              <colgroup>
                <col style={{ width: 40 }} />
                <col style={{ width: 104 }} />
                <col style={{ width: '28%' }} />
                <col style={{ width: 72 }} />
                <col style={{ width: '13%' }} />
                <col />
                {wide && <col style={{ width: 84 }} />}
                <col style={{ width: 48 }} />
              </colgroup>
              <thead><tr><th style={{ width: 28 }}><span className="sr-only">Expand</span></th><th>Time</th><th>Request</th><th>Status</th><th>Client</th><th>Outcome</th>{wide && <th style={{ textAlign: 'right' }}>Duration</th>}<th className="actions"><span className="sr-only">Copy</span></th></tr></thead>
              <tbody>
                {rows.map((r) => {
                  const isOpen = open.has(r.id)
                  const outcomeText = r.outbound
                    ? `back-channel logout ${r.outbound.outcome}${r.outbound.error ? `: ${r.outbound.error}` : ''}`
                    : r.fault
                    ? `fault “${r.fault.rule}”: ${r.fault.change}`
                    : r.verdict && r.proxy
                    ? proxyRowText(r.proxy, r.verdict, r.status)
                    : r.verdict
                    ? r.verdict.allowed ? 'verdict: allowed' : `verdict: ${verdictLine(r.verdict)}`
                    : r.response.error
                    ? `${r.response.error}${r.response.error_description ? `: ${r.response.error_description}` : ''}`
                    : r.response.issued?.length ? `issued ${r.response.issued.join(', ')}`
                    : r.response.active !== undefined ? `active: ${r.response.active}`
                    : r.pushed && r.path.endsWith('/par') ? `pushed: request_uri${r.pushed.authorize_ids?.length ? `, used by #${r.pushed.authorize_ids.join(', #')}` : ''}`
                    : r.response.location ? `redirect${r.pushed?.push_id !== undefined ? ` (pushed in #${r.pushed.push_id})` : ''}` : ''
                  return (
                    <Fragment key={r.id}>
                      <tr id={`request-${r.id}`} className={`clickable ${isOpen ? 'expanded' : ''}`} onClick={() => toggle(r.id)} aria-expanded={isOpen}>
                        <td>
                          <button type="button" className="btn icon ghost sm" aria-label={isOpen ? 'Collapse' : 'Expand'} onClick={(e) => { e.stopPropagation(); toggle(r.id) }}>
                            {isOpen ? <ChevronDown size={14} /> : <ChevronRight size={14} />}
                          </button>
                        </td>
                        <td className="nowrap num muted">{formatTime(r.at / 1000)}</td>
                        <td className="mono" style={{ overflowWrap: 'anywhere' }}>{r.outbound && <span className="tag accent" title="Latchkey sent this request">out</span>} <strong>{r.method}</strong> {r.path}</td>
                        <td><span className={`badge plain ${statusClass(r.status)}`} style={{ minWidth: 44 }}>{r.status}</span></td>
                        <td className="mono ellipsis" title={r.client_id ?? undefined}>{r.client_id ?? <span className="faint">—</span>}</td>
                        <td className="small ellipsis" title={outcomeText}><Ticks text={outcomeText} /></td>
                        {wide && <td className="num nowrap muted" style={{ textAlign: 'right' }}>{r.duration_ms.toFixed(1)} ms</td>}
                        <td className="actions" onClick={(e) => e.stopPropagation()}><RowCopy r={r} /></td>
                      </tr>
                      {isOpen && (
                        <tr><td colSpan={wide ? 8 : 7} className="detail"><Detail r={r} onJump={jump} /></td></tr>
                      )}
                    </Fragment>
                  )
                })}
              </tbody>
            </table>
          </div>
        )}
      </Panel>
    </div>
  )
}
