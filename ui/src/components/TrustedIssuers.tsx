// Settings: the trusted issuers of JWT bearer assertions (RFC 7523 §2.1, `[[trusted_issuers]]`).
// A client with the jwt-bearer grant exchanges an assertion one of them signed for an access
// token for the assertion's subject.

import { useMutation, useQueryClient } from '@tanstack/react-query'
import { Pencil, Plus, ShieldCheck, Trash2 } from 'lucide-react'
import { useState } from 'react'
import { ApiError, api } from '../api/client'
import { keys, useTrustedIssuers } from '../api/queries'
import type { TrustedIssuer } from '../api/types'
import { parseJwks } from './ClientKeys'
import { ListInput } from './ListInput'
import { useToast } from './toast'
import { ConfirmDialog, EmptyState, ErrorBox, Field, FormErrorBanner, Loading, Panel } from './ui'

interface Draft {
  issuer: string
  source: 'jwks' | 'jwks_uri'
  jwks: string
  jwks_uri: string
  allowed_subjects: string[]
  audiences: string[]
  algorithms: string
}

const empty: Draft = { issuer: '', source: 'jwks', jwks: '', jwks_uri: '', allowed_subjects: [], audiences: [], algorithms: '' }

function toDraft(t: TrustedIssuer): Draft {
  return {
    issuer: t.issuer,
    source: t.jwks_uri ? 'jwks_uri' : 'jwks',
    jwks: t.jwks ? JSON.stringify(t.jwks, null, 2) : '',
    jwks_uri: t.jwks_uri ?? '',
    allowed_subjects: t.allowed_subjects ?? [],
    audiences: t.audiences ?? [],
    algorithms: (t.algorithms ?? []).join(' '),
  }
}

/** The issuer as the admin API takes it, and the field errors found before sending. */
export function fromDraft(d: Draft): { issuer: TrustedIssuer; errors: Record<string, string> } {
  const errors: Record<string, string> = {}
  if (!d.issuer.trim()) errors.issuer = 'The iss its assertions carry is required'
  const t: TrustedIssuer = { issuer: d.issuer.trim() }
  if (d.source === 'jwks') {
    const set = parseJwks(d.jwks)
    if (typeof set === 'string') errors.jwks = set
    else t.jwks = set
  } else if (!/^https?:\/\/\S+$/.test(d.jwks_uri.trim())) {
    errors.jwks_uri = 'An http:// or https:// URL'
  } else {
    t.jwks_uri = d.jwks_uri.trim()
  }
  const clean = (l: string[]) => l.map((s) => s.trim()).filter(Boolean)
  if (clean(d.allowed_subjects).length) t.allowed_subjects = clean(d.allowed_subjects)
  if (clean(d.audiences).length) t.audiences = clean(d.audiences)
  const algs = d.algorithms.split(/[\s,]+/).filter(Boolean)
  if (algs.length) t.algorithms = algs
  return { issuer: t, errors }
}

export function TrustedIssuersPanel() {
  const list = useTrustedIssuers()
  const [editing, setEditing] = useState<{ original?: string; draft: Draft } | null>(null)
  const [removing, setRemoving] = useState<string | null>(null)
  const qc = useQueryClient()
  const toast = useToast()
  const remove = useMutation({
    mutationFn: (issuer: string) => api.deleteTrustedIssuer(issuer),
    onSuccess: (_, issuer) => {
      qc.setQueryData<TrustedIssuer[]>(keys.trustedIssuers, (l) => l?.filter((t) => t.issuer !== issuer))
      toast('Trusted issuer removed')
      setRemoving(null)
    },
  })
  return (
    <Panel
      title="Trusted issuers"
      hint="[[trusted_issuers]]: JWT bearer grant (RFC 7523 §2.1)"
      id="trusted-issuers"
      right={!editing && <button type="button" className="btn small" onClick={() => setEditing({ draft: empty })}><Plus size={13} /> Add an issuer</button>}
    >
      <div className="stack">
        <p className="muted small">
          A client with the <code>urn:ietf:params:oauth:grant-type:jwt-bearer</code> grant can exchange a JWT one of these issuers signed
          for an access token for the JWT’s <code>sub</code>. Latchkey checks the signature with the issuer’s keys and the
          <code> iss</code>, <code>sub</code>, <code>aud</code>, <code>exp</code>, <code>nbf</code>, <code>iat</code> and <code>jti</code> claims.
        </p>
        {list.error && <ErrorBox error={list.error} />}
        {list.isPending && <Loading rows={2} />}
        {list.data && list.data.length === 0 && !editing && (
          <EmptyState icon={<ShieldCheck size={22} />} title="No trusted issuers">
            Add the issuer whose JWTs your clients exchange (a CI system, another identity provider, a workload identity).
          </EmptyState>
        )}
        {list.data && list.data.length > 0 && (
          <table className="table" aria-label="Trusted issuers">
            <thead><tr><th>Issuer</th><th>Keys</th><th>Subjects</th><th>Extra audiences</th><th /></tr></thead>
            <tbody>
              {list.data.map((t) => (
                <tr key={t.issuer}>
                  <td className="mono">{t.issuer}</td>
                  <td className="small">{t.jwks_uri ? <span className="mono">{t.jwks_uri}</span> : `${t.jwks?.keys.length ?? 0} key(s) inline`}</td>
                  <td className="small mono">{t.allowed_subjects?.length ? t.allowed_subjects.join(', ') : <span className="muted">any</span>}</td>
                  <td className="small mono">{t.audiences?.length ? t.audiences.join(', ') : <span className="muted">none</span>}</td>
                  <td style={{ whiteSpace: 'nowrap', textAlign: 'right' }}>
                    <button type="button" className="btn icon" title="Edit" aria-label={`Edit ${t.issuer}`} onClick={() => setEditing({ original: t.issuer, draft: toDraft(t) })}><Pencil size={13} /></button>
                    <button type="button" className="btn icon danger" title="Remove" aria-label={`Remove ${t.issuer}`} onClick={() => setRemoving(t.issuer)}><Trash2 size={13} /></button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {editing && <IssuerForm original={editing.original} initial={editing.draft} onDone={() => setEditing(null)} />}
      </div>
      <ConfirmDialog
        open={removing !== null}
        title={`Remove ${removing ?? ''}?`}
        confirm="Remove issuer"
        busy={remove.isPending}
        error={remove.error}
        onConfirm={() => removing && remove.mutate(removing)}
        onClose={() => setRemoving(null)}
      >
        Its assertions are refused from now on. Tokens already issued stay valid until they expire.
      </ConfirmDialog>
    </Panel>
  )
}

function IssuerForm({ original, initial, onDone }: { original?: string; initial: Draft; onDone: () => void }) {
  const [d, setD] = useState<Draft>(initial)
  const [errors, setErrors] = useState<Record<string, string>>({})
  const [rest, setRest] = useState<string[]>([])
  const [busy, setBusy] = useState(false)
  const qc = useQueryClient()
  const toast = useToast()
  const set = <K extends keyof Draft>(k: K, v: Draft[K]) => setD((x) => ({ ...x, [k]: v }))
  const submit = async (e: React.FormEvent) => {
    e.preventDefault()
    setRest([])
    const { issuer, errors: found } = fromDraft(d)
    setErrors(found)
    if (Object.keys(found).length) return
    setBusy(true)
    try {
      const saved = original ? await api.updateTrustedIssuer(original, issuer) : await api.createTrustedIssuer(issuer)
      qc.setQueryData<TrustedIssuer[]>(keys.trustedIssuers, (l) => (l ? [...l.filter((x) => x.issuer !== saved.issuer), saved] : [saved]))
      toast(original ? 'Trusted issuer saved' : 'Trusted issuer added')
      onDone()
    } catch (err) {
      if (err instanceof ApiError && err.fields.length) {
        const f: Record<string, string> = {}
        for (const x of err.fields) {
          const base = x.field.split(/[.[]/)[0]
          f[base] = f[base] ? `${f[base]}; ${x.field}: ${x.message}` : `${x.field === base ? '' : `${x.field}: `}${x.message}`
        }
        setErrors(f)
      } else {
        setRest([err instanceof Error ? err.message : String(err)])
      }
    } finally {
      setBusy(false)
    }
  }
  return (
    <form className="form once" onSubmit={submit} noValidate aria-label="Trusted issuer">
      {rest.length > 0 && <FormErrorBanner attempt={1}><strong>The issuer was not saved.</strong>{rest.map((m) => <div key={m}>{m}</div>)}</FormErrorBanner>}
      <div className="grid2">
        <Field label="Issuer" htmlFor="ti-issuer" error={errors.issuer} help="The iss of its assertions, compared exactly.">
          <input id="ti-issuer" className="input mono" value={d.issuer} readOnly={!!original} onChange={(e) => set('issuer', e.target.value)} placeholder="e.g. https://ci.example/oidc" aria-invalid={!!errors.issuer} />
        </Field>
        <Field label="Algorithms" htmlFor="ti-algs" error={errors.algorithms} help="Accepted alg values, space-separated. Empty: any asymmetric algorithm.">
          <input id="ti-algs" className="input mono" value={d.algorithms} onChange={(e) => set('algorithms', e.target.value)} placeholder="e.g. RS256 ES256" />
        </Field>
      </div>
      <div className="options" role="radiogroup" aria-label="Where the issuer's keys come from">
        <label className="option-card">
          <input type="radio" checked={d.source === 'jwks'} onChange={() => set('source', 'jwks')} />
          <span><span className="t">Keys here</span><br /><span className="d">Paste its public JWK Set.</span></span>
        </label>
        <label className="option-card">
          <input type="radio" checked={d.source === 'jwks_uri'} onChange={() => set('source', 'jwks_uri')} />
          <span><span className="t">jwks_uri</span><br /><span className="d">Latchkey fetches its published keys.</span></span>
        </label>
      </div>
      {d.source === 'jwks' ? (
        <Field label="Public keys (JWK Set)" htmlFor="ti-jwks" error={errors.jwks}>
          <textarea id="ti-jwks" className="input mono" rows={5} spellCheck={false} value={d.jwks} onChange={(e) => set('jwks', e.target.value)} placeholder={'{"keys": [{"kty": "EC", "crv": "P-256", "kid": "idp-1", "x": "...", "y": "..."}]}'} aria-invalid={!!errors.jwks} />
        </Field>
      ) : (
        <Field label="jwks_uri" htmlFor="ti-jwks-uri" error={errors.jwks_uri}>
          <input id="ti-jwks-uri" className="input mono" value={d.jwks_uri} onChange={(e) => set('jwks_uri', e.target.value)} placeholder="e.g. http://127.0.0.1:4000/jwks" aria-invalid={!!errors.jwks_uri} />
        </Field>
      )}
      <div className="grid2">
        <Field label="Allowed subjects" error={errors.allowed_subjects} help="The sub values it may assert. Empty: any subject.">
          <ListInput id="ti-subjects" mono value={d.allowed_subjects} onChange={(v) => set('allowed_subjects', v)} placeholder="e.g. deploy-bot" addLabel="Add a subject" groupLabel="Allowed subjects" />
        </Field>
        <Field label="Extra audiences" error={errors.audiences} help="aud values accepted besides Latchkey’s issuer and token endpoint URL.">
          <ListInput id="ti-audiences" mono value={d.audiences} onChange={(v) => set('audiences', v)} placeholder="e.g. latchkey" addLabel="Add an audience" groupLabel="Extra audiences" />
        </Field>
      </div>
      <div className="form-foot">
        <button type="submit" className="btn primary" disabled={busy}>{busy ? 'Saving…' : original ? 'Save issuer' : 'Add issuer'}</button>
        <button type="button" className="btn" onClick={onDone}>Cancel</button>
      </div>
    </form>
  )
}
