// Browser sessions: who is signed in, the clients each session signed in to, and every
// OpenID Connect Back-Channel Logout sent to them with its outcome. End a session (which sends
// the logouts) or send one client's logout now. Live: the `session.*` events keep it current.

import { useMutation } from '@tanstack/react-query'
import { LogOut, Send, UserRound } from 'lucide-react'
import { useState } from 'react'
import { Link } from 'react-router'
import { api } from '../api/client'
import { useClients, useSessions } from '../api/queries'
import type { BrowserSession, Client, LogoutDelivery, SessionClient } from '../api/types'
import { useToast } from '../components/toast'
import { ConfirmDialog, CopyButton, EmptyState, ErrorBox, Loading, PageHeader, Segmented } from '../components/ui'
import { useServerNow } from '../lib/clock'
import { formatTime, relative } from '../lib/format'
import './sessions.css'

type Show = 'live' | 'ended' | 'all'

const TRIGGER: Record<LogoutDelivery['trigger'], string> = {
  end_session: 'at end_session',
  admin: 'session ended here',
  send_now: 'sent by hand',
}

/** One logout's outcome: a badge, the status, the time taken, and why it failed. */
export function DeliveryLine({ d }: { d: LogoutDelivery }) {
  const cls = d.outcome === 'delivered' ? 'active' : d.outcome === 'failed' ? 'revoked' : 'info'
  const label = d.outcome === 'pending' ? 'sending…' : d.outcome
  return (
    <div className="delivery" data-testid="logout-delivery" data-outcome={d.outcome}>
      <span className={`badge plain ${cls}`}>{label}</span>
      {d.status !== undefined && <span className="mono small">{d.status}</span>}
      {d.duration_ms !== undefined && <span className="muted small">{d.duration_ms.toFixed(0)} ms</span>}
      <span className="muted small">{TRIGGER[d.trigger]} · {formatTime(Math.floor(d.sent_at / 1000))}</span>
      {d.request_id !== undefined && (
        <Link className="small" to={`/requests?id=${d.request_id}`} title="The POST in the request log">request #{d.request_id}</Link>
      )}
      {d.error && <div className="delivery-error small" data-testid="logout-error">{d.error}</div>}
      <details className="small">
        <summary>Logout token claims</summary>
        <pre className="mono">{JSON.stringify(d.claims, null, 2)}</pre>
      </details>
    </div>
  )
}

function ClientRow({ s, c, client, now }: { s: BrowserSession; c: SessionClient; client?: Client; now: number }) {
  const toast = useToast()
  const send = useMutation({
    mutationFn: () => api.sendLogout(s.sid, c.client_id),
    onSuccess: (d) => toast(d.outcome === 'delivered' ? `Logout delivered to ${c.client_id}` : `Logout to ${c.client_id} failed`),
  })
  const uri = client?.backchannel_logout_uri
  const latest = c.logouts[c.logouts.length - 1]
  const earlier = c.logouts.slice(0, -1).reverse()
  return (
    <tr data-testid={`session-client-${c.client_id}`}>
      <td>
        <Link to={`/clients/${encodeURIComponent(c.client_id)}`}><strong>{client?.name || c.client_id}</strong></Link>
        {client?.name && client.name !== c.client_id && <div className="muted mono small">{c.client_id}</div>}
        {!client && <div className="faint small">client deleted</div>}
      </td>
      <td className="small">
        <div title={formatTime(c.first_at)}>first {relative(c.first_at, now)}</div>
        {c.last_at !== c.first_at && <div className="muted" title={formatTime(c.last_at)}>last {relative(c.last_at, now)}</div>}
      </td>
      <td className="session-uri">
        {uri ? <span className="mono small" title="backchannel_logout_uri">{uri}</span> : <span className="faint small">no back-channel logout URI</span>}
      </td>
      <td className="session-logout">
        {latest ? <DeliveryLine d={latest} /> : <span className="faint small">{uri ? 'none sent yet' : '—'}</span>}
        {earlier.length > 0 && (
          <details className="small earlier">
            <summary>{earlier.length} earlier</summary>
            {earlier.map((d) => <DeliveryLine key={d.jti} d={d} />)}
          </details>
        )}
        {send.error && <ErrorBox error={send.error} title="Not sent" />}
      </td>
      <td className="actions">
        <button
          type="button"
          className="btn sm"
          disabled={!uri || send.isPending}
          onClick={() => send.mutate()}
          data-testid="send-logout"
          title={uri ? `POST a logout token to ${uri} now` : 'This client has no backchannel_logout_uri'}
        >
          <Send size={14} /> {send.isPending ? 'Sending…' : 'Send logout now'}
        </button>
      </td>
    </tr>
  )
}

function SessionCard({ s, clients, now }: { s: BrowserSession; clients: Map<string, Client>; now: number }) {
  const toast = useToast()
  const [confirm, setConfirm] = useState(false)
  const end = useMutation({
    mutationFn: () => api.endSession(s.sid),
    onSuccess: () => {
      setConfirm(false)
      toast(`Session of ${s.username} ended`)
    },
  })
  const receivers = s.clients.filter((c) => clients.get(c.client_id)?.backchannel_logout_uri).length
  return (
    <article className={`panel session ${s.ended_at ? 'ended' : ''}`} data-testid="session" data-sid={s.sid} aria-label={`Session of ${s.username}`}>
      <div className="panel-head session-head">
        <UserRound size={16} aria-hidden="true" />
        <h2><Link to={`/users/${encodeURIComponent(s.username)}`}>{s.username}</Link></h2>
        {s.ended_at ? (
          <span className="badge plain lower consumed" data-testid="session-state" data-state="ended" title={s.end_reason === 'admin' ? 'Ended from the admin API or this page' : 'The app logged the user out at end_session'}>
            {s.end_reason === 'admin' ? 'ended here' : 'logged out at end_session'}
          </span>
        ) : (
          <span className="badge plain active" data-testid="session-state" data-state="live">live</span>
        )}
        <span className="session-meta muted small">
          <span title={formatTime(s.auth_time)}>signed in {relative(s.auth_time, now)}</span>
          {s.ended_at ? <span title={formatTime(s.ended_at)}>ended {relative(s.ended_at, now)}</span> : <span title={formatTime(s.last_used)}>last used {relative(s.last_used, now)}</span>}
          {s.acr && <span className="tag">acr {s.acr}</span>}
          {s.amr.map((m) => <span key={m} className="tag">{m}</span>)}
        </span>
        <div className="right">
          <span className="mono small muted" title="sid: the session id in id_tokens and logout tokens">sid {s.sid.slice(0, 10)}…</span>
          <CopyButton small text={s.sid} title="Copy the sid" />
          {!s.ended_at && (
            <button type="button" className="btn sm danger" onClick={() => setConfirm(true)} data-testid="end-session">
              <LogOut size={14} /> End session
            </button>
          )}
        </div>
      </div>
      <div className="panel-body flush">
        {s.clients.length === 0 ? (
          <p className="muted small session-empty">Signed in, but no client has received an authorization response from this session yet.</p>
        ) : (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr><th>Client</th><th>Signed in</th><th>Back-channel logout URI</th><th>Logout</th><th><span className="sr-only">Actions</span></th></tr>
              </thead>
              <tbody>
                {s.clients.map((c) => <ClientRow key={c.client_id} s={s} c={c} client={clients.get(c.client_id)} now={now} />)}
              </tbody>
            </table>
          </div>
        )}
      </div>
      <ConfirmDialog
        open={confirm}
        title={`End ${s.username}'s session?`}
        confirm="End session"
        busy={end.isPending}
        error={end.error}
        onConfirm={() => end.mutate()}
        onClose={() => setConfirm(false)}
      >
        <p>The browser will have to sign in again.{' '}
          {receivers > 0
            ? `A logout token goes to ${receivers === 1 ? 'the one client' : `each of the ${receivers} clients`} with a back-channel logout URI, and the outcome shows here.`
            : 'None of its clients has a back-channel logout URI, so no logout token is sent.'}
        </p>
      </ConfirmDialog>
    </article>
  )
}

export function SessionsPage() {
  const { data, error, isPending } = useSessions()
  const clientList = useClients()
  const now = useServerNow()
  const [show, setShow] = useState<Show>('live')
  const clients = new Map((clientList.data ?? []).map((c) => [c.client_id, c]))
  const all = data ?? []
  const live = all.filter((s) => !s.ended_at)
  const ended = all.filter((s) => s.ended_at)
  const shown = show === 'live' ? live : show === 'ended' ? ended : all
  return (
    <div className="page sessions-page">
      <PageHeader
        title="Sessions"
        sub="Browsers signed in to Latchkey, the clients each one signed in to, and the OpenID Connect Back-Channel Logout tokens sent to them. Ending a session here, or logging out at end_session, POSTs a logout token to every client with a backchannel_logout_uri."
        actions={
          <Segmented<Show>
            label="Which sessions"
            value={show}
            onChange={setShow}
            options={[
              { value: 'live', label: `Live (${live.length})` },
              { value: 'ended', label: `Ended (${ended.length})` },
              { value: 'all', label: 'All' },
            ]}
          />
        }
      />
      {error && <ErrorBox error={error} title="Could not load the sessions" />}
      {isPending ? <Loading /> : shown.length === 0 ? (
        <EmptyState icon={<UserRound size={22} />} title={show === 'ended' ? 'No session has ended yet' : 'Nobody is signed in'}>
          <p>A session starts when someone signs in on the login page and appears here live. Give a client a <code>backchannel_logout_uri</code> to have it told when the session ends.</p>
        </EmptyState>
      ) : (
        <div className="sessions" data-testid="session-list">
          {shown.map((s) => <SessionCard key={s.sid} s={s} clients={clients} now={now} />)}
        </div>
      )}
    </div>
  )
}
