import { useMutation, useQueryClient } from '@tanstack/react-query'
import { KeyRound, RotateCw } from 'lucide-react'
import { Fragment, useState } from 'react'
import { api } from '../api/client'
import { keys as qk, useKeys, useSettings } from '../api/queries'
import type { KeyView, SigningAlg } from '../api/types'
import { Json } from '../components/Code'
import { useToast } from '../components/toast'
import { CopyButton, EmptyState, ErrorBox, Field, Loading, PageHeader, Panel } from '../components/ui'
import { useServerNow } from '../lib/clock'
import { formatShortDateTime, parseTtl, relative } from '../lib/format'

const ALGS: SigningAlg[] = ['RS256', 'PS256', 'ES256', 'EdDSA']

export function KeysPage() {
  const { data, error, isPending } = useKeys()
  const settings = useSettings()
  const qc = useQueryClient()
  const toast = useToast()
  const now = useServerNow()
  const [alg, setAlg] = useState<SigningAlg | ''>('')
  const [retention, setRetention] = useState('1h')
  const [shown, setShown] = useState<string | null>(null)
  const retentionSecs = parseTtl(retention)
  const rotate = useMutation({
    mutationFn: () => api.rotateKey({ alg: alg || undefined, retention: retentionSecs ?? undefined }),
    onSuccess: (list: KeyView[]) => {
      qc.setQueryData(qk.keys, list)
      toast('Signing key rotated')
    },
  })
  return (
    <div className="page">
      <PageHeader title="Keys" sub="The keys that sign tokens. Retired keys stay in the JWKS until their retention ends, so tokens they signed still verify." />
      <Panel title="Rotate the signing key" hint="new tokens are signed with a fresh key at once">
        <form className="row" style={{ alignItems: 'flex-end', gap: 14 }} onSubmit={(e) => { e.preventDefault(); rotate.mutate() }}>
          <Field label="Algorithm" htmlFor="rotate-alg">
            <select id="rotate-alg" className="input" value={alg} onChange={(e) => setAlg(e.target.value as SigningAlg | '')} style={{ width: 200 }}>
              <option value="">Same as now{settings.data ? ` (${settings.data.signing_alg})` : ''}</option>
              {ALGS.map((a) => <option key={a} value={a}>{a}</option>)}
            </select>
          </Field>
          <Field label="Keep the old key published for" htmlFor="rotate-retention" error={retentionSecs === null ? 'Write a duration such as 1h or 900' : undefined}>
            <input id="rotate-retention" className="input mono" value={retention} onChange={(e) => setRetention(e.target.value)} style={{ width: 200 }} aria-invalid={retentionSecs === null} />
          </Field>
          <button type="submit" className="btn primary" disabled={rotate.isPending || retentionSecs === null} style={{ height: 32, marginBottom: retentionSecs === null ? 26 : 0 }}>
            <RotateCw size={14} /> {rotate.isPending ? 'Rotating…' : 'Rotate now'}
          </button>
        </form>
        {rotate.error && <div style={{ marginTop: 12 }}><ErrorBox error={rotate.error} title="The key was not rotated" /></div>}
      </Panel>
      {error && <ErrorBox error={error} title="Could not load the keys" />}
      <Panel title="Keys" flush>
        {isPending ? <Loading /> : !data?.length ? <EmptyState icon={<KeyRound size={22} />} title="No keys" /> : (
          <div className="table-wrap">
            <table className="table">
              <thead><tr><th>Status</th><th>Key id (kid)</th><th>Algorithm</th><th>Created</th><th>Retired</th><th>Unpublished</th><th style={{ textAlign: 'right' }}>Live tokens</th><th className="actions"><span className="sr-only">Actions</span></th></tr></thead>
              <tbody>
                {data.map((k) => (
                  <Fragment key={k.kid}>
                    <tr data-kid={k.kid}>
                      <td><span className={`badge ${k.status === 'active' ? 'active' : k.published ? 'expired' : 'consumed'}`}>{k.status === 'active' ? 'active' : k.published ? 'retired' : 'removed'}</span></td>
                      <td className="mono"><span className="row" style={{ gap: 2, flexWrap: 'nowrap' }}><span className="ellipsis" style={{ maxWidth: 190 }} title={k.kid}>{k.kid}</span><CopyButton text={k.kid} small title="Copy kid" /></span></td>
                      <td><span className="tag">{k.alg}</span></td>
                      <td className="nowrap small">{formatShortDateTime(k.created_at)}</td>
                      <td className="nowrap small">{k.retired_at ? formatShortDateTime(k.retired_at) : <span className="faint">—</span>}</td>
                      <td className="nowrap small">{k.expires_at ? relative(k.expires_at, now) : <span className="faint">{k.status === 'active' ? 'while active' : '—'}</span>}</td>
                      <td className="num" style={{ textAlign: 'right' }}>{k.live_tokens}</td>
                      <td className="actions"><button type="button" className="btn sm ghost" aria-expanded={shown === k.kid} onClick={() => setShown(shown === k.kid ? null : k.kid)}>{shown === k.kid ? 'Hide JWK' : 'JWK'}</button></td>
                    </tr>
                    {shown === k.kid && <tr><td colSpan={8} className="detail"><div style={{ padding: 14 }}><Json value={k.jwk} maxHeight={260} /></div></td></tr>}
                  </Fragment>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Panel>
    </div>
  )
}
