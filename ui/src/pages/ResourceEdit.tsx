import { useMutation, useQueryClient } from '@tanstack/react-query'
import { AlertCircle, Plus, Trash2, X } from 'lucide-react'
import { useState } from 'react'
import { Controller, useFieldArray, useForm } from 'react-hook-form'
import { Link, useNavigate, useParams, useSearchParams } from 'react-router'
import { api } from '../api/client'
import { keys, useClients, useResourceProfiles, useResources, useStatus } from '../api/queries'
import type { BearerMethod, Resource } from '../api/types'
import { ListInput } from '../components/ListInput'
import { ScopePicker } from '../components/ScopePicker'
import { useToast } from '../components/toast'
import { ConfirmDialog, ErrorBox, Field, FormErrorBanner, Loading, PageHeader, Panel } from '../components/ui'
import { parseTtl } from '../lib/format'
import {
  DEFAULT_PROFILE, defaultText, findProfile, fromResourceForm, parseSignedDuration, RESOURCE_FIELDS, RULE_METHODS, toResourceForm,
  type ResourceForm,
} from '../lib/resourceForm'
import { isConflict, mapFieldErrors } from '../lib/serverErrors'

/** The example a new user starts from (`?example=books`): django's `protected_resource_view(['read_books'])`. */
const EXAMPLE: Resource = {
  name: 'books',
  audience: 'books-api',
  required_scopes: ['read_books'],
  rules: [{ method: 'POST', path: '/books/*', scopes: ['add_books'] }],
  validation: 'jwt',
}

export function ResourceEditPage() {
  const { name } = useParams()
  const [params] = useSearchParams()
  const editing = name !== undefined
  const resources = useResources()
  const existing = editing ? resources.data?.find((r) => r.name === name) : undefined
  if (editing && resources.isPending) return <div className="page"><Loading rows={6} /></div>
  if (editing && resources.error) return <div className="page"><ErrorBox error={resources.error} /></div>
  if (editing && !existing) {
    return (
      <div className="page">
        <PageHeader title="Resource not found" crumbs={<Link to="/resources">Resources</Link>} />
        <ErrorBox title="No such resource" error={new Error(`There is no resource "${name}". It may have been deleted.`)} />
      </div>
    )
  }
  const start = editing ? existing : params.get('example') === 'books' ? EXAMPLE : undefined
  return <ResourceFormView key={name ?? 'new'} existing={existing} start={start} />
}

const durationRule = (signed: boolean) => (v: string) => {
  if (!v.trim()) return true
  const n = signed ? parseSignedDuration(v) : parseTtl(v)
  return n === null ? `Write seconds or a duration such as 30s, 5m or 1h${signed ? ' (negative: behind Latchkey)' : ''}` : true
}

function ResourceFormView({ existing, start }: { existing?: Resource; start?: Resource }) {
  const editing = !!existing
  const qc = useQueryClient()
  const nav = useNavigate()
  const toast = useToast()
  const profiles = useResourceProfiles()
  const clients = useClients()
  const status = useStatus()
  const [formError, setFormError] = useState<string[]>([])
  const [confirmDelete, setConfirmDelete] = useState(false)
  const [taken, setTaken] = useState<string | null>(null)
  const [failures, setFailures] = useState(0)

  const form = useForm<ResourceForm>({ defaultValues: toResourceForm(start), mode: 'onSubmit', reValidateMode: 'onChange' })
  const { register, control, handleSubmit, watch, setError, formState: { errors, isSubmitting, isDirty } } = form
  const rules = useFieldArray({ control, name: 'rules' })
  const profileName = watch('profile')
  const bearer = watch('bearer_methods')
  const upstream = watch('upstream')
  const validation = watch('validation')
  const nameValue = watch('name')
  const profile = findProfile(profiles.data, profileName)
  const d = profile?.defaults
  const issuer = status.data?.issuer ?? 'the issuer'
  const identifier = `${issuer}/resources/${nameValue.trim() || '{name}'}`

  const save = useMutation({
    mutationFn: (r: Resource) => (editing ? api.updateResource(existing.name, r) : api.createResource(r)),
    onSuccess: (r) => {
      qc.setQueryData<Resource[]>(keys.resources, (l) => (l ? [...l.filter((x) => x.name !== r.name), r] : l))
      toast(editing ? 'Resource saved' : 'Resource created')
      nav(`/resources/${encodeURIComponent(r.name)}`, { replace: !editing })
    },
  })

  const remove = useMutation({
    mutationFn: () => api.deleteResource(existing!.name),
    onSuccess: () => {
      qc.setQueryData<Resource[]>(keys.resources, (l) => l?.filter((x) => x.name !== existing!.name))
      toast('Resource deleted')
      nav('/resources', { replace: true })
    },
  })

  const onSubmit = handleSubmit(async (values) => {
    setFormError([])
    setTaken(null)
    try {
      await save.mutateAsync(fromResourceForm(values))
    } catch (e) {
      setFailures((n) => n + 1)
      if (!editing && isConflict(e)) {
        setError('name', { type: 'server', message: 'A resource with this name exists' })
        setTaken(values.name.trim())
        return
      }
      const { fields, rest } = mapFieldErrors(e, RESOURCE_FIELDS)
      // `rules[1].path`: put the message on that rule's input.
      const ruleFields = (e as { fields?: { field: string; message: string }[] }).fields ?? []
      for (const f of ruleFields) {
        const m = /^rules\[(\d+)\]\.(method|path|scopes)/.exec(f.field)
        if (m) setError(`rules.${Number(m[1])}.${m[2] as 'method' | 'path' | 'scopes'}`, { type: 'server', message: f.message })
      }
      for (const f of fields) {
        if (f.field === 'rules' && ruleFields.some((x) => /^rules\[\d+\]\./.test(x.field))) continue
        setError(f.field as keyof ResourceForm, { type: 'server', message: f.message })
      }
      setFormError(fields.length ? rest : rest.length ? rest : ['The server refused the resource.'])
      const first = fields[0]?.field
      if (first && first !== 'rules' && first !== 'required_scopes' && first !== 'audience') form.setFocus(first as keyof ResourceForm)
    }
  })

  const errorCount = Object.keys(errors).length
  return (
    <div className="page">
      <PageHeader
        crumbs={<><Link to="/resources">Resources</Link><span>/</span>{editing && <><Link to={`/resources/${encodeURIComponent(existing.name)}`}>{existing.name}</Link><span>/</span></>}</>}
        title={editing ? `Edit ${existing.name}` : 'New resource'}
        sub={editing ? <span className="mono">{existing.identifier ?? identifier}</span> : 'A protected API Latchkey serves and explains: say which tokens it accepts, as your real API would.'}
        actions={editing && (
          <button type="button" className="btn danger" onClick={() => setConfirmDelete(true)}><Trash2 size={14} /> Delete</button>
        )}
      />
      <form className="form" onSubmit={onSubmit} noValidate aria-label="Resource">
        {taken ? (
          <FormErrorBanner attempt={failures}>
            <strong>A resource named <code className="tick">{taken}</code> already exists.</strong>
            <div><Link to={`/resources/${encodeURIComponent(taken)}`}>Open it</Link>, or choose another name.</div>
          </FormErrorBanner>
        ) : (formError.length > 0 || (errorCount > 0 && form.formState.submitCount > 0)) && (
          <FormErrorBanner attempt={failures} focus={formError.length > 0}>
            <strong>{errorCount > 0 ? `Fix the ${errorCount === 1 ? 'field' : `${errorCount} fields`} marked below.` : 'The resource was not saved.'}</strong>
            {formError.map((m) => <div key={m}>{m}</div>)}
          </FormErrorBanner>
        )}

        <Panel title="Identity and audience">
          <div className="grid2">
            <Field
              label="Name"
              htmlFor="name"
              error={errors.name?.message}
              help={<>Served at <span className="mono">{identifier}/…</span>, its resource identifier (RFC 8707).</>}
            >
              <input
                id="name"
                className="input mono"
                placeholder="e.g. books"
                readOnly={editing}
                autoFocus={!editing && !start}
                aria-invalid={!!errors.name}
                aria-describedby={errors.name ? 'name-error' : undefined}
                {...register('name', {
                  required: 'A name is required',
                  validate: (v) => (/^[A-Za-z0-9._~-]+$/.test(v.trim()) ? true : 'Letters, digits and . _ ~ - only: it is a URL path segment'),
                })}
              />
            </Field>
            <Field
              label="Audience"
              error={errors.audience?.message}
              help={<>Tokens whose <code>aud</code> is one of these, or the identifier itself, are accepted. A logical name such as <code>books-api</code> is common.</>}
            >
              <Controller
                control={control}
                name="audience"
                render={({ field }) => (
                  <ListInput id="audience" mono value={field.value} onChange={field.onChange} onBlur={field.onBlur} invalid={!!errors.audience} placeholder="e.g. books-api" addLabel="Add an audience" groupLabel="Audience" />
                )}
              />
            </Field>
          </div>
        </Panel>

        <Panel title="Scopes" hint="django's protected_resource_view(['read_books']), as data">
          <div className="stack">
            <Field label="Required on every call" error={errors.required_scopes?.message} help={<>A token must hold all of them. <Link to="/scopes">Manage scopes</Link></>}>
              <Controller
                control={control}
                name="required_scopes"
                render={({ field }) => <ScopePicker id="required_scopes" label="Required scopes" apiOnly value={field.value} onChange={field.onChange} />}
              />
            </Field>
            <Field label="Rules" error={errors.rules?.message ?? errors.rules?.root?.message} help={<>Extra scopes per method and path, as per-view decorators do; the first matching rule counts. In a pattern, <code>*</code> is one path segment (<code>/books/*</code> matches <code>/books/1</code>) and <code>**</code> any number (<code>/books/**</code> also matches <code>/books</code>).</>}>
              <div id="rules">
                {rules.fields.length > 0 && (
                  <div className="rule-head" aria-hidden="true"><span>Method</span><span>Path pattern</span><span>Scopes required</span><span /></div>
                )}
                {rules.fields.map((r, i) => (
                  <div className="rule-row" key={r.id} data-rule={i}>
                    <select className="input mono" aria-label={`Rule ${i + 1} method`} aria-invalid={!!errors.rules?.[i]?.method} {...register(`rules.${i}.method`)}>
                      {RULE_METHODS.map((m) => <option key={m} value={m}>{m === '*' ? 'Any' : m}</option>)}
                    </select>
                    <div className="field" style={{ gap: 4 }}>
                      <input
                        className="input mono"
                        placeholder="e.g. /books/*"
                        aria-label={`Rule ${i + 1} path`}
                        aria-invalid={!!errors.rules?.[i]?.path}
                        {...register(`rules.${i}.path`, {
                          validate: (v) => (!v.trim() || v.trim().startsWith('/') ? true : 'Start the path with /'),
                        })}
                      />
                      {errors.rules?.[i]?.path?.message && <div className="error"><AlertCircle size={13} /><span>{errors.rules[i]?.path?.message}</span></div>}
                    </div>
                    <div className="field" style={{ gap: 4 }}>
                      <Controller
                        control={control}
                        name={`rules.${i}.scopes`}
                        render={({ field }) => <ScopePicker id={`rules-${i}-scopes`} label={`Rule ${i + 1} scopes`} apiOnly compact value={field.value} onChange={field.onChange} />}
                      />
                      {errors.rules?.[i]?.scopes?.message && <div className="error"><AlertCircle size={13} /><span>{errors.rules[i]?.scopes?.message}</span></div>}
                      {errors.rules?.[i]?.method?.message && <div className="error"><AlertCircle size={13} /><span>{errors.rules[i]?.method?.message}</span></div>}
                    </div>
                    <button type="button" className="btn icon ghost" aria-label={`Remove rule ${i + 1}`} title="Remove rule" onClick={() => rules.remove(i)}><X size={14} /></button>
                  </div>
                ))}
                <div style={{ marginTop: rules.fields.length ? 10 : 0 }}>
                  <button type="button" className="btn sm" onClick={() => rules.append({ method: 'POST', path: '', scopes: [] })}>
                    <Plus size={13} /> Add a rule
                  </button>
                </div>
              </div>
            </Field>
          </div>
        </Panel>

        <Panel title="Validation">
          <div className="stack">
            <div className="options" role="radiogroup" aria-label="Validation">
              <label className="option-card">
                <input type="radio" value="jwt" {...register('validation')} />
                <span><span className="t">JWT, verified locally</span><br /><span className="d">Against the JWKS the API fetched and cached, as most APIs do.</span></span>
              </label>
              <label className="option-card">
                <input type="radio" value="introspection" {...register('validation')} />
                <span><span className="t">Introspection (RFC 7662)</span><br /><span className="d">Asks Latchkey's /introspect on every call; sees revocation at once. Honours the [introspection] settings.</span></span>
              </label>
            </div>
            {errors.validation?.message && <div className="error" style={{ color: 'var(--red)' }}>{errors.validation.message}</div>}
            <div className="grid2">
              <div className="stack" style={{ gap: 18 }}>
                <Field label="Profile" htmlFor="profile" error={errors.profile?.message} help="How strict the simulated API is, as a well-known verifier would be.">
                  <select id="profile" className="input" aria-invalid={!!errors.profile} {...register('profile')}>
                    <option value="">{DEFAULT_PROFILE} (the default)</option>
                    {profiles.data?.filter((p) => p.name !== DEFAULT_PROFILE).map((p) => (
                      <option key={p.name} value={p.name}>{p.name}{p.library ? ` · ${p.library.package} ${p.library.version}.x` : ''}</option>
                    ))}
                  </select>
                </Field>
                {validation === 'introspection' && (
                  <Field label="Introspect as the client" htmlFor="introspection_client" error={errors.introspection_client?.message} help="The client the API authenticates as at /introspect; with [introspection] require_scope it needs token_introspection.">
                    <select id="introspection_client" className="input mono" aria-invalid={!!errors.introspection_client} {...register('introspection_client')}>
                      <option value="">none</option>
                      {clients.data?.map((c) => <option key={c.client_id} value={c.client_id}>{c.client_id}</option>)}
                    </select>
                  </Field>
                )}
              </div>
              <div className="profile-card" data-testid="profile-card" aria-live="polite">
                {profiles.error ? (
                  <span className="muted">Could not load the profiles.</span>
                ) : profile ? (
                  <>
                    <div><strong className="mono">{profile.name}</strong>{profile.library ? <span className="muted"> · agrees with {profile.library.package} {profile.library.version}.x ({profile.library.ecosystem})</span> : null}</div>
                    <div style={{ marginTop: 2 }}>{profile.description}</div>
                    {profile.checks.length > 0 && <ul>{profile.checks.map((c) => <li key={c}>{c}</li>)}</ul>}
                  </>
                ) : (
                  <span className="muted">Loading profiles…</span>
                )}
              </div>
            </div>
          </div>
        </Panel>

        <Panel title="Expectations" hint="overrides of the profile: leave empty to keep the profile's value (shown greyed)">
          <div className="override-grid">
            <Field label="Expected issuer" htmlFor="expected_issuer" className="wide" error={errors.expected_issuer?.message} help="Compared byte for byte with iss: a trailing slash or another host is a mismatch, as in real verifiers.">
              <input id="expected_issuer" className="input mono" placeholder={defaultText('expected_issuer', d, issuer)} aria-invalid={!!errors.expected_issuer} {...register('expected_issuer')} />
            </Field>
            <Field label="Leeway" htmlFor="leeway" error={errors.leeway?.message} help="Clock skew tolerated on exp, nbf and iat.">
              <input id="leeway" className="input mono" placeholder={defaultText('leeway', d, '0s')} aria-invalid={!!errors.leeway} {...register('leeway', { validate: durationRule(false) })} />
            </Field>
            <Field label="API clock offset" htmlFor="clock_offset" error={errors.clock_offset?.message} help="The API's clock relative to Latchkey's; -2m is 2 minutes behind.">
              <input id="clock_offset" className="input mono" placeholder={defaultText('clock_offset', d, '0s')} aria-invalid={!!errors.clock_offset} {...register('clock_offset', { validate: durationRule(true) })} />
            </Field>
            <Field label="JWKS cache" htmlFor="jwks_cache" error={errors.jwks_cache?.message} help="How long the API keeps a JWKS it fetched.">
              <input id="jwks_cache" className="input mono" placeholder={defaultText('jwks_cache', d, '5m')} aria-invalid={!!errors.jwks_cache} {...register('jwks_cache', { validate: durationRule(false) })} />
            </Field>
            <Field label="Refetch the JWKS on an unknown kid" htmlFor="jwks_refetch_on_unknown_kid" error={errors.jwks_refetch_on_unknown_kid?.message} help="No reproduces older verifiers that fail until the cache expires.">
              <select id="jwks_refetch_on_unknown_kid" className="input" {...register('jwks_refetch_on_unknown_kid')}>
                <option value="">Profile's value ({defaultText('jwks_refetch_on_unknown_kid', d, 'yes')})</option>
                <option value="true">Yes, with a cooldown</option>
                <option value="false">No, wait for the cache to expire</option>
              </select>
            </Field>
            <Field label="Accepted typ" htmlFor="accepted_typ" error={errors.accepted_typ?.message} help="Header typ values accepted; separate with commas.">
              <input id="accepted_typ" className="input mono" placeholder={defaultText('accepted_typ', d, 'at+jwt, application/at+jwt, JWT')} aria-invalid={!!errors.accepted_typ} {...register('accepted_typ')} />
            </Field>
            <Field label="Algorithms" htmlFor="algorithms" error={errors.algorithms?.message} help="alg values accepted; separate with commas.">
              <input id="algorithms" className="input mono" placeholder={defaultText('algorithms', d, 'RS256, PS256, ES256, EdDSA')} aria-invalid={!!errors.algorithms} {...register('algorithms')} />
            </Field>
            <Field
              label={<>Token accepted in {bearer ? <button type="button" className="btn ghost sm" style={{ height: 20, padding: '0 6px' }} onClick={() => form.setValue('bearer_methods', null, { shouldDirty: true })}>use the profile's</button> : <span className="muted small" style={{ fontWeight: 400 }}>profile's value</span>}</>}
              className="wide"
              error={errors.bearer_methods?.message}
              help="Where a client may send the token (RFC 6750 §2). The query string leaks tokens into logs: allow it only to reproduce an API that does."
            >
              <Controller
                control={control}
                name="bearer_methods"
                render={({ field }) => {
                  const effective: BearerMethod[] = field.value ?? ((d?.bearer_methods as BearerMethod[] | undefined) ?? ['header', 'body'])
                  return (
                    <div className="row" role="group" aria-label="Token accepted in" id="bearer_methods" style={{ gap: 14, minHeight: 32, opacity: field.value ? 1 : 0.75 }}>
                      {([['header', 'Authorization header'], ['body', 'Form body'], ['query', 'Query']] as [BearerMethod, string][]).map(([m, label]) => (
                        <label key={m} className="check">
                          <input
                            type="checkbox"
                            checked={effective.includes(m)}
                            onChange={(e) => field.onChange(e.target.checked ? [...effective, m] : effective.filter((x) => x !== m))}
                          />
                          <span>{label}</span>
                        </label>
                      ))}
                    </div>
                  )
                }}
              />
            </Field>
          </div>
        </Panel>

        <Panel title="Response and proxy">
          <div className="grid2">
            <Field
              label="Response of an accepted call"
              htmlFor="response"
              error={errors.response?.message}
              help="JSON. Empty: the resource, method, path and the token's sub, client_id and scope."
            >
              <textarea
                id="response"
                className="input"
                rows={6}
                spellCheck={false}
                placeholder={'{\n  "books": [{ "title": "Alice in Wonderland" }]\n}'}
                aria-invalid={!!errors.response}
                {...register('response', {
                  validate: (v) => {
                    if (!v.trim()) return true
                    try {
                      JSON.parse(v)
                      return true
                    } catch (e) {
                      return `Not valid JSON: ${(e as Error).message}`
                    }
                  },
                })}
              />
            </Field>
            <div className="stack" style={{ gap: 18 }}>
              <Field label="Upstream" htmlFor="upstream" error={errors.upstream?.message} help="Your real API. Set it and Latchkey becomes an explaining proxy in front of it.">
                <input
                  id="upstream"
                  className="input mono"
                  placeholder="http://127.0.0.1:3000"
                  aria-invalid={!!errors.upstream}
                  {...register('upstream', {
                    validate: (v) => {
                      if (!v.trim()) return true
                      try {
                        const u = new URL(v.trim())
                        return u.protocol === 'http:' || u.protocol === 'https:' ? true : 'Use an http:// or https:// URL'
                      } catch {
                        return 'Write an absolute URL such as http://127.0.0.1:3000'
                      }
                    },
                  })}
                />
              </Field>
              <Field label="Proxy mode" error={errors.mode?.message}>
                <div className="stack-sm" role="radiogroup" aria-label="Proxy mode" id="mode">
                  <label className="check" aria-disabled={!upstream.trim()}>
                    <input type="radio" value="enforce" disabled={!upstream.trim()} {...register('mode')} />
                    <span>Enforce <span className="desc">Latchkey refuses bad tokens itself and forwards accepted calls with the verdict in a header.</span></span>
                  </label>
                  <label className="check" aria-disabled={!upstream.trim()}>
                    <input type="radio" value="observe" disabled={!upstream.trim()} {...register('mode')} />
                    <span>Observe <span className="desc">Everything is forwarded; when your API answers 401 or 403, the request log says why.</span></span>
                  </label>
                </div>
              </Field>
            </div>
          </div>
        </Panel>

        <div className="form-foot">
          <button type="submit" className="btn primary" disabled={isSubmitting}>
            {isSubmitting ? 'Saving…' : editing ? 'Save changes' : 'Create resource'}
          </button>
          <Link className="btn" to={editing ? `/resources/${encodeURIComponent(existing.name)}` : '/resources'}>Cancel</Link>
          {editing && isDirty && <span className="muted small">Unsaved changes</span>}
        </div>
      </form>
      <ConfirmDialog
        open={confirmDelete}
        title={`Delete ${existing?.name}?`}
        confirm="Delete resource"
        busy={remove.isPending}
        error={remove.error}
        onConfirm={() => remove.mutate()}
        onClose={() => setConfirmDelete(false)}
      >
        Calls to <span className="mono">{existing?.identifier ?? existing?.name}</span> will get 404 from now on. Tokens are not affected.
      </ConfirmDialog>
    </div>
  )
}
