import { useQueryClient } from '@tanstack/react-query'
import { useWindowVirtualizer } from '@tanstack/react-virtual'
import { ChevronRight, Coins, GitBranch, ScanSearch, X } from 'lucide-react'
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react'
import { Link, useNavigate, useSearchParams } from 'react-router'
import { api } from '../api/client'
import { keys, TOKEN_PAGE, useClients, useDiscovery, useKeyRing, useTokens, useUsers } from '../api/queries'
import type { Page, TokenItem, TokenKind, TokenQuery, TokenState } from '../api/types'
import { Code } from '../components/Code'
import { Countdown, StatusBadge } from '../components/TokenStatus'
import { EmptyState, ErrorBox, Loading, PageHeader, Panel } from '../components/ui'
import { useServerNow } from '../lib/clock'
import { boundJkt } from '../lib/claims'
import { formatTime, relative, shortId } from '../lib/format'
import { liveState, STATE_LABEL } from '../lib/tokenState'
import { curlFor } from './Overview'
import './tokens.css'

const KINDS: TokenKind[] = ['access_token', 'refresh_token', 'id_token', 'authorization_code']
const STATES: TokenState[] = ['active', 'expired', 'key_retired', 'revoked', 'consumed']
/** Estimated row height before measuring, px. */
const ROW = 54

/**
 * Ids that arrived at the top of the list after the first load (by the event stream), to
 * highlight them briefly. Pages loaded further down are not "new".
 */
function useFreshIds(items: TokenItem[] | undefined, resetKey: string): Set<string> {
  const known = useRef<Set<string> | null>(null)
  const fresh = useRef(new Set<string>())
  const lastKey = useRef(resetKey)
  if (lastKey.current !== resetKey) {
    lastKey.current = resetKey
    known.current = null
    fresh.current = new Set()
  }
  return useMemo(() => {
    if (!items) return fresh.current
    if (!known.current) {
      known.current = new Set(items.map((t) => t.id))
      return fresh.current
    }
    for (const t of items) {
      if (known.current.has(t.id)) break
      fresh.current.add(t.id)
    }
    for (const t of items) known.current.add(t.id)
    return fresh.current
  }, [items])
}

export function TokensPage() {
  const [params, setParams] = useSearchParams()
  const client_id = params.get('client_id') ?? ''
  const username = params.get('username') ?? ''
  const grant_id = params.get('grant_id') ?? ''
  const kind = (params.get('kind') ?? '') as TokenKind | ''
  const status = (params.get('status') ?? '') as TokenState | ''
  const q: TokenQuery = useMemo(() => {
    const o: TokenQuery = {}
    if (client_id) o.client_id = client_id
    if (username) o.username = username
    if (grant_id) o.grant_id = grant_id
    if (kind) o.kind = kind
    if (status) o.status = status
    return o
  }, [client_id, username, grant_id, kind, status])
  const tokens = useTokens(q)
  const clients = useClients()
  const users = useUsers()
  const discovery = useDiscovery()
  const nav = useNavigate()
  const now = useServerNow()
  const ring = useKeyRing()
  const qc = useQueryClient()
  const fresh = useFreshIds(tokens.data?.items, JSON.stringify(q))

  const set = (k: string, v: string) => {
    const p = new URLSearchParams(params)
    if (v) p.set(k, v)
    else p.delete(k)
    setParams(p, { replace: true, preventScrollReset: true })
  }
  const clear = () => setParams({}, { replace: true, preventScrollReset: true })
  const rows = useMemo(
    () => (tokens.data?.items ?? []).filter((t) => !status || liveState(t, now, ring) === status),
    [tokens.data, status, now, ring],
  )
  const filtered = !!(client_id || username || grant_id || kind || status)
  const example = clients.data?.find((c) => c.grant_types.includes('client_credentials'))
  const nextCursor = tokens.data?.next_cursor ?? null

  // The next page, appended to the same cache entry the event stream keeps up to date.
  const [loadingMore, setLoadingMore] = useState(false)
  const [moreError, setMoreError] = useState<unknown>(null)
  const loadMore = useCallback(async () => {
    if (loadingMore || nextCursor === null) return
    setLoadingMore(true)
    setMoreError(null)
    try {
      const next = await api.tokens({ ...q, limit: TOKEN_PAGE, cursor: nextCursor })
      qc.setQueryData<Page<TokenItem>>(keys.tokenList(q), (old) => {
        if (!old) return old
        const have = new Set(old.items.map((t) => t.id))
        return { items: [...old.items, ...next.items.filter((t) => !have.has(t.id))], next_cursor: next.next_cursor }
      })
    } catch (e) {
      setMoreError(e)
    } finally {
      setLoadingMore(false)
    }
  }, [loadingMore, nextCursor, q, qc])

  // A virtualised table: only the rows near the viewport are in the DOM, so 10,000 tokens
  // scroll as smoothly as 10, and a live event re-renders a few dozen rows.
  const tbodyRef = useRef<HTMLTableSectionElement>(null)
  const [scrollMargin, setScrollMargin] = useState(0)
  const hasRows = rows.length > 0
  const qKey = JSON.stringify(q)
  useLayoutEffect(() => {
    // Where the list starts on the page: after the first rows render, on a filter change (the
    // toolbar may wrap differently) and on resize; not on every event.
    const read = () => {
      const el = tbodyRef.current
      if (el) setScrollMargin(el.getBoundingClientRect().top + window.scrollY)
    }
    read()
    window.addEventListener('resize', read)
    return () => window.removeEventListener('resize', read)
  }, [hasRows, qKey, tokens.isPending])
  // Rows have one height (the scopes cell does not wrap), measured once on the first row: no
  // per-row measuring, so prepending a live token costs no layout reads.
  const [rowH, setRowH] = useState(ROW)
  const measured = useRef(false)
  const measureFirst = useCallback((el: HTMLTableRowElement | null) => {
    if (!el || measured.current) return
    measured.current = true
    const h = el.getBoundingClientRect().height
    if (h > 0) setRowH((old) => (Math.abs(old - h) > 0.5 ? h : old))
  }, [])
  const virtual = useWindowVirtualizer({
    count: rows.length,
    estimateSize: () => rowH,
    overscan: 12,
    scrollMargin,
    getItemKey: (i) => rows[i]?.id ?? i,
  })
  useEffect(() => virtual.measure(), [rowH, virtual])
  const items = virtual.getVirtualItems()
  const last = items.length ? items[items.length - 1].index : -1
  useEffect(() => {
    if (last >= rows.length - 20 && nextCursor !== null && !loadingMore && !moreError) void loadMore()
  }, [last, rows.length, nextCursor, loadingMore, moreError, loadMore])
  const padTop = items.length ? items[0].start - scrollMargin : 0
  const padBottom = items.length ? virtual.getTotalSize() - (items[items.length - 1].end - scrollMargin) : 0

  const grantRoot = grant_id ? (tokens.data?.items ?? []).find((t) => t.id === grant_id) : undefined
  const count = tokens.data ? `${rows.length}${nextCursor !== null ? '+' : ''} token${rows.length === 1 && nextCursor === null ? '' : 's'}` : ''

  return (
    <div className="page">
      <PageHeader
        title="Tokens"
        sub="Every token Latchkey issues appears here as your apps obtain it. Status and countdowns follow the server clock."
        actions={<Link className="btn" to="/tokens/inspect"><ScanSearch size={14} /> Inspect a token</Link>}
      />
      {tokens.error && <ErrorBox error={tokens.error} title="Could not load the tokens" />}
      <Panel flush>
        <div className="toolbar tokens-toolbar" role="search" aria-label="Filter tokens">
          <select className="input" aria-label="Client" value={client_id} onChange={(e) => set('client_id', e.target.value)}>
            <option value="">All clients</option>
            {clients.data?.map((c) => <option key={c.client_id} value={c.client_id}>{c.client_id}</option>)}
            {client_id && !clients.data?.some((c) => c.client_id === client_id) && <option value={client_id}>{client_id}</option>}
          </select>
          <select className="input" aria-label="User" value={username} onChange={(e) => set('username', e.target.value)}>
            <option value="">All users</option>
            {users.data?.map((u) => <option key={u.username} value={u.username}>{u.username}</option>)}
            {username && !users.data?.some((u) => u.username === username) && <option value={username}>{username}</option>}
          </select>
          <select className="input" aria-label="Kind" value={kind} onChange={(e) => set('kind', e.target.value)}>
            <option value="">All kinds</option>
            {KINDS.map((k) => <option key={k} value={k}>{k.replace('_', ' ')}</option>)}
          </select>
          <select className="input" aria-label="Status" value={status} onChange={(e) => set('status', e.target.value)}>
            <option value="">Any status</option>
            {STATES.map((s) => <option key={s} value={s}>{STATE_LABEL[s]}</option>)}
          </select>
          {grant_id && (
            <span className="chip grant-chip" data-testid="grant-filter" title={`grant_id ${grant_id}`}>
              <GitBranch size={12} /> Grant <span className="mono">{shortId(grant_id)}</span>
              {grantRoot && <Link to={`/tokens/${encodeURIComponent(grantRoot.id)}`} className="small">lineage</Link>}
              <button type="button" className="btn icon ghost sm" aria-label="Show every grant" onClick={() => set('grant_id', '')}><X size={12} /></button>
            </span>
          )}
          {filtered && <button type="button" className="btn sm ghost" onClick={clear}>Clear filters</button>}
          <span className="count" aria-live="polite" data-testid="token-count">{count}</span>
        </div>
        {tokens.isPending ? <Loading rows={4} /> : rows.length === 0 && nextCursor === null ? (
          filtered ? (
            <EmptyState icon={<Coins size={22} />} title="No token matches these filters" action={<button type="button" className="btn" onClick={clear}>Clear filters</button>} />
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
            <table className="table tokens-table" data-testid="tokens-table" aria-rowcount={rows.length + 1}>
              <thead>
                <tr><th>Status</th><th>Kind</th><th>Client</th><th>User</th><th className="col-scopes">Scopes</th><th>Issued</th><th>Expires in</th><th className="actions"><span className="sr-only">Open</span></th></tr>
              </thead>
              <tbody ref={tbodyRef}>
                {padTop > 0 && <tr aria-hidden className="spacer"><td colSpan={8} style={{ height: padTop }} /></tr>}
                {items.map((v) => {
                  const t = rows[v.index]
                  if (!t) return null
                  const href = `/tokens/${encodeURIComponent(t.id)}`
                  return (
                    <tr
                      key={t.id}
                      ref={v.index === items[0].index ? measureFirst : undefined}
                      data-index={v.index}
                      aria-rowindex={v.index + 2}
                      data-token-id={t.id}
                      className={`clickable ${fresh.has(t.id) ? 'fresh' : ''}`}
                      tabIndex={0}
                      onClick={() => nav(href)}
                      onKeyDown={(e) => e.key === 'Enter' && e.target === e.currentTarget && nav(href)}
                    >
                      <td style={{ width: 1 }}><StatusBadge state={liveState(t, now, ring)} /></td>
                      <td className="nowrap">
                        {t.kind.replace('_', ' ')}
                        <div className="sub mono" title={t.id}>
                          {t.format} · {shortId(t.id)}
                          {boundJkt(t.claims) && (
                            <> · <span className="tag accent" data-testid="dpop-bound" title={`DPoP-bound: cnf.jkt ${boundJkt(t.claims)}`}>DPoP</span></>
                          )}
                          {t.grant_id && !grant_id && (
                            <> · <Link to={`/tokens?grant_id=${encodeURIComponent(t.grant_id)}`} onClick={(e) => e.stopPropagation()} title="Show every token of this grant">grant</Link></>
                          )}
                        </div>
                      </td>
                      <td className="mono nowrap"><Link to={`/clients/${encodeURIComponent(t.client_id)}`} onClick={(e) => e.stopPropagation()} className="plain-link">{t.client_id}</Link></td>
                      <td>{t.username ? <Link to={`/users/${encodeURIComponent(t.username)}`} onClick={(e) => e.stopPropagation()}>{t.username}</Link> : <span className="faint">—</span>}</td>
                      <td className="col-scopes"><div className="chips" title={t.scope}>{t.scope ? t.scope.split(' ').map((s) => <span key={s} className="tag accent">{s}</span>) : <span className="faint">none</span>}</div></td>
                      <td className="nowrap num">{formatTime(t.issued_at)}<div className="sub">{relative(t.issued_at, now)}</div></td>
                      <td className="nowrap"><Countdown token={t} /></td>
                      <td className="actions"><Link to={href} className="btn icon ghost" aria-label={`Open token ${t.id}`} onClick={(e) => e.stopPropagation()}><ChevronRight size={15} /></Link></td>
                    </tr>
                  )
                })}
                {padBottom > 0 && <tr aria-hidden className="spacer"><td colSpan={8} style={{ height: padBottom }} /></tr>}
              </tbody>
            </table>
            {(nextCursor !== null || moreError !== null) && (
              <div className="load-more">
                {moreError !== null && <ErrorBox error={moreError} title="Could not load more tokens" />}
                <button type="button" className="btn sm" onClick={() => { setMoreError(null); void loadMore() }} disabled={loadingMore}>
                  {loadingMore ? 'Loading…' : 'Load more'}
                </button>
              </div>
            )}
          </div>
        )}
      </Panel>
    </div>
  )
}
