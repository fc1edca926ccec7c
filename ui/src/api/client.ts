// The only module that calls fetch. Every admin API call goes through `request`, which turns
// any failure into an ApiError with a readable message and, for validation errors, the fields.

import type {
  Client, ClockChange, ClockView, Discovery, ErrorBody, FieldIssue, ImportSummary, KeyView,
  LoggedRequest, MintRequest, Page, Revoked, RotateRequest, Scope, ScopeView, Settings, Status,
  TokenDetail, TokenItem, TokenQuery, User, UserView,
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
    res = await fetch(url, { method, headers, body: payload, credentials: 'same-origin' })
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

  tokens: (q: TokenQuery = {}) => request<Page<TokenItem>>('GET', a(`/tokens${query(q)}`)),
  token: (id: string) => request<TokenDetail>('GET', a(`/tokens/${enc(id)}`)),
  revokeToken: (id: string) => request<Revoked>('POST', a(`/tokens/${enc(id)}/revoke`)),
  inspectToken: (token: string) => request<TokenDetail>('POST', a('/tokens/inspect'), { json: { token } }),
  mintToken: (r: MintRequest) => request<{ access_token: string }>('POST', a('/tokens'), { json: r }),

  requests: (q: { limit?: number; cursor?: number } = {}) =>
    request<Page<LoggedRequest>>('GET', a(`/requests${query(q)}`)),

  keys: () => request<KeyView[]>('GET', a('/keys')),
  rotateKey: (r: RotateRequest) => request<KeyView[]>('POST', a('/keys/rotate'), { json: r }),

  settings: () => request<Settings>('GET', a('/settings')),
  updateSettings: (s: Settings) => request<Settings>('PUT', a('/settings'), { json: s }),
  clock: () => request<ClockView>('GET', a('/clock')),
  moveClock: (c: ClockChange) => request<ClockView>('POST', a('/clock'), { json: c }),

  exportConfig: () => request<string>('GET', a('/config'), undefined, 'application/toml'),
  importConfig: (toml: string) =>
    request<ImportSummary>('PUT', a('/config'), { text: toml, contentType: 'application/toml' }),
}

export type Api = typeof api
