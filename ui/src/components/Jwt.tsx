// The raw token in its three colored segments, and a claims table with descriptions and
// human-readable times.

import { describeClaim, TIME_CLAIMS } from '../lib/claims'
import { formatDateTime, relative } from '../lib/format'
import { splitJwt } from '../lib/jwt'
import { useServerNow } from '../lib/clock'

export function JwtSegments({ token }: { token: string }) {
  const parts = splitJwt(token)
  if (!parts) {
    return <div className="jwt" data-testid="raw-token">{token}</div>
  }
  return (
    <div className="stack-sm">
      <div className="jwt" data-testid="raw-token">
        <span className="seg-header" data-testid="seg-header">{parts.header}</span>
        <span className="seg-dot">.</span>
        <span className="seg-payload" data-testid="seg-payload">{parts.payload}</span>
        <span className="seg-dot">.</span>
        <span className="seg-signature" data-testid="seg-signature">{parts.signature}</span>
      </div>
      <div className="seg-legend" aria-hidden="true">
        <span className="seg-header">Header</span>
        <span className="seg-payload">Payload</span>
        <span className="seg-signature">Signature</span>
      </div>
    </div>
  )
}

export function formatClaimValue(v: unknown): string {
  if (typeof v === 'string') return v
  return JSON.stringify(v)
}

export function ClaimsTable({ claims, caption }: { claims: Record<string, unknown>; caption?: string }) {
  const now = useServerNow()
  const entries = Object.entries(claims)
  return (
    <table className="table claims">
      {caption && <caption className="sr-only">{caption}</caption>}
      <thead>
        <tr>
          <th>Claim</th>
          <th>Value</th>
          <th>Meaning</th>
        </tr>
      </thead>
      <tbody>
        {entries.map(([k, v]) => (
          <tr key={k} data-claim={k}>
            <td className="name">{k}</td>
            <td className="value">
              {formatClaimValue(v)}
              {TIME_CLAIMS.has(k) && typeof v === 'number' && (
                <span className="time" data-testid={`time-${k}`}>
                  {formatDateTime(v)} · {relative(v, now)}
                </span>
              )}
            </td>
            <td className="desc">{describeClaim(k) ?? ''}</td>
          </tr>
        ))}
        {entries.length === 0 && (
          <tr>
            <td colSpan={3} className="muted">No claims.</td>
          </tr>
        )}
      </tbody>
    </table>
  )
}
