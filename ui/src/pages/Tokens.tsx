import { ChevronRight, Coins, ScanSearch } from 'lucide-react'
import { useMemo, useRef } from 'react'
import { Link, useNavigate, useSearchParams } from 'react-router'
import { useClients, useDiscovery, useTokens } from '../api/queries'
import type { TokenKind, TokenState } from '../api/types'
import { Code } from '../components/Code'
import { Countdown, StatusBadge } from '../components/TokenStatus'
import { EmptyState, ErrorBox, Loading, PageHeader, Panel } from '../components/ui'
import { useServerNow } from '../lib/clock'
import { formatTime, relative, shortId } from '../lib/format'
import { liveState } from '../lib/tokenState'
import { curlFor } from './Overview'

const KINDS: TokenKind[] = ['access_token', 'refresh_token', 'id_token', 'authorization_code']
const STATES: TokenState[] = ['active', 'expired', 'revoked', 'consumed']

export function TokensPage() {
  const [params, setParams] = useSearchParams()
  const client_id = params.get('client_id') ?? ''
  const kind = (params.get('kind') ?? '') as TokenKind | ''
  const status = (params.get('status') ?? '') as TokenState | ''
  const q = useMemo(() => ({ client_id: client_id || undefined, kind: kind || undefined }), [client_id, kind])
  const tokens = useTokens(q)
  const clients = useClients()
  const discovery = useDiscovery()
  const nav = useNavigate()
  const now = useServerNow()

  // Rows that arrive after the first load are highlighted briefly.
  const initial = useRef<Set<string> | null>(null)
  if (tokens.data && !initial.current) initial.current = new Set(tokens.data.items.map((t) => t.id))

  const set = (k: string, v: string) => {
    const p = new URLSearchParams(params)
    if (v) p.set(k, v)
    else p.delete(k)
    setParams(p, { replace: true, preventScrollReset: true })
  }
  const rows = (tokens.data?.items ?? []).filter((t) => !status || liveState(t, now) === status)
  const filtered = !!(client_id || kind || status)
  const example = clients.data?.find((c) => c.grant_types.includes('client_credentials'))

  return (
    <div className="page">
      <PageHeader
        title="Tokens"
        sub="Every token Latchkey issues appears here as your apps obtain it. Status and countdowns follow the server clock."
        actions={<Link className="btn" to="/tokens/inspect"><ScanSearch size={14} /> Inspect a token</Link>}
      />
      {tokens.error && <ErrorBox error={tokens.error} title="Could not load the tokens" />}
      <Panel flush>
        <div className="toolbar" role="search" aria-label="Filter tokens">
          <select className="input" aria-label="Client" value={client_id} onChange={(e) => set('client_id', e.target.value)}>
            <option value="">All clients</option>
            {clients.data?.map((c) => <option key={c.client_id} value={c.client_id}>{c.client_id}</option>)}
          </select>
          <select className="input" aria-label="Kind" value={kind} onChange={(e) => set('kind', e.target.value)}>
            <option value="">All kinds</option>
            {KINDS.map((k) => <option key={k} value={k}>{k.replace('_', ' ')}</option>)}
          </select>
          <select className="input" aria-label="Status" value={status} onChange={(e) => set('status', e.target.value)}>
            <option value="">Any status</option>
            {STATES.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
          {filtered && <button type="button" className="btn sm ghost" onClick={() => setParams({}, { replace: true, preventScrollReset: true })}>Clear filters</button>}
          <span className="count" aria-live="polite">{tokens.data ? `${rows.length} token${rows.length === 1 ? '' : 's'}` : ''}</span>
        </div>
        {tokens.isPending ? <Loading rows={4} /> : rows.length === 0 ? (
          filtered ? (
            <EmptyState icon={<Coins size={22} />} title="No token matches these filters" action={<button type="button" className="btn" onClick={() => setParams({}, { replace: true, preventScrollReset: true })}>Clear filters</button>} />
          ) : (
            <EmptyState icon={<Coins size={22} />} title="Waiting for the first token">
              <p>Tokens appear here the moment an app gets one; no need to reload.</p>
              {example && discovery.data?.token_endpoint ? (
                <div style={{ width: 'min(620px, 80vw)', marginTop: 6 }}>
                  <Code code={curlFor(example, discovery.data.token_endpoint)} language="bash" wrap />
                </div>
              ) : (
                <p><Link to="/clients/new">Create a client</Link> with the client credentials grant to get one with curl.</p>
              )}
            </EmptyState>
          )
        ) : (
          <div className="table-wrap">
            <table className="table" data-testid="tokens-table">
              <thead>
                <tr><th>Status</th><th>Kind</th><th>Client</th><th>User</th><th>Scopes</th><th>Issued</th><th>Expires in</th><th className="actions"><span className="sr-only">Open</span></th></tr>
              </thead>
              <tbody>
                {rows.map((t) => {
                  const href = `/tokens/${encodeURIComponent(t.id)}`
                  const fresh = initial.current && !initial.current.has(t.id)
                  return (
                    <tr key={t.id} data-token-id={t.id} className={`clickable ${fresh ? 'fresh' : ''}`} tabIndex={0} onClick={() => nav(href)} onKeyDown={(e) => e.key === 'Enter' && nav(href)}>
                      <td style={{ width: 1 }}><StatusBadge state={liveState(t, now)} /></td>
                      <td className="nowrap">
                        {t.kind.replace('_', ' ')}
                        <div className="sub mono" title={t.id}>{t.format} · {shortId(t.id)}</div>
                      </td>
                      <td className="mono nowrap">{t.client_id}</td>
                      <td>{t.username ?? <span className="faint">—</span>}</td>
                      <td><div className="chips">{t.scope ? t.scope.split(' ').map((s) => <span key={s} className="tag accent">{s}</span>) : <span className="faint">none</span>}</div></td>
                      <td className="nowrap num">{formatTime(t.issued_at)}<div className="sub">{relative(t.issued_at, now)}</div></td>
                      <td className="nowrap"><Countdown token={t} /></td>
                      <td className="actions"><Link to={href} className="btn icon ghost" aria-label={`Open token ${t.id}`} onClick={(e) => e.stopPropagation()}><ChevronRight size={15} /></Link></td>
                    </tr>
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
