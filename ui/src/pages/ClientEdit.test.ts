import { describe, expect, it } from 'vitest'
import type { Client } from '../api/types'
import { fromForm, toForm } from './ClientEdit'

const base: Client = {
  client_id: 'native',
  redirect_uris: ['http://127.0.0.1/cb'],
  post_logout_redirect_uris: [],
  grant_types: ['authorization_code'],
  scopes: ['openid'],
  audiences: [],
  token_endpoint_auth_method: 'none',
  require_consent: true,
}

describe('remember_consent in the client form', () => {
  it('keeps the default (absent) as the default', () => {
    const f = toForm(base)
    expect(f.remember_consent).toBe('')
    expect('remember_consent' in fromForm(f)).toBe(false)
  })

  it('round-trips an explicit choice either way', () => {
    for (const v of [true, false]) {
      const f = toForm({ ...base, remember_consent: v })
      expect(f.remember_consent).toBe(v ? 'true' : 'false')
      expect(fromForm(f).remember_consent).toBe(v)
    }
  })
})

describe('auto_login in the client form', () => {
  it('is kept when a client is saved from the page, and absent when off', () => {
    expect(fromForm(toForm({ ...base, auto_login: true })).auto_login).toBe(true)
    expect('auto_login' in fromForm(toForm(base))).toBe(false)
  })
})

describe('dpop_bound_access_tokens in the client form', () => {
  it('is kept when a client is saved from the page, and absent when off', () => {
    expect(fromForm(toForm({ ...base, dpop_bound_access_tokens: true })).dpop_bound_access_tokens).toBe(true)
    expect('dpop_bound_access_tokens' in fromForm(toForm(base))).toBe(false)
  })
})

describe('the token exchange policy in the client form', () => {
  const TE = 'urn:ietf:params:oauth:grant-type:token-exchange' as const
  const svc: Client = { ...base, client_id: 'svc', token_endpoint_auth_method: 'client_secret_basic', client_secret: 's', grant_types: [TE] }

  it('round-trips every field and leaves the default policy absent', () => {
    const policy = {
      subject_token_types: ['urn:ietf:params:oauth:token-type:access_token'],
      audiences: ['orders-api'],
      allow_scope_widening: true,
      allow_impersonation: false,
    }
    expect(fromForm(toForm({ ...svc, token_exchange: policy })).token_exchange).toEqual(policy)
    expect('token_exchange' in fromForm(toForm(svc))).toBe(false)
  })

  it('is dropped with the grant (the server refuses a policy without it)', () => {
    const f = toForm({ ...svc, token_exchange: { allow_scope_widening: true } })
    expect('token_exchange' in fromForm({ ...f, grant_types: ['client_credentials'] })).toBe(false)
  })
})

describe('PAR and resource indicators in the client form', () => {
  it('round-trips require_pushed_authorization_requests and allowed_resources, absent when unset', () => {
    const c = fromForm(toForm({ ...base, require_pushed_authorization_requests: true, allowed_resources: ['https://api.example.com/'] }))
    expect(c.require_pushed_authorization_requests).toBe(true)
    expect(c.allowed_resources).toEqual(['https://api.example.com/'])
    const plain = fromForm(toForm(base))
    expect('require_pushed_authorization_requests' in plain).toBe(false)
    expect('allowed_resources' in plain).toBe(false)
  })

  it('drops require PAR for a client without a browser grant (it would not apply)', () => {
    const f = toForm({ ...base, require_pushed_authorization_requests: true })
    f.grant_types = ['client_credentials']
    expect('require_pushed_authorization_requests' in fromForm(f)).toBe(false)
  })
})
