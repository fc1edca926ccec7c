// The lineage of a token's grant, as a compact tree: the code, the tokens it was exchanged
// for, each refresh and its tokens, and any replay with the family it revoked. Live: the
// grant's list is kept up to date by the event stream (events.ts).

import { AlertTriangle, FileKey2, GitBranch, IdCard, KeyRound, RefreshCw, Ticket } from 'lucide-react'
import { Link } from 'react-router'
import { useGrant } from '../api/queries'
import type { TokenItem, TokenKind } from '../api/types'
import { formatTime, formatDuration, shortId } from '../lib/format'
import { buildLineage, flatten, grantLabel, refreshCount } from '../lib/lineage'
import { LiveStatusBadge } from './TokenStatus'
import { ErrorBox, Loading, Panel, Ticks } from './ui'
import './lineage.css'

const KIND: Record<TokenKind, { label: string; icon: typeof Ticket }> = {
  authorization_code: { label: 'Authorization code', icon: FileKey2 },
  access_token: { label: 'Access token', icon: Ticket },
  id_token: { label: 'ID token', icon: IdCard },
  refresh_token: { label: 'Refresh token', icon: RefreshCw },
}

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange'

/** The acting party of a delegated token (RFC 8693 §4.1 `act.sub`), if any. */
function actOf(t: TokenItem): string | null {
  const act = (t.claims as Record<string, unknown> | undefined)?.act as { sub?: unknown } | undefined
  return typeof act?.sub === 'string' ? act.sub : null
}

function since(t: number, start: number): string {
  const d = t - start
  return d <= 0 ? 'start' : `+${formatDuration(d)}`
}

export function grantHref(grantId: string): string {
  return `/tokens?grant_id=${encodeURIComponent(grantId)}`
}

/** The lineage panel of the token page. */
export function LineagePanel({ token }: { token: TokenItem }) {
  const grant = useGrant(token.grant_id)
  if (!token.grant_id) {
    return (
      <Panel title="Lineage" hint={grantLabel(token.grant_type)}>
        <div data-testid="lineage">
          <ol className="lineage" role="tree" aria-label="Token lineage">
            <Node t={token} depth={0} current={token.id} start={token.issued_at} />
          </ol>
          <p className="muted small lineage-note">
            {token.grant_type === 'client_credentials'
              ? 'A client-credentials token stands alone: no user, no refresh token (RFC 6749 §4.4.3), nothing derives from it.'
              : token.grant_type === 'urn:ietf:params:oauth:grant-type:jwt-bearer'
              ? 'Issued for the subject of a JWT bearer assertion (RFC 7523 §2.1) from the trusted issuer in its assertion_iss claim; it stands alone: no refresh token, nothing derives from it.'
              : 'This token belongs to no grant family: nothing was issued from it and nothing it came from was recorded.'}
          </p>
        </div>
      </Panel>
    )
  }
  const items = grant.data?.items ?? []
  const l = buildLineage(items.some((t) => t.id === token.id) ? items : [token, ...items])
  const rows = flatten(l)
  const refreshes = refreshCount(l)
  const root = l.roots[0]?.token
  return (
    <Panel
      title="Lineage"
      hint={<>{grantLabel(root?.grant_type ?? token.grant_type)} · {l.size} token{l.size === 1 ? '' : 's'}{refreshes ? ` · ${refreshes} refresh${refreshes === 1 ? '' : 'es'}` : ''}</>}
      right={<Link className="btn sm ghost" to={grantHref(token.grant_id)} data-testid="show-grant"><GitBranch size={13} /> Show this grant</Link>}
    >
      <div data-testid="lineage">
        {grant.error && <ErrorBox error={grant.error} title="Could not load the grant" />}
        {grant.isPending ? <Loading rows={3} /> : (
          <>
            {l.replays.map((r) => (
              <div key={r.token.id} className="lineage-replay" role="note" data-testid="lineage-replay">
                <AlertTriangle size={15} />
                <div>
                  <strong>{r.token.kind === 'authorization_code' ? 'Authorization code replayed' : 'Rotated refresh token reused'}</strong>{' '}
                  at {formatTime(r.at)}: <Link to={`/tokens/${encodeURIComponent(r.token.id)}`} className="mono">{shortId(r.token.id)}</Link> was presented again after it was used
                  {r.token.kind === 'authorization_code' ? ' (RFC 6749 §4.1.2)' : ' (OAuth 2.0 Security BCP §4.14)'}.{' '}
                  {r.revoked.length
                    ? <>That revoked {r.revoked.length} token{r.revoked.length === 1 ? '' : 's'} of the grant{r.reason ? <>, reason “<Ticks text={r.reason} />”</> : null}.</>
                    : <>No token of the grant was still active, so nothing more was revoked.</>}
                </div>
              </div>
            ))}
            <ol className="lineage" role="tree" aria-label="Token lineage">
              {rows.map((n) => (
                <Node key={n.token.id} t={n.token} depth={n.depth} current={token.id} start={l.startedAt} replayedRevoked={l.replays.some((r) => r.revoked.some((x) => x.id === n.token.id))} />
              ))}
            </ol>
            {l.orphans.length > 0 && <p className="muted small lineage-note">Tokens at the top level without the token they came from: it is no longer listed.</p>}
            {grant.data?.next_cursor !== null && grant.data?.next_cursor !== undefined && (
              <p className="muted small lineage-note">Only the first {items.length} tokens of this grant are shown. <Link to={grantHref(token.grant_id)}>See them all in the list</Link>.</p>
            )}
          </>
        )}
      </div>
    </Panel>
  )
}

function Node({ t, depth, current, start, replayedRevoked }: { t: TokenItem; depth: number; current: string; start: number; replayedRevoked?: boolean }) {
  const k = KIND[t.kind]
  const Icon = k?.icon ?? KeyRound
  const here = t.id === current
  const reason = t.state === 'revoked' || t.state === 'consumed' ? t.status_reason : null
  return (
    <li
      role="treeitem"
      aria-level={depth + 1}
      aria-current={here ? 'true' : undefined}
      className={`lineage-node ${here ? 'current' : ''} ${replayedRevoked ? 'by-replay' : ''}`}
      style={{ ['--depth' as string]: depth }}
      data-token-id={t.id}
      data-kind={t.kind}
    >
      <span className="lineage-main">
        <Icon size={14} className="lineage-icon" aria-hidden />
        {here ? (
          <span className="lineage-kind">{k?.label ?? t.kind} <span className="muted">(this token)</span></span>
        ) : (
          <Link className="lineage-kind" to={`/tokens/${encodeURIComponent(t.id)}`}>{k?.label ?? t.kind}</Link>
        )}
        <span className="mono faint small" title={t.id}>{shortId(t.id)}</span>
        <LiveStatusBadge token={t} />
        {t.replayed_at ? <span className="badge revoked plain lower" title={`Presented again at ${formatTime(t.replayed_at)}`}>replayed</span> : null}
        {t.grant_type === TOKEN_EXCHANGE ? (
          <span className="badge info plain lower" data-testid="lineage-exchange" title="Issued by a token exchange (RFC 8693) of the token above">
            exchanged by {t.client_id}{actOf(t) ? `, actor ${actOf(t)}` : ''}
          </span>
        ) : null}
      </span>
      <span className="lineage-meta small muted">
        <span className="num" title={formatTime(t.issued_at)}>{since(t.issued_at, start)}</span>
        {reason ? <span className="lineage-reason"><Ticks text={reason} /></span> : null}
      </span>
    </li>
  )
}
