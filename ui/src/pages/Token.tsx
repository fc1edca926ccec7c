import { useQueryClient } from '@tanstack/react-query'
import { useCallback } from 'react'
import { Link, useParams } from 'react-router'
import { api } from '../api/client'
import { keys, useToken } from '../api/queries'
import { LineagePanel } from '../components/Lineage'
import { TokenView } from '../components/TokenView'
import { LiveStatusBadge } from '../components/TokenStatus'
import { ErrorBox, Loading, PageHeader } from '../components/ui'
import { boundJkt } from '../lib/claims'
import { formatDateTime, shortId } from '../lib/format'

export function TokenPage() {
  const { id = '' } = useParams()
  const q = useToken(id)
  const qc = useQueryClient()
  const { refetch } = q
  const refresh = useCallback(() => void refetch(), [refetch])
  const rec = q.data?.record
  return (
    <div className="page">
      <PageHeader
        crumbs={<><Link to="/tokens">Tokens</Link><span>/</span><span className="mono">{shortId(id, 12)}</span></>}
        title={<span className="row" style={{ gap: 10 }}>{rec ? rec.kind.replace('_', ' ') : 'Token'} {rec && <LiveStatusBadge token={rec} />}</span>}
        sub={rec ? (
          <>
            Issued to <Link className="mono" to={`/clients/${encodeURIComponent(rec.client_id)}`}>{rec.client_id}</Link>
            {rec.username ? <> for <Link to={`/users/${encodeURIComponent(rec.username)}`}><strong>{rec.username}</strong></Link></> : null}
            {' '}at {formatDateTime(rec.issued_at)} · scopes <span className="mono">{rec.scope || 'none'}</span>
            {boundJkt(rec.claims) && (
              <div data-testid="token-dpop" style={{ marginTop: 4 }}>
                <span className="tag accent">DPoP-bound</span>{' '}
                key thumbprint (cnf.jkt) <span className="mono" style={{ wordBreak: 'break-all' }}>{boundJkt(rec.claims)}</span>
                <span className="muted">{rec.kind === 'refresh_token'
                  ? ': a refresh needs a DPoP proof signed by that key'
                  : ': send it as Authorization: DPoP with a proof signed by that key'}</span>
              </div>
            )}
          </>
        ) : undefined}
      />
      {q.error ? <ErrorBox error={q.error} title="Could not load the token" /> : !q.data ? <Loading rows={8} /> : (
        <>
          {rec?.grant_id && <LineagePanel token={rec} />}
          <TokenView
            detail={q.data}
            refreshing={q.isFetching}
            onRefresh={refresh}
            onRevoke={async () => {
              await api.revokeToken(id)
              await qc.invalidateQueries({ queryKey: keys.token(id) })
            }}
          />
          {rec && !rec.grant_id && <LineagePanel token={rec} />}
        </>
      )}
    </div>
  )
}
