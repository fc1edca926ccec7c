import type { TokenItem, TokenRecord, TokenState } from '../api/types'

/**
 * The live state of a token at server time `now` (seconds): revoked and consumed are final;
 * otherwise it is active until `expires_at` and expired from then on (as the server decides:
 * `expires_at <= now` is expired).
 */
export function liveState(t: Pick<TokenItem, 'state' | 'expires_at'>, now: number): TokenState {
  if (t.state === 'revoked' || t.state === 'consumed') return t.state
  return t.expires_at <= now ? 'expired' : 'active'
}

/** A `token.issued` record as a list item. */
export function itemFromRecord(r: TokenRecord): TokenItem {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { status, token: _raw, ...rest } = r
  return { ...rest, state: status }
}
