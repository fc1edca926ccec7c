// The only module that calls fetch. Every admin API call goes through `request`, which turns
// any failure into an ApiError with a readable message and, for validation errors, the fields.

import type {
  BrowserSession, CallStats, ClientDocument, DeviceCode, CheckRequest, LogoutDelivery, Client, ClockChange, FaultRule, FaultRuleState, Scenario, ClockView, Discovery, ErrorBody, FieldIssue, ImportSummary, KeyView,
  LoggedRequest, MintRequest, Page, Resource, ResourceCall, ResourceProfile, ResourceResponse, Revoked,
  RotateRequest, RotationPreview, Scope, ScopeView, Settings, Status, TokenDetail, TrustedIssuer, TokenItem, TokenQuery, User, UserView, Verdict,
} from './types'

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly fields: FieldIssue[]

  constructor(status: number, code: string, message: string, fields: FieldIssue[] = []) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.fields = fields
  }
}

/** The issuer's path prefix ('' or '/realms/dev'): the UI lives at `${prefix}/admin/`. */
export function serverPrefix(pathname: string = globalThis.location?.pathname ?? '/'): string {
  const i = pathname.indexOf('/admin')
  return i > 0 ? pathname.slice(0, i) : ''
}

export const apiBase = (): string => `${serverPrefix()}/admin/api`

type Body = { json: unknown } | { text: string; contentType: string } | undefined

async function request<T>(method: string, url: string, body?: Body, accept = 'application/json'): Promise<T> {
  const headers: Record<string, string> = { Accept: accept }
  let payload: string | undefined
  if (body && 'json' in body) {
    headers['Content-Type'] = 'application/json'
    payload = JSON.stringify(body.json)
  } else if (body) {
    headers['Content-Type'] = body.contentType
    payload = body.text
  }
  let res: Response
  try {
    // `same-origin`: the pages' policy is no-referrer, but the request log recognises the UI's
    // own requests (the discovery document, for instance) by their /admin/ Referer and leaves
    // them out; the Referer never leaves this origin.
    res = await fetch(url, { method, headers, body: payload, credentials: 'same-origin', referrerPolicy: 'same-origin' })
  } catch (e) {
    throw new ApiError(0, 'network', `Cannot reach the Latchkey server (${(e as Error).message}). Is it still running?`)
  }
  if (!res.ok) throw await toError(res)
  if (res.status === 204) return undefined as T
  const type = res.headers.get('Content-Type') ?? ''
  if (type.includes('json')) return (await res.json()) as T
  return (await res.text()) as T
}

async function toError(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '')
  try {
    const b = JSON.parse(text) as Partial<ErrorBody> & { error_description?: string }
    const message = b.message ?? b.error_description ?? b.error ?? res.statusText
    return new ApiError(res.status, b.error ?? 'error', message, b.fields ?? [])
  } catch {
    const message = text.trim() || `${res.status} ${res.statusText}`
    return new ApiError(res.status, 'error', message)
  }
}

const enc = encodeURIComponent

function query(q: object): string {
  const p = new URLSearchParams()
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v))
  const s = p.toString()
  return s ? `?${s}` : ''
}

const a = (path: string) => `${apiBase()}${path}`

/** `books` + `books/1` → `/resources/books/books/1` under the issuer's path (same origin as the UI). */
export function resourceUrl(name: string, path: string, prefix: string = serverPrefix()): string {
  const p = path.trim()
  return `${prefix}/resources/${enc(name)}${p === '' || p.startsWith('/') ? p : `/${p}`}`
}

/** Whether a JSON value has the shape of a verdict. */
export function isVerdict(v: unknown): v is Verdict {
  return !!v && typeof v === 'object' && Array.isArray((v as Verdict).checks) && typeof (v as Verdict).allowed === 'boolean'
}

/**
 * The verdict of a call to a protected resource: a refusal carries it in its JSON body; an
 * accepted call has a `Latchkey-Verdict` header holding it (JSON) or a link to it.
 */
async function verdictOf(res: Response, body: string): Promise<Verdict | null> {
  try {
    const j: unknown = JSON.parse(body)
    if (isVerdict(j)) return j
    if (j && typeof j === 'object' && isVerdict((j as { verdict?: unknown }).verdict)) return (j as { verdict: Verdict }).verdict
  } catch {
    // Not JSON: look at the header.
  }
  const h = res.headers.get('Latchkey-Verdict')?.trim()
  if (!h) return null
  if (h.startsWith('{')) {
    try {
      const j: unknown = JSON.parse(h)
      return isVerdict(j) ? j : null
    } catch {
      return null
    }
  }
  // A link (`<url>` or a bare URL/path), possibly followed by attributes. It names the call
  // under the issuer's URL; the admin API answers only its own origin, so ask it there.
  const link = /^<([^>]+)>/.exec(h)?.[1] ?? h.split(/[\s;,]/)[0]
  try {
    const u = new URL(link, globalThis.location?.href ?? 'http://localhost/')
    const r = await fetch(`${u.pathname}${u.search}`, { headers: { Accept: 'application/json' }, credentials: 'same-origin' })
    if (!r.ok) return null
    const j: unknown = await r.json()
    if (isVerdict(j)) return j
    if (j && typeof j === 'object' && isVerdict((j as { verdict?: unknown }).verdict)) return (j as { verdict: Verdict }).verdict
  } catch {
    // The verdict is a convenience: the response itself is still shown.
  }
  return null
}

/** What a protocol endpoint answered (any status): the parsed JSON body, or the text. */
export interface ProtocolAnswer {
  status: number
  body: Record<string, unknown> | null
  text: string
}

/**
 * POSTs a form to a protocol endpoint (`/token`, `/introspect`, ...) on this origin, as an app
 * would. No `Referer` is sent, so the request log records it like any app's request (the log
 * leaves out the admin UI's own requests by their `/admin/` referrer).
 */
async function protocolPost(endpoint: string, form: Record<string, string>, basic?: { id: string; secret: string }): Promise<ProtocolAnswer> {
  const headers: Record<string, string> = { Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' }
  if (basic) {
    // RFC 6749 §2.3.1: form-encode id and secret before joining them.
    const fe = (s: string) => new URLSearchParams({ x: s }).toString().slice(2)
    headers.Authorization = `Basic ${btoa(`${fe(basic.id)}:${fe(basic.secret)}`)}`
  }
  let res: Response
  try {
    res = await fetch(endpoint, {
      method: 'POST',
      headers,
      body: new URLSearchParams(form).toString(),
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
    })
  } catch (e) {
    throw new ApiError(0, 'network', `Cannot reach the Latchkey server (${(e as Error).message}). Is it still running?`)
  }
  const text = await res.text()
  let body: Record<string, unknown> | null = null
  try {
    const j: unknown = JSON.parse(text)
    if (j && typeof j === 'object' && !Array.isArray(j)) body = j as Record<string, unknown>
  } catch {
    // Not JSON: the text is shown.
  }
  return { status: res.status, body, text }
}

export interface ResourceCallInput {
  method: string
  path: string
  /** Sent as `Authorization: Bearer …`; empty sends no credentials. */
  token: string
  body?: string
}

/** Calls a protected resource the way an app would, and reads the answer whatever its status. */
async function callResource(name: string, c: ResourceCallInput): Promise<ResourceResponse> {
  const headers: Record<string, string> = { Accept: 'application/json' }
  if (c.token.trim()) headers.Authorization = `Bearer ${c.token.trim()}`
  const hasBody = !!c.body && !['GET', 'HEAD'].includes(c.method)
  if (hasBody) headers['Content-Type'] = 'application/json'
  const started = performance.now()
  let res: Response
  try {
    res = await fetch(resourceUrl(name, c.path), {
      method: c.method, headers, body: hasBody ? c.body : undefined, credentials: 'omit', redirect: 'manual',
    })
  } catch (e) {
    throw new ApiError(0, 'network', `Cannot reach the Latchkey server (${(e as Error).message}). Is it still running?`)
  }
  const body = await res.text().catch(() => '')
  const durationMs = performance.now() - started
  return {
    status: res.status,
    statusText: res.statusText,
    headers: [...res.headers.entries()],
    body,
    verdict: await verdictOf(res, body),
    durationMs,
  }
}

export const api = {
  status: () => request<Status>('GET', a('/status')),
  discovery: () => request<Discovery>('GET', `${serverPrefix()}/.well-known/openid-configuration`),

  clients: () => request<Client[]>('GET', a('/clients')),
  client: (id: string) => request<Client>('GET', a(`/clients/${enc(id)}`)),
  createClient: (c: Client) => request<Client>('POST', a('/clients'), { json: c }),
  updateClient: (id: string, c: Client) => request<Client>('PUT', a(`/clients/${enc(id)}`), { json: c }),
  deleteClient: (id: string) => request<void>('DELETE', a(`/clients/${enc(id)}`)),
  regenerateSecret: (id: string) => request<Client>('POST', a(`/clients/${enc(id)}/secret`)),

  scopes: () => request<ScopeView[]>('GET', a('/scopes')),
  createScope: (s: Scope) => request<ScopeView>('POST', a('/scopes'), { json: s }),
  updateScope: (name: string, s: Scope) => request<ScopeView>('PUT', a(`/scopes/${enc(name)}`), { json: s }),
  deleteScope: (name: string) => request<void>('DELETE', a(`/scopes/${enc(name)}`)),

  users: () => request<UserView[]>('GET', a('/users')),
  user: (name: string) => request<UserView>('GET', a(`/users/${enc(name)}`)),
  createUser: (u: User) => request<UserView>('POST', a('/users'), { json: u }),
  updateUser: (name: string, u: User) => request<UserView>('PUT', a(`/users/${enc(name)}`), { json: u }),
  deleteUser: (name: string) => request<void>('DELETE', a(`/users/${enc(name)}`)),

  deviceCodes: () => request<DeviceCode[]>('GET', a('/device-codes')),
  approveDeviceCode: (userCode: string, username: string) =>
    request<DeviceCode>('POST', a(`/device-codes/${enc(userCode)}/approve`), { json: { username } }),
  denyDeviceCode: (userCode: string) => request<DeviceCode>('POST', a(`/device-codes/${enc(userCode)}/deny`)),

  sessions: () => request<BrowserSession[]>('GET', a('/sessions')),
  endSession: (sid: string) => request<BrowserSession>('DELETE', a(`/sessions/${enc(sid)}`)),
  sendLogout: (sid: string, clientId: string) =>
    request<LogoutDelivery>('POST', a(`/sessions/${enc(sid)}/clients/${enc(clientId)}/logout`)),

  tokens: (q: TokenQuery = {}) => request<Page<TokenItem>>('GET', a(`/tokens${query(q)}`)),
  token: (id: string) => request<TokenDetail>('GET', a(`/tokens/${enc(id)}`)),
  revokeToken: (id: string) => request<Revoked>('POST', a(`/tokens/${enc(id)}/revoke`)),
  inspectToken: (token: string) => request<TokenDetail>('POST', a('/tokens/inspect'), { json: { token } }),
  mintToken: (r: MintRequest) => request<{ access_token: string }>('POST', a('/tokens'), { json: r }),

  faults: () => request<FaultRuleState[]>('GET', a('/faults')),
  createFault: (r: FaultRule) => request<FaultRuleState>('POST', a('/faults'), { json: r }),
  updateFault: (name: string, r: FaultRule) => request<FaultRuleState>('PUT', a(`/faults/${enc(name)}`), { json: r }),
  deleteFault: (name: string) => request<void>('DELETE', a(`/faults/${enc(name)}`)),
  setFaultEnabled: (name: string, on: boolean) => request<FaultRuleState>('POST', a(`/faults/${enc(name)}/${on ? 'enable' : 'disable'}`)),
  resetFault: (name: string) => request<FaultRuleState[]>('POST', a(`/faults/${enc(name)}/reset`)),
  replaceFaults: (rules: FaultRule[]) => request<FaultRuleState[]>('PUT', a('/faults'), { json: rules }),
  stats: () => request<CallStats>('GET', a('/stats')),
  resetStats: () => request<CallStats>('POST', a('/stats/reset')),
  scenarios: () => request<Scenario[]>('GET', a('/scenarios')),
  applyScenario: (name: string) => request<Scenario>('POST', a(`/scenarios/${enc(name)}/apply`)),
  saveScenario: (name: string, body: { description?: string; include_registry?: boolean }) =>
    request<Scenario>('POST', a(`/scenarios/${enc(name)}/save`), { json: body }),
  deleteScenario: (name: string) => request<void>('DELETE', a(`/scenarios/${enc(name)}`)),

  requests: (q: { limit?: number; cursor?: number } = {}) =>
    request<Page<LoggedRequest>>('GET', a(`/requests${query(q)}`)),

  resources: () => request<Resource[]>('GET', a('/resources')),
  resource: (name: string) => request<Resource>('GET', a(`/resources/${enc(name)}`)),
  createResource: (r: Resource) => request<Resource>('POST', a('/resources'), { json: r }),
  updateResource: (name: string, r: Resource) => request<Resource>('PUT', a(`/resources/${enc(name)}`), { json: r }),
  deleteResource: (name: string) => request<void>('DELETE', a(`/resources/${enc(name)}`)),
  resourceProfiles: () => request<ResourceProfile[]>('GET', a('/resource-profiles')),
  /** The verdict without calling the resource (nothing recorded). */
  checkResource: (name: string, c: CheckRequest) => request<Verdict>('POST', a(`/resources/${enc(name)}/check`), { json: c }),
  resourceCalls: (name: string) => request<ResourceCall[]>('GET', a(`/resources/${enc(name)}/calls`)),
  callResource,

  keys: () => request<KeyView[]>('GET', a('/keys')),
  rotateKey: (r: RotateRequest) => request<KeyView[]>('POST', a('/keys/rotate'), { json: r }),
  rotationPreview: (retention?: number) => request<RotationPreview>('GET', a(`/keys/rotation-preview${query({ retention })}`)),

  trustedIssuers: () => request<TrustedIssuer[]>('GET', a('/trusted-issuers')),
  createTrustedIssuer: (t: TrustedIssuer) => request<TrustedIssuer>('POST', a('/trusted-issuers'), { json: t }),
  updateTrustedIssuer: (issuer: string, t: TrustedIssuer) =>
    request<TrustedIssuer>('PUT', a(`/trusted-issuers/${enc(issuer)}`), { json: t }),
  deleteTrustedIssuer: (issuer: string) => request<void>('DELETE', a(`/trusted-issuers/${enc(issuer)}`)),
  settings: () => request<Settings>('GET', a('/settings')),
  updateSettings: (s: Settings) => request<Settings>('PUT', a('/settings'), { json: s }),
  clock: () => request<ClockView>('GET', a('/clock')),
  moveClock: (c: ClockChange) => request<ClockView>('POST', a('/clock'), { json: c }),

  protocolPost,
  /** A JWK Set from a loopback URL, fetched by the server (the UI's CSP keeps it on its origin). */
  fetchJwks: (url: string) => request<{ url: string; jwks: { keys: unknown[] } }>('POST', a('/tools/fetch-jwks'), { json: { url } }),

  /** `dynamicClients: false` leaves out the clients registered at /register. */
  exportConfig: (dynamicClients = true) =>
    request<string>('GET', a(`/config${dynamicClients ? '' : query({ dynamic_clients: 'false' })}`), undefined, 'application/toml'),
  /** Deletes every dynamically registered client (RFC 7591). */
  deleteDynamicClients: () => request<{ deleted: string[] }>('DELETE', a('/dynamic-clients')),
  clientDocuments: () => request<ClientDocument[]>('GET', a('/client-documents')),
  /** Forgets one fetched metadata document (or all), so the next use fetches it again. */
  forgetClientDocument: (url?: string) => request<void>('DELETE', a(`/client-documents${query({ url })}`)),
  /** `filename` names the file in the server's error messages. */
  importConfig: (toml: string, filename?: string) =>
    request<ImportSummary>('PUT', a(`/config${query({ filename })}`), { text: toml, contentType: 'application/toml' }),
}

export type Api = typeof api
