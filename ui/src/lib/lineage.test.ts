import { describe, expect, it } from 'vitest'
import type { TokenItem, TokenKind } from '../api/types'
import { buildLineage, flatten, pathTo, refreshCount } from './lineage'

let n = 0
function tok(kind: TokenKind, over: Partial<TokenItem> = {}): TokenItem {
  n++
  return {
    id: over.id ?? `${kind}-${n}`,
    kind,
    format: 'jwt',
    client_id: 'web',
    subject: 's',
    username: 'alice',
    scope: 'openid',
    audience: ['web'],
    issued_at: 100,
    expires_at: 4000,
    state: 'active',
    status_at: null,
    status_reason: null,
    grant_type: 'authorization_code',
    grant_id: 'code',
    parent_id: null,
    kid: 'k1',
    claims: {},
    replayed_at: null,
    ...over,
  }
}

/** A code exchanged, then two refreshes with rotation, then the first refresh token replayed. */
function family() {
  const code = tok('authorization_code', { id: 'code', state: 'consumed', status_reason: 'exchanged for tokens', replayed_at: null })
  const at1 = tok('access_token', { id: 'at1', parent_id: 'code' })
  const id1 = tok('id_token', { id: 'id1', parent_id: 'code' })
  const rt1 = tok('refresh_token', { id: 'rt1', parent_id: 'code', state: 'consumed', status_reason: 'rotated', replayed_at: 130 })
  const at2 = tok('access_token', { id: 'at2', parent_id: 'rt1', issued_at: 110, grant_type: 'refresh_token' })
  const rt2 = tok('refresh_token', { id: 'rt2', parent_id: 'rt1', issued_at: 110, grant_type: 'refresh_token', state: 'consumed', status_reason: 'rotated' })
  const revoked = { state: 'revoked' as const, status_at: 130, status_reason: 'rotated refresh token reused' }
  const at3 = tok('access_token', { id: 'at3', parent_id: 'rt2', issued_at: 120, grant_type: 'refresh_token', ...revoked })
  const id3 = tok('id_token', { id: 'id3', parent_id: 'rt2', issued_at: 120, grant_type: 'refresh_token', ...revoked })
  const rt3 = tok('refresh_token', { id: 'rt3', parent_id: 'rt2', issued_at: 120, grant_type: 'refresh_token', ...revoked })
  return [code, at1, id1, rt1, at2, rt2, at3, id3, rt3]
}

describe('buildLineage', () => {
  it('hangs every token under the code or refresh token it came from, in reading order', () => {
    // The API lists newest first; the order given must not matter.
    const l = buildLineage(family().reverse())
    expect(l.size).toBe(9)
    expect(l.roots.map((r) => r.token.id)).toEqual(['code'])
    expect(flatten(l).map((x) => `${'  '.repeat(x.depth)}${x.token.id}`)).toEqual([
      'code',
      '  at1',
      '  id1',
      '  rt1',
      '    at2',
      '    rt2',
      '      at3',
      '      id3',
      '      rt3',
    ])
    expect(l.startedAt).toBe(100)
    expect(l.orphans).toEqual([])
    expect(refreshCount(l)).toBe(2)
  })

  it('finds a replay and the family it revoked, with the reason', () => {
    const l = buildLineage(family())
    expect(l.replays).toHaveLength(1)
    const r = l.replays[0]
    expect(r.token.id).toBe('rt1')
    expect(r.at).toBe(130)
    expect(r.revoked.map((t) => t.id)).toEqual(['at3', 'id3', 'rt3'])
    expect(r.reason).toBe('rotated refresh token reused')
  })

  it('does not count tokens revoked at another moment or for another reason', () => {
    const tokens = family()
    tokens.push(tok('access_token', { id: 'admin', parent_id: 'rt2', issued_at: 120, state: 'revoked', status_at: 130, status_reason: 'revoked by the admin' }))
    tokens.push(tok('access_token', { id: 'later', parent_id: 'rt2', issued_at: 120, state: 'revoked', status_at: 200, status_reason: 'rotated refresh token reused' }))
    expect(buildLineage(tokens).replays[0].revoked.map((t) => t.id)).toEqual(['at3', 'id3', 'rt3'])
  })

  it('shows a client-credentials token alone', () => {
    const l = buildLineage([tok('access_token', { id: 'cc', grant_type: 'client_credentials', grant_id: null })])
    expect(flatten(l).map((x) => x.token.id)).toEqual(['cc'])
    expect(l.replays).toEqual([])
    expect(refreshCount(l)).toBe(0)
  })

  it('keeps a token whose parent is missing as a root and says so', () => {
    const l = buildLineage([tok('access_token', { id: 'a', parent_id: 'gone' }), tok('authorization_code', { id: 'c' })])
    expect(l.roots.map((r) => r.token.id).sort()).toEqual(['a', 'c'])
    expect(l.orphans).toEqual(['a'])
  })

  it('survives a cycle and duplicates in bad data', () => {
    const a = tok('refresh_token', { id: 'a', parent_id: 'b' })
    const b = tok('refresh_token', { id: 'b', parent_id: 'a' })
    const l = buildLineage([a, b, a])
    expect(l.size).toBe(2)
    expect(flatten(l).map((x) => x.token.id).sort()).toEqual(['a', 'b'])
  })

  it('gives the chain from the root to a token', () => {
    const l = buildLineage(family())
    expect(pathTo(l, 'at3').map((t) => t.id)).toEqual(['code', 'rt1', 'rt2', 'at3'])
    expect(pathTo(l, 'nope')).toEqual([])
  })
})
