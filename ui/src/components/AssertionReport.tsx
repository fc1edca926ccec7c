// The request log's view of a client assertion or JWT bearer assertion: what it said, what
// time it was checked against (real or virtual), the skew seen, and the outcome.

import type { AssertionReport } from '../api/types'
import { formatTime } from '../lib/format'

function when(t: number | undefined): string {
  return t === undefined ? '—' : `${t} (${formatTime(t)})`
}

/** "30 s behind", "2 s ahead", "in step". */
export function skewText(s: number | undefined): string {
  if (s === undefined) return 'no iat: skew unknown'
  if (s === 0) return 'in step'
  return `${Math.abs(s)} s ${s > 0 ? 'ahead' : 'behind'}`
}

export function AssertionView({ a }: { a: AssertionReport }) {
  const rows: [string, string][] = [
    ['method', `${a.method} (${a.parameter})`],
    ['alg / kid', `${a.alg}${a.kid ? ` / ${a.kid}` : ''}`],
    ['iss', a.iss ?? '—'],
    ['sub', a.sub ?? '—'],
    ['aud', a.aud === undefined ? '—' : JSON.stringify(a.aud)],
    ['jti', a.jti ?? '—'],
    ['iat', when(a.iat)],
    ['nbf', when(a.nbf)],
    ['exp', when(a.exp)],
    ['checked against', `${a.time_basis} time, ${when(a.now)}`],
    ['sender’s clock', skewText(a.skew_seconds)],
    ['keys from', a.key_source || '—'],
  ]
  return (
    <div className="stack-sm" data-testid="request-assertion">
      <h3>
        {a.parameter === 'assertion' ? 'JWT bearer assertion' : 'Client assertion'}:{' '}
        <span className={`badge ${a.accepted ? 'active' : 'expired'}`}>{a.accepted ? 'accepted' : 'refused'}</span>
      </h3>
      {a.refused && <p className="error">{a.refused}</p>}
      <table className="table claims">
        <tbody>
          {rows.map(([k, v]) => (
            <tr key={k}><td className="name">{k}</td><td className="value">{v}</td></tr>
          ))}
        </tbody>
      </table>
      {a.time_basis === 'real' && (
        <p className="muted small">Assertion times follow real time, so a moved virtual clock does not affect them (Settings: assertion time).</p>
      )}
    </div>
  )
}
