// What a fault rule may say at each endpoint (mirrors `faults::Endpoint::allows` and
// `matches_on` on the server, which refuses anything else), so the form offers only that.

import type { FaultAction, FaultEndpoint, FaultRule, LoggedRequest } from '../api/types'

export type MatchField = 'client_id' | 'username' | 'grant_type' | 'scope' | 'path'

export const ENDPOINT_LABELS: Record<FaultEndpoint, string> = {
  token: 'Token (/token)',
  authorize: 'Authorization (/authorize)',
  login: 'Login page (/login)',
  consent: 'Consent page (/consent)',
  userinfo: 'UserInfo (/userinfo)',
  introspect: 'Introspection (/introspect)',
  revoke: 'Revocation (/revoke)',
  jwks: 'JWKS (/jwks)',
  discovery: 'Discovery (/.well-known/…)',
  end_session: 'Logout (/end_session)',
  resources: 'Simulated APIs (/resources/…)',
  device_authorization: 'Device authorization (/device_authorization)',
  device: 'Device verification page (/device)',
  par: 'Pushed authorization requests (/par)',
  register: 'Dynamic client registration (/register)',
}

export const ACTION_LABELS: Record<FaultAction, string> = {
  error: 'OAuth error',
  status: 'HTTP status',
  delay: 'Slow answer',
  timeout: 'No answer (timeout)',
  drop: 'Drop the connection',
  malformed: 'Malformed body',
  tamper: 'Tamper with the token',
  jwks: 'Change the JWKS',
}

/** The match fields an endpoint knows. */
export function matchFields(e: FaultEndpoint): MatchField[] {
  switch (e) {
    case 'token': return ['client_id', 'username', 'grant_type', 'scope']
    case 'authorize': return ['client_id', 'scope']
    case 'login': case 'consent': return ['client_id', 'username', 'scope']
    case 'introspect': case 'revoke': case 'end_session': return ['client_id']
    case 'resources': return ['path']
    case 'device_authorization': case 'par': return ['client_id', 'scope']
    default: return []
  }
}

/** The actions that make sense at an endpoint. */
export function actionsFor(e: FaultEndpoint): FaultAction[] {
  const all: FaultAction[] = ['error', 'status', 'delay', 'timeout', 'drop', 'malformed']
  if (e === 'jwks') return ['jwks', ...all.filter((a) => a !== 'error')]
  if (e === 'discovery' || e === 'device') return all.filter((a) => a !== 'error')
  if (e === 'token') return ['error', 'status', 'tamper', 'delay', 'timeout', 'drop', 'malformed']
  return all
}

/** Error codes that make sense at an endpoint, most useful first. */
export function errorCodesFor(e: FaultEndpoint): string[] {
  switch (e) {
    case 'token': return ['invalid_grant', 'invalid_client', 'unauthorized_client', 'invalid_scope', 'invalid_request', 'unsupported_grant_type', 'server_error', 'temporarily_unavailable', 'authorization_pending', 'slow_down', 'expired_token']
    case 'authorize': case 'login': case 'consent':
      return ['access_denied', 'login_required', 'consent_required', 'interaction_required', 'account_selection_required', 'temporarily_unavailable', 'server_error', 'invalid_request', 'invalid_scope', 'unauthorized_client']
    case 'userinfo': case 'resources': return ['invalid_token', 'insufficient_scope', 'invalid_request', 'server_error']
    case 'revoke': return ['invalid_client', 'invalid_request', 'unsupported_token_type', 'server_error']
    case 'device_authorization': return ['invalid_client', 'unauthorized_client', 'invalid_scope', 'invalid_request', 'temporarily_unavailable', 'server_error']
    case 'par': return ['invalid_client', 'invalid_request', 'invalid_scope', 'invalid_target', 'unauthorized_client', 'temporarily_unavailable', 'server_error']
    case 'register': return ['invalid_redirect_uri', 'invalid_client_metadata', 'invalid_token', 'temporarily_unavailable', 'server_error']
    default: return ['invalid_client', 'invalid_request', 'server_error', 'temporarily_unavailable']
  }
}

export const TAMPERS = [
  ['expired', 'Expired (exp an hour ago)'],
  ['bad_signature', 'Bad signature'],
  ['unknown_kid', 'Unknown kid'],
  ['alg_none', 'alg: none'],
  ['wrong_iss', 'Wrong issuer'],
  ['wrong_aud', 'Wrong audience'],
  ['nbf_future', 'nbf in the future'],
  ['iat_future', 'iat in the future'],
  ['missing_scope', 'No scope claim'],
  ['extra_claim', 'An extra claim'],
  ['removed_claim', 'A claim removed'],
] as const

/** The endpoint a logged request was for (null for one faults never apply to). */
export function endpointOfPath(path: string): FaultEndpoint | null {
  const p = path.replace(/^\/realms\/[^/]+/, '')
  if (p.startsWith('/.well-known/')) return 'discovery'
  if (p.startsWith('/resources/')) return 'resources'
  const m: Record<string, FaultEndpoint> = {
    '/token': 'token', '/authorize': 'authorize', '/login': 'login', '/consent': 'consent', '/userinfo': 'userinfo',
    '/introspect': 'introspect', '/revoke': 'revoke', '/jwks': 'jwks', '/end_session': 'end_session',
    '/device_authorization': 'device_authorization', '/device': 'device', '/par': 'par',
  }
  return m[p] ?? null
}

/** A rule that makes the next request like `r` fail (the Requests page's shortcut). */
export function ruleLike(r: LoggedRequest): FaultRule | null {
  const endpoint = endpointOfPath(r.path)
  if (!endpoint) return null
  const fields = matchFields(endpoint)
  const param = (n: string) => r.params.find((p) => p.name === n)?.value
  const rule: FaultRule = {
    name: `fail the next ${endpoint} request${r.client_id ? ` of ${r.client_id}` : ''}`,
    endpoint,
    action: endpoint === 'jwks' || endpoint === 'discovery' ? 'status' : 'error',
    times: 1,
  }
  if (rule.action === 'status') rule.status = 503
  else rule.error = errorCodesFor(endpoint)[0]
  if (fields.includes('client_id') && r.client_id) rule.client_id = r.client_id
  const grant = param('grant_type')
  if (fields.includes('grant_type') && grant) rule.grant_type = grant
  if (endpoint === 'resources') rule.path = r.path.replace(/^.*?\/resources\//, '')
  return rule
}

/** The rule without empty fields and without what does not belong to its endpoint or action. */
export function cleanRule(r: FaultRule): FaultRule {
  const out: Record<string, unknown> = {}
  const keep = new Set<string>(['name', 'enabled', 'endpoint', 'action', 'times', 'every', ...matchFields(r.endpoint)])
  const byAction: Record<FaultAction, string[]> = {
    error: ['error', 'error_description', 'status'],
    status: ['status', 'body', 'retry_after'],
    delay: ['delay_ms'],
    timeout: ['timeout_ms'],
    drop: [],
    malformed: ['malformed'],
    tamper: ['tamper', 'token', ...(r.tamper === 'extra_claim' || r.tamper === 'removed_claim' ? ['claim'] : [])],
    jwks: ['jwks', ...(r.jwks === 'key_missing' ? ['kid'] : []), ...(r.jwks === 'unavailable' ? ['retry_after'] : [])],
  }
  for (const k of byAction[r.action]) keep.add(k)
  for (const [k, v] of Object.entries(r)) {
    if (!keep.has(k) || v === undefined || v === null || v === '' || (typeof v === 'number' && Number.isNaN(v))) continue
    out[k] = v
  }
  return out as unknown as FaultRule
}
