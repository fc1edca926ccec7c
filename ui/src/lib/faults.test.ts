import { describe, expect, it } from 'vitest'
import type { LoggedRequest } from '../api/types'
import { actionsFor, cleanRule, endpointOfPath, matchFields, ruleLike } from './faults'

describe('fault rule form', () => {
  it('offers tamper only at the token endpoint and jwks only at the JWKS', () => {
    expect(actionsFor('token')).toContain('tamper')
    expect(actionsFor('userinfo')).not.toContain('tamper')
    expect(actionsFor('jwks')).toContain('jwks')
    expect(actionsFor('jwks')).not.toContain('error')
    expect(actionsFor('discovery')).not.toContain('error')
    expect(matchFields('resources')).toEqual(['path'])
    expect(matchFields('jwks')).toEqual([])
  })

  it('drops fields that do not belong to the endpoint or action', () => {
    expect(
      cleanRule({ name: 'x', endpoint: 'jwks', action: 'status', status: 503, client_id: 'a', error: 'nope', delay_ms: 5, times: 1 }),
    ).toEqual({ name: 'x', endpoint: 'jwks', action: 'status', status: 503, times: 1 })
  })

  it('builds a rule like a logged request', () => {
    const r = {
      path: '/token', client_id: 'app', params: [{ name: 'grant_type', value: 'client_credentials' }],
    } as unknown as LoggedRequest
    expect(ruleLike(r)).toEqual({
      name: 'fail the next token request of app', endpoint: 'token', action: 'error', error: 'invalid_grant',
      times: 1, client_id: 'app', grant_type: 'client_credentials',
    })
    expect(endpointOfPath('/admin/api/clients')).toBeNull()
    expect(endpointOfPath('/realms/dev/jwks')).toBe('jwks')
  })
})
