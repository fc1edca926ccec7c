// A call through the explaining proxy: what the upstream (the developer's own API) answered,
// shown before Latchkey's verdict on the token, so that a 401 from the API with a token
// Latchkey accepts never reads as a plain "Accepted".

import { ArrowRightLeft } from 'lucide-react'
import type { ProxyRecord, Verdict } from '../api/types'
import { Ticks } from './ui'
import { verdictLine, VerdictView } from './Verdict'

const refusedByApi = (p: ProxyRecord) => p.upstream_status === 401 || p.upstream_status === 403

/** What the client got, relating the upstream's answer to the verdict, in one sentence. */
export function proxyHeadline(p: ProxyRecord, v: Verdict, status: number): { text: string; tone: 'ok' | 'bad' | 'warn' } {
  if (!p.forwarded) return { text: `Not forwarded: Latchkey refused the token (${p.mode} mode) and answered ${status} itself; your API never saw this call.`, tone: 'bad' }
  if (p.upstream_status === null) {
    const why = status === 504 ? ': it sent no response headers within upstream_timeout' : status === 502 ? ': it could not be reached' : ''
    return { text: `No answer from your API, so the client got ${status}${why}.`, tone: 'bad' }
  }
  if (refusedByApi(p)) {
    return v.allowed
      ? { text: `Your API refused (${p.upstream_status}) a token Latchkey accepts.`, tone: 'bad' }
      : { text: `Your API refused (${p.upstream_status}), and Latchkey refuses the token too.`, tone: 'bad' }
  }
  if (p.upstream_status < 400 && !v.allowed) return { text: `Your API accepted (${p.upstream_status}) a token Latchkey refuses: it is more lenient than this resource's profile.`, tone: 'warn' }
  return { text: `Your API answered ${p.upstream_status}${v.allowed ? '; Latchkey accepts the token too' : ''}.`, tone: p.upstream_status >= 400 ? 'warn' : 'ok' }
}

/** The short text of a call-list row: the upstream's part first, then the verdict. */
export function proxyRowText(p: ProxyRecord, v: Verdict, status: number): string {
  if (!p.forwarded) return `not forwarded · ${verdictLine(v)}`
  if (p.upstream_status === null) return `no answer (${status}) · ${p.error ?? 'the upstream did not respond'}`
  const up = `upstream ${p.upstream_status}`
  if (refusedByApi(p)) return v.allowed ? `${up} · your API refused a token Latchkey accepts` : `${up} · Latchkey refuses too: ${verdictLine(v)}`
  if (p.upstream_status < 400 && !v.allowed) return `${up} · your API accepted a token Latchkey refuses: ${verdictLine(v)}`
  return `${up} · ${v.allowed ? 'all checks passed' : verdictLine(v)}`
}

/** Where the call went and what came back. */
export function UpstreamBlock({ proxy: p, verdict, status }: { proxy: ProxyRecord; verdict: Verdict; status: number }) {
  const h = proxyHeadline(p, verdict, status)
  return (
    <div className={`upstream-block ${h.tone}`} data-testid="upstream">
      <div className="t"><ArrowRightLeft size={15} /> Upstream <span className="muted small" style={{ fontWeight: 400 }}>· {p.mode} mode</span></div>
      <p className="headline" data-testid="upstream-headline">{h.text}</p>
      <div className="kv">
        <span className="k">Went to</span><span className="v" data-testid="upstream-url">{p.upstream_url}</span><span className="c" />
        <span className="k">Upstream status</span>
        <span className="v" data-testid="upstream-status">
          {p.upstream_status ?? <span style={{ fontFamily: 'var(--font)' }}>{p.forwarded ? 'no answer' : 'not forwarded'}{p.error ? ` (client got ${status})` : ''}</span>}
        </span><span className="c" />
        {p.error && <><span className="k">Error</span><span className="v" style={{ fontFamily: 'var(--font)' }} data-testid="upstream-error">{p.error}</span><span className="c" /></>}
        {p.forwarded && p.upstream_status !== null && (
          <><span className="k">WWW-Authenticate</span><span className="v" data-testid="upstream-challenge">{p.upstream_challenge ?? <span className="faint">none</span>}</span><span className="c" /></>
        )}
      </div>
      {p.explanation && <p className="m" data-testid="upstream-explanation"><Ticks text={p.explanation} /></p>}
    </div>
  )
}

/** The detail of a recorded call or request-log entry: the upstream first when proxied, then the verdict. */
export function CallDetail({ verdict, proxy, status }: { verdict: Verdict; proxy?: ProxyRecord | null; status: number }) {
  if (!proxy) return <VerdictView verdict={verdict} />
  return (
    <div className="stack" style={{ gap: 14 }}>
      <UpstreamBlock proxy={proxy} verdict={verdict} status={status} />
      <div className="stack-sm">
        <h3>Latchkey's verdict on the token</h3>
        <VerdictView verdict={verdict} proxy={proxy} />
      </div>
    </div>
  )
}
