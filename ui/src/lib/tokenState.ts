import type { KeyView, TokenItem, TokenRecord, TokenState } from '../api/types'

/**
 * Which signing keys are in the JWKS at a given server time, from the Keys list: the active
 * key, and a retired key until its `expires_at` (the server drops it then, even when the
 * clock jumps); an `unpublished` key never again. `undefined` for a key the list does not
 * know (not loaded yet).
 */
export interface KeyRing {
  isPublished(kid: string, now: number): boolean | undefined
}

export function keyRing(keys: KeyView[] | undefined): KeyRing {
  const byKid = new Map((keys ?? []).map((k) => [k.kid, k]))
  return {
    isPublished(kid, now) {
      const k = byKid.get(kid)
      if (!k) return undefined
      if (k.status === 'active') return true
      if (k.status === 'unpublished' || !k.published) return false
      return k.expires_at === null || k.expires_at > now
    },
  }
}

type Stateful = Pick<TokenItem, 'state' | 'expires_at'> & { kid?: string | null }

/**
 * The live state of a token at server time `now` (seconds), as the server decides it:
 * revoked and consumed are final; then expired (`expires_at <= now`); then `key_retired`
 * when its signing key has left the JWKS (by `ring`, or as the server said when the ring does
 * not know the key); otherwise active.
 */
export function liveState(t: Stateful, now: number, ring?: KeyRing): TokenState {
  if (t.state === 'revoked' || t.state === 'consumed') return t.state
  if (t.expires_at <= now) return 'expired'
  const published = t.kid ? ring?.isPublished(t.kid, now) : undefined
  if (published === false) return 'key_retired'
  if (published === undefined && t.state === 'key_retired') return 'key_retired'
  return 'active'
}

/** Words for a state, as the badges show it. */
export const STATE_LABEL: Record<TokenState, string> = {
  active: 'active',
  expired: 'expired',
  revoked: 'revoked',
  consumed: 'consumed',
  key_retired: 'key retired',
}

/** A `token.issued` record as a list item. */
export function itemFromRecord(r: TokenRecord): TokenItem {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { status, token: _raw, ...rest } = r
  return { ...rest, state: status }
}
