// Everything about one token: segments, header and payload (table or JSON), the signature
// check, the live status and the introspection answer, with copy, revoke and re-introspect.

import { BadgeCheck, RefreshCw, ShieldAlert, ShieldCheck, ShieldQuestion, Ban } from 'lucide-react'
import { useEffect, useRef, useState } from 'react'
import { Link } from 'react-router'
import type { TokenDetail } from '../api/types'
import { formatDateTime } from '../lib/format'
import { Json } from './Code'
import { ClaimsTable, JwtSegments } from './Jwt'
import { CheckAgainstResource } from './ResourceCheck'
import { Countdown, StatusBadge, useLiveState } from './TokenStatus'
import { ConfirmDialog, CopyButton, Panel, Segmented, Ticks } from './ui'

type View = 'table' | 'json'

function ClaimsPanel({ title, claims, testid }: { title: string; claims: Record<string, unknown>; testid: string }) {
  const [view, setView] = useState<View>('table')
  return (
    <Panel
      title={title}
      flush
      right={<Segmented label={`${title} view`} value={view} onChange={setView} options={[{ value: 'table', label: 'Claims' }, { value: 'json', label: 'JSON' }]} />}
    >
      <div data-testid={testid} style={view === 'json' ? { padding: 12 } : undefined}>
        {view === 'table' ? <ClaimsTable claims={claims} caption={title} /> : <Json value={claims} />}
      </div>
    </Panel>
  )
}

export function TokenView(props: {
  detail: TokenDetail
  onRefresh: () => void
  refreshing?: boolean
  onRevoke?: () => Promise<unknown>
}) {
  const { detail } = props
  const rec = detail.record
  const recState = useLiveState(rec ?? { state: 'consumed', expires_at: 0 })
  const state = rec ? recState : null
  const [confirming, setConfirming] = useState(false)
  const [busy, setBusy] = useState(false)
  const [revokeError, setRevokeError] = useState<unknown>(null)

  // When the live state changes (expiry, revocation), ask the server again: the introspection
  // answer and the reason follow.
  const last = useRef(state)
  const { onRefresh } = props
  useEffect(() => {
    if (state !== last.current) {
      last.current = state
      onRefresh()
    }
  }, [state, onRefresh])

  const revoke = async () => {
    if (!props.onRevoke) return
    setBusy(true)
    setRevokeError(null)
    try {
      await props.onRevoke()
      setConfirming(false)
    } catch (e) {
      setRevokeError(e)
    } finally {
      setBusy(false)
    }
  }

  const sig = detail.signature
  const unsigned = typeof detail.header?.alg === 'string' && detail.header.alg.toLowerCase() === 'none'
  const sharedSecret = typeof detail.header?.alg === 'string' && detail.header.alg.startsWith('HS')
  // An id token or a code is never active at /introspect: that is not a verdict on it.
  const notIntrospectable = rec?.kind === 'id_token' || rec?.kind === 'authorization_code'
  return (
    <div className="stack">
      <Panel
        title="Token"
        hint={rec ? `${rec.kind.replace(/_/g, ' ')} · ${detail.format.toUpperCase()}` : `${detail.format.toUpperCase()} · not issued by this server`}
        right={
          <>
            <CopyButton text={detail.token} label="Copy token" small />
            <button
              type="button"
              className="btn sm"
              onClick={() => {
                const el = document.getElementById('check-resource')
                el?.scrollIntoView({ behavior: 'smooth', block: 'start' })
                el?.querySelector<HTMLElement>('select, input, a')?.focus({ preventScroll: true })
              }}
            >
              <ShieldQuestion size={13} /> Check against a resource
            </button>
            <button type="button" className="btn sm" onClick={props.onRefresh} disabled={props.refreshing}>
              <RefreshCw size={13} className={props.refreshing ? 'spin' : ''} /> Re-introspect
            </button>
            {props.onRevoke && rec && (
              <button type="button" className="btn sm danger" onClick={() => setConfirming(true)} disabled={state === 'revoked' || state === 'consumed'}>
                <Ban size={13} /> Revoke
              </button>
            )}
          </>
        }
      >
        <JwtSegments token={detail.token} />
      </Panel>

      <CheckAgainstResource token={detail.token} />

      <div className="token-grid">
        <div className="stack">
          {detail.payload ? (
            <ClaimsPanel title="Payload" claims={detail.payload} testid="payload" />
          ) : rec ? (
            <ClaimsPanel title="What this opaque token stands for" claims={rec.claims} testid="payload" />
          ) : (
            <Panel title="Payload">
              <p className="muted">An opaque token carries no readable claims, and this server did not issue it, so there is nothing to decode.</p>
            </Panel>
          )}
          {detail.header && <ClaimsPanel title="Header" claims={detail.header} testid="header" />}
        </div>

        <div className="stack">
          <Panel title="Live status" right={state ? <StatusBadge state={state} /> : <span className="badge consumed plain">unknown</span>}>
            {rec ? (
              <div className="kv two">
                <span className="k">Expires</span>
                <span className="v" style={{ fontFamily: 'var(--font)' }}>
                  <Countdown token={rec} />&nbsp;<span className="muted small">{formatDateTime(rec.expires_at)}</span>
                </span>
                <span className="k">Reason</span>
                <span className="v" style={{ fontFamily: 'var(--font)' }} data-testid="status-reason">
                  <Ticks text={(state === 'revoked' || state === 'consumed' ? (rec.status_reason ?? detail.status?.reason) : detail.status?.reason) ?? ''} />
                </span>
                <span className="k">Client</span>
                <span className="v"><Link to={`/clients/${encodeURIComponent(rec.client_id)}`}>{rec.client_id}</Link></span>
                <span className="k">User</span>
                <span className="v">{rec.username ?? <span className="muted">none (client credentials)</span>}</span>
                <span className="k">Grant</span>
                <span className="v">{rec.grant_type}</span>
              </div>
            ) : (
              <p className="muted">This server has no record of the token, so it has no live status. It may come from another issuer, or be a token this server never issued.</p>
            )}
          </Panel>

          {sig && (
            <Panel title="Signature">
              <div className={`verdict ${sig.verified ? 'ok' : unsigned || sharedSecret ? 'warn' : 'bad'}`} data-testid="signature">
                {sig.verified ? <ShieldCheck size={18} /> : <ShieldAlert size={18} />}
                <div>
                  <div className="t">{sig.verified ? 'Verified' : unsigned ? 'Unsigned (alg: none)' : sharedSecret ? 'Needs the shared secret' : 'Not verified with this server’s keys'}</div>
                  <div className="m"><Ticks text={sig.reason} /></div>
                </div>
              </div>
              <div className="kv two" style={{ marginTop: 8 }}>
                <span className="k">alg</span>
                <span className="v">{sig.alg ?? '—'}</span>
                <span className="k">kid</span>
                <span className="v">{sig.kid ?? '—'}</span>
              </div>
            </Panel>
          )}

          <Panel
            title="Introspection"
            hint="what /introspect answers"
            right={
              notIntrospectable ? (
                <span className="badge lower consumed plain" data-testid="introspection-active" title="Introspection is about access and refresh tokens">
                  not applicable
                </span>
              ) : (
                <span className={`badge lower ${detail.introspection.active ? 'active' : 'revoked'}`} data-testid="introspection-active">
                  active: {String(detail.introspection.active)}
                </span>
              )
            }
          >
            {notIntrospectable && (
              <p className="muted small" style={{ marginBottom: 8 }} data-testid="introspection-note">
                Introspection (RFC 7662) is about access and refresh tokens: /introspect answers <code>active: false</code> for{' '}
                {rec?.kind === 'authorization_code' ? 'an authorization code' : 'an id token'} even while it is valid. An app checks{' '}
                {rec?.kind === 'authorization_code' ? 'a code by exchanging it at /token' : 'an id token by its signature, iss, aud, exp and nonce'}.
              </p>
            )}
            <div data-testid="introspection">
              <Json value={detail.introspection} />
            </div>
            {detail.introspection.active && (
              <p className="muted small" style={{ marginTop: 8, display: 'flex', gap: 6, alignItems: 'center' }}>
                <BadgeCheck size={13} /> Asked as the client the token was issued to.
              </p>
            )}
          </Panel>
        </div>
      </div>

      <ConfirmDialog
        open={confirming}
        title="Revoke this token?"
        confirm="Revoke token"
        busy={busy}
        error={revokeError}
        onConfirm={revoke}
        onClose={() => setConfirming(false)}
      >
        Apps presenting it will get <code>active: false</code> from introspection from now on.
        {rec?.kind === 'refresh_token' && ' Revoking a refresh token revokes its whole grant.'}
      </ConfirmDialog>
    </div>
  )
}
