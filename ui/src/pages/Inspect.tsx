import { useMutation } from '@tanstack/react-query'
import { ScanSearch } from 'lucide-react'
import { useState } from 'react'
import { Link } from 'react-router'
import { api } from '../api/client'
import { CheckAgainstResource } from '../components/ResourceCheck'
import { TokenView } from '../components/TokenView'
import { ErrorBox, PageHeader, Panel } from '../components/ui'

export function InspectPage() {
  const [text, setText] = useState('')
  const inspect = useMutation({ mutationFn: (t: string) => api.inspectToken(t) })
  const submit = (e?: React.FormEvent) => {
    e?.preventDefault()
    if (text.trim()) inspect.mutate(text.trim())
  }
  const d = inspect.data
  return (
    <div className="page">
      <PageHeader
        title="Inspect a token"
        sub="Paste any JWT or opaque token: decoded, its signature checked against this server's keys, introspected, and checked against any protected resource."
      />
      <Panel>
        <form onSubmit={submit} className="stack-sm">
          <label htmlFor="inspect-token" className="sr-only">Token</label>
          <textarea
            id="inspect-token"
            className="input"
            rows={4}
            spellCheck={false}
            placeholder="eyJhbGciOiJSUzI1NiIsInR5cCI6ImF0K2p3dCIs…"
            value={text}
            onChange={(e) => setText(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && (e.metaKey || e.ctrlKey)) submit()
            }}
          />
          <div className="row">
            <button type="submit" className="btn primary" disabled={!text.trim() || inspect.isPending}>
              <ScanSearch size={14} /> {inspect.isPending ? 'Inspecting…' : 'Inspect'}
            </button>
            <span className="muted small">Ctrl+Enter · the token is sent only to this Latchkey server.</span>
            {d?.record && <Link className="btn sm ghost" to={`/tokens/${encodeURIComponent(d.record.id)}`} style={{ marginLeft: 'auto' }}>Open in Tokens</Link>}
          </div>
        </form>
      </Panel>
      {inspect.error && <ErrorBox error={inspect.error} title="This is not a token Latchkey can read" />}
      {/* A resource still has a verdict on what Latchkey cannot decode (the format check). */}
      {inspect.error && inspect.variables && <CheckAgainstResource token={inspect.variables} />}
      {d && <TokenView detail={d} refreshing={inspect.isPending} onRefresh={() => inspect.mutate(d.token)} />}
    </div>
  )
}
