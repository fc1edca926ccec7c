import { useMutation, useQueryClient } from '@tanstack/react-query'
import { KeyRound, RotateCw, Zap } from 'lucide-react'
import { Fragment, useState } from 'react'
import { Link } from 'react-router'
import { api } from '../api/client'
import { keys as qk, useKeys, useSettings } from '../api/queries'
import type { KeyView, RotationPreview, SigningAlg } from '../api/types'
import { Json } from '../components/Code'
import { useToast } from '../components/toast'
import { useAddFault } from '../components/FaultBanner'
import { ConfirmDialog, CopyButton, EmptyState, ErrorBox, Field, Loading, PageHeader, Panel } from '../components/ui'
import { useServerNow } from '../lib/clock'
import { formatShortDateTime, formatTtl, parseTtl, relative } from '../lib/format'
import '../components/lineage.css'

const ALGS: SigningAlg[] = ['RS256', 'PS256', 'ES256', 'EdDSA']

function keyState(k: KeyView, now: number): 'active' | 'retired' | 'unpublished' {
  if (k.status === 'active') return 'active'
  if (k.status === 'unpublished' || !k.published || (k.expires_at !== null && k.expires_at <= now)) return 'unpublished'
  return 'retired'
}

export function KeysPage() {
  const { data, error, isPending } = useKeys()
  const settings = useSettings()
  const qc = useQueryClient()
  const toast = useToast()
  const addFault = useAddFault()
  const now = useServerNow()
  const [alg, setAlg] = useState<SigningAlg | ''>('')
  const [retention, setRetention] = useState('1h')
  const [shown, setShown] = useState<string | null>(null)
  const [preview, setPreview] = useState<RotationPreview | null>(null)
  const retentionSecs = parseTtl(retention)
  const rotate = useMutation({
    mutationFn: (secs: number | undefined) => api.rotateKey({ alg: alg || undefined, retention: secs }),
    onSuccess: (list: KeyView[]) => {
      qc.setQueryData(qk.keys, list)
      setPreview(null)
      toast('Signing key rotated')
    },
  })
  // Ask first when live tokens of the active key would outlive its publication.
  const check = useMutation({
    mutationFn: () => api.rotationPreview(retentionSecs ?? undefined),
    onSuccess: (p: RotationPreview) => {
      if (p.stop_verifying > 0) setPreview(p)
      else rotate.mutate(retentionSecs ?? undefined)
    },
  })
  const busy = rotate.isPending || check.isPending
  const active = data?.find((k) => k.status === 'active')
  // The retention that keeps every live token verifiable, rounded up to a whole minute.
  const safe = preview ? Math.ceil(preview.safe_retention / 60) * 60 : 0
  return (
    <div className="page">
      <PageHeader
        title="Keys"
        sub="The keys that sign tokens. Retired keys stay in the JWKS until their retention ends, so tokens they signed still verify; after that those tokens show as key retired."
        actions={
          <button
            type="button" className="btn" data-testid="jwks-without-current" disabled={addFault.isPending}
            title="A fault rule: /jwks leaves out the current signing key until you remove the rule (see Faults)"
            onClick={() => addFault.mutate({ name: 'JWKS without the current key', endpoint: 'jwks', action: 'jwks', jwks: 'key_missing' })}
          >
            <Zap size={14} /> Serve a JWKS without the current key
          </button>
        }
      />
      <Panel title="Rotate the signing key" hint="new tokens are signed with a fresh key at once">
        <form className="row keys-rotate" onSubmit={(e) => { e.preventDefault(); check.mutate() }}>
          <Field label="Algorithm" htmlFor="rotate-alg">
            <select id="rotate-alg" className="input" value={alg} onChange={(e) => setAlg(e.target.value as SigningAlg | '')} style={{ width: 200 }}>
              <option value="">Same as now{settings.data ? ` (${settings.data.signing_alg})` : ''}</option>
              {ALGS.map((a) => <option key={a} value={a}>{a}</option>)}
            </select>
          </Field>
          <Field label="Keep the old key published for" htmlFor="rotate-retention" error={retentionSecs === null ? 'Write a duration such as 1h or 900' : undefined}>
            <input id="rotate-retention" className="input mono" value={retention} onChange={(e) => setRetention(e.target.value)} style={{ width: 200 }} aria-invalid={retentionSecs === null} />
          </Field>
          <button type="submit" className="btn primary" disabled={busy || retentionSecs === null} style={{ height: 32, marginBottom: retentionSecs === null ? 26 : 0 }}>
            <RotateCw size={14} /> {busy ? 'Rotating…' : 'Rotate now'}
          </button>
        </form>
        {active && active.live_tokens > 0 && (
          <p className="muted small" style={{ margin: '10px 0 0' }}>
            {active.live_tokens === 1 ? '1 live token uses' : `${active.live_tokens} live tokens use`} the active key. A retention shorter than their remaining lifetime makes them stop verifying when the key leaves the JWKS; you will be asked first.
          </p>
        )}
        {(rotate.error || check.error) && <div style={{ marginTop: 12 }}><ErrorBox error={rotate.error ?? check.error} title="The key was not rotated" /></div>}
      </Panel>
      <ConfirmDialog
        open={!!preview}
        title={preview ? `${preview.stop_verifying} token${preview.stop_verifying === 1 ? '' : 's'} will stop verifying` : ''}
        confirm="Rotate anyway"
        busy={rotate.isPending}
        error={rotate.error}
        onConfirm={() => rotate.mutate(retentionSecs ?? undefined)}
        onClose={() => setPreview(null)}
      >
        {preview && (
          <div data-testid="rotation-impact">
            <p style={{ margin: 0 }}>
              {preview.stop_verifying === preview.live_tokens
                ? preview.live_tokens === 1 ? 'The live token' : `All ${preview.live_tokens} live tokens`
                : `${preview.stop_verifying} of the ${preview.live_tokens} live tokens`}{' '}
              signed with <span className="mono">{preview.kid.slice(0, 12)}…</span> will
              {preview.retention === 0 ? ' stop verifying immediately' : <> stop verifying {relative(preview.unpublished_at, now)} ({formatShortDateTime(preview.unpublished_at)})</>}, when the key leaves the JWKS, before {preview.stop_verifying === 1 ? 'it expires' : 'they expire'}.
              APIs will reject {preview.stop_verifying === 1 ? 'it' : 'them'} and <span className="mono">/introspect</span> will answer <span className="mono">active: false</span>; Latchkey shows {preview.stop_verifying === 1 ? 'it' : 'them'} as key retired.
            </p>
            {preview.last_expiry !== null && (
              <p style={{ margin: '10px 0 0' }}>
                The last one expires {relative(preview.last_expiry, now)}. Keeping the old key for {formatTtl(safe)} keeps every one of them valid.{' '}
                <button type="button" className="btn sm" style={{ marginTop: 6 }} onClick={() => { setRetention(formatTtl(safe)); rotate.mutate(safe) }} disabled={rotate.isPending}>
                  Keep it {formatTtl(safe)} instead
                </button>
              </p>
            )}
          </div>
        )}
      </ConfirmDialog>
      {error && <ErrorBox error={error} title="Could not load the keys" />}
      <Panel title="Keys" flush>
        {isPending ? <Loading /> : !data?.length ? <EmptyState icon={<KeyRound size={22} />} title="No keys" /> : (
          <div className="table-wrap">
            <table className="table keys-table" data-testid="keys-table">
              <thead><tr><th>Status</th><th>Key id (kid) · algorithm</th><th>Created · retired</th><th>In the JWKS</th><th style={{ textAlign: 'right' }} title="Tokens it signed that have not expired">Live tokens</th><th className="actions"><span className="sr-only">Actions</span></th></tr></thead>
              <tbody>
                {data.map((k) => {
                  const st = keyState(k, now)
                  return (
                    <Fragment key={k.kid}>
                      <tr data-kid={k.kid} data-status={st} className={st === 'unpublished' ? 'key-gone' : undefined}>
                        <td>
                          <span className={`badge ${st === 'active' ? 'active' : st === 'retired' ? 'expired' : 'consumed'}`} title={st === 'unpublished' ? 'Left the JWKS: tokens it signed no longer verify' : st === 'retired' ? 'Still in the JWKS: verifies the tokens it signed, signs nothing new' : 'Signs new tokens'}>
                            {st === 'unpublished' ? 'left JWKS' : st}
                          </span>
                        </td>
                        <td className="mono">
                          <span className="row" style={{ gap: 2, flexWrap: 'nowrap' }}>
                            <span className="ellipsis key-kid" title={k.kid}>{k.kid}</span>
                            <CopyButton text={k.kid} small title="Copy kid" />
                          </span>
                          <div className="sub"><span className="tag">{k.alg}</span></div>
                        </td>
                        <td className="small">
                          {formatShortDateTime(k.created_at)}
                          <div className="sub">{k.retired_at ? <>retired {formatShortDateTime(k.retired_at)}</> : 'signing'}</div>
                        </td>
                        <td className="small">
                          {k.expires_at
                            ? st === 'unpublished'
                              ? <>left {relative(k.expires_at, now)}<div className="sub">{formatShortDateTime(k.expires_at)}</div></>
                              : <>until {relative(k.expires_at, now)}<div className="sub">{formatShortDateTime(k.expires_at)}</div></>
                            : <span className="faint">{k.status === 'active' ? 'while active' : '—'}</span>}
                        </td>
                        <td className="num" style={{ textAlign: 'right' }}>
                          {k.live_tokens > 0 && st === 'unpublished'
                            ? <Link to="/tokens?status=key_retired" title="Not expired, but no longer verifiable">{k.live_tokens}<div className="sub">unverifiable</div></Link>
                            : k.live_tokens}
                        </td>
                        <td className="actions"><button type="button" className="btn sm ghost" aria-expanded={shown === k.kid} onClick={() => setShown(shown === k.kid ? null : k.kid)}>{shown === k.kid ? 'Hide JWK' : 'JWK'}</button></td>
                      </tr>
                      {shown === k.kid && <tr><td colSpan={6} className="detail"><div style={{ padding: 14 }}><Json value={k.jwk} maxHeight={260} /></div></td></tr>}
                    </Fragment>
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
