// A resource's verdict on a token: one row per check, in the order the resource made them.
// The first failing row decided the status; it is highlighted and repeated in the summary.

import { CircleCheck, CircleMinus, CircleX, ShieldAlert, ShieldCheck } from 'lucide-react'
import type { ReactElement } from 'react'
import type { CheckResult, ProxyRecord, Verdict, VerdictCheck } from '../api/types'
import { Ticks } from './ui'

/** Human names of the checks (the wire names stay visible beside them). */
const LABELS: Record<string, string> = {
  format: 'Token format',
  token_format: 'Token format',
  kind: 'Token kind',
  token_kind: 'Token kind',
  typ: 'Header typ',
  alg: 'Algorithm',
  kid: 'Key id (kid)',
  signature: 'Signature',
  iss: 'Issuer',
  aud: 'Audience',
  exp: 'Expiry',
  nbf: 'Not before',
  iat: 'Issued at',
  scope: 'Scopes',
  scopes: 'Scopes',
  active: 'Introspection',
  introspection: 'Introspection',
  revocation: 'Revocation',
  revoked: 'Revocation',
  request: 'Request',
  credentials: 'Credentials',
  token: 'Token present',
  // DPoP (RFC 9449): the verdict's row and a proof's checks.
  dpop: 'DPoP',
  header: 'Proof format',
  jwk: 'Public key (jwk)',
  htm: 'Method (htm)',
  htu: 'URL (htu)',
  jti: 'Proof id (jti)',
  nonce: 'Server nonce',
  ath: 'Token hash (ath)',
  jkt: 'Bound key (jkt)',
}

export const checkLabel = (check: string): string => LABELS[check] ?? check.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase())

/** The row that decided the status: `decided_by`, else the first failure, if any. */
export function firstFailure(v: Pick<Verdict, 'checks' | 'decided_by'>): VerdictCheck | undefined {
  return (v.decided_by ? v.checks.find((c) => c.check === v.decided_by && c.result === 'failed') : undefined)
    ?? v.checks.find((c) => c.result === 'failed')
}

/** The RFC 6750 error code in a challenge (`Bearer error="invalid_token", …`), if any. */
export function challengeError(challenge?: string | null): string | null {
  return challenge ? (/\berror="([^"]*)"/.exec(challenge)?.[1] ?? null) : null
}

/**
 * Where two strings differ: the common prefix and suffix, and the differing middles
 * (`http://localhost:8000/` vs `http://localhost:8000` → the trailing slash).
 */
export function diffStrings(a: string, b: string): { prefix: string; a: string; b: string; suffix: string } {
  let p = 0
  while (p < a.length && p < b.length && a[p] === b[p]) p++
  let s = 0
  while (s < a.length - p && s < b.length - p && a[a.length - 1 - s] === b[b.length - 1 - s]) s++
  return { prefix: a.slice(0, p), a: a.slice(p, a.length - s), b: b.slice(p, b.length - s), suffix: a.slice(a.length - s) }
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })

/** A number that reads as a UNIX time in seconds (2001–2286), shown with the time of day. */
const isUnixTime = (n: number): boolean => Number.isInteger(n) && n >= 1_000_000_000 && n < 10_000_000_000

function show(v: unknown): string {
  if (v === undefined) return ''
  if (v === null) return 'null'
  if (typeof v === 'string') return v
  if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number')) return v.join(' ')
  return JSON.stringify(v)
}

/** A compared value; when both sides are short strings that differ, the differing part is marked. */
function Value({ value, other, side }: { value: unknown; other: unknown; side: 'a' | 'b' }) {
  if (value === undefined || value === null || value === '') return <span className="faint">—</span>
  if (typeof value === 'string' && typeof other === 'string' && value !== other && value.length < 200 && other.length < 200) {
    const d = side === 'a' ? diffStrings(value, other) : diffStrings(other, value)
    const mid = side === 'a' ? d.a : d.b
    // Nothing in common: marking the whole value adds nothing.
    if (d.prefix || d.suffix) {
      return (
        <span className="vv">
          {d.prefix}
          {mid ? <mark className="diff" title="differs">{mid}</mark> : <mark className="diff gap" title="missing here" />}
          {d.suffix}
        </span>
      )
    }
  }
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    // `{api_now, leeway}`, `{claim, scopes}`, `{alg, kid}`: one `key: value` per line.
    const entries = Object.entries(value as Record<string, unknown>)
    if (entries.length === 0) return <span className="faint">—</span>
    return (
      <span className="vv list">
        {entries.map(([k, v]) => (
          <span key={k}><span className="k">{k}:</span> {typeof v === 'number' && isUnixTime(v) ? <span title={new Date(v * 1000).toISOString()}>{v} <span className="t">{timeFmt.format(new Date(v * 1000))}</span></span> : show(v)}</span>
        ))}
      </span>
    )
  }
  if (typeof value === 'number' && isUnixTime(value)) {
    return <span className="vv" title={new Date(value * 1000).toISOString()}>{value} <span className="t">{timeFmt.format(new Date(value * 1000))}</span></span>
  }
  if (Array.isArray(value) && value.length > 1 && value.every((x) => typeof x === 'string' || typeof x === 'number')) {
    // One value per line: a list of audiences or algorithms reads as a list.
    return <span className="vv list">{value.map((x, i) => <span key={i}>{String(x)}</span>)}</span>
  }
  return <span className="vv">{show(value)}</span>
}

const ICON: Record<CheckResult, ReactElement> = {
  passed: <CircleCheck size={13} />,
  failed: <CircleX size={13} />,
  skipped: <CircleMinus size={13} />,
}

export function ResultBadge({ result }: { result: CheckResult }) {
  return (
    <span className={`badge result ${result}`} data-result={result}>
      {ICON[result]}
      {result}
    </span>
  )
}

/** The verdict as a table: check, result, expected vs actual, explanation and fix. */
export function VerdictTable({ verdict, caption }: { verdict: Pick<Verdict, 'checks' | 'decided_by'>; caption?: string }) {
  const decided = firstFailure(verdict)
  const first = decided ? verdict.checks.indexOf(decided) : -1
  return (
    <div className="table-wrap">
      <table className="table verdict-table" data-testid="verdict-table">
        {caption && <caption className="sr-only">{caption}</caption>}
        <colgroup>
          <col style={{ width: '17%' }} />
          <col style={{ width: 96 }} />
          <col style={{ width: '20%' }} />
          <col style={{ width: '20%' }} />
          <col />
        </colgroup>
        <thead>
          <tr><th>Check</th><th>Result</th><th>Expected</th><th>Actual</th><th>Why, and how to fix it</th></tr>
        </thead>
        <tbody>
          {verdict.checks.map((c, i) => (
            <tr
              key={`${c.check}-${i}`}
              data-check={c.check}
              data-result={c.result}
              className={`${c.result} ${i === first ? 'first-failure' : ''}`}
              aria-current={i === first ? 'true' : undefined}
            >
              <td>
                <div className="check-name">{checkLabel(c.check)}</div>
                <div className="sub mono">{c.check}</div>
              </td>
              <td><ResultBadge result={c.result} /></td>
              <td className="mono cmp"><Value value={c.expected} other={c.actual} side="a" /></td>
              <td className="mono cmp"><Value value={c.actual} other={c.expected} side="b" /></td>
              <td className="why">
                {c.explanation && <div data-testid="explanation"><Ticks text={c.explanation} /></div>}
                {c.fix && c.result !== 'passed' && (
                  <div className="fix" data-testid="fix"><span className="fix-label">Fix</span> <Ticks text={c.fix} /></div>
                )}
                {i === first && <div className="decided">This check decided the answer.</div>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

/** One line for lists: `401 · Audience: expected books-api`. */
export function verdictLine(v: Verdict): string {
  const f = firstFailure(v)
  if (v.allowed || !f) return v.allowed ? 'allowed' : 'refused'
  return `${checkLabel(f.check)}: ${f.explanation ?? f.result}`
}

/** The answer in a sentence, with the deciding row's explanation and fix, above the table. */
/**
 * With `proxy` (a call through the explaining proxy) the summary speaks of Latchkey's verdict
 * only: the status the client got is the upstream's, and "your API would accept" is not claimed.
 */
export function VerdictSummary({ verdict, proxy }: { verdict: Verdict; proxy?: ProxyRecord | null }) {
  const f = firstFailure(verdict)
  const code = verdict.error ?? challengeError(verdict.challenge)
  const counts = { passed: 0, failed: 0, skipped: 0 }
  for (const c of verdict.checks) counts[c.result]++
  return (
    <div className={`verdict ${verdict.allowed ? 'ok' : 'bad'}`} data-testid="verdict-summary" data-allowed={verdict.allowed}>
      {verdict.allowed ? <ShieldCheck size={18} /> : <ShieldAlert size={18} />}
      <div className="stack-sm" style={{ gap: 4, minWidth: 0 }}>
        <div className="t">
          {proxy
            ? <>{verdict.allowed ? 'Latchkey accepts the token' : `Latchkey refuses the token · ${verdict.status}`}</>
            : <>{verdict.allowed ? 'Accepted' : 'Refused'} · {verdict.status}</>}
          {code ? <span className="mono"> {code}</span> : null}
          <span className="counts">
            {counts.passed} passed{counts.failed ? ` · ${counts.failed} failed` : ''}{counts.skipped ? ` · ${counts.skipped} skipped` : ''}
          </span>
        </div>
        {f ? (
          <div className="m">
            <strong>{checkLabel(f.check)}:</strong> {f.explanation ? <Ticks text={f.explanation} /> : 'failed'}
            {f.fix && <div className="m fix-line"><strong>Fix:</strong> <Ticks text={f.fix} /></div>}
          </div>
        ) : (
          <div className="m">
            {!verdict.allowed
              ? 'Refused, though no check failed.'
              : !proxy
              ? 'Every check passed: your API, configured like this resource, would accept this token.'
              : proxy.upstream_status === 401 || proxy.upstream_status === 403
              ? `Every check Latchkey makes passed, yet your API answered ${proxy.upstream_status}: it expects something this resource's settings do not reproduce (compare its audience, issuer, algorithms, typ and scopes with the expected values below).`
              : 'Every check Latchkey makes passed.'}
          </div>
        )}
        {verdict.challenge && (
          <div className="m challenge"><span className="muted">{proxy ? "Latchkey's WWW-Authenticate:" : 'WWW-Authenticate:'}</span> <code className="mono">{verdict.challenge}</code></div>
        )}
      </div>
    </div>
  )
}

export function VerdictView({ verdict, proxy }: { verdict: Verdict; proxy?: ProxyRecord | null }) {
  return (
    <div className="stack-sm" style={{ gap: 12 }}>
      <VerdictSummary verdict={verdict} proxy={proxy} />
      <VerdictTable verdict={verdict} caption="Checks made on the token" />
    </div>
  )
}
