// The live state of a token: a badge that turns "expired" by itself at `exp` (server clock)
// and a countdown to expiry.

import { useKeyRing } from '../api/queries'
import type { TokenItem, TokenState } from '../api/types'
import { useServerNow } from '../lib/clock'
import { formatDuration } from '../lib/format'
import { liveState, STATE_LABEL } from '../lib/tokenState'
import './lineage.css'

type Stateful = Pick<TokenItem, 'state' | 'expires_at'> & { kid?: string | null }

const TITLE: Partial<Record<TokenState, string>> = {
  key_retired: 'Not expired, but its signing key has left the JWKS: it no longer verifies, and /introspect says inactive',
}

export function StatusBadge({ state }: { state: TokenState }) {
  return (
    <span className={`badge ${state}`} data-testid="status-badge" data-state={state} title={TITLE[state]}>
      {STATE_LABEL[state]}
    </span>
  )
}

/** The live state of a token: server clock, and whether its key is still in the JWKS. */
export function useLiveState(token: Stateful): TokenState {
  const now = useServerNow()
  const ring = useKeyRing()
  return liveState(token, now, ring)
}

/** The badge for a token, recomputed every second against the server clock and the JWKS. */
export function LiveStatusBadge({ token }: { token: Stateful }) {
  return <StatusBadge state={useLiveState(token)} />
}

/** `4m 05s` left, `expired 12s ago`, or `revoked`. */
export function Countdown({ token }: { token: Stateful }) {
  const now = useServerNow()
  const state = useLiveState(token)
  const left = token.expires_at - now
  let text: string
  if (state === 'revoked' || state === 'consumed') text = '—'
  else if (state === 'key_retired') text = formatDuration(Math.ceil(left))
  else if (left > 0) text = formatDuration(Math.ceil(left))
  else text = `${formatDuration(-left)} ago`
  return (
    <span className={`countdown num ${state === 'active' ? '' : 'muted'}`} data-testid="countdown" title={state === 'active' ? 'Time left before expiry (server clock)' : state === 'key_retired' ? 'Time left before expiry; it no longer verifies, since its signing key has left the JWKS' : undefined}>
      {text}
    </span>
  )
}
