// Wire types of the admin API (/admin/api/*). Field names are the config file's
// (src/model.rs, src/admin/*.rs); keep them in step with /admin/api/openapi.json.

export type GrantType =
  | 'authorization_code'
  | 'client_credentials'
  | 'refresh_token'
  | 'password'
  | 'implicit'
  | 'urn:ietf:params:oauth:grant-type:device_code'
  | 'urn:ietf:params:oauth:grant-type:token-exchange'
  | 'urn:ietf:params:oauth:grant-type:jwt-bearer'

export type AuthMethod =
  | 'client_secret_basic'
  | 'client_secret_post'
  | 'client_secret_jwt'
  | 'private_key_jwt'
  | 'none'

/** A JWK Set (RFC 7517 §5), public keys only. */
export interface JwkSet {
  keys: Record<string, unknown>[]
}

/** `[[trusted_issuers]]`: an issuer of JWT bearer assertions (RFC 7523 §2.1). */
export interface TrustedIssuer {
  issuer: string
  jwks?: JwkSet
  jwks_uri?: string
  /** Empty: any subject. */
  allowed_subjects?: string[]
  /** Accepted besides the issuer and the token endpoint URL. */
  audiences?: string[]
  /** Empty: any asymmetric algorithm. */
  algorithms?: string[]
}

/** One check of a DPoP proof. */
export interface DpopCheck {
  /** header, typ, alg, jwk, signature, htm, htu, iat, jti, nonce, ath, jkt */
  check: string
  result: CheckResult
  expected: unknown
  actual: unknown
  explanation: string
  fix?: string | null
}

/** A DPoP proof (RFC 9449) decoded, with every check (request log). */
export interface DpopReport {
  header: Record<string, unknown>
  claims: Record<string, unknown>
  /** The JWK SHA-256 thumbprint of the proof's key (RFC 7638). */
  jkt?: string
  /** The time iat was checked against, UNIX seconds. */
  now: number
  time_basis: 'real' | 'virtual'
  /** iat minus now, seconds (positive: the client's clock is ahead). */
  skew_seconds?: number
  checks: DpopCheck[]
  accepted: boolean
  error?: 'invalid_dpop_proof' | 'use_dpop_nonce'
  error_description?: string
  /** token, par, userinfo or resource */
  endpoint: string
}

/** What a client assertion or JWT bearer assertion said and how it was judged (request log). */
export interface AssertionReport {
  /** `client_assertion` or `assertion` (JWT bearer grant). */
  parameter: string
  /** `private_key_jwt`, `client_secret_jwt` or `jwt-bearer`. */
  method: string
  alg: string
  kid?: string
  iss?: string
  sub?: string
  aud?: string | string[]
  jti?: string
  iat?: number
  nbf?: number
  exp?: number
  /** The time the claims were checked against, UNIX seconds. */
  now: number
  time_basis: 'real' | 'virtual'
  /** `iat` minus now (positive: the sender's clock is ahead). */
  skew_seconds?: number
  key_source?: string
  accepted: boolean
  refused?: string
}

export type TokenFormat = 'jwt' | 'opaque'
/** The header `typ` of JWT access tokens: `at+jwt` (RFC 9068 §2.1) or `JWT` for verifiers that refuse it. */
export type AccessTokenTyp = 'at+jwt' | 'JWT'
export type SigningAlg = 'RS256' | 'PS256' | 'ES256' | 'EdDSA'

export interface Client {
  client_id: string
  client_secret?: string
  name?: string
  redirect_uris: string[]
  post_logout_redirect_uris: string[]
  grant_types: GrantType[]
  scopes: string[]
  token_endpoint_auth_method?: AuthMethod
  audiences: string[]
  /** Seconds (the server also accepts "15m"-style strings on input). */
  access_token_ttl?: number
  access_token_format?: TokenFormat
  /** Overrides `[server] access_token_typ` for this client. */
  access_token_typ?: AccessTokenTyp
  require_consent: boolean
  /** Absent: remembered for confidential clients, asked every time for public ones (RFC 8252 §8.6). */
  remember_consent?: boolean
  /** Hands-free login for browser tests (docs/setups.md): the hinted persona is signed in without the login page. */
  auto_login?: boolean
  /** What the token-exchange grant may exchange (RFC 8693); absent: the default policy. */
  token_exchange?: TokenExchangePolicy
  /** `private_key_jwt`: the client's public keys (exclusive with `jwks_uri`). */
  jwks?: JwkSet
  /** `private_key_jwt`: where the client publishes its JWK Set. */
  jwks_uri?: string
  /** The one `alg` its assertions may use (absent: any of the method's family). */
  token_endpoint_auth_signing_alg?: string
  /** OIDC Back-Channel Logout 1.0: where logout tokens are POSTed when a session it signed in to ends. */
  backchannel_logout_uri?: string
  /** It needs `sid` in logout tokens (Latchkey always sends `sub` and `sid`). */
  backchannel_logout_session_required?: boolean
  /** Every token request must carry a DPoP proof (RFC 9449 §5.2). */
  dpop_bound_access_tokens?: boolean
  /** RFC 9126 §6: authorization requests must be pushed to /par first. */
  require_pushed_authorization_requests?: boolean
  /** RFC 8707: the resources it may name with `resource` besides its audiences (empty: every registered resource). */
  allowed_resources?: string[]
  /** Set for a client registered at /register (RFC 7591). */
  registration?: Registration
}

// ---- dynamic client registration and metadata documents (docs/modern.md) ----

/** How a client registered itself (RFC 7591). */
export interface Registration {
  /** UNIX seconds (virtual clock). */
  registered_at: number
  updated_at?: number
  origin?: string
  user_agent?: string
  /** The metadata as registered and returned to the client. */
  metadata: Record<string, unknown>
  access_token_sha256?: string
}

export interface RegistrationSettings {
  enabled: boolean
  initial_access_token?: string
  allow_non_loopback_redirect_uris: boolean
  require_consent: boolean
  client_id_metadata_documents: boolean
  allow_http_loopback_client_ids: boolean
}

export interface FetchSettings {
  allowed_hosts?: string[]
  /** Seconds. */
  timeout: number
}

/** A Client ID Metadata Document as fetched. */
export interface ClientDocument {
  url: string
  /** UNIX seconds, real time. */
  fetched_at: number
  expires_at: number
  status?: number
  cache_control?: string
  outcome: 'valid' | 'invalid' | 'failed'
  error?: string
  document?: unknown
  client?: Client
}

/** A scope as written (POST/PUT body, scope.* events). */
export interface Scope {
  name: string
  description: string
  claims: string[]
  builtin?: boolean
}

/** A scope as listed: with the clients allowed to request it. */
export interface ScopeView extends Scope {
  builtin: boolean
  clients: string[]
}

export type Claims = Record<string, unknown>

/** A user as written; `password` is write-only. */
/** How a persona signs in (docs/setups.md): hands-free login and step-up authentication. */
export interface UserSignIn {
  auto_login?: boolean
  acr?: string
  amr?: string[]
}

export interface User extends UserSignIn {
  username: string
  password?: string
  sub?: string
  claims: Claims
}

export interface UserView extends UserSignIn {
  username: string
  sub?: string | null
  claims: Claims
  has_password: boolean
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS'

/**
 * A per-method, per-path rule: `path` is a pattern (`*` one segment, `**` any number);
 * `method` absent or `*` means any method.
 */
export interface ResourceRule {
  method?: string
  path: string
  scopes: string[]
}

/** Where a resource accepts the bearer token (RFC 6750 §2). */
export type BearerMethod = 'header' | 'body' | 'query'

export type ResourceValidation = 'jwt' | 'introspection'
export type ProxyMode = 'enforce' | 'observe'

/**
 * A protected resource (`[[resources]]`), served at `{issuer}/resources/{name}/{*path}`.
 * Times are seconds. Optional expectations override the profile's defaults.
 */
export interface Resource {
  name: string
  audience?: string | string[]
  required_scopes: string[]
  rules?: ResourceRule[]
  validation?: ResourceValidation
  profile?: string
  /** The client the simulated API introspects as (introspection mode). */
  introspection_client?: string
  expected_issuer?: string
  leeway?: number
  clock_offset?: number
  jwks_cache?: number
  jwks_refetch_on_unknown_kid?: boolean
  accepted_typ?: string[]
  algorithms?: string[]
  bearer_methods?: BearerMethod[]
  response?: unknown
  upstream?: string
  mode?: ProxyMode
  /** Seconds the upstream may take before its response headers (default 60); only with `upstream`. */
  upstream_timeout?: number
  /** Read-only: `{issuer}/resources/{name}` (RFC 8707 §2, RFC 9728 §1.2). */
  identifier?: string
  /** Read-only: the RFC 9728 metadata document's URL. */
  metadata_url?: string
  /** Read-only: what the simulated API checks (the profile's defaults with the resource's keys applied). */
  effective?: ResourcePolicy
}

/** Everything a simulated API checks, resolved (times in seconds). */
export interface ResourcePolicy {
  leeway: number
  accepted_typ: string[]
  typ_required: boolean
  algorithms: string[]
  jwks_cache: number
  jwks_refetch_on_unknown_kid: boolean
  jwks_refetch_cooldown: number
  bearer_methods: BearerMethod[]
  exp_required: boolean
  check_nbf: boolean
  iat: 'ignore' | 'numeric' | 'not_in_future' | 'required'
  aud_required: boolean
  iss_required: boolean
  scope_claims: string[]
  reject_other_kinds: boolean
}

/** The defaults a profile gives the expectations, under the resource's own key names. */
export type ProfileDefaults = Partial<Pick<Resource,
  'expected_issuer' | 'leeway' | 'clock_offset' | 'jwks_cache' | 'jwks_refetch_on_unknown_kid' | 'accepted_typ' | 'algorithms' | 'bearer_methods'
>> & Record<string, unknown>

/** A named verifier strictness (`rfc9068`, `lenient`, library-named ones). */
export interface ResourceProfile {
  name: string
  description: string
  /** What it checks, one line each. */
  checks: string[]
  defaults: ProfileDefaults
  /** For library-named profiles: the library and version it agrees with. */
  library?: { ecosystem: string; package: string; version: string; usage: string } | null
}

export type CheckResult = 'passed' | 'failed' | 'skipped'

/** One row of a verdict: the values compared, why, and how to fix it. */
export interface VerdictCheck {
  check: string
  result: CheckResult
  expected?: unknown
  actual?: unknown
  explanation?: string
  fix?: string | null
}

/** Every check a resource made on a token, in order; the first failing row decides `status`. */
export interface Verdict {
  allowed: boolean
  status: number
  resource?: string
  method?: string
  path?: string
  checks: VerdictCheck[]
  /** The `WWW-Authenticate` challenge sent (absent when allowed). */
  challenge?: string | null
  /** The profile in force. */
  profile?: string
  validation?: string
  /** The scopes this method and path need. */
  required_scopes?: string[]
  /** The check whose failure decided the status. */
  decided_by?: string | null
  /** The RFC 6750 error code, when refused. */
  error?: string | null
  error_description?: string | null
  /** What the token says, when it could be read. */
  token?: { sub?: string | null; client_id?: string | null; scope?: string | null; jti?: string | null; kind?: string | null } | null
}

export interface CheckRequest {
  token: string
  method: string
  path: string
}

/** One recorded call to a resource (`resource.called`). `at` is UNIX milliseconds. */
export interface ResourceCall {
  id: number | string
  at: number
  resource: string
  method: string
  path: string
  status: number
  verdict: Verdict
  client_id?: string | null
  sub?: string | null
  /** For a resource with an `upstream`: what was forwarded and what the upstream answered (absent for simulated calls). */
  proxy?: ProxyRecord
}

/**
 * How a call through the explaining proxy went (`ProxyRecord` in src/resources/proxy.rs):
 * on the call (`resource.called`, the call list) and on the request-log entry.
 */
export interface ProxyRecord {
  mode: ProxyMode
  /** Where the request went (or would have gone), without the query. */
  upstream_url: string
  /** Whether the request was forwarded (an `enforce` refusal is not). */
  forwarded: boolean
  /** The status the upstream answered (`null`: not forwarded, or no answer). */
  upstream_status: number | null
  /** The upstream's `WWW-Authenticate` challenges, joined with `, ` (`null`: none). */
  upstream_challenge: string | null
  /** Why the upstream gave no answer (unreachable: 502; silent: 504). */
  error: string | null
  /** How the upstream's answer relates to Latchkey's verdict (a 401/403 from the upstream, or a disagreement). */
  explanation: string | null
}

/** What the protected API answered to a call made from the UI. */
export interface ResourceResponse {
  status: number
  statusText: string
  headers: [string, string][]
  body: string
  /** The verdict: from the body of a refusal, or the `Latchkey-Verdict` header's link. */
  verdict: Verdict | null
  durationMs: number
}

export type TokenKind = 'access_token' | 'refresh_token' | 'id_token' | 'authorization_code'
/**
 * `key_retired`: stored as active and not expired, but signed with a key that has left the
 * JWKS, so nobody can verify it (and /introspect says inactive).
 */
export type TokenState = 'active' | 'expired' | 'revoked' | 'consumed' | 'key_retired'

export interface TokenItem {
  id: string
  kind: TokenKind
  format: TokenFormat
  client_id: string
  subject: string
  username: string | null
  scope: string
  audience: string[]
  issued_at: number
  expires_at: number
  state: TokenState
  status_at: number | null
  status_reason: string | null
  grant_type: string
  grant_id: string | null
  parent_id: string | null
  kid: string | null
  claims: Claims
  /** When this used-up code or refresh token was presented again (a replay), UNIX seconds. */
  replayed_at?: number | null
}

/** The record carried by `token.issued` (the stored row: `status`, and the raw token). */
export interface TokenRecord extends Omit<TokenItem, 'state'> {
  status: 'active' | 'revoked' | 'consumed'
  token: string
}

export interface Page<T> {
  items: T[]
  next_cursor: number | null
}

export interface TokenQuery {
  client_id?: string
  username?: string
  grant_id?: string
  kind?: TokenKind
  status?: TokenState
  limit?: number
  cursor?: number
}

export interface SignatureCheck {
  kid: string | null
  alg: string | null
  verified: boolean
  reason: string
}

export interface LiveStatus {
  state: TokenState
  reason: string
  expires_in: number
}

export interface TokenDetail {
  record: TokenItem | null
  token: string
  format: TokenFormat
  header: Claims | null
  payload: Claims | null
  signature: SignatureCheck | null
  status: LiveStatus | null
  introspection: Claims & { active: boolean }
}

export interface MintRequest {
  client_id: string
  username?: string
  scope?: string
  ttl?: number
  claims?: Claims
}

export interface Revoked {
  revoked: string[]
}

export interface Param {
  name: string
  value: string
  source?: string
}

export interface ResponseSummary {
  status: number
  content_type?: string
  error?: string
  error_description?: string
  token_type?: string
  scope?: string
  expires_in?: number
  issued?: string[]
  active?: boolean
  location?: string
}

export interface LoggedRequest {
  id: number
  /** UNIX milliseconds, server clock. */
  at: number
  method: string
  path: string
  status: number
  duration_ms: number
  client_id: string | null
  params: Param[]
  headers: Param[]
  body_note?: string
  response: ResponseSummary
  /** The JSON response body as sent, tokens and secrets replaced by `[redacted]`. */
  response_body?: unknown
  /** `curl -s`; secrets are `${NAME:?set NAME first}` variables. */
  curl: string
  /** The variables `curl` needs, in order of use. */
  curl_variables?: string[]
  /** A call to a protected resource (or through the explaining proxy): the verdict on its token. */
  verdict?: Verdict | null
  /** A call through the explaining proxy: where it went and what the upstream answered. */
  proxy?: ProxyRecord | null
  /** A client assertion or JWT bearer assertion the request carried, as judged. */
  assertion?: AssertionReport | null
  /** A DPoP proof the request carried, decoded, with every check (RFC 9449). */
  dpop?: DpopReport | null
  /** When a fault rule changed the response: the rule and what it changed. */
  fault?: { rule: string; change: string } | null
  /** A request Latchkey sent itself (a back-channel logout); `path` is then the whole URL. */
  outbound?: OutboundMark | null
  /** A pushed authorization request (RFC 9126) and the authorization requests naming its request_uri. */
  pushed?: PushLink | null
}

/** How a push and the authorization requests that used its request_uri link up in the log. */
export interface PushLink {
  request_uri: string
  /** On an authorization request: the log id of the push (absent when no longer in the log). */
  push_id?: number
  /** On a push: the log ids of the authorization requests that used it (a reuse shows as a second one). */
  authorize_ids?: number[]
}

export interface OutboundMark {
  kind: 'backchannel_logout'
  client_id: string
  sid: string
  jti: string
  outcome: DeliveryOutcome
  error?: string
}

// ---- browser sessions and back-channel logout (docs/modern.md) ----

export type DeliveryOutcome = 'pending' | 'delivered' | 'failed'
export type LogoutTrigger = 'end_session' | 'admin' | 'send_now'

/** One back-channel logout POST and its outcome. */
export interface LogoutDelivery {
  jti: string
  sid: string
  client_id: string
  uri: string
  trigger: LogoutTrigger
  /** UNIX milliseconds, server clock. */
  sent_at: number
  outcome: DeliveryOutcome
  status?: number
  error?: string
  duration_ms?: number
  /** The request-log entry of the POST. */
  request_id?: number
  /** The logout token's claims. */
  claims: Record<string, unknown>
}

export interface SessionClient {
  client_id: string
  first_at: number
  last_at: number
  logouts: LogoutDelivery[]
}

/** A browser session, as GET /admin/api/sessions lists it. */
export interface BrowserSession {
  sid: string
  username: string
  sub: string
  /** UNIX seconds. */
  auth_time: number
  acr: string | null
  amr: string[]
  last_used: number
  clients: SessionClient[]
  ended_at?: number
  end_reason?: 'end_session' | 'admin'
}

export interface KeyView {
  kid: string
  alg: string
  /** `unpublished`: left the JWKS at `expires_at`; its tokens no longer verify. */
  status: 'active' | 'retired' | 'unpublished' | string
  created_at: number
  retired_at: number | null
  expires_at: number | null
  published: boolean
  live_tokens: number
  jwk: Record<string, unknown>
}

/** `GET /keys/rotation-preview`: what rotating now would do to the active key's tokens. */
export interface RotationPreview {
  kid: string
  retention: number
  unpublished_at: number
  live_tokens: number
  stop_verifying: number
  last_expiry: number | null
  safe_retention: number
}

export interface RotateRequest {
  retention?: number
  alg?: SigningAlg
}

export interface Settings {
  access_token_ttl: number
  id_token_ttl: number
  refresh_token_ttl: number
  code_ttl: number
  access_token_format: TokenFormat
  signing_alg: SigningAlg
  refresh_token_rotation: boolean
  introspection_require_scope: boolean
  introspection_validate_audience: boolean
  access_token_typ?: AccessTokenTyp
  /** What assertion iat/nbf/exp are checked against: real time (default) or the virtual clock. */
  assertion_time?: 'real' | 'virtual'
  /** Seconds each back-channel logout POST may take (1–20). */
  backchannel_logout_timeout?: number
  /** DPoP proofs must carry a nonce from this server's DPoP-Nonce header (RFC 9449 §8). */
  use_dpop_nonce?: boolean
  /** Lifetime of a pushed request's request_uri, seconds of the virtual clock (RFC 9126; default 60). */
  request_uri_ttl?: number
  /** RFC 9126 §5: every client must push its authorization requests. */
  require_pushed_authorization_requests?: boolean
  registration?: RegistrationSettings
  fetch?: FetchSettings
}

export interface ClockView {
  /** Server time (virtual clock), UNIX seconds. */
  now: number
  /** Offset of the virtual clock from real time, seconds. */
  offset: number
}

export interface ClockChange {
  advance?: number
  offset?: number
}

export interface ImportSummary {
  scopes: number
  clients: number
  users: number
  resources: number
}

export interface Status {
  version: string
  issuer: string
  uptime: number
  clock: ClockView
  active_kid: string
  active_alg: string
  counts: {
    clients: number
    users: number
    scopes: number
    resources: number
    tokens: Partial<Record<TokenState, number>>
  }
  admin_token_required: boolean
  /** The config file the server started from (null without `--config`). */
  config?: ConfigFileState | null
}

/** One reason a config file was refused. */
export interface ConfigFileError {
  file: string | null
  line: number | null
  column: number | null
  key: string | null
  message: string
}

/** `status.config`: the config file and how its last load went. */
export interface ConfigFileState {
  file: string
  mode: 'merge' | 'replace'
  watch: boolean
  state: 'applied' | 'rejected'
  errors: ConfigFileError[]
  removed: string[]
  /** Milliseconds since the Unix epoch (virtual clock). */
  at: number
}

/** The OpenID Provider metadata (OIDC Discovery §3, RFC 8414). */
export interface Discovery {
  issuer: string
  device_authorization_endpoint?: string
  /** RFC 9126 §5. */
  pushed_authorization_request_endpoint?: string
  require_pushed_authorization_requests?: boolean
  authorization_endpoint?: string
  token_endpoint?: string
  userinfo_endpoint?: string
  jwks_uri?: string
  introspection_endpoint?: string
  revocation_endpoint?: string
  end_session_endpoint?: string
  scopes_supported?: string[]
  [key: string]: unknown
}

export interface FieldIssue {
  field: string
  message: string
  line?: number
  column?: number
}

export interface ErrorBody {
  error: string
  message: string
  fields?: FieldIssue[]
}

/** A client's token-exchange policy (src/model.rs `TokenExchangePolicy`). */
export interface TokenExchangePolicy {
  /** Token type URNs it may present as subject_token_type; empty/absent: all four. */
  subject_token_types?: string[]
  /** Audiences it may target; empty/absent: its own audiences and every registered resource. */
  audiences?: string[]
  allow_scope_widening?: boolean
  /** false: an actor_token (delegation) is required. */
  allow_impersonation?: boolean
}

/** A device authorization request (RFC 8628), as GET /admin/api/device-codes lists it. */
export interface DeviceCode {
  id: string
  /** XXXX-XXXX */
  user_code: string
  client_id: string
  client_name: string
  scope: string
  status: 'pending' | 'approved' | 'denied' | 'used'
  username?: string
  created_at: number
  expires_at: number
  interval: number
  last_poll?: number
  verification_uri_complete: string
}

/** The SSE envelope: `data:` of every event on /admin/api/events. */
export type ServerEvent =
  | { type: 'token.issued'; data: TokenRecord }
  | { type: 'token.introspected'; data: { token_id: string | null; caller: string; active: boolean } }
  | { type: 'token.revoked'; data: { ids: string[]; reason: string; tokens?: TokenRecord[] } }
  | { type: 'token.consumed'; data: TokenRecord }
  | { type: 'client.created' | 'client.updated'; data: Client }
  | { type: 'client.deleted'; data: { client_id: string } }
  | { type: 'client_document.fetched'; data: ClientDocument }
  | { type: 'scope.created' | 'scope.updated'; data: Scope }
  | { type: 'scope.deleted'; data: { name: string } }
  | { type: 'user.created' | 'user.updated'; data: User }
  | { type: 'user.deleted'; data: { username: string } }
  | { type: 'resource.created' | 'resource.updated'; data: Resource }
  | { type: 'resource.deleted'; data: { name: string } }
  | { type: 'resource.called'; data: ResourceCall }
  | { type: 'resource.checked'; data: { resource: string; verdict: Verdict } }
  | { type: 'key.rotated'; data: { kid: string; alg: string } }
  | { type: 'settings.updated'; data: Settings }
  | { type: 'trusted_issuers.updated'; data: TrustedIssuer[] }
  | { type: 'request.logged'; data: LoggedRequest }
  | { type: 'clock.moved'; data: { offset: number } }
  | { type: 'server.reset'; data: { keys: boolean } }
  | { type: 'config.reloaded'; data: { file: string; removed: string[] } }
  | { type: 'config.rejected'; data: { errors: ConfigFileError[] } }
  | { type: 'device_code.created' | 'device_code.updated'; data: DeviceCode }
  | { type: 'device_code.removed'; data: { id: string; user_code: string; reason: string } }
  | { type: 'faults.changed'; data: { rules: FaultRuleState[] } }
  | { type: 'fault.fired'; data: { rule: string; endpoint: string; method: string; path: string; change: string; fired: number } }
  | { type: 'scenarios.changed'; data?: null }
  | { type: 'scenario.applied'; data: { name: string } }
  | { type: 'session.started' | 'session.updated' | 'session.ended'; data: BrowserSession }
  | { type: 'backchannel_logout.completed'; data: LogoutDelivery }

export type Envelope = ServerEvent & { id: number; at: number }

// ---- fault injection (docs/faults.md) ----

export const FAULT_ENDPOINTS = [
  'token', 'authorize', 'login', 'consent', 'userinfo', 'introspect', 'revoke', 'jwks', 'discovery', 'end_session', 'resources', 'device_authorization', 'device', 'par', 'register',
] as const
export type FaultEndpoint = (typeof FAULT_ENDPOINTS)[number]
export const FAULT_ACTIONS = ['error', 'status', 'delay', 'timeout', 'drop', 'malformed', 'tamper', 'jwks'] as const
export type FaultAction = (typeof FAULT_ACTIONS)[number]

/** A fault rule, as `[[faults]]` and `/admin/api/faults` take it. */
export interface FaultRule {
  name: string
  enabled?: boolean
  endpoint: FaultEndpoint
  client_id?: string
  username?: string
  grant_type?: string
  scope?: string
  path?: string
  action: FaultAction
  error?: string
  error_description?: string
  status?: number
  body?: string
  retry_after?: number
  delay_ms?: number
  timeout_ms?: number
  malformed?: 'truncated_json' | 'html' | 'wrong_content_type'
  tamper?: string
  token?: 'access_token' | 'id_token'
  claim?: string
  jwks?: 'empty' | 'key_missing' | 'previous_only' | 'unavailable'
  kid?: string
  times?: number
  every?: number
}

/** A rule with its counters. */
export interface FaultRuleState extends FaultRule {
  matched: number
  fired: number
  active: boolean
  last_fired_ms?: number
  summary: string
}

export interface CallCounts {
  total: number
  endpoints: Record<string, number>
}

/** `GET /admin/api/stats`. */
export interface CallStats {
  since_ms: number
  all: CallCounts
  clients: Record<string, CallCounts>
  users: Record<string, CallCounts>
  other: CallCounts
}

export interface Scenario {
  name: string
  description?: string
  clock_offset?: number
  faults?: FaultRule[]
  clients?: Client[]
  users?: User[]
  settings?: Record<string, unknown>
}
