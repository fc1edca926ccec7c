import { useMutation, useQueryClient } from '@tanstack/react-query'
import { Coins, Dices, Eye, EyeOff, Play, RefreshCw, Trash2, Zap } from 'lucide-react'
import { useEffect, useRef, useState } from 'react'
import { Controller, useForm } from 'react-hook-form'
import { Link, useNavigate, useParams } from 'react-router'
import { api } from '../api/client'
import { keys, useClients, useScopes } from '../api/queries'
import type { AccessTokenTyp, AuthMethod, Client, GrantType, TokenFormat } from '../api/types'
import { ListInput } from '../components/ListInput'
import { useToast } from '../components/toast'
import { useAddFault } from '../components/FaultBanner'
import { RegistrationInfo } from '../components/RegistrationInfo'
import { ConfirmDialog, CopyButton, ErrorBox, Field, FormErrorBanner, Loading, PageHeader, Panel } from '../components/ui'
import { ClientQuickStart, TryIt } from '../components/TryIt'
import { AssertionExample, ClientKeysFields, isJwtMethod, parseJwks } from '../components/ClientKeys'
import { formatTtl, parseTtl } from '../lib/format'
import { absoluteUriProblem, isConflict, mapFieldErrors } from '../lib/serverErrors'

export interface ClientForm {
  client_id: string
  name: string
  type: 'confidential' | 'public'
  client_secret: string
  redirect_uris: string[]
  post_logout_redirect_uris: string[]
  grant_types: GrantType[]
  token_endpoint_auth_method: AuthMethod
  scopes: string[]
  audiences: string[]
  access_token_ttl: string
  access_token_format: '' | TokenFormat
  access_token_typ: '' | AccessTokenTyp
  require_consent: boolean
  /** '' = the default for the client type. */
  remember_consent: '' | 'true' | 'false'
  /** Kept as loaded (set it in latchkey.toml or the admin API), so saving here never drops it. */
  auto_login: boolean
  /** Every token request must carry a DPoP proof (RFC 9449 §5.2). */
  dpop_bound_access_tokens: boolean
  /** Token-exchange policy (RFC 8693), used when the grant is on: subject token types allowed (empty: all). */
  te_types: string[]
  /** Audiences it may target (empty: its own and every registered resource). */
  te_audiences: string[]
  te_widen: boolean
  te_delegation_only: boolean
  /** private_key_jwt: where the public keys come from. */
  key_source: 'jwks' | 'jwks_uri'
  /** private_key_jwt: the JWK Set (or one JWK) as JSON text. */
  jwks: string
  jwks_uri: string
  /** '' = any algorithm of the method's family. */
  token_endpoint_auth_signing_alg: string
  /** OIDC Back-Channel Logout 1.0 (empty: none). */
  backchannel_logout_uri: string
  backchannel_logout_session_required: boolean
  /** RFC 9126: authorization requests must be pushed first. */
  require_par: boolean
  /** RFC 8707: resources it may target (empty: every registered resource). */
  allowed_resources: string[]
}

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange'
/** RFC 8693 §3 token type URNs a client may present as subject_token_type. */
export const TOKEN_TYPES: { value: string; label: string }[] = [
  { value: 'urn:ietf:params:oauth:token-type:access_token', label: 'Access tokens' },
  { value: 'urn:ietf:params:oauth:token-type:refresh_token', label: 'Refresh tokens' },
  { value: 'urn:ietf:params:oauth:token-type:id_token', label: 'ID tokens' },
  { value: 'urn:ietf:params:oauth:token-type:jwt', label: 'Any JWT of this server' },
]

const FIELDS = [
  'client_id', 'name', 'client_secret', 'redirect_uris', 'post_logout_redirect_uris', 'grant_types',
  'token_endpoint_auth_method', 'scopes', 'audiences', 'access_token_ttl', 'access_token_format', 'access_token_typ', 'require_consent',
  'remember_consent', 'jwks', 'jwks_uri', 'token_endpoint_auth_signing_alg', 'allowed_resources',
  'backchannel_logout_uri', 'backchannel_logout_session_required',
] as const

const GRANTS: { value: GrantType; label: string; desc: string; notPublic?: string }[] = [
  { value: 'authorization_code', label: 'Authorization code', desc: 'Users sign in through the browser (with PKCE)' },
  { value: 'refresh_token', label: 'Refresh token', desc: 'Renew access tokens without the user' },
  { value: 'client_credentials', label: 'Client credentials', desc: 'Machine to machine, no user', notPublic: 'Not for a public client: it has no secret to prove who it is (RFC 6749 §4.4).' },
  { value: 'password', label: 'Password', desc: 'Legacy: the app collects the password' },
  { value: 'implicit', label: 'Implicit', desc: 'Legacy: tokens in the redirect' },
  { value: 'urn:ietf:params:oauth:grant-type:device_code', label: 'Device authorization', desc: 'TVs and CLIs: the user enters a code on another device (RFC 8628)' },
  { value: 'urn:ietf:params:oauth:grant-type:token-exchange', label: 'Token exchange', desc: 'Trade a token for another audience or act for its user (RFC 8693)', notPublic: 'Needs a confidential client: with no secret, anyone holding a token could trade it in.' },
  { value: 'urn:ietf:params:oauth:grant-type:jwt-bearer', label: 'JWT bearer', desc: 'Exchange a JWT from a trusted issuer (Settings) for a token for its subject (RFC 7523)' },
]

const METHODS: { value: AuthMethod; label: string; public: boolean; note?: string }[] = [
  { value: 'client_secret_basic', label: 'client_secret_basic: HTTP Basic header', public: false },
  { value: 'client_secret_post', label: 'client_secret_post: id and secret in the form body', public: false },
  { value: 'private_key_jwt', label: 'private_key_jwt: a JWT signed with the client’s private key', public: false },
  { value: 'client_secret_jwt', label: 'client_secret_jwt: a JWT MACed with the secret', public: false },
  { value: 'none', label: 'none: public client, PKCE instead of a secret', public: true },
]

export function randomSecret(): string {
  const b = new Uint8Array(24)
  crypto.getRandomValues(b)
  return btoa(String.fromCharCode(...b)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

export function toForm(c?: Client): ClientForm {
  const method = c?.token_endpoint_auth_method ?? (c && !c.client_secret ? 'none' : 'client_secret_basic')
  return {
    client_id: c?.client_id ?? '',
    name: c?.name ?? '',
    type: method === 'none' ? 'public' : 'confidential',
    client_secret: c?.client_secret ?? '',
    redirect_uris: c?.redirect_uris ?? [],
    post_logout_redirect_uris: c?.post_logout_redirect_uris ?? [],
    grant_types: c?.grant_types ?? ['client_credentials'],
    token_endpoint_auth_method: method,
    scopes: c?.scopes ?? [],
    audiences: c?.audiences ?? [],
    access_token_ttl: c?.access_token_ttl ? formatTtl(c.access_token_ttl) : '',
    access_token_format: c?.access_token_format ?? '',
    access_token_typ: c?.access_token_typ ?? '',
    require_consent: c?.require_consent ?? false,
    remember_consent: c?.remember_consent === undefined || c?.remember_consent === null ? '' : c.remember_consent ? 'true' : 'false',
    auto_login: c?.auto_login ?? false,
    dpop_bound_access_tokens: c?.dpop_bound_access_tokens ?? false,
    te_types: c?.token_exchange?.subject_token_types ?? [],
    te_audiences: c?.token_exchange?.audiences ?? [],
    te_widen: c?.token_exchange?.allow_scope_widening ?? false,
    te_delegation_only: c?.token_exchange?.allow_impersonation === false,
    key_source: c?.jwks_uri ? 'jwks_uri' : 'jwks',
    jwks: c?.jwks ? JSON.stringify(c.jwks, null, 2) : '',
    jwks_uri: c?.jwks_uri ?? '',
    token_endpoint_auth_signing_alg: c?.token_endpoint_auth_signing_alg ?? '',
    backchannel_logout_uri: c?.backchannel_logout_uri ?? '',
    backchannel_logout_session_required: c?.backchannel_logout_session_required ?? false,
    require_par: c?.require_pushed_authorization_requests ?? false,
    allowed_resources: c?.allowed_resources ?? [],
  }
}

export function fromForm(f: ClientForm): Client {
  const pub = f.type === 'public'
  const clean = (l: string[]) => l.map((s) => s.trim()).filter(Boolean)
  const c: Client = {
    client_id: f.client_id.trim(),
    name: f.name.trim(),
    redirect_uris: clean(f.redirect_uris),
    post_logout_redirect_uris: clean(f.post_logout_redirect_uris),
    grant_types: f.grant_types,
    scopes: f.scopes,
    audiences: clean(f.audiences),
    token_endpoint_auth_method: pub ? 'none' : f.token_endpoint_auth_method,
    require_consent: f.require_consent,
  }
  const method = c.token_endpoint_auth_method
  if (!pub && method !== 'private_key_jwt' && f.client_secret.trim()) c.client_secret = f.client_secret.trim()
  if (f.key_source === 'jwks_uri' && f.jwks_uri.trim()) c.jwks_uri = f.jwks_uri.trim()
  if (f.key_source === 'jwks' && f.jwks.trim()) {
    const set = parseJwks(f.jwks)
    if (typeof set !== 'string') c.jwks = set
  }
  if (isJwtMethod(method) && f.token_endpoint_auth_signing_alg) c.token_endpoint_auth_signing_alg = f.token_endpoint_auth_signing_alg
  const ttl = parseTtl(f.access_token_ttl)
  if (ttl !== null) c.access_token_ttl = ttl
  if (f.access_token_format) c.access_token_format = f.access_token_format
  if (f.remember_consent) c.remember_consent = f.remember_consent === 'true'
  if (f.access_token_typ) c.access_token_typ = f.access_token_typ
  if (f.auto_login) c.auto_login = true
  if (f.backchannel_logout_uri.trim()) {
    c.backchannel_logout_uri = f.backchannel_logout_uri.trim()
    if (f.backchannel_logout_session_required) c.backchannel_logout_session_required = true
  }
  if (f.dpop_bound_access_tokens) c.dpop_bound_access_tokens = true
  if (f.require_par && (f.grant_types.includes('authorization_code') || f.grant_types.includes('implicit')))
    c.require_pushed_authorization_requests = true
  const resources = clean(f.allowed_resources)
  if (resources.length) c.allowed_resources = resources
  if (f.grant_types.includes(TOKEN_EXCHANGE)) {
    const auds = clean(f.te_audiences)
    const p: NonNullable<Client['token_exchange']> = {}
    if (f.te_types.length) p.subject_token_types = f.te_types
    if (auds.length) p.audiences = auds
    if (f.te_widen) p.allow_scope_widening = true
    if (f.te_delegation_only) p.allow_impersonation = false
    if (Object.keys(p).length) c.token_exchange = p
  }
  return c
}

function listProblem(list: string[], what: string): string | true {
  for (const [i, u] of list.entries()) {
    if (!u.trim()) continue
    const p = absoluteUriProblem(u)
    if (p) return `${what} ${i + 1}: ${p}`
  }
  return true
}

export function ClientEditPage() {
  const { id } = useParams()
  const editing = id !== undefined
  const clients = useClients()
  const existing = editing ? clients.data?.find((c) => c.client_id === id) : undefined
  if (editing && clients.isPending) return <div className="page"><Loading rows={6} /></div>
  if (editing && clients.error) return <div className="page"><ErrorBox error={clients.error} /></div>
  if (editing && !existing) {
    return (
      <div className="page">
        <PageHeader title="Client not found" crumbs={<Link to="/clients">Clients</Link>} />
        <ErrorBox title="No such client" error={new Error(`There is no client "${id}". It may have been deleted.`)} />
      </div>
    )
  }
  return <ClientFormView key={id ?? 'new'} existing={existing} />
}

function ClientFormView({ existing }: { existing?: Client }) {
  const editing = !!existing
  const qc = useQueryClient()
  const nav = useNavigate()
  const toast = useToast()
  const addFault = useAddFault()
  const scopes = useScopes()
  const [formError, setFormError] = useState<string[]>([])
  // A create refused because the id is taken: the id, to link to that client.
  const [taken, setTaken] = useState<string | null>(null)
  // Counts failed saves, so each one brings the error into view again.
  const [failures, setFailures] = useState(0)
  const [showSecret, setShowSecret] = useState(!editing)
  const [confirmDelete, setConfirmDelete] = useState(false)

  // Fields are checked on the first submit, then as they change: an untouched required field
  // is not flagged before the user tried to save.
  const form = useForm<ClientForm>({ defaultValues: toForm(existing), mode: 'onSubmit', reValidateMode: 'onChange' })
  const { register, control, handleSubmit, watch, setValue, setError, formState: { errors, isSubmitting, isDirty } } = form
  // The client changed elsewhere (Try it registered its callback, another tab, the event
  // stream): an untouched form follows it.
  useEffect(() => {
    if (existing && !form.formState.isDirty) form.reset(toForm(existing))
  }, [existing, form])
  const type = watch('type')
  const clientId = watch('client_id')
  const requireConsent = watch('require_consent')
  const grants = watch('grant_types')
  const method = watch('token_endpoint_auth_method')

  const setAside = useRef<GrantType[]>([])
  // Keep the auth method consistent with the client type.
  useEffect(() => {
    const m = form.getValues('token_endpoint_auth_method')
    if (type === 'public' && m !== 'none') setValue('token_endpoint_auth_method', 'none')
    // Grants a public client cannot have are unchecked (and disabled below, with the reason);
    // switching back to confidential gives them back.
    const g = form.getValues('grant_types')
    const notPublic = (x: GrantType) => !!GRANTS.find((d) => d.value === x)?.notPublic
    if (type === 'public' && g.some(notPublic)) {
      setAside.current = g.filter(notPublic)
      setValue('grant_types', g.filter((x) => !notPublic(x)), { shouldDirty: true })
    }
    if (type === 'confidential' && setAside.current.length) {
      setValue('grant_types', [...g, ...setAside.current.filter((x) => !g.includes(x))], { shouldDirty: true })
      setAside.current = []
    }
    if (type === 'confidential' && m === 'none') setValue('token_endpoint_auth_method', 'client_secret_basic')
  }, [type, form, setValue])

  const save = useMutation({
    mutationFn: (c: Client) => (editing ? api.updateClient(existing.client_id, c) : api.createClient(c)),
    onSuccess: (c) => {
      qc.setQueryData<Client[]>(keys.clients, (l) => (l ? [...l.filter((x) => x.client_id !== c.client_id), c] : l))
      toast(editing ? 'Client saved' : 'Client created')
      if (!editing) nav(`/clients/${encodeURIComponent(c.client_id)}`, { replace: true })
      else form.reset(toForm(c))
    },
  })

  const regen = useMutation({
    mutationFn: () => api.regenerateSecret(existing!.client_id),
    onSuccess: (c) => {
      setValue('client_secret', c.client_secret ?? '', { shouldDirty: false })
      setShowSecret(true)
      toast('New secret generated: the old one no longer works')
    },
  })

  const remove = useMutation({
    mutationFn: () => api.deleteClient(existing!.client_id),
    onSuccess: () => {
      qc.setQueryData<Client[]>(keys.clients, (l) => l?.filter((x) => x.client_id !== existing!.client_id))
      toast('Client deleted')
      nav('/clients', { replace: true })
    },
  })

  const onSubmit = handleSubmit(async (values) => {
    setFormError([])
    setTaken(null)
    try {
      await save.mutateAsync(fromForm(values))
    } catch (e) {
      if (!editing && isConflict(e)) {
        setError('client_id', { type: 'server', message: 'A client with this ID exists' })
        setTaken(values.client_id.trim())
        setFailures((n) => n + 1)
        return
      }
      const { fields, rest } = mapFieldErrors(e, FIELDS)
      for (const f of fields) setError(f.field as keyof ClientForm, { type: 'server', message: f.message })
      setFormError(fields.length ? rest : rest.length ? rest : ['The server refused the client.'])
      // A field error: the field takes the focus; otherwise the banner does.
      if (fields[0]) form.setFocus(fields[0].field as keyof ClientForm)
      else setFailures((n) => n + 1)
    }
  })

  const errorCount = Object.keys(errors).length
  return (
    <div className="page">
      <PageHeader
        crumbs={<><Link to="/clients">Clients</Link><span>/</span></>}
        title={editing ? existing.name || existing.client_id : 'New client'}
        sub={editing ? <span className="mono">{existing.client_id}</span> : 'Register the app you are building. Fields can be changed later.'}
        actions={editing && (
          <>
            <button type="button" className="btn primary" onClick={() => document.getElementById('try-it')?.scrollIntoView({ behavior: 'smooth', block: 'start' })}><Play size={14} /> Try it</button>
            <Link className="btn" to={`/tokens?client_id=${encodeURIComponent(existing.client_id)}`}><Coins size={14} /> See its tokens</Link>
            <button
              type="button" className="btn" data-testid="fail-next-token" disabled={addFault.isPending}
              title="A fault rule: the client's next token request gets invalid_grant (see Faults)"
              onClick={() => addFault.mutate({ name: `fail the next token request of ${existing.client_id}`, endpoint: 'token', client_id: existing.client_id, action: 'error', error: 'invalid_grant', times: 1 })}
            >
              <Zap size={14} /> Fail its next token request
            </button>
            <button type="button" className="btn danger" onClick={() => setConfirmDelete(true)}><Trash2 size={14} /> Delete</button>
          </>
        )}
      />
      {existing?.registration && <RegistrationInfo r={existing.registration} />}
      <form className="form" onSubmit={onSubmit} noValidate aria-label="Client">
        {taken ? (
          <FormErrorBanner attempt={failures}>
            <strong>A client with the ID <code className="tick">{taken}</code> already exists.</strong>
            <div><Link to={`/clients/${encodeURIComponent(taken)}`}>Open it</Link>, or choose another ID.</div>
          </FormErrorBanner>
        ) : (formError.length > 0 || (errorCount > 0 && form.formState.submitCount > 0)) && (
          <FormErrorBanner attempt={failures}>
            <strong>{errorCount > 0 ? `Fix the ${errorCount === 1 ? 'field' : `${errorCount} fields`} marked below.` : 'The client was not saved.'}</strong>
            {formError.map((m) => <div key={m}>{m}</div>)}
          </FormErrorBanner>
        )}

        <Panel title="Identity">
          <div className="grid2">
            <Field label="Name" htmlFor="name" help="Shown on the consent page and in this UI." error={errors.name?.message}>
              <input id="name" className="input" placeholder="e.g. Books web app" {...register('name')} />
            </Field>
            <Field label="Client ID" htmlFor="client_id" help={editing ? 'The id cannot change; create a new client instead.' : 'What your app sends as client_id.'} error={errors.client_id?.message}>
              <input
                id="client_id"
                className="input mono"
                placeholder={editing ? undefined : 'e.g. books-app'}
                readOnly={editing}
                aria-invalid={!!errors.client_id}
                aria-describedby={errors.client_id ? 'client_id-error' : undefined}
                {...register('client_id', {
                  required: 'A client ID is required',
                  validate: (v) => (/^[\x21-\x7e]+$/.test(v.trim()) ? true : 'Use printable characters without spaces'),
                })}
              />
            </Field>
          </div>
        </Panel>

        <Panel title="Authentication">
          <div className="stack">
            <div className="options" role="radiogroup" aria-label="Client type">
              <label className="option-card">
                <input type="radio" value="confidential" {...register('type')} />
                <span><span className="t">Confidential</span><br /><span className="d">A server-side app or service that can keep a secret.</span></span>
              </label>
              <label className="option-card">
                <input type="radio" value="public" {...register('type')} />
                <span><span className="t">Public</span><br /><span className="d">A SPA, mobile or CLI app: no secret, PKCE required.</span></span>
              </label>
            </div>
            {type === 'confidential' && (
              <div className="grid2">
                {method !== 'private_key_jwt' ? <Field
                  label="Client secret"
                  htmlFor="client_secret"
                  error={errors.client_secret?.message}
                  help={editing ? 'Regenerating replaces it at once: apps using the old one start failing.' : 'Leave empty and Latchkey generates one.'}
                >
                  <div className="input-group">
                    <input id="client_secret" className="input mono" type={showSecret ? 'text' : 'password'} autoComplete="off" placeholder={editing ? '' : 'empty: Latchkey generates one'} aria-invalid={!!errors.client_secret} {...register('client_secret')} />
                    <button type="button" className="btn icon" onClick={() => setShowSecret(!showSecret)} aria-label={showSecret ? 'Hide secret' : 'Reveal secret'} title={showSecret ? 'Hide' : 'Reveal'}>
                      {showSecret ? <EyeOff size={14} /> : <Eye size={14} />}
                    </button>
                    <CopyButton text={watch('client_secret')} title="Copy secret" />
                    {editing ? (
                      <button type="button" className="btn" onClick={() => regen.mutate()} disabled={regen.isPending} title="Generate a new secret on the server">
                        <RefreshCw size={13} /> Regenerate
                      </button>
                    ) : (
                      <button type="button" className="btn" onClick={() => { setValue('client_secret', randomSecret(), { shouldDirty: true }); setShowSecret(true) }}>
                        <Dices size={13} /> Generate
                      </button>
                    )}
                  </div>
                  {regen.error && <div className="error">{String((regen.error as Error).message)}</div>}
                </Field> : (
                  <p className="muted" style={{ alignSelf: 'center' }}>
                    No secret: the client signs a short-lived JWT with its private key and Latchkey checks it with the public key below (RFC 7523 §2.2).
                  </p>
                )}
                <Field label="Token endpoint auth method" htmlFor="token_endpoint_auth_method" error={errors.token_endpoint_auth_method?.message} help="How the client proves who it is at /token, /introspect and /revoke.">
                  <select id="token_endpoint_auth_method" className="input" aria-invalid={!!errors.token_endpoint_auth_method} {...register('token_endpoint_auth_method')}>
                    {METHODS.filter((m) => !m.public).map((m) => <option key={m.value} value={m.value}>{m.label}</option>)}
                  </select>
                </Field>
              </div>
            )}
            {type === 'confidential' && isJwtMethod(method) && (
              <ClientKeysFields form={form as never} clientId={clientId.trim()} />
            )}
            {type === 'public' && (
              <p className="muted">Public clients authenticate with <code>none</code> and must use PKCE in the authorization code flow.</p>
            )}
          </div>
        </Panel>

        <Panel title="Grants and redirects">
          <div className="stack">
            <Field label="Grant types" error={errors.grant_types?.message}>
              <Controller
                control={control}
                name="grant_types"
                rules={{
                  validate: (g) => {
                    if (g.length === 0) return 'Choose at least one grant type'
                    if (form.getValues('type') === 'public' && g.includes('client_credentials'))
                      return 'A public client cannot use client credentials (RFC 6749 §4.4): it has no secret'
                    return true
                  },
                }}
                render={({ field }) => (
                  <div className="checks" role="group" aria-label="Grant types" id="grant_types">
                    {GRANTS.map((g) => {
                      const off = type === 'public' && !!g.notPublic
                      return (
                        <label key={g.value} className={`check ${off ? 'disabled' : ''}`} style={{ alignItems: 'flex-start' }}>
                          <input
                            type="checkbox"
                            style={{ marginTop: 3 }}
                            checked={field.value.includes(g.value)}
                            disabled={off}
                            aria-describedby={off ? `grant-${g.value}-why` : undefined}
                            onChange={(e) => field.onChange(e.target.checked ? [...field.value, g.value] : field.value.filter((x) => x !== g.value))}
                            onBlur={field.onBlur}
                          />
                          <span>
                            {g.label}<br /><span className="desc">{g.desc} · <code>{g.value}</code></span>
                            {off && <><br /><span className="desc why" id={`grant-${g.value}-why`}>{g.notPublic}</span></>}
                          </span>
                        </label>
                      )
                    })}
                  </div>
                )}
              />
            </Field>
            {grants.includes(TOKEN_EXCHANGE) && (
              <fieldset className="subpanel" data-testid="token-exchange-policy">
                <legend>Token exchange policy</legend>
                <p className="muted small" style={{ margin: '0 0 10px' }}>
                  By default this client may exchange any active token this server issued, for the same or fewer scopes, targeting its own audiences or any registered resource.
                </p>
                <div className="grid2">
                  <Field label="Subject tokens it may present" help="None ticked: all four.">
                    <Controller
                      control={control}
                      name="te_types"
                      render={({ field }) => (
                        <div className="checks" role="group" aria-label="Subject token types">
                          {TOKEN_TYPES.map((t) => (
                            <label key={t.value} className="check">
                              <input
                                type="checkbox"
                                checked={field.value.includes(t.value)}
                                onChange={(e) => field.onChange(e.target.checked ? [...field.value, t.value] : field.value.filter((x) => x !== t.value))}
                              />
                              <span>{t.label}<br /><span className="desc"><code>{t.value.replace('urn:ietf:params:oauth:token-type:', '…:')}</code></span></span>
                            </label>
                          ))}
                        </div>
                      )}
                    />
                  </Field>
                  <div className="stack-sm" style={{ gap: 14 }}>
                    <Field label="Audiences it may target" help="Empty: its own audiences and every registered resource. Set: exactly these.">
                      <Controller
                        control={control}
                        name="te_audiences"
                        render={({ field }) => (
                          <ListInput id="te_audiences" mono value={field.value} onChange={field.onChange} onBlur={field.onBlur} placeholder="e.g. orders-api" addLabel="Add an audience" groupLabel="Token exchange audiences" />
                        )}
                      />
                    </Field>
                    <label className="check">
                      <input type="checkbox" {...register('te_widen')} />
                      <span>May widen scopes<br /><span className="desc">up to its own scopes, beyond the subject token's</span></span>
                    </label>
                    <label className="check">
                      <input type="checkbox" {...register('te_delegation_only')} />
                      <span>Delegation only<br /><span className="desc">an actor_token is required (no impersonation)</span></span>
                    </label>
                  </div>
                </div>
              </fieldset>
            )}
            <div className="grid2">
              <Field label="Redirect URIs" error={errors.redirect_uris?.message} help="Where the browser returns after sign-in; matched exactly.">
                <Controller
                  control={control}
                  name="redirect_uris"
                  rules={{
                    validate: (list) => {
                      const p = listProblem(list, 'URI')
                      if (p !== true) return p
                      const g = form.getValues('grant_types')
                      if ((g.includes('authorization_code') || g.includes('implicit')) && !list.some((u) => u.trim()))
                        return 'The authorization code and implicit grants need at least one redirect URI'
                      return true
                    },
                  }}
                  render={({ field }) => (
                    <ListInput id="redirect_uris" mono value={field.value} onChange={field.onChange} onBlur={field.onBlur} invalid={!!errors.redirect_uris} placeholder="e.g. http://localhost:3000/callback" addLabel="Add a redirect URI" groupLabel="Redirect URIs" />
                  )}
                />
              </Field>
              <Field label="Post-logout redirect URIs" error={errors.post_logout_redirect_uris?.message} help="Where RP-initiated logout may send the browser back to.">
                <Controller
                  control={control}
                  name="post_logout_redirect_uris"
                  rules={{ validate: (list) => listProblem(list, 'URI') }}
                  render={({ field }) => (
                    <ListInput id="post_logout_redirect_uris" mono value={field.value} onChange={field.onChange} onBlur={field.onBlur} invalid={!!errors.post_logout_redirect_uris} placeholder="e.g. http://localhost:3000/" addLabel="Add a logout URI" groupLabel="Post-logout redirect URIs" />
                  )}
                />
              </Field>
              <Field
                label="Back-channel logout URI"
                htmlFor="backchannel_logout_uri"
                error={errors.backchannel_logout_uri?.message}
                help="OpenID Connect Back-Channel Logout: Latchkey POSTs a signed logout token here when a session this client signed in to ends (see Sessions)."
              >
                <input
                  id="backchannel_logout_uri"
                  className="input mono"
                  placeholder="e.g. http://localhost:3000/backchannel-logout"
                  aria-invalid={!!errors.backchannel_logout_uri}
                  {...register('backchannel_logout_uri', {
                    validate: (v) => {
                      if (!v.trim()) return true
                      const p = absoluteUriProblem(v)
                      if (p) return `The URI ${p}`
                      return /^https?:/i.test(v.trim()) || 'Use an http or https URI'
                    },
                  })}
                />
              </Field>
              <label className="check">
                <input type="checkbox" {...register('backchannel_logout_session_required')} disabled={!watch('backchannel_logout_uri').trim()} />
                <span>Requires sid<br /><span className="desc">backchannel_logout_session_required: Latchkey always sends sid and sub</span></span>
              </label>
            </div>
            {(grants.includes('authorization_code') || grants.includes('implicit')) && (
              <label className="check">
                <input type="checkbox" {...register('require_par')} />
                <span>
                  Require pushed authorization requests
                  <span className="desc"> The app must POST its request to /par first and send only client_id and the request_uri it gets to /authorize (RFC 9126). Required by atproto-style clients.</span>
                </span>
              </label>
            )}
          </div>
        </Panel>

        <Panel title="Scopes and tokens">
          <div className="stack">
            <Field
              label="Allowed scopes"
              error={errors.scopes?.message}
              help={<>What this client may ask for. <Link to="/scopes">Manage scopes</Link></>}
            >
              <Controller
                control={control}
                name="scopes"
                render={({ field }) => (
                  <div className="chips" role="group" aria-label="Allowed scopes" id="scopes">
                    {scopes.isPending && <span className="muted">Loading scopes…</span>}
                    {scopes.data?.map((s) => {
                      const on = field.value.includes(s.name)
                      return (
                        <button
                          key={s.name}
                          type="button"
                          className="chip mono"
                          aria-pressed={on}
                          title={s.description}
                          data-scope={s.name}
                          onClick={() => field.onChange(on ? field.value.filter((x) => x !== s.name) : [...field.value, s.name])}
                        >
                          {s.name}
                        </button>
                      )
                    })}
                    {field.value.filter((v) => scopes.data && !scopes.data.some((s) => s.name === v)).map((v) => (
                      <button key={v} type="button" className="chip mono" aria-pressed onClick={() => field.onChange(field.value.filter((x) => x !== v))} title="This scope does not exist: click to remove">
                        {v} (missing)
                      </button>
                    ))}
                  </div>
                )}
              />
            </Field>
            <div className="grid2">
              <div className="stack-sm" style={{ gap: 18 }}>
                <Field label="Audiences" error={errors.audiences?.message} help={`The aud of its access tokens. Default: ${clientId.trim() || 'the client ID'}.`}>
                  <Controller
                    control={control}
                    name="audiences"
                    render={({ field }) => (
                      <ListInput id="audiences" mono value={field.value} onChange={field.onChange} onBlur={field.onBlur} placeholder="e.g. books-api" addLabel="Add an audience" groupLabel="Audiences" />
                    )}
                  />
                </Field>
                <Field
                  label="Resources it may request"
                  error={errors.allowed_resources?.message}
                  help="What the app may name with resource (RFC 8707); the token's aud is then that resource. Empty: every registered resource. Set: exactly these (plus its audiences)."
                >
                  <Controller
                    control={control}
                    name="allowed_resources"
                    rules={{ validate: (list) => listProblem(list, 'Resource') }}
                    render={({ field }) => (
                      <ListInput id="allowed_resources" mono value={field.value} onChange={field.onChange} onBlur={field.onBlur} invalid={!!errors.allowed_resources} placeholder="e.g. https://api.example.com/" addLabel="Add a resource" groupLabel="Allowed resources" />
                    )}
                  />
                </Field>
              </div>
              <div className="stack-sm" style={{ gap: 18 }}>
                <Field label="Access token lifetime" htmlFor="access_token_ttl" error={errors.access_token_ttl?.message} help="Seconds or units: 90s, 15m, 1h, 7d. Empty: the server default.">
                  <input
                    id="access_token_ttl"
                    className="input mono"
                    placeholder="empty: the server default"
                    aria-invalid={!!errors.access_token_ttl}
                    {...register('access_token_ttl', {
                      validate: (v) => {
                        if (!v.trim()) return true
                        const n = parseTtl(v)
                        if (n === null) return 'Write a number of seconds or a duration such as 15m or 1h30m'
                        return n >= 1 ? true : 'At least 1 second'
                      },
                    })}
                  />
                </Field>
                <Field label="Access token format" htmlFor="access_token_format" error={errors.access_token_format?.message}>
                  <select id="access_token_format" className="input" {...register('access_token_format')}>
                    <option value="">Server default</option>
                    <option value="jwt">JWT (RFC 9068, signed)</option>
                    <option value="opaque">Opaque (use introspection)</option>
                  </select>
                </Field>
                <Field label="Access token typ" htmlFor="access_token_typ" error={errors.access_token_typ?.message} help="The JWT header typ. Some older verifiers refuse at+jwt: JWT lets them accept this client's tokens.">
                  <select id="access_token_typ" className="input" {...register('access_token_typ')}>
                    <option value="">Server default</option>
                    <option value="at+jwt">at+jwt (RFC 9068)</option>
                    <option value="JWT">JWT</option>
                  </select>
                </Field>
              </div>
            </div>
            <label className="check">
              <input type="checkbox" {...register('dpop_bound_access_tokens')} />
              <span>Require DPoP <span className="desc">Every token request needs a DPoP proof, so its access tokens are always bound to the client’s key (RFC 9449 §5.2). Without it, a proof is still accepted and binds the tokens.</span></span>
            </label>
            <label className="check">
              <input type="checkbox" {...register('require_consent')} />
              <span>Ask the user for consent <span className="desc">Show a consent page before issuing a code.</span></span>
            </label>
            <Field
              label="Remember consent"
              htmlFor="remember_consent"
              error={errors.remember_consent?.message}
              help={requireConsent
                ? 'Whether an approval is remembered, so later sign-ins (and prompt=none) for the same scopes skip the consent page.'
                : 'Applies when the client asks for consent.'}
            >
              <select id="remember_consent" className="input" {...register('remember_consent')}>
                <option value="">
                  {type === 'public'
                    ? 'Default: ask every time (public client, RFC 8252 §8.6)'
                    : 'Default: remember (confidential client)'}
                </option>
                <option value="true">Remember the user’s answer</option>
                <option value="false">Ask every time</option>
              </select>
            </Field>
          </div>
        </Panel>

        <div className="form-foot">
          <button type="submit" className="btn primary" disabled={isSubmitting}>
            {isSubmitting ? 'Saving…' : editing ? 'Save changes' : 'Create client'}
          </button>
          <Link className="btn" to="/clients">Cancel</Link>
          {editing && isDirty && <span className="muted small">Unsaved changes</span>}
        </div>
      </form>
      {editing && !isDirty && <ClientQuickStart client={existing} />}
      {editing && !isDirty && <AssertionExample client={existing} />}
      {editing && !isDirty && <TryIt client={existing} />}
      {editing && isDirty && <p className="muted small">Save the changes to try the client and see its quick start.</p>}
      <ConfirmDialog
        open={confirmDelete}
        title={`Delete ${existing?.client_id}?`}
        confirm="Delete client"
        busy={remove.isPending}
        error={remove.error}
        onConfirm={() => remove.mutate()}
        onClose={() => setConfirmDelete(false)}
      >
        Apps using this client can no longer get tokens. Tokens already issued stay recorded until they expire.
      </ConfirmDialog>
    </div>
  )
}
