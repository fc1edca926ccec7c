import { Check, Plus, Users as UsersIcon } from 'lucide-react'
import { Link, useNavigate } from 'react-router'
import { useUsers } from '../api/queries'
import { EmptyState, ErrorBox, Loading, PageHeader, Panel } from '../components/ui'

export function UsersPage() {
  const { data, error, isPending } = useUsers()
  const nav = useNavigate()
  return (
    <div className="page">
      <PageHeader
        title="Users"
        sub="Test personas who sign in to your apps, with the claims their tokens carry."
        actions={<Link className="btn primary" to="/users/new"><Plus size={14} /> New user</Link>}
      />
      {error && <ErrorBox error={error} title="Could not load the users" />}
      <Panel flush>
        {isPending ? <Loading /> : data && data.length === 0 ? (
          <EmptyState icon={<UsersIcon size={22} />} title="No users yet" action={<Link className="btn primary" to="/users/new">Create a user</Link>}>
            <p>Add a persona such as alice with a name and email. Without a password, they sign in with one click on the login page.</p>
          </EmptyState>
        ) : data ? (
          <div className="table-wrap">
            <table className="table">
              <thead><tr><th>User</th><th>Email</th><th>Subject (sub)</th><th>Password</th><th>Other claims</th><th className="actions"><span className="sr-only">Tokens</span></th></tr></thead>
              <tbody>
                {data.map((u) => {
                  const href = `/users/${encodeURIComponent(u.username)}`
                  const other = Object.keys(u.claims).filter((k) => !['name', 'email', 'email_verified'].includes(k))
                  return (
                    <tr key={u.username} className="clickable" tabIndex={0} onClick={() => nav(href)} onKeyDown={(e) => e.key === 'Enter' && nav(href)}>
                      <td>
                        <Link to={href} onClick={(e) => e.stopPropagation()}><strong>{String(u.claims.name ?? u.username)}</strong></Link>
                        <div className="sub mono">{u.username}</div>
                      </td>
                      <td>
                        {u.claims.email ? <span>{String(u.claims.email)} {u.claims.email_verified === true && <span title="verified" className="muted"><Check size={12} /></span>}</span> : <span className="faint">none</span>}
                      </td>
                      <td className="mono small">{u.sub}</td>
                      <td>{u.has_password ? <span className="badge plain consumed">set</span> : <span className="badge plain info">one-click</span>}</td>
                      <td><div className="chips">{other.length ? other.map((k) => <span key={k} className="tag">{k}</span>) : <span className="faint">none</span>}</div></td>
                      <td className="actions"><Link className="btn sm ghost" to={`/tokens?username=${encodeURIComponent(u.username)}`} onClick={(e) => e.stopPropagation()} aria-label={`Tokens of ${u.username}`}>Tokens</Link></td>
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
