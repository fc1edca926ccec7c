import { useQueries } from '@tanstack/react-query'
import { ChevronRight, Plus, ShieldCheck } from 'lucide-react'
import { Link, useNavigate } from 'react-router'
import { api } from '../api/client'
import { keys, useResources, useStatus } from '../api/queries'
import type { ResourceCall } from '../api/types'
import { Code } from '../components/Code'
import { EmptyState, ErrorBox, Loading, PageHeader, Panel } from '../components/ui'
import { checkLabel, firstFailure } from '../components/Verdict'
import { useServerNow } from '../lib/clock'
import { relative } from '../lib/format'
import { audienceList, DEFAULT_PROFILE, overrides } from '../lib/resourceForm'
import { StatusCode } from './Resource'

const EXAMPLE_TOML = `[[resources]]
name = "books"
audience = "books-api"
required_scopes = ["read_books"]
rules = [{ method = "POST", path = "/books/*", scopes = ["add_books"] }]`

/** What went wrong, in a few words: the `request` row is about the request, not a check. */
function lastCallFailure(check: string, error?: string | null): string {
  if (check === 'request') return error ? 'Malformed request' : 'No token sent'
  return `${checkLabel(check)} check failed`
}

function LastCall({ call, now }: { call: ResourceCall | undefined; now: number }) {
  if (!call) return <span className="faint">no call yet</span>
  const f = firstFailure(call.verdict)
  return (
    <span className="row" style={{ gap: 8, flexWrap: 'nowrap', alignItems: 'flex-start' }} title={f?.explanation}>
      <StatusCode status={call.status} />
      <span className="sub" style={{ minWidth: 0 }}>
        <span className="mono">{call.method} {call.path}</span> · {relative(call.at / 1000, now)}
        {f && <div>{lastCallFailure(f.check, call.verdict.error)}</div>}
      </span>
    </span>
  )
}

export function ResourcesPage() {
  const { data, error, isPending } = useResources()
  const status = useStatus()
  const nav = useNavigate()
  const now = useServerNow()
  const list = [...(data ?? [])].sort((a, b) => a.name.localeCompare(b.name))
  // The newest call of each resource; `resource.called` events keep these lists current.
  const calls = useQueries({
    queries: list.map((r) => ({ queryKey: keys.resourceCalls(r.name), queryFn: () => api.resourceCalls(r.name) })),
  })
  const issuer = status.data?.issuer ?? ''
  return (
    <div className="page">
      <PageHeader
        title="Resources"
        sub="Protected APIs Latchkey serves and explains: each call gets a verdict saying which check refused the token, and how to fix it."
        actions={<Link className="btn primary" to="/resources/new"><Plus size={14} /> Add resource</Link>}
      />
      {error && <ErrorBox error={error} title="Could not load the resources" />}
      <Panel flush>
        {isPending ? <Loading rows={3} /> : list.length === 0 ? (
          <EmptyState
            icon={<ShieldCheck size={22} />}
            title="No protected resource yet"
            action={
              <div className="row" style={{ justifyContent: 'center' }}>
                <Link className="btn primary" to="/resources/new?example=books"><Plus size={14} /> Add resource: books / read_books</Link>
                <Link className="btn" to="/resources/new">Start empty</Link>
              </div>
            }
          >
            <p>
              A resource is an API your tokens are meant for, like a view protected by
              {' '}<code>protected_resource_view(['read_books'])</code>. Latchkey serves it at
              {' '}<span className="mono">{issuer || '{issuer}'}/resources/books/…</span> and checks every token as your
              API would: signature, issuer, audience, expiry, scopes. When it refuses one, you see which check failed and what to change.
            </p>
            <div style={{ width: 'min(660px, 100%)', marginTop: 6 }}>
              <Code code={EXAMPLE_TOML} language="toml" copy={false} />
            </div>
            <p className="small">The same in <span className="mono">latchkey.toml</span>; the button fills the form with it.</p>
          </EmptyState>
        ) : (
          <div className="table-wrap">
            <table className="table" data-testid="resources-table">
              <thead>
                <tr><th>Resource</th><th>Audience</th><th>Scopes</th><th>Validation</th><th>Last call</th><th className="actions"><span className="sr-only">Open</span></th></tr>
              </thead>
              <tbody>
                {list.map((r, i) => {
                  const href = `/resources/${encodeURIComponent(r.name)}`
                  const ruleScopes = (r.rules ?? []).length
                  const ov = overrides(r)
                  return (
                    <tr key={r.name} className="clickable" data-resource={r.name} tabIndex={0} onClick={() => nav(href)} onKeyDown={(e) => e.key === 'Enter' && nav(href)}>
                      <td style={{ minWidth: 200 }}>
                        <strong className="mono">{r.name}</strong>
                        <div className="sub mono" style={{ overflowWrap: 'anywhere' }} title={r.identifier}>{r.identifier ?? `${issuer}/resources/${r.name}`}</div>
                      </td>
                      <td><div className="chips">{audienceList(r).length ? audienceList(r).map((a) => <span key={a} className="tag">{a}</span>) : <span className="faint small">identifier only</span>}</div></td>
                      <td>
                        <div className="chips">{r.required_scopes.length ? r.required_scopes.map((s) => <span key={s} className="tag accent">{s}</span>) : <span className="faint small">none</span>}</div>
                        {ruleScopes > 0 && <div className="sub">+ {ruleScopes} rule{ruleScopes === 1 ? '' : 's'}</div>}
                      </td>
                      <td className="nowrap">
                        {r.validation === 'introspection' ? 'introspection' : 'JWT'}
                        <div className="sub">{r.profile ?? DEFAULT_PROFILE}{ov.length ? ` · ${ov.length} override${ov.length === 1 ? '' : 's'}` : ''}{r.upstream ? ` · proxy (${r.mode ?? 'enforce'})` : ''}</div>
                      </td>
                      <td><LastCall call={calls[i]?.data?.[0]} now={now} /></td>
                      <td className="actions"><Link to={href} className="btn icon ghost" aria-label={`Open ${r.name}`} onClick={(e) => e.stopPropagation()}><ChevronRight size={15} /></Link></td>
                    </tr>
                  )
                })}
              </tbody>
            </table>
          </div>
        )}
      </Panel>
    </div>
  )
}
