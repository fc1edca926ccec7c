import { Ban, Boxes, Coins, Hourglass, Plus, Tags, Users } from 'lucide-react'
import { Link } from 'react-router'
import { useMutation, useQueryClient } from '@tanstack/react-query'
import { api } from '../api/client'
import { keys, useClients, useDiscovery, useStats, useStatus } from '../api/queries'
import type { Client, Discovery } from '../api/types'
import { Code } from '../components/Code'
import { CopyButton, EmptyState, ErrorBox, Loading, PageHeader, Panel, SecretText } from '../components/ui'
import { formatDuration } from '../lib/format'
import { formCurl, withSecretLine } from '../lib/curl'

const ENDPOINTS: [keyof Discovery, string][] = [
  ['issuer', 'Issuer'],
  ['authorization_endpoint', 'Authorization'],
  ['token_endpoint', 'Token'],
  ['userinfo_endpoint', 'UserInfo'],
  ['jwks_uri', 'JWKS'],
  ['introspection_endpoint', 'Introspection'],
  ['revocation_endpoint', 'Revocation'],
  ['end_session_endpoint', 'End session'],
]

export function curlFor(c: Client, tokenEndpoint: string): string {
  const scope = c.scopes.filter((s) => s !== 'openid' && s !== 'offline_access').join(' ')
  const method = c.token_endpoint_auth_method ?? (c.client_secret ? 'client_secret_basic' : 'none')
  const auth = { method, clientId: c.client_id, secret: c.client_secret }
  const form: [string, string][] = [['grant_type', 'client_credentials'], ...(scope ? [['scope', scope] as [string, string]] : [])]
  return withSecretLine(formCurl(tokenEndpoint, form, auth), auth, true)
}

function QuickStart({ client, discovery }: { client: Client; discovery: Discovery }) {
  const cc = client.grant_types.includes('client_credentials')
  const web = client.grant_types.includes('authorization_code')
  const env = [
    `OIDC_ISSUER=${discovery.issuer}`,
    `OIDC_CLIENT_ID=${client.client_id}`,
    ...(client.client_secret ? [`OIDC_CLIENT_SECRET=${client.client_secret}`] : []),
    ...(client.redirect_uris[0] ? [`OIDC_REDIRECT_URI=${client.redirect_uris[0]}`] : []),
    ...(client.scopes.length ? [`OIDC_SCOPE="${client.scopes.join(' ')}"`] : []),
  ].join('\n')
  return (
    <Panel
      title={client.name || client.client_id}
      hint={client.name ? client.client_id : undefined}
      right={<Link className="btn sm" to={`/clients/${encodeURIComponent(client.client_id)}`}>Edit client</Link>}
    >
      <div className="qs">
        <div className="stack-sm">
          <h3>Settings for your app</h3>
          <div className="kv">
            <span className="k">Issuer</span><span className="v">{discovery.issuer}</span><span className="c"><CopyButton text={discovery.issuer} small /></span>
            <span className="k">Client ID</span><span className="v">{client.client_id}</span><span className="c"><CopyButton text={client.client_id} small /></span>
            <span className="k">Client secret</span>
            <span className="v">{client.client_secret ? <SecretText value={client.client_secret} /> : <span className="muted" style={{ fontFamily: 'var(--font)' }}>none (public client: use PKCE)</span>}</span>
            <span className="c" />
            <span className="k">Redirect URI</span>
            <span className="v">{client.redirect_uris[0] ?? <span className="muted" style={{ fontFamily: 'var(--font)' }}>none registered</span>}</span>
            <span className="c">{client.redirect_uris[0] && <CopyButton text={client.redirect_uris[0]} small />}</span>
          </div>
          {web && <Code code={env} language="bash" />}
        </div>
        <div className="stack-sm">
          <h3>Get a token</h3>
          {cc && discovery.token_endpoint ? (
            <>
              <p className="muted small">Client credentials: the token shows up on the Tokens page as soon as you run it.</p>
              <Code code={curlFor(client, discovery.token_endpoint)} language="bash" wrap />
            </>
          ) : (
            <p className="muted">
              {web
                ? 'This client signs users in with the authorization code flow: point your app at the issuer with the settings on the left; Latchkey shows the login page.'
                : 'Allow the client_credentials grant to get a token with one curl command.'}
            </p>
          )}
        </div>
      </div>
    </Panel>
  )
}

export function Overview() {
  const status = useStatus()
  const discovery = useDiscovery()
  const clients = useClients()
  const s = status.data
  const t = s?.counts.tokens
  const stats = [
    { label: 'Clients', value: s?.counts.clients, icon: <Boxes size={14} />, to: '/clients' },
    { label: 'Users', value: s?.counts.users, icon: <Users size={14} />, to: '/users' },
    { label: 'Scopes', value: s?.counts.scopes, icon: <Tags size={14} />, to: '/scopes' },
    { label: 'Active tokens', value: t?.active, icon: <Coins size={14} />, to: '/tokens' },
    { label: 'Expired', value: t?.expired, icon: <Hourglass size={14} />, to: '/tokens' },
    { label: 'Revoked', value: t?.revoked, icon: <Ban size={14} />, to: '/tokens' },
  ]
  return (
    <div className="page">
      <PageHeader
        title="Overview"
        sub={s ? <>Latchkey {s.version} is running · up {formatDuration(s.uptime)} · signing with {s.active_alg}</> : 'Your local OAuth 2.0 and OpenID Connect provider'}
        actions={<Link className="btn primary" to="/clients/new"><Plus size={14} /> New client</Link>}
      />
      {status.error && <ErrorBox error={status.error} title="The server did not answer" />}
      <div className="stats">
        {stats.map((x) => (
          <Link key={x.label} to={x.to} className="panel stat" style={{ color: 'inherit' }}>
            <span className="label">{x.icon}{x.label}</span>
            <span className="value" data-testid={`stat-${x.label}`}>{x.value ?? '–'}</span>
          </Link>
        ))}
      </div>

      <CallCounts />

      <Panel title="Endpoints" hint="from /.well-known/openid-configuration" right={discovery.data && <a className="btn sm" href={`${discovery.data.issuer}/.well-known/openid-configuration`} target="_blank" rel="noreferrer">Open discovery</a>}>
        {discovery.error ? <ErrorBox error={discovery.error} /> : !discovery.data ? <Loading rows={5} /> : (
          <div className="kv">
            {ENDPOINTS.filter(([k]) => discovery.data[k]).map(([k, label]) => (
              <FragmentRow key={k} label={label} value={String(discovery.data[k])} />
            ))}
          </div>
        )}
      </Panel>

      <div className="stack-sm">
        <h2>Quick start</h2>
        <p className="muted">For each client: what your app needs, and a command that gets a token right now.</p>
      </div>
      {clients.error && <ErrorBox error={clients.error} />}
      {clients.data && discovery.data && (
        clients.data.length === 0 ? (
          <Panel>
            <EmptyState title="No clients yet" action={<Link className="btn primary" to="/clients/new">Create your first client</Link>}>
              <p>A client is the app that asks for tokens. Create one, and its settings and a ready-to-run curl command appear here.</p>
            </EmptyState>
          </Panel>
        ) : (
          clients.data.map((c) => <QuickStart key={c.client_id} client={c} discovery={discovery.data} />)
        )
      )}
    </div>
  )
}

function FragmentRow({ label, value }: { label: string; value: string }) {
  return (
    <>
      <span className="k">{label}</span>
      <span className="v">{value}</span>
      <span className="c"><CopyButton text={value} small title={`Copy the ${label.toLowerCase()} URL`} /></span>
    </>
  )
}

/** Calls per endpoint, client and user since start or the last reset (`/admin/api/stats`). */
function CallCounts() {
  const { data, error } = useStats()
  const qc = useQueryClient()
  const reset = useMutation({ mutationFn: api.resetStats, onSuccess: (v) => qc.setQueryData(keys.stats, v) })
  const top = (m: Record<string, { total: number; endpoints: Record<string, number> }>) =>
    Object.entries(m).sort((a, b) => b[1].total - a[1].total).slice(0, 8)
  return (
    <Panel
      title="Calls"
      hint={data ? `since ${new Date(data.since_ms).toLocaleTimeString()}` : undefined}
      right={<button type="button" className="btn sm" onClick={() => reset.mutate()} disabled={reset.isPending}>Reset counts</button>}
    >
      {error ? <ErrorBox error={error} /> : !data ? <Loading rows={2} /> : data.all.total === 0 ? (
        <p className="muted" style={{ margin: 0 }}>No protocol requests yet. Each call to /token, /jwks, /authorize, … is counted here, per client and user.</p>
      ) : (
        <div className="stack-sm" data-testid="call-counts">
          <div className="stats-grid">
            {Object.entries(data.all.endpoints).map(([e, n]) => (
              <div key={e} className="stat"><div className="n">{n}</div><div className="l">{e}</div></div>
            ))}
          </div>
          {[['Clients', data.clients], ['Users', data.users]].map(([label, m]) => {
            const rows = top(m as Record<string, { total: number; endpoints: Record<string, number> }>)
            return rows.length === 0 ? null : (
              <div key={label as string} className="small">
                <strong>{label as string}:</strong>{' '}
                {rows.map(([name, c]) => `${name} ${Object.entries(c.endpoints).map(([e, n]) => `${e} ${n}`).join(' · ')}`).join('; ')}
              </div>
            )
          })}
        </div>
      )}
    </Panel>
  )
}
