import { Boxes, Plus } from 'lucide-react'
import { Link, useNavigate } from 'react-router'
import { useClients } from '../api/queries'
import { EmptyState, ErrorBox, Loading, PageHeader, Panel } from '../components/ui'
import { formatTtl } from '../lib/format'

export function ClientsPage() {
  const { data, error, isPending } = useClients()
  const nav = useNavigate()
  return (
    <div className="page">
      <PageHeader
        title="Clients"
        sub="The apps that ask Latchkey for tokens: web apps, SPAs, services."
        actions={<Link className="btn primary" to="/clients/new"><Plus size={14} /> New client</Link>}
      />
      {error && <ErrorBox error={error} title="Could not load the clients" />}
      <Panel flush>
        {isPending ? <Loading /> : data && data.length === 0 ? (
          <EmptyState icon={<Boxes size={22} />} title="No clients yet" action={<Link className="btn primary" to="/clients/new">Create a client</Link>}>
            <p>Register the app you are developing: give it an id, a secret (or make it public), its redirect URI and the scopes it may ask for.</p>
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
                  return (
                    <tr key={c.client_id} className="clickable" tabIndex={0} onClick={() => nav(href)} onKeyDown={(e) => e.key === 'Enter' && nav(href)}>
                      <td>
                        <Link to={href} onClick={(e) => e.stopPropagation()}><strong>{c.name || c.client_id}</strong></Link>
                        <div className="sub mono">{c.client_id}</div>
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
    </div>
  )
}
