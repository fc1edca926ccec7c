import { QueryClient, QueryClientProvider } from '@tanstack/react-query'
import { act, render as rtlRender, screen } from '@testing-library/react'
import type { ReactElement, ReactNode } from 'react'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { keys } from '../api/queries'
import type { KeyView } from '../api/types'
import { Countdown, LiveStatusBadge } from './TokenStatus'
import { ClaimsTable, JwtSegments } from './Jwt'
import { resetClock, syncServerClock } from '../lib/clock'
import { liveState } from '../lib/tokenState'

// The badges read the Keys list (is the token's key still in the JWKS?) from the query cache.
let qc: QueryClient
function render(ui: ReactElement) {
  return rtlRender(ui, { wrapper: ({ children }: { children: ReactNode }) => <QueryClientProvider client={qc}>{children}</QueryClientProvider> })
}
const key = (kid: string, over: Partial<KeyView> = {}): KeyView => ({
  kid, alg: 'RS256', status: 'active', created_at: 0, retired_at: null, expires_at: null, published: true, live_tokens: 0, jwk: {}, ...over,
})

describe('live status', () => {
  beforeEach(() => {
    qc = new QueryClient({ defaultOptions: { queries: { staleTime: Infinity, retry: false } } })
    qc.setQueryData<KeyView[]>(keys.keys, [key('k1')])
  })
  beforeEach(() => {
    vi.useFakeTimers()
    vi.setSystemTime(new Date('2026-01-01T00:00:00Z'))
    resetClock()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('turns key retired when the key leaves the JWKS, by its retention ending or a rotation', () => {
    const nowS = Math.floor(Date.now() / 1000)
    qc.setQueryData<KeyView[]>(keys.keys, [key('k2'), key('k1', { status: 'retired', retired_at: nowS, expires_at: nowS + 2 })])
    const token = { state: 'active' as const, expires_at: nowS + 600, kid: 'k1' }
    render(<><LiveStatusBadge token={token} /><Countdown token={token} /></>)
    expect(screen.getByTestId('status-badge').dataset.state).toBe('active')
    act(() => vi.advanceTimersByTime(2000))
    expect(screen.getByTestId('status-badge').dataset.state).toBe('key_retired')
    expect(screen.getByTestId('status-badge').textContent).toBe('key retired')
    expect(screen.getByTestId('countdown').title).toMatch(/left the JWKS/)
    // A rotation that unpublishes the key (the Keys list is refetched on key.rotated).
    const other = { state: 'active' as const, expires_at: nowS + 600, kid: 'k2' }
    render(<div data-testid="other"><LiveStatusBadge token={other} /></div>)
    expect(screen.getByTestId('other').querySelector('[data-state]')?.getAttribute('data-state')).toBe('active')
    act(() => qc.setQueryData<KeyView[]>(keys.keys, [key('k3'), key('k2', { status: 'unpublished', published: false, expires_at: nowS })]))
    act(() => vi.advanceTimersByTime(10)) // the query cache notifies on a timer
    expect(screen.getByTestId('other').querySelector('[data-state]')?.getAttribute('data-state')).toBe('key_retired')
  })

  it('turns expired by itself at exp, with the countdown', () => {
    const nowS = Date.now() / 1000
    const token = { state: 'active' as const, expires_at: Math.floor(nowS) + 3 }
    render(<><LiveStatusBadge token={token} /><Countdown token={token} /></>)
    expect(screen.getByTestId('status-badge').dataset.state).toBe('active')
    expect(screen.getByTestId('countdown').textContent).toBe('3s')
    act(() => vi.advanceTimersByTime(1000))
    expect(screen.getByTestId('countdown').textContent).toBe('2s')
    act(() => vi.advanceTimersByTime(2000))
    expect(screen.getByTestId('status-badge').dataset.state).toBe('expired')
    act(() => vi.advanceTimersByTime(5000))
    expect(screen.getByTestId('countdown').textContent).toBe('5s ago')
  })

  it('follows the server clock, not the browser clock', () => {
    const nowS = Math.floor(Date.now() / 1000)
    // The server is one hour ahead (a virtual clock offset).
    syncServerClock(nowS + 3600, 3600, Date.now(), Date.now())
    render(<LiveStatusBadge token={{ state: 'active', expires_at: nowS + 600 }} />)
    expect(screen.getByTestId('status-badge').dataset.state).toBe('expired')
  })

  it('keeps revoked and consumed final', () => {
    expect(liveState({ state: 'revoked', expires_at: 1e12 }, 0)).toBe('revoked')
    expect(liveState({ state: 'consumed', expires_at: 0 }, 10)).toBe('consumed')
    expect(liveState({ state: 'active', expires_at: 10 }, 10)).toBe('expired')
    const t = { state: 'revoked' as const, expires_at: Math.floor(Date.now() / 1000) + 100 }
    render(<Countdown token={t} />)
    expect(screen.getByTestId('countdown').textContent).toBe('—')
  })
})

describe('token display', () => {
  it('colors the three segments', () => {
    render(<JwtSegments token="aaa.bbb.ccc" />)
    expect(screen.getByTestId('seg-header').textContent).toBe('aaa')
    expect(screen.getByTestId('seg-payload').textContent).toBe('bbb')
    expect(screen.getByTestId('seg-signature').textContent).toBe('ccc')
  })

  it('shows an opaque token as one piece', () => {
    render(<JwtSegments token="opaque123" />)
    expect(screen.getByTestId('raw-token').textContent).toBe('opaque123')
    expect(screen.queryByTestId('seg-header')).toBeNull()
  })

  it('describes claims and writes times for people', () => {
    const { container } = render(<ClaimsTable claims={{ iss: 'http://x', exp: 1767225600, aud: ['a', 'b'], custom: true }} />)
    const row = (k: string) => container.querySelector(`tr[data-claim="${k}"]`)!
    expect(row('iss').textContent).toContain('Issuer')
    expect(row('aud').textContent).toContain('["a","b"]')
    expect(screen.getByTestId('time-exp').textContent).toMatch(/2026/)
    expect(row('custom').querySelector('.desc')!.textContent).toBe('')
  })
})
