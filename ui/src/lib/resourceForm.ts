// The resource edit form's values and their conversion to and from the admin API's Resource.
// Optional expectations left empty are omitted, so the profile's defaults apply.

import type { BearerMethod, ProfileDefaults, ProxyMode, Resource, ResourceProfile, ResourceValidation } from '../api/types'
import { formatTtl, parseTtl } from './format'

export interface RuleForm {
  method: string
  path: string
  scopes: string[]
}

export interface ResourceForm {
  name: string
  audience: string[]
  required_scopes: string[]
  rules: RuleForm[]
  validation: ResourceValidation
  profile: string
  introspection_client: string
  expected_issuer: string
  leeway: string
  clock_offset: string
  jwks_cache: string
  jwks_refetch_on_unknown_kid: '' | 'true' | 'false'
  accepted_typ: string
  algorithms: string
  /** null: the profile's. */
  bearer_methods: BearerMethod[] | null
  response: string
  upstream: string
  mode: ProxyMode
}

export const RESOURCE_FIELDS = [
  'name', 'audience', 'required_scopes', 'rules', 'validation', 'profile', 'introspection_client', 'expected_issuer',
  'leeway', 'clock_offset', 'jwks_cache', 'jwks_refetch_on_unknown_kid', 'accepted_typ', 'algorithms', 'bearer_methods',
  'response', 'upstream', 'mode',
] as const

export const RULE_METHODS = ['*', 'GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const

const words = (s: string): string[] => s.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean)

/** Seconds, possibly negative: `90`, `-30`, `5m`, `-1h30m`. */
export function parseSignedDuration(input: string): number | null {
  const s = input.trim()
  if (!s) return null
  const neg = s.startsWith('-')
  const n = parseTtl(neg || s.startsWith('+') ? s.slice(1) : s)
  if (n === null) return null
  return neg ? -n : n
}

export function formatSignedDuration(seconds: number): string {
  return seconds < 0 ? `-${formatTtl(-seconds)}` : formatTtl(seconds)
}

export function toResourceForm(r?: Resource): ResourceForm {
  const aud = r?.audience
  return {
    name: r?.name ?? '',
    audience: aud === undefined ? [] : Array.isArray(aud) ? aud : [aud],
    required_scopes: r?.required_scopes ?? [],
    rules: (r?.rules ?? []).map((x) => ({ method: x.method ?? '*', path: x.path, scopes: x.scopes })),
    validation: r?.validation ?? 'jwt',
    profile: r?.profile ?? '',
    introspection_client: r?.introspection_client ?? '',
    expected_issuer: r?.expected_issuer ?? '',
    leeway: r?.leeway !== undefined ? formatTtl(r.leeway) : '',
    clock_offset: r?.clock_offset !== undefined ? formatSignedDuration(r.clock_offset) : '',
    jwks_cache: r?.jwks_cache !== undefined ? formatTtl(r.jwks_cache) : '',
    jwks_refetch_on_unknown_kid: r?.jwks_refetch_on_unknown_kid === undefined ? '' : r.jwks_refetch_on_unknown_kid ? 'true' : 'false',
    accepted_typ: r?.accepted_typ?.join(', ') ?? '',
    algorithms: r?.algorithms?.join(', ') ?? '',
    bearer_methods: r?.bearer_methods ?? null,
    response: r?.response !== undefined && r.response !== null ? JSON.stringify(r.response, null, 2) : '',
    upstream: r?.upstream ?? '',
    mode: r?.mode ?? 'enforce',
  }
}

/** The API body. Throws nothing: values the browser rules refused never get here. */
export function fromResourceForm(f: ResourceForm): Resource {
  const audience = f.audience.map((s) => s.trim()).filter(Boolean)
  const r: Resource = {
    name: f.name.trim(),
    required_scopes: f.required_scopes,
    rules: f.rules
      .filter((x) => x.path.trim() || x.scopes.length)
      .map((x) => ({ ...(x.method && x.method !== '*' ? { method: x.method } : {}), path: x.path.trim() || '/**', scopes: x.scopes })),
    validation: f.validation,
  }
  if (audience.length === 1) r.audience = audience[0]
  else if (audience.length > 1) r.audience = audience
  if (f.profile) r.profile = f.profile
  if (f.validation === 'introspection' && f.introspection_client) r.introspection_client = f.introspection_client
  if (f.expected_issuer.trim()) r.expected_issuer = f.expected_issuer.trim()
  const leeway = parseTtl(f.leeway)
  if (leeway !== null) r.leeway = leeway
  const offset = parseSignedDuration(f.clock_offset)
  if (offset !== null) r.clock_offset = offset
  const cache = parseTtl(f.jwks_cache)
  if (cache !== null) r.jwks_cache = cache
  if (f.jwks_refetch_on_unknown_kid) r.jwks_refetch_on_unknown_kid = f.jwks_refetch_on_unknown_kid === 'true'
  if (f.accepted_typ.trim()) r.accepted_typ = words(f.accepted_typ)
  if (f.algorithms.trim()) r.algorithms = words(f.algorithms)
  if (f.bearer_methods) r.bearer_methods = f.bearer_methods
  if (f.response.trim()) r.response = JSON.parse(f.response) as unknown
  if (f.upstream.trim()) {
    r.upstream = f.upstream.trim()
    r.mode = f.mode
  }
  return r
}

/** A profile default as a placeholder: `60s`, `at+jwt, JWT`, `yes`. */
export function defaultText(key: keyof ProfileDefaults, d: ProfileDefaults | undefined, fallback: string): string {
  const v = d?.[key]
  if (v === undefined || v === null) return fallback
  if (Array.isArray(v)) return v.join(', ')
  if (typeof v === 'boolean') return v ? 'yes' : 'no'
  if (typeof v === 'number') return key === 'clock_offset' ? formatSignedDuration(v) : formatTtl(v)
  return String(v)
}

/** The profile of a resource that names none (the server's `latchkey`, listed first). */
export const DEFAULT_PROFILE = 'latchkey'

/** The profile `name` stands for; an empty name is the default profile. */
export function findProfile(list: ResourceProfile[] | undefined, name: string): ResourceProfile | undefined {
  if (!name) return list?.find((p) => p.name === DEFAULT_PROFILE) ?? list?.[0]
  return list?.find((p) => p.name === name)
}

/** Which of a resource's expectations differ from its profile's (for the list and detail pages). */
export function overrides(r: Resource): string[] {
  const keys = ['expected_issuer', 'leeway', 'clock_offset', 'jwks_cache', 'jwks_refetch_on_unknown_kid', 'accepted_typ', 'algorithms', 'bearer_methods'] as const
  return keys.filter((k) => r[k] !== undefined && r[k] !== null)
}

export function audienceList(r: Pick<Resource, 'audience'>): string[] {
  return r.audience === undefined || r.audience === null ? [] : Array.isArray(r.audience) ? r.audience : [r.audience]
}

/** A rule's method, or null for any method (absent or `*`). */
export function ruleMethod(r: { method?: string }): string | null {
  return !r.method || r.method === '*' ? null : r.method.toUpperCase()
}
