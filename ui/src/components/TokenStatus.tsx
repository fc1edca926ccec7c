// The live state of a token: a badge that turns "expired" by itself at `exp` (server clock)
// and a countdown to expiry.

import type { TokenItem, TokenState } from '../api/types'
import { useServerNow } from '../lib/clock'
import { formatDuration } from '../lib/format'
import { liveState } from '../lib/tokenState'

export function StatusBadge({ state }: { state: TokenState }) {
  return (
    <span className={`badge ${state}`} data-testid="status-badge" data-state={state}>
      {state}
    </span>
  )
}

/** The badge for a token, recomputed every second against the server clock. */
export function LiveStatusBadge({ token }: { token: Pick<TokenItem, 'state' | 'expires_at'> }) {
  const now = useServerNow()
  return <StatusBadge state={liveState(token, now)} />
}

/** `4m 05s` left, `expired 12s ago`, or `revoked`. */
export function Countdown({ token }: { token: Pick<TokenItem, 'state' | 'expires_at'> }) {
  const now = useServerNow()
  const state = liveState(token, now)
  const left = token.expires_at - now
  let text: string
  if (state === 'revoked' || state === 'consumed') text = '—'
  else if (left > 0) text = formatDuration(Math.ceil(left))
  else text = `${formatDuration(-left)} ago`
  return (
    <span className={`countdown num ${state === 'active' ? '' : 'muted'}`} data-testid="countdown" title={state === 'active' ? 'Time left before expiry (server clock)' : undefined}>
      {text}
    </span>
  )
}
