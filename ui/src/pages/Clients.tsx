import { useMutation, useQueryClient } from '@tanstack/react-query'
import { Boxes, FileJson, Plus, RefreshCw, Trash2 } from 'lucide-react'
import { useState } from 'react'
import { Link, useNavigate } from 'react-router'
import { api } from '../api/client'
import { keys, useClientDocuments, useClients } from '../api/queries'
import type { ClientDocument } from '../api/types'
import { Code } from '../components/Code'
import { useToast } from '../components/toast'
import { ConfirmDialog, EmptyState, ErrorBox, Loading, PageHeader, Panel } from '../components/ui'
import { formatDateTime, formatTtl } from '../lib/format'

export function ClientsPage() {
  const { data, error, isPending } = useClients()
  const nav = useNavigate()
  const toast = useToast()
  const [confirming, setConfirming] = useState(false)
  const dynamic = (data ?? []).filter((c) => c.registration)
  const purge = useMutation({
    mutationFn: api.deleteDynamicClients,
    onSuccess: (r) => {
      setConfirming(false)
      toast(`${r.deleted.length} dynamically registered client${r.deleted.length === 1 ? '' : 's'} deleted`)
    },
  })
  return (
    <div className="page">
      <PageHeader
        title="Clients"
        sub="The apps that ask Latchkey for tokens: web apps, SPAs, services, and the ones that register themselves."
        actions={
          <>
            {dynamic.length > 0 && (
              <button type="button" className="btn danger" onClick={() => { purge.reset(); setConfirming(true) }} data-testid="delete-dynamic">
                <Trash2 size={14} /> Delete dynamically registered ({dynamic.length})
              </button>
            )}
            <Link className="btn primary" to="/clients/new"><Plus size={14} /> New client</Link>
          </>
        }
      />
      {error && <ErrorBox error={error} title="Could not load the clients" />}
      <Panel flush>
        {isPending ? <Loading /> : data && data.length === 0 ? (
          <EmptyState icon={<Boxes size={22} />} title="No clients yet" action={<Link className="btn primary" to="/clients/new">Create a client</Link>}>
            <p>Register the app you are developing: give it an id, a secret (or make it public), its redirect URI and the scopes it may ask for. Apps can also register themselves at <code>/register</code> (RFC 7591).</p>
          </EmptyState>
        ) : data ? (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr><th>Client</th><th>Type</th><th>Grant types</th><th>Scopes</th><th>Token lifetime</th></tr>
              </thead>
              <tbody>
                {data.map((c) => {
                  const href = `/clients/${encodeURIComponent(c.client_id)}`
                  const pub = (c.token_endpoint_auth_method ?? (c.client_secret ? 'client_secret_basic' : 'none')) === 'none'
                  const r = c.registration
                  return (
                    <tr key={c.client_id} className="clickable" tabIndex={0} onClick={() => nav(href)} onKeyDown={(e) => e.key === 'Enter' && nav(href)} data-testid={r ? 'dynamic-client-row' : undefined}>
                      <td>
                        <Link to={href} onClick={(e) => e.stopPropagation()}><strong>{c.name || c.client_id}</strong></Link>
                        <div className="sub mono">{c.client_id}</div>
                        {r && (
                          <div className="sub" title={r.user_agent ?? undefined}>
                            <span className="badge plain info" data-testid="dynamic-tag">registered dynamically</span>{' '}
                            {formatDateTime(r.registered_at)} · {r.origin ? <>from <span className="mono">{r.origin}</span></> : 'no browser origin'}
                          </div>
                        )}
                      </td>
                      <td><span className={`badge plain ${pub ? 'info' : 'consumed'}`}>{pub ? 'public' : 'confidential'}</span></td>
                      <td><div className="chips">{c.grant_types.map((g) => <span key={g} className="tag" title={g}>{g.replace('urn:ietf:params:oauth:grant-type:', '')}</span>)}</div></td>
                      <td><div className="chips">{c.scopes.length ? c.scopes.map((s) => <span key={s} className="tag accent">{s}</span>) : <span className="muted">none</span>}</div></td>
                      <td className="nowrap">{c.access_token_ttl ? formatTtl(c.access_token_ttl) : <span className="muted">server default</span>}</td>
                    </tr>
                  )
                })}
              </tbody>
            </table>
          </div>
        ) : null}
      </Panel>
      <DocumentsPanel />
      <ConfirmDialog
        open={confirming}
        title={`Delete ${dynamic.length} dynamically registered client${dynamic.length === 1 ? '' : 's'}?`}
        confirm="Delete them"
        busy={purge.isPending}
        error={purge.error}
        onConfirm={() => purge.mutate()}
        onClose={() => setConfirming(false)}
      >
        <p>Every client that registered itself at <code>/register</code> goes: {dynamic.slice(0, 5).map((c) => c.name || c.client_id).join(', ')}{dynamic.length > 5 ? ` and ${dynamic.length - 5} more` : ''}. Their tokens stay recorded; the clients you configured are kept. An app that needs one registers again.</p>
      </ConfirmDialog>
    </div>
  )
}

function outcomeClass(d: ClientDocument): string {
  if (d.outcome === 'valid') return 'active'
  if (d.outcome === 'invalid') return 'revoked'
  return 'expired'
}

/** The Client ID Metadata Documents Latchkey fetched: when, what came back, and why one was refused. */
function DocumentsPanel() {
  const { data, error } = useClientDocuments()
  const qc = useQueryClient()
  const [open, setOpen] = useState<string | null>(null)
  const forget = useMutation({
    mutationFn: (url: string) => api.forgetClientDocument(url),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.clientDocuments }),
  })
  return (
    <Panel title="Client ID metadata documents" hint="clients whose client_id is the URL of their metadata; fetched when they first ask">
      {error && <ErrorBox error={error} title="Could not load the metadata documents" />}
      {data && data.length === 0 ? (
        <EmptyState icon={<FileJson size={22} />} title="None fetched yet">
          <p>When an app uses an https URL (or an http URL on this machine) as its <code>client_id</code>, Latchkey fetches the document there, checks it and shows it here.</p>
        </EmptyState>
      ) : data ? (
        <div className="table-wrap">
          <table className="table" data-testid="client-documents">
            <thead>
              <tr><th>Document</th><th>Fetched</th><th>Answer</th><th>Result</th></tr>
            </thead>
            <tbody>
              {data.map((d) => (
                <DocumentRow key={d.url} d={d} open={open === d.url} onToggle={() => setOpen(open === d.url ? null : d.url)} onForget={() => forget.mutate(d.url)} busy={forget.isPending} />
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {forget.error && <ErrorBox error={forget.error} title="It was not forgotten" />}
    </Panel>
  )
}

function DocumentRow({ d, open, onToggle, onForget, busy }: { d: ClientDocument; open: boolean; onToggle: () => void; onForget: () => void; busy: boolean }) {
  const name = d.client?.name
  return (
    <>
      <tr data-testid="client-document-row">
        <td style={{ minWidth: 220, maxWidth: 380 }}>
          {name && <strong>{name}</strong>}
          <div className="sub mono" style={{ wordBreak: 'break-all' }}>{d.url}</div>
          <div className="nowrap" style={{ marginTop: 6 }}>
            {d.document !== undefined && <button type="button" className="btn sm" onClick={onToggle} aria-expanded={open}>{open ? 'Hide' : 'Document'}</button>}{' '}
            <button type="button" className="btn sm" onClick={onForget} disabled={busy} title="Forget it: the next request fetches it again"><RefreshCw size={13} /> Fetch again</button>
          </div>
        </td>
        <td><span className="nowrap">{formatDateTime(d.fetched_at)}</span>{d.outcome === 'valid' && <div className="sub">cached until {formatDateTime(d.expires_at)}</div>}</td>
        <td className="nowrap">{d.status ? `HTTP ${d.status}` : <span className="muted">no answer</span>}{d.cache_control && <div className="sub mono">{d.cache_control}</div>}</td>
        <td style={{ minWidth: 180, maxWidth: 360 }}>
          <span className={`badge plain ${outcomeClass(d)}`}>{d.outcome}</span>
          {d.error && <div className="sub" style={{ color: 'var(--red)', overflowWrap: 'anywhere' }}>{d.error}</div>}
        </td>
      </tr>
      {open && d.document !== undefined && (
        <tr>
          <td colSpan={4}>
            <Code code={typeof d.document === 'string' ? d.document : JSON.stringify(d.document, null, 2)} language={typeof d.document === 'string' ? 'text' : 'json'} maxHeight={320} />
          </td>
        </tr>
      )}
    </>
  )
}
