// The event stream keeps a grant's lineage and the key-retired state current.
import { QueryClient } from '@tanstack/react-query'
import { beforeEach, describe, expect, it } from 'vitest'
import { applyEvent } from './events'
import { keys } from './queries'
import type { Envelope, KeyView, Page, TokenItem, TokenRecord } from './types'
import { resetClock, serverNow } from '../lib/clock'
import { keyRing, liveState } from '../lib/tokenState'

const now = () => Math.floor(serverNow())

function record(id: string, over: Partial<TokenRecord> = {}): TokenRecord {
  return {
    id, kind: 'access_token', format: 'jwt', client_id: 'web', subject: 's', username: 'alice',
    scope: 'openid', audience: ['web'], issued_at: now(), expires_at: now() + 60, status: 'active',
    status_at: null, status_reason: null, grant_type: 'authorization_code', grant_id: 'g1', parent_id: 'code',
    kid: 'k1', claims: {}, token: 'raw', ...over,
  }
}
let seq = 0
const env = (e: Omit<Envelope, 'id' | 'at'>): Envelope => ({ ...e, id: ++seq, at: Date.now() } as Envelope)
const item = (r: TokenRecord): TokenItem => {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { status, token, ...rest } = r
  return { ...rest, state: status }
}

describe('lineage events', () => {
  let qc: QueryClient
  beforeEach(() => {
    resetClock()
    qc = new QueryClient()
  })

  it('adds an issued token to its grant only', () => {
    qc.setQueryData<Page<TokenItem>>(keys.tokenList({ grant_id: 'g1' }), { items: [], next_cursor: null })
    qc.setQueryData<Page<TokenItem>>(keys.tokenList({ grant_id: 'g2' }), { items: [], next_cursor: null })
    applyEvent(qc, env({ type: 'token.issued', data: record('a1') }))
    expect(qc.getQueryData<Page<TokenItem>>(keys.tokenList({ grant_id: 'g1' }))!.items.map((t) => t.id)).toEqual(['a1'])
    expect(qc.getQueryData<Page<TokenItem>>(keys.tokenList({ grant_id: 'g2' }))!.items).toEqual([])
  })

  it('marks an exchanged code or rotated refresh token consumed where it is shown', () => {
    const rt = record('rt1', { kind: 'refresh_token', format: 'opaque', kid: null })
    qc.setQueryData<Page<TokenItem>>(keys.tokenList({ grant_id: 'g1' }), { items: [item(rt)], next_cursor: null })
    applyEvent(qc, env({ type: 'token.consumed', data: { ...rt, status: 'consumed', status_reason: 'rotated', status_at: now() } }))
    const t = qc.getQueryData<Page<TokenItem>>(keys.tokenList({ grant_id: 'g1' }))!.items[0]
    expect(t.state).toBe('consumed')
    expect(t.status_reason).toBe('rotated')
  })

  it('fetches a grant again after a replay revoked part of it (replayed_at is in no event)', () => {
    qc.setQueryData<Page<TokenItem>>(keys.tokenList({ grant_id: 'g1' }), { items: [item(record('a1'))], next_cursor: null })
    qc.setQueryData<Page<TokenItem>>(keys.tokenList({}), { items: [item(record('a1'))], next_cursor: null })
    applyEvent(qc, env({ type: 'token.revoked', data: { ids: ['a1'], reason: 'rotated refresh token reused' } }))
    expect(qc.getQueryState(keys.tokenList({ grant_id: 'g1' }))!.isInvalidated).toBe(true)
    expect(qc.getQueryState(keys.tokenList({}))!.isInvalidated).toBe(false)
    expect(qc.getQueryData<Page<TokenItem>>(keys.tokenList({}))!.items[0].state).toBe('revoked')
  })
})

describe('key retired', () => {
  const key = (kid: string, over: Partial<KeyView>): KeyView => ({
    kid, alg: 'RS256', status: 'active', created_at: 0, retired_at: null, expires_at: null, published: true, live_tokens: 0, jwk: {}, ...over,
  })
  const ring = keyRing([
    key('active', {}),
    key('retired', { status: 'retired', retired_at: 10, expires_at: 100 }),
    key('gone', { status: 'unpublished', published: false, retired_at: 10, expires_at: 20 }),
  ])
  const t = (kid: string | null, over: Partial<TokenItem> = {}) => ({ state: 'active' as const, expires_at: 1000, kid, ...over })

  it('follows the JWKS: a retired key leaves at expires_at, an unpublished one is gone', () => {
    expect(liveState(t('active'), 50, ring)).toBe('active')
    expect(liveState(t('retired'), 50, ring)).toBe('active')
    expect(liveState(t('retired'), 100, ring)).toBe('key_retired')
    expect(liveState(t('gone'), 50, ring)).toBe('key_retired')
    expect(liveState(t(null), 50, ring)).toBe('active')
  })

  it('puts revoked, consumed and expired first, and trusts the server for a key it does not know', () => {
    expect(liveState(t('gone', { state: 'revoked' }), 50, ring)).toBe('revoked')
    expect(liveState(t('gone', { expires_at: 40 }), 50, ring)).toBe('expired')
    expect(liveState(t('unknown', { state: 'key_retired' }), 50, ring)).toBe('key_retired')
    expect(liveState(t('unknown', { state: 'key_retired' }), 50)).toBe('key_retired')
    expect(liveState(t('unknown'), 50, ring)).toBe('active')
  })
})
