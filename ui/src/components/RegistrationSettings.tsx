// `[registration]` and `[fetch]`: dynamic client registration (RFC 7591), Client ID Metadata
// Documents and which hosts client-supplied URLs may be fetched from (docs/modern.md).

import { useQueryClient } from '@tanstack/react-query'
import { useEffect, useState } from 'react'
import { useForm } from 'react-hook-form'
import { api } from '../api/client'
import { keys } from '../api/queries'
import type { RegistrationSettings, Settings } from '../api/types'
import { mapFieldErrors } from '../lib/serverErrors'
import { useToast } from './toast'
import { Field, FormErrorBanner, Panel, Ticks } from './ui'

interface Form {
  enabled: boolean
  initial_access_token: string
  allow_non_loopback_redirect_uris: boolean
  require_consent: boolean
  client_id_metadata_documents: boolean
  allow_http_loopback_client_ids: boolean
  allowed_hosts: string
  timeout: string
}

const DEFAULTS: RegistrationSettings = {
  enabled: true,
  allow_non_loopback_redirect_uris: false,
  require_consent: true,
  client_id_metadata_documents: true,
  allow_http_loopback_client_ids: true,
}

const toForm = (s: Settings): Form => {
  const r = s.registration ?? DEFAULTS
  return {
    ...r,
    initial_access_token: r.initial_access_token ?? '',
    allowed_hosts: (s.fetch?.allowed_hosts ?? []).join('\n'),
    timeout: String(s.fetch?.timeout ?? 5),
  }
}

const FIELD: Record<string, keyof Form> = {
  'registration.initial_access_token': 'initial_access_token',
  'fetch.timeout': 'timeout',
}

export function RegistrationSettingsPanel({ settings }: { settings: Settings }) {
  const qc = useQueryClient()
  const toast = useToast()
  const [rest, setRest] = useState<string[]>([])
  const [failures, setFailures] = useState(0)
  const { register, handleSubmit, reset, setError, formState: { errors, isDirty, isSubmitting } } = useForm<Form>({ defaultValues: toForm(settings) })
  useEffect(() => reset(toForm(settings)), [settings, reset])
  const onSubmit = handleSubmit(async (v) => {
    setRest([])
    const s: Settings = {
      ...settings,
      registration: {
        enabled: v.enabled,
        initial_access_token: v.initial_access_token.trim() || undefined,
        allow_non_loopback_redirect_uris: v.allow_non_loopback_redirect_uris,
        require_consent: v.require_consent,
        client_id_metadata_documents: v.client_id_metadata_documents,
        allow_http_loopback_client_ids: v.allow_http_loopback_client_ids,
      },
      fetch: {
        allowed_hosts: v.allowed_hosts.split(/[\s,]+/).map((h) => h.trim()).filter(Boolean),
        timeout: Number(v.timeout),
      },
    }
    try {
      const saved = await api.updateSettings(s)
      qc.setQueryData(keys.settings, saved)
      toast('Registration settings saved')
    } catch (e) {
      const m = mapFieldErrors(e, [])
      const left: string[] = []
      for (const line of m.rest) {
        const [field, ...msg] = line.split(': ')
        const k = FIELD[field] ?? (field.startsWith('fetch.allowed_hosts') ? 'allowed_hosts' : undefined)
        if (k && msg.length) setError(k, { type: 'server', message: msg.join(': ') }, { shouldFocus: true })
        else left.push(line)
      }
      setRest(left)
      setFailures((n) => n + 1)
    }
  })
  return (
    <Panel title="Client registration" hint="[registration] and [fetch] in latchkey.toml" id="registration">
      <form className="form" onSubmit={onSubmit} noValidate aria-label="Client registration">
        {rest.length > 0 && <FormErrorBanner attempt={failures}><strong>The settings were not saved.</strong>{rest.map((m) => <div key={m}><Ticks text={m} /></div>)}</FormErrorBanner>}
        <div className="section-title">Dynamic client registration (RFC 7591)</div>
        <div className="stack-sm">
          <label className="check"><input type="checkbox" {...register('enabled')} /><span>Open <code>/register</code> <span className="desc">Apps such as MCP clients register themselves; they appear under Clients, tagged.</span></span></label>
          <label className="check"><input type="checkbox" {...register('require_consent')} /><span>Always ask for consent <span className="desc">Their consent page says they registered themselves, when and from where. Recommended: a web page can register a client too.</span></span></label>
          <label className="check"><input type="checkbox" {...register('allow_non_loopback_redirect_uris')} /><span>Allow redirect URIs on other hosts <span className="desc">Off: only this machine (127.0.0.1, [::1], localhost) and app schemes (com.example.app:/cb).</span></span></label>
        </div>
        <div className="grid2">
          <Field label="Initial access token" htmlFor="initial_access_token" help="When set, registration needs Authorization: Bearer with it (RFC 7591 §3). Empty: open." error={errors.initial_access_token?.message}>
            <input id="initial_access_token" className="input mono" autoComplete="off" placeholder="open registration" {...register('initial_access_token')} />
          </Field>
        </div>
        <div className="section-title">Client ID metadata documents</div>
        <div className="stack-sm">
          <label className="check"><input type="checkbox" {...register('client_id_metadata_documents')} /><span>Accept URL client IDs <span className="desc">A client_id that is the https URL of its metadata is fetched, checked and cached.</span></span></label>
          <label className="check"><input type="checkbox" {...register('allow_http_loopback_client_ids')} /><span>Also http on this machine <span className="desc">For documents served while developing (http://127.0.0.1:…/client.json).</span></span></label>
        </div>
        <div className="section-title">Fetching client-supplied URLs</div>
        <div className="grid2">
          <Field label="Allowed hosts" htmlFor="allowed_hosts" help="One per line: example.com, *.example.com, 127.0.0.1. Empty: any host over https, this machine over http." error={errors.allowed_hosts?.message}>
            <textarea id="allowed_hosts" className="input mono" rows={3} placeholder="any host over https" {...register('allowed_hosts')} />
          </Field>
          <Field label="Timeout (seconds)" htmlFor="fetch_timeout" help="For one fetch: connect, redirects and body." error={errors.timeout?.message}>
            <input id="fetch_timeout" className="input mono" inputMode="numeric" {...register('timeout', { validate: (t) => (/^\d+$/.test(t) && +t >= 1 && +t <= 60) || 'Between 1 and 60 seconds' })} />
          </Field>
        </div>
        <div className="form-foot">
          <button type="submit" className="btn primary" disabled={!isDirty || isSubmitting}>{isSubmitting ? 'Saving…' : 'Save registration settings'}</button>
          {isDirty && <button type="button" className="btn" onClick={() => reset(toForm(settings))}>Discard</button>}
        </div>
      </form>
    </Panel>
  )
}
