// The request log's view of a DPoP proof (RFC 9449): the header and claims as sent, the key's
// thumbprint, the time iat was judged against, and every check in order, the first failure
// highlighted with its fix (an htu that differs behind a proxy, a stale nonce, clock skew).

import type { DpopReport } from '../api/types'
import { formatTime } from '../lib/format'
import { skewText } from './AssertionReport'
import { VerdictTable } from './Verdict'

const str = (v: unknown): string => (v === undefined || v === null ? '—' : typeof v === 'string' ? v : JSON.stringify(v))

export function DpopView({ d }: { d: DpopReport }) {
  const jwk = d.header.jwk as Record<string, unknown> | undefined
  const iat = typeof d.claims.iat === 'number' ? d.claims.iat : undefined
  const rows: [string, string][] = [
    ['typ / alg', `${str(d.header.typ)} / ${str(d.header.alg)}`],
    ['key', jwk ? `${str(jwk.kty)}${jwk.crv ? ` ${str(jwk.crv)}` : ''}` : '—'],
    ['jkt (thumbprint)', d.jkt ?? '—'],
    ['htm htu', `${str(d.claims.htm)} ${str(d.claims.htu)}`],
    ['iat', iat === undefined ? str(d.claims.iat) : `${iat} (${formatTime(iat)})`],
    ['checked against', `${d.time_basis} time, ${d.now} (${formatTime(d.now)})`],
    ['client’s clock', skewText(d.skew_seconds)],
    ['jti', str(d.claims.jti)],
    ['nonce', str(d.claims.nonce)],
    ['ath', str(d.claims.ath)],
  ]
  const failed = d.checks.find((c) => c.result === 'failed')
  return (
    <div className="stack-sm" data-testid="request-dpop">
      <h3>
        DPoP proof at {d.endpoint}:{' '}
        <span className={`badge ${d.accepted ? 'active' : 'expired'}`}>{d.accepted ? 'accepted' : d.error ?? 'refused'}</span>
      </h3>
      {d.error_description && <p className="error">{d.error_description}</p>}
      <table className="table claims">
        <tbody>
          {rows.map(([k, v]) => (
            <tr key={k}><td className="name">{k}</td><td className="value mono">{v}</td></tr>
          ))}
        </tbody>
      </table>
      <VerdictTable verdict={{ checks: d.checks, decided_by: failed?.check ?? null }} caption="The DPoP proof's checks" />
      {d.time_basis === 'real' && (
        <p className="muted small">Proofs are stamped with the client’s real clock, so a moved virtual clock does not affect them (Settings: assertion time).</p>
      )}
    </div>
  )
}
