import { useMutation, useQueryClient } from '@tanstack/react-query'
import { Download, Upload } from 'lucide-react'
import { useEffect, useRef, useState } from 'react'
import { useForm } from 'react-hook-form'
import { useLocation } from 'react-router'
import { api } from '../api/client'
import { keys, useClock, useSettings } from '../api/queries'
import type { ImportSummary, Settings, SigningAlg, TokenFormat } from '../api/types'
import { Code } from '../components/Code'
import { useToast } from '../components/toast'
import { ErrorBox, Field, FormErrorBanner, Loading, PageHeader, Panel, Ticks } from '../components/ui'
import { useServerNow } from '../lib/clock'
import { formatDateTime, formatDuration, formatTtl, parseTtl } from '../lib/format'
import { mapFieldErrors } from '../lib/serverErrors'
import { saveFile } from '../platform'
import { TrustedIssuersPanel } from '../components/TrustedIssuers'
import { RegistrationSettingsPanel } from '../components/RegistrationSettings'

interface SettingsForm {
  access_token_ttl: string
  id_token_ttl: string
  refresh_token_ttl: string
  code_ttl: string
  access_token_format: TokenFormat
  signing_alg: SigningAlg
  refresh_token_rotation: boolean
  introspection_require_scope: boolean
  introspection_validate_audience: boolean
  access_token_typ?: Settings['access_token_typ']
  assertion_time?: Settings['assertion_time']
  backchannel_logout_timeout?: number
  use_dpop_nonce?: boolean
  request_uri_ttl: string
  require_pushed_authorization_requests: boolean
}

const TTLS: { name: 'access_token_ttl' | 'id_token_ttl' | 'refresh_token_ttl' | 'code_ttl'; label: string; help: string }[] = [
  { name: 'access_token_ttl', label: 'Access token', help: 'Default; clients can override it.' },
  { name: 'id_token_ttl', label: 'ID token', help: 'OIDC ID tokens.' },
  { name: 'refresh_token_ttl', label: 'Refresh token', help: 'Until the app must sign in again.' },
  { name: 'code_ttl', label: 'Authorization code', help: 'Between redirect and exchange.' },
]

const toForm = (s: Settings): SettingsForm => ({
  ...s,
  access_token_ttl: formatTtl(s.access_token_ttl),
  id_token_ttl: formatTtl(s.id_token_ttl),
  refresh_token_ttl: formatTtl(s.refresh_token_ttl),
  code_ttl: formatTtl(s.code_ttl),
  request_uri_ttl: formatTtl(s.request_uri_ttl ?? 60),
  require_pushed_authorization_requests: s.require_pushed_authorization_requests ?? false,
})

const ttlRule = (v: string) => {
  const n = parseTtl(v)
  if (n === null) return 'Write seconds or a duration such as 15m, 1h, 30d'
  return n >= 1 ? true : 'At least 1 second'
}

function SettingsPanel({ settings }: { settings: Settings }) {
  const qc = useQueryClient()
  const toast = useToast()
  const [rest, setRest] = useState<string[]>([])
  const { register, handleSubmit, reset, setError, formState: { errors, isDirty, isSubmitting } } = useForm<SettingsForm>({ defaultValues: toForm(settings), mode: 'onSubmit', reValidateMode: 'onChange' })
  useEffect(() => reset(toForm(settings)), [settings, reset])
  const [failures, setFailures] = useState(0)
  const onSubmit = handleSubmit(async (v) => {
    setRest([])
    const s: Settings = {
      ...v,
      access_token_ttl: parseTtl(v.access_token_ttl)!,
      id_token_ttl: parseTtl(v.id_token_ttl)!,
      refresh_token_ttl: parseTtl(v.refresh_token_ttl)!,
      code_ttl: parseTtl(v.code_ttl)!,
      request_uri_ttl: parseTtl(v.request_uri_ttl)!,
    }
    try {
      const saved = await api.updateSettings(s)
      qc.setQueryData(keys.settings, saved)
      toast('Settings saved')
    } catch (e) {
      const m = mapFieldErrors(e, Object.keys(s))
      m.fields.forEach((f) => setError(f.field as keyof SettingsForm, { type: 'server', message: f.message }, { shouldFocus: true }))
      setRest(m.rest)
      if (!m.fields.length) setFailures((n) => n + 1)
    }
  })
  return (
    <Panel title="Tokens" hint="[server] and [introspection] in latchkey.toml">
      <form className="form" onSubmit={onSubmit} noValidate aria-label="Settings">
        {rest.length > 0 && <FormErrorBanner attempt={failures}><strong>The settings were not saved.</strong>{rest.map((m) => <div key={m}><Ticks text={m} /></div>)}</FormErrorBanner>}
        <div className="section-title">Lifetimes</div>
        <div className="grid2" style={{ gridTemplateColumns: 'repeat(4, minmax(0, 1fr))' }}>
          {TTLS.map((t) => (
            <Field key={t.name} label={t.label} htmlFor={t.name} help={t.help} error={errors[t.name]?.message}>
              <input id={t.name} className="input mono" aria-invalid={!!errors[t.name]} {...register(t.name, { validate: ttlRule })} />
            </Field>
          ))}
        </div>
        <div className="section-title">Format and signing</div>
        <div className="grid2">
          <Field label="Access token format" htmlFor="access_token_format" help="Opaque tokens mean nothing to the app: it must call /introspect.">
            <select id="access_token_format" className="input" {...register('access_token_format')}>
              <option value="jwt">JWT (RFC 9068, signed)</option>
              <option value="opaque">Opaque reference</option>
            </select>
          </Field>
          <Field label="Access token typ" htmlFor="access_token_typ" help="The JWT header typ (RFC 9068 §2.1). JWT for APIs whose verifier refuses at+jwt; clients can override it.">
            <select id="access_token_typ" className="input" {...register('access_token_typ')}>
              <option value="at+jwt">at+jwt (RFC 9068)</option>
              <option value="JWT">JWT</option>
            </select>
          </Field>
          <Field label="Signing algorithm" htmlFor="signing_alg" help="A change takes effect with a new key; the old one stays published." error={errors.signing_alg?.message}>
            <select id="signing_alg" className="input" {...register('signing_alg')}>
              <option value="RS256">RS256 (RSA 2048)</option>
              <option value="PS256">PS256 (RSA-PSS 2048)</option>
              <option value="ES256">ES256 (ECDSA P-256)</option>
              <option value="EdDSA">EdDSA (Ed25519)</option>
            </select>
          </Field>
        </div>
        <label className="check"><input type="checkbox" {...register('refresh_token_rotation')} /><span>Rotate refresh tokens <span className="desc">Issue a new refresh token on every refresh and retire the old one.</span></span></label>
        <div className="section-title">Pushed authorization requests (RFC 9126)</div>
        <div className="grid2">
          <Field label="request_uri lifetime" htmlFor="request_uri_ttl" help="How long a pushed request waits for the browser to reach /authorize (virtual clock). Each request_uri is single use." error={errors.request_uri_ttl?.message}>
            <input id="request_uri_ttl" className="input mono" aria-invalid={!!errors.request_uri_ttl} {...register('request_uri_ttl', { validate: ttlRule })} />
          </Field>
          <label className="check" style={{ alignSelf: 'center' }}>
            <input type="checkbox" {...register('require_pushed_authorization_requests')} />
            <span>Require PAR for every client <span className="desc">/authorize then accepts only request_uri from /par; advertised in discovery. Single clients can require it too.</span></span>
          </label>
        </div>
        <div className="section-title">Client assertions and DPoP proofs</div>
        <div className="grid2">
          <Field
            label="Assertion time"
            htmlFor="assertion_time"
            help="What iat, nbf and exp of private_key_jwt, client_secret_jwt and JWT bearer assertions, and the iat of DPoP proofs, are checked against. Clients stamp them with their real clock, so real time keeps them working while you move the virtual clock."
          >
            <select id="assertion_time" className="input" {...register('assertion_time')}>
              <option value="real">Real time (default)</option>
              <option value="virtual">The virtual clock (to test clock skew)</option>
            </select>
          </Field>
        </div>
        <div className="section-title">Back-channel logout</div>
        <div className="grid2">
          <Field
            label="Logout POST timeout (seconds)"
            htmlFor="backchannel_logout_timeout"
            error={errors.backchannel_logout_timeout?.message}
            help="How long each back-channel logout POST may take, 1–20 s. Logout waits at most this long for all clients together; a slower one is recorded as failed."
          >
            <input
              id="backchannel_logout_timeout"
              className="input mono"
              type="number"
              min={1}
              max={20}
              aria-invalid={!!errors.backchannel_logout_timeout}
              {...register('backchannel_logout_timeout', {
                valueAsNumber: true,
                validate: (n) => n === undefined || (Number.isInteger(n) && n >= 1 && n <= 20) || 'Between 1 and 20 seconds',
              })}
            />
          </Field>
        </div>
        <div className="section-title">DPoP</div>
        <label className="check"><input type="checkbox" {...register('use_dpop_nonce')} /><span>Require server nonces in DPoP proofs <span className="desc">A proof without the current nonce gets use_dpop_nonce and a DPoP-Nonce header to retry with (RFC 9449 §8). Proof iat follows the time chosen above.</span></span></label>
        <div className="section-title">Introspection</div>
        <div className="stack-sm">
          <label className="check"><input type="checkbox" {...register('introspection_require_scope')} /><span>Require the <code>token_introspection</code> scope <span className="desc">Callers without it get 403 unauthorized_client.</span></span></label>
          <label className="check"><input type="checkbox" {...register('introspection_validate_audience')} /><span>Validate the audience <span className="desc">A token is active only for callers among its aud.</span></span></label>
        </div>
        <div className="form-foot">
          <button type="submit" className="btn primary" disabled={!isDirty || isSubmitting}>{isSubmitting ? 'Saving…' : 'Save settings'}</button>
          {isDirty && <button type="button" className="btn" onClick={() => reset(toForm(settings))}>Discard</button>}
        </div>
      </form>
    </Panel>
  )
}

function ClockPanel() {
  const clock = useClock()
  const qc = useQueryClient()
  const now = useServerNow()
  const [offset, setOffset] = useState('')
  const move = useMutation({
    mutationFn: api.moveClock,
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.clock }),
  })
  const off = clock.data?.offset ?? 0
  const parsed = offset.trim() ? parseTtl(offset.replace(/^[-+]/, '')) : null
  return (
    <Panel title="Clock" hint="a virtual clock: issuance, expiry and introspection all follow it" id="clock">
      <div className="stack">
        <div className="row" style={{ gap: 24 }}>
          <div className="stack-sm" style={{ gap: 2 }}>
            <span className="muted small">Server time</span>
            <span className="num" style={{ fontSize: 18, fontWeight: 600 }} data-testid="server-time">{formatDateTime(Math.floor(now))}</span>
          </div>
          <div className="stack-sm" style={{ gap: 2 }}>
            <span className="muted small">Offset from real time</span>
            <span className="num" style={{ fontSize: 18, fontWeight: 600 }}>{off === 0 ? 'none' : `${off > 0 ? '+' : '−'}${formatDuration(off)}`}</span>
          </div>
        </div>
        <div className="row">
          <span className="muted small" style={{ marginRight: 4 }}>Jump ahead</span>
          {[['+1 min', 60], ['+10 min', 600], ['+1 hour', 3600], ['+1 day', 86400]].map(([l, n]) => (
            <button key={l} type="button" className="btn sm" onClick={() => move.mutate({ advance: n as number })} disabled={move.isPending}>{l}</button>
          ))}
          <button type="button" className="btn sm" onClick={() => move.mutate({ offset: 0 })} disabled={move.isPending || off === 0}>Back to real time</button>
        </div>
        <form className="row" onSubmit={(e) => { e.preventDefault(); if (parsed !== null) move.mutate({ offset: offset.trim().startsWith('-') ? -parsed : parsed }); setOffset('') }}>
          <label htmlFor="clock-offset" className="muted small">Set the offset</label>
          <input id="clock-offset" className="input mono sm" style={{ width: 160 }} placeholder="-2h, 90m, 3600" value={offset} onChange={(e) => setOffset(e.target.value)} aria-invalid={!!offset.trim() && parsed === null} />
          <button type="submit" className="btn sm" disabled={parsed === null}>Set</button>
          {!!offset.trim() && parsed === null && <span className="small" style={{ color: 'var(--red)' }}>Write a duration such as -2h or 90m</span>}
        </form>
        {move.error && <ErrorBox error={move.error} title="The clock did not move" />}
      </div>
    </Panel>
  )
}

function ConfigPanel() {
  const toast = useToast()
  const qc = useQueryClient()
  const file = useRef<HTMLInputElement>(null)
  const [summary, setSummary] = useState<ImportSummary | null>(null)
  const [withDynamic, setWithDynamic] = useState(true)
  const exp = useMutation({
    mutationFn: () => api.exportConfig(withDynamic),
    onSuccess: (toml) => {
      saveFile('latchkey.toml', toml, 'application/toml')
      toast('latchkey.toml downloaded')
    },
  })
  const [preview, setPreview] = useState<string | null>(null)
  const [fileName, setFileName] = useState('')
  const imp = useMutation({
    mutationFn: ({ text, name }: { text: string; name: string }) => api.importConfig(text, name),
    onSuccess: (s) => {
      setSummary(s)
      void qc.invalidateQueries()
      toast('Config imported')
    },
  })
  const onFile = async (f: File | undefined) => {
    if (!f) return
    setSummary(null)
    const text = await f.text()
    setPreview(text)
    setFileName(f.name)
    imp.mutate({ text, name: f.name })
    if (file.current) file.current.value = ''
  }
  return (
    <Panel title="Config file" hint="latchkey.toml: the same format as --config">
      <div className="stack">
        <p className="muted">Export the clients, scopes, users, resources and settings to share them or commit them next to your app. Import merges a file: what it names is created or replaced, nothing else is deleted. User passwords are not exported.</p>
        <div className="row">
          <button type="button" className="btn" onClick={() => exp.mutate()} disabled={exp.isPending}><Download size={14} /> Export latchkey.toml</button>
          <button type="button" className="btn" onClick={() => file.current?.click()} disabled={imp.isPending}><Upload size={14} /> {imp.isPending ? 'Importing…' : 'Import a file…'}</button>
          <input ref={file} type="file" accept=".toml,application/toml,text/plain" hidden onChange={(e) => onFile(e.target.files?.[0])} aria-label="Config file to import" />
        </div>
        <label className="check"><input type="checkbox" checked={withDynamic} onChange={(e) => setWithDynamic(e.target.checked)} data-testid="export-dynamic" /><span>Include dynamically registered clients <span className="desc">Clients that registered themselves at /register (RFC 7591); they import as dynamic clients.</span></span></label>
        {exp.error && <ErrorBox error={exp.error} title="Export failed" />}
        {imp.error && (
          <>
            <ErrorBox error={imp.error} title={`${fileName || 'The file'} was not imported`} />
            {preview && <Code code={preview} language="toml" maxHeight={220} />}
          </>
        )}
        {summary && (
          <div className="verdict ok" role="status">
            <div><div className="t">Imported</div><div className="m">{summary.clients} clients, {summary.scopes} scopes, {summary.users} users and {summary.resources} resources created or updated.</div></div>
          </div>
        )}
      </div>
    </Panel>
  )
}

export function SettingsPage() {
  const settings = useSettings()
  const { hash } = useLocation()
  useEffect(() => {
    if (hash) document.getElementById(hash.slice(1))?.scrollIntoView({ block: 'start' })
  }, [hash])
  return (
    <div className="page">
      <PageHeader title="Settings" sub="Server-wide defaults. Changes apply at once and are stored in the database." />
      {settings.error && <ErrorBox error={settings.error} title="Could not load the settings" />}
      {settings.data ? <SettingsPanel settings={settings.data} /> : !settings.error && <Panel><Loading rows={5} /></Panel>}
      <ClockPanel />
      <TrustedIssuersPanel />
      {settings.data && <RegistrationSettingsPanel settings={settings.data} />}
      <ConfigPanel />
    </div>
  )
}
