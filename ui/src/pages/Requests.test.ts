import { describe, expect, it } from 'vitest'
import type { Client, LoggedRequest } from '../api/types'
import { curlWithSecrets } from './Requests'

const entry = (curl: string, vars: string[]): LoggedRequest => ({
  id: 1, at: 0, method: 'POST', path: '/token', status: 200, duration_ms: 1, client_id: 'a',
  params: [], headers: [], response: { status: 200 }, curl, curl_variables: vars,
})
const client = (secret?: string): Client => ({
  client_id: 'a', client_secret: secret, redirect_uris: [], post_logout_redirect_uris: [], grant_types: [], scopes: [], audiences: [], require_consent: false,
})

describe('curlWithSecrets', () => {
  it('sets the secret the command needs, shell-quoted', () => {
    const c = 'curl -s -u "a:${CLIENT_SECRET:?set CLIENT_SECRET first}" http://x/token'
    expect(curlWithSecrets(entry(c, ['CLIENT_SECRET']), client("it's"))).toBe(`CLIENT_SECRET='it'\\''s'\n${c}`)
  })
  it('sets the form-urlencoded variable when that is the one used', () => {
    const c = 'curl -s -u "a:${CLIENT_SECRET_FORM_URLENCODED:?set CLIENT_SECRET_FORM_URLENCODED first}"'
    expect(curlWithSecrets(entry(c, ['CLIENT_SECRET_FORM_URLENCODED']), client('p@ss word'))?.split('\n')[0]).toBe(`CLIENT_SECRET_FORM_URLENCODED='p%40ss+word'`)
  })
  it('offers nothing when no secret is needed or known', () => {
    expect(curlWithSecrets(entry('curl -s x', []), client('s'))).toBeNull()
    expect(curlWithSecrets(entry('curl -s x', ['CLIENT_SECRET']), client(undefined))).toBeNull()
    expect(curlWithSecrets(entry('curl -s x', ['TOKEN']), client('s'))).toBeNull()
  })
})
