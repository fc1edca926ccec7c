import { QueryClient, QueryObserver } from '@tanstack/react-query'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { applyEvent, EventStream, type EventSourceLike } from './events'
import { keys, TOKEN_PAGE } from './queries'
import type { BrowserSession, ClientDocument, Envelope, LoggedRequest, Page, Status, TokenItem, TokenRecord } from './types'
import { resetClock, serverNow } from '../lib/clock'

const now = () => Math.floor(serverNow())

function record(id: string, over: Partial<TokenRecord> = {}): TokenRecord {
  return {
    id, kind: 'access_token', format: 'jwt', client_id: 'app', subject: 'app', username: null,
    scope: 'read', audience: ['api'], issued_at: now(), expires_at: now() + 60, status: 'active',
    status_at: null, status_reason: null, grant_type: 'client_credentials', grant_id: null, parent_id: null,
    kid: 'k1', claims: { jti: id }, token: 'raw', ...over,
  }
}

let seq = 0
const env = (e: Omit<Envelope, 'id' | 'at'>): Envelope => ({ ...e, id: ++seq, at: Date.now() } as Envelope)

const status = (): Status => ({
  version: '0', issuer: 'http://x', uptime: 1, clock: { now: 0, offset: 0 }, active_kid: 'k1', active_alg: 'RS256',
  counts: { clients: 0, users: 0, scopes: 7, resources: 0, tokens: { active: 0, revoked: 0 } }, admin_token_required: false,
})

describe('applyEvent', () => {
  let qc: QueryClient
  beforeEach(() => {
    resetClock()
    qc = new QueryClient()
  })

  it('keeps the sessions list live: new and used sessions first, ended ones after the live ones', () => {
    const s = (sid: string, over: Partial<BrowserSession> = {}): BrowserSession => ({
      sid, username: 'alice', sub: 'sub', auth_time: 1, acr: null, amr: [], last_used: 1, clients: [], ...over,
    })
    qc.setQueryData<BrowserSession[]>(keys.sessions, [s('a'), s('old', { ended_at: 1, end_reason: 'admin' })])
    applyEvent(qc, env({ type: 'session.started', data: s('b') }))
    expect(qc.getQueryData<BrowserSession[]>(keys.sessions)!.map((x) => x.sid)).toEqual(['b', 'a', 'old'])
    applyEvent(qc, env({ type: 'session.updated', data: s('a', { clients: [{ client_id: 'web', first_at: 2, last_at: 2, logouts: [] }] }) }))
    const list = qc.getQueryData<BrowserSession[]>(keys.sessions)!
    expect(list.map((x) => x.sid)).toEqual(['a', 'b', 'old'])
    expect(list[0].clients[0].client_id).toBe('web')
    applyEvent(qc, env({ type: 'session.ended', data: s('b', { ended_at: 3, end_reason: 'end_session' }) }))
    expect(qc.getQueryData<BrowserSession[]>(keys.sessions)!.map((x) => x.sid)).toEqual(['a', 'b', 'old'])
    expect(qc.getQueryData<BrowserSession[]>(keys.sessions)![1].ended_at).toBe(3)
  })

  it('keeps the fetched metadata documents current, newest first, one row per URL', () => {
    qc.setQueryData<ClientDocument[]>(keys.clientDocuments, [])
    const doc = (url: string, fetched_at: number, outcome: ClientDocument['outcome']): ClientDocument =>
      ({ url, fetched_at, expires_at: fetched_at + 300, outcome })
    applyEvent(qc, env({ type: 'client_document.fetched', data: doc('https://a.example/c.json', 10, 'valid') }))
    applyEvent(qc, env({ type: 'client_document.fetched', data: doc('https://b.example/c.json', 20, 'failed') }))
    applyEvent(qc, env({ type: 'client_document.fetched', data: doc('https://a.example/c.json', 30, 'invalid') }))
    const l = qc.getQueryData<ClientDocument[]>(keys.clientDocuments)!
    expect(l.map((d) => [d.url, d.outcome])).toEqual([['https://a.example/c.json', 'invalid'], ['https://b.example/c.json', 'failed']])
  })

  it('prepends an issued token to matching token lists only, once', () => {
    qc.setQueryData<Page<TokenItem>>(keys.tokenList({}), { items: [], next_cursor: null })
    qc.setQueryData<Page<TokenItem>>(keys.tokenList({ client_id: 'other' }), { items: [], next_cursor: null })
    qc.setQueryData(keys.status, status())
    const e = env({ type: 'token.issued', data: record('t1') })
    applyEvent(qc, e)
    applyEvent(qc, e)
    const all = qc.getQueryData<Page<TokenItem>>(keys.tokenList({}))!
    expect(all.items.map((t) => t.id)).toEqual(['t1'])
    expect(all.items[0].state).toBe('active')
    expect(all.items[0]).not.toHaveProperty('token')
    expect(qc.getQueryData<Page<TokenItem>>(keys.tokenList({ client_id: 'other' }))!.items).toEqual([])
    expect(qc.getQueryData<Status>(keys.status)!.counts.tokens.active).toBe(2)
  })

  it('refetches a token list whose first load was in flight when a token was issued', async () => {
    let answer: (p: Page<TokenItem>) => void = () => {}
    let fetches = 0
    const item = { ...record('t9'), state: 'active' as const }
    const queryFn = () => {
      fetches++
      return fetches === 1
        ? new Promise<Page<TokenItem>>((r) => { answer = r })
        : Promise.resolve({ items: [item], next_cursor: null })
    }
    const off = new QueryObserver(qc, { queryKey: keys.tokenList({}), queryFn }).subscribe(() => {})
    applyEvent(qc, env({ type: 'token.issued', data: record('t9') }))
    answer({ items: [], next_cursor: null }) // read before the token was stored
    await vi.waitFor(() => expect(qc.getQueryData<Page<TokenItem>>(keys.tokenList({}))?.items.map((t) => t.id)).toEqual(['t9']))
    expect(fetches).toBe(2)
    off()
  })

  it('marks revoked tokens in every list and refetches their views', () => {
    qc.setQueryData<Page<TokenItem>>(keys.tokenList({}), { items: [], next_cursor: null })
    applyEvent(qc, env({ type: 'token.issued', data: record('t1') }))
    applyEvent(qc, env({ type: 'token.issued', data: record('t2') }))
    const spy = vi.spyOn(qc, 'invalidateQueries')
    applyEvent(qc, env({ type: 'token.revoked', data: { ids: ['t1'], reason: 'revoked by the admin' } }))
    const items = qc.getQueryData<Page<TokenItem>>(keys.tokenList({}))!.items
    expect(items.find((t) => t.id === 't1')).toMatchObject({ state: 'revoked', status_reason: 'revoked by the admin' })
    expect(items.find((t) => t.id === 't2')!.state).toBe('active')
    expect(spy).toHaveBeenCalledWith({ queryKey: keys.token('t1') })
  })

  it('upserts and removes clients', () => {
    qc.setQueryData(keys.clients, [])
    const c = { client_id: 'a', redirect_uris: [], post_logout_redirect_uris: [], grant_types: [], scopes: [], audiences: [], require_consent: false }
    applyEvent(qc, env({ type: 'client.created', data: c }))
    applyEvent(qc, env({ type: 'client.updated', data: { ...c, name: 'A' } }))
    expect(qc.getQueryData(keys.clients)).toEqual([{ ...c, name: 'A' }])
    applyEvent(qc, env({ type: 'client.deleted', data: { client_id: 'a' } }))
    expect(qc.getQueryData(keys.clients)).toEqual([])
  })

  it('keeps the clients of a scope when the scope changes', () => {
    qc.setQueryData(keys.scopes, [{ name: 's', description: '', claims: [], builtin: false, clients: ['app'] }])
    applyEvent(qc, env({ type: 'scope.updated', data: { name: 's', description: 'new', claims: ['x'] } }))
    expect(qc.getQueryData(keys.scopes)).toEqual([{ name: 's', description: 'new', claims: ['x'], builtin: false, clients: ['app'] }])
  })

  it('prepends logged requests', () => {
    qc.setQueryData<Page<LoggedRequest>>(keys.requests, { items: [], next_cursor: null })
    const r: LoggedRequest = { id: 1, at: 0, method: 'POST', path: '/token', status: 200, duration_ms: 1, client_id: 'app', params: [], headers: [], response: { status: 200 }, curl: 'curl' }
    applyEvent(qc, env({ type: 'request.logged', data: r }))
    applyEvent(qc, env({ type: 'request.logged', data: { ...r, id: 2 } }))
    expect(qc.getQueryData<Page<LoggedRequest>>(keys.requests)!.items.map((x) => x.id)).toEqual([2, 1])
  })

  it('moves the browser estimate of the server clock with clock.moved', () => {
    const before = serverNow()
    applyEvent(qc, env({ type: 'clock.moved', data: { offset: 3600 } }))
    expect(serverNow() - before).toBeGreaterThan(3599)
  })

  it('refetches every list and puts the clock back to real time on server.reset', () => {
    applyEvent(qc, env({ type: 'clock.moved', data: { offset: 3600 } }))
    qc.setQueryData(keys.status, status())
    qc.setQueryData<Page<TokenItem>>(keys.tokenList({}), { items: [], next_cursor: null })
    applyEvent(qc, env({ type: 'server.reset', data: { keys: false } }))
    expect(qc.getQueryState(keys.status)?.isInvalidated).toBe(true)
    expect(qc.getQueryState(keys.tokenList({}))?.isInvalidated).toBe(true)
    expect(Math.abs(serverNow() - Date.now() / 1000)).toBeLessThan(5)
  })

  it('uses a page size the list can grow into', () => {
    expect(TOKEN_PAGE).toBeGreaterThan(50)
  })
})

class FakeSource implements EventSourceLike {
  static all: FakeSource[] = []
  readyState = 0
  onopen: ((ev: Event) => unknown) | null = null
  onerror: ((ev: Event) => unknown) | null = null
  listeners: Record<string, ((ev: MessageEvent) => void)[]> = {}
  closed = false
  url: string
  constructor(url: string) {
    this.url = url
    FakeSource.all.push(this)
  }
  addEventListener(type: string, l: (ev: MessageEvent) => void) {
    ;(this.listeners[type] ??= []).push(l)
  }
  close() {
    this.closed = true
    this.readyState = 2
  }
  open() {
    this.readyState = 1
    this.onopen?.(new Event('open'))
  }
  emit(type: string, data: unknown) {
    for (const l of this.listeners[type] ?? []) l(new MessageEvent(type, { data: JSON.stringify(data) }))
  }
  fail(readyState: number) {
    this.readyState = readyState
    this.onerror?.(new Event('error'))
  }
}

describe('EventStream', () => {
  beforeEach(() => {
    FakeSource.all = []
  })

  function make() {
    const got: Envelope[] = []
    const timers: (() => void)[] = []
    const onResync = vi.fn()
    const s = new EventStream({
      url: '/admin/api/events',
      onEvent: (e) => got.push(e),
      onResync,
      create: (u) => new FakeSource(u),
      setTimer: (f) => timers.push(f),
      clearTimer: () => {},
    })
    return { s, got, timers, onResync }
  }

  it('delivers typed events and tracks the connection', () => {
    const { s, got } = make()
    s.start()
    expect(s.state).toBe('connecting')
    FakeSource.all[0].open()
    expect(s.state).toBe('live')
    FakeSource.all[0].emit('token.issued', { id: 1, at: 0, type: 'token.issued', data: record('a') })
    expect(got.map((e) => e.type)).toEqual(['token.issued'])
  })

  it('lets the browser retry by itself, then reopens after a hard failure from the last id', () => {
    const { s, got, timers } = make()
    s.start()
    const first = FakeSource.all[0]
    first.open()
    first.emit('request.logged', { id: 7, at: 0, type: 'request.logged', data: {} })
    first.fail(0) // CONNECTING: EventSource retries with Last-Event-ID
    expect(s.state).toBe('reconnecting')
    expect(timers).toHaveLength(0)
    first.fail(2) // CLOSED: it gave up
    expect(timers).toHaveLength(1)
    timers[0]()
    const second = FakeSource.all[1]
    expect(second.url).toBe('/admin/api/events?last_event_id=7')
    second.open()
    // A replayed duplicate is ignored.
    second.emit('request.logged', { id: 7, at: 0, type: 'request.logged', data: {} })
    second.emit('request.logged', { id: 8, at: 0, type: 'request.logged', data: {} })
    expect(got.map((e) => e.id)).toEqual([7, 8])
    expect(s.state).toBe('live')
  })

  it('asks for a refetch on resync and stops cleanly', () => {
    const { s, onResync, timers } = make()
    s.start()
    FakeSource.all[0].emit('resync', { reason: 'x' })
    expect(onResync).toHaveBeenCalled()
    s.stop()
    expect(FakeSource.all[0].closed).toBe(true)
    FakeSource.all[0].fail(2)
    expect(timers).toHaveLength(0)
  })
})

describe('device code events', () => {
  it('keeps the device code list live: created first, updated in place, removed', () => {
    const d = {
      id: 'd1', user_code: 'BCDF-GHJK', client_id: 'tv', client_name: 'TV', scope: 'read', status: 'pending' as const,
      created_at: 1, expires_at: 601, interval: 5, verification_uri_complete: 'http://x/device?user_code=BCDF-GHJK',
    }
    const qc = new QueryClient()
    qc.setQueryData(keys.deviceCodes, [])
    applyEvent(qc, env({ type: 'device_code.created', data: d }))
    applyEvent(qc, env({ type: 'device_code.created', data: { ...d, id: 'd2', user_code: 'ZZZZ-ZZZZ' } }))
    expect(qc.getQueryData<{ id: string }[]>(keys.deviceCodes)?.map((x) => x.id)).toEqual(['d2', 'd1'])
    applyEvent(qc, env({ type: 'device_code.updated', data: { ...d, status: 'approved', username: 'alice' } }))
    expect(qc.getQueryData<{ id: string; status: string }[]>(keys.deviceCodes)?.find((x) => x.id === 'd1')?.status).toBe('approved')
    applyEvent(qc, env({ type: 'device_code.removed', data: { id: 'd1', user_code: 'BCDF-GHJK', reason: 'expired' } }))
    expect(qc.getQueryData<{ id: string }[]>(keys.deviceCodes)?.map((x) => x.id)).toEqual(['d2'])
  })
})
