import { describe, expect, it } from 'vitest'
import type { Client } from '../api/types'
import { fromForm, toForm } from '../pages/ClientEdit'
import { skewText } from './AssertionReport'
import { generateClientKey, parseJwks, signAssertion } from './ClientKeys'
import { fromDraft } from './TrustedIssuers'

const ec = { kty: 'EC', crv: 'P-256', kid: 'k1', x: 'eA', y: 'eQ' }

describe('pasted keys', () => {
  it('accepts a JWK Set, one JWK or an array, as a set', () => {
    expect(parseJwks(JSON.stringify({ keys: [ec] }))).toEqual({ keys: [ec] })
    expect(parseJwks(JSON.stringify(ec))).toEqual({ keys: [ec] })
    expect(parseJwks(JSON.stringify([ec, ec]))).toEqual({ keys: [ec, ec] })
  })

  it('refuses private keys, non-JWKs and empty input with a reason', () => {
    expect(parseJwks(JSON.stringify({ ...ec, d: 'secret' }))).toMatch(/private key material/)
    expect(parseJwks('{"keys": []}')).toMatch(/no keys/)
    expect(parseJwks('{"n": "x"}')).toMatch(/not a JWK/)
    expect(parseJwks('nope')).toMatch(/Not JSON/)
    expect(parseJwks('  ')).toMatch(/Paste/)
  })
})

describe('a private_key_jwt client in the form', () => {
  const client: Client = {
    client_id: 'svc', redirect_uris: [], post_logout_redirect_uris: [], grant_types: ['client_credentials'],
    scopes: [], audiences: [], require_consent: false, token_endpoint_auth_method: 'private_key_jwt',
    jwks: { keys: [ec] }, token_endpoint_auth_signing_alg: 'ES256',
  }

  it('round-trips inline keys and the algorithm, never sending a secret', () => {
    const f = toForm(client)
    expect(f.key_source).toBe('jwks')
    const back = fromForm({ ...f, client_secret: 'left-over' })
    expect(back.jwks).toEqual({ keys: [ec] })
    expect(back.token_endpoint_auth_signing_alg).toBe('ES256')
    expect(back.client_secret).toBeUndefined()
    expect(back.jwks_uri).toBeUndefined()
  })

  it('sends a jwks_uri instead of keys when chosen', () => {
    const f = { ...toForm(client), key_source: 'jwks_uri' as const, jwks_uri: ' http://127.0.0.1:4000/jwks ' }
    const back = fromForm(f)
    expect(back.jwks_uri).toBe('http://127.0.0.1:4000/jwks')
    expect(back.jwks).toBeUndefined()
  })
})

describe('trusted issuer drafts', () => {
  it('builds the admin API body and finds missing fields first', () => {
    const ok = fromDraft({ issuer: ' https://idp ', source: 'jwks', jwks: JSON.stringify(ec), jwks_uri: '', allowed_subjects: ['a', ' '], audiences: [], algorithms: 'RS256, ES256' })
    expect(ok.errors).toEqual({})
    expect(ok.issuer).toEqual({ issuer: 'https://idp', jwks: { keys: [ec] }, allowed_subjects: ['a'], algorithms: ['RS256', 'ES256'] })
    const bad = fromDraft({ issuer: '', source: 'jwks_uri', jwks: '', jwks_uri: 'ftp://x', allowed_subjects: [], audiences: [], algorithms: '' })
    expect(Object.keys(bad.errors).sort()).toEqual(['issuer', 'jwks_uri'])
  })
})

describe('the skew line', () => {
  it('says which way the sender is off', () => {
    expect(skewText(-30)).toBe('30 s behind')
    expect(skewText(2)).toBe('2 s ahead')
    expect(skewText(0)).toBe('in step')
    expect(skewText(undefined)).toMatch(/unknown/)
  })
})

describe('keys generated in the browser', () => {
  it('gives a public JWK without private parts, a PKCS#8 PEM, and signs verifiable assertions', async () => {
    const k = await generateClientKey('ES256')
    expect(k.publicJwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', kid: k.kid })
    expect('d' in k.publicJwk).toBe(false)
    expect(k.privatePem).toMatch(/^-----BEGIN PRIVATE KEY-----/)
    const jwt = await signAssertion('svc', 'http://localhost:8000/token', 'ES256', k.privateKey, k.kid)
    const jose = await import('jose')
    const { payload, protectedHeader } = await jose.jwtVerify(jwt, await jose.importJWK(k.publicJwk, 'ES256'), {
      issuer: 'svc', subject: 'svc', audience: 'http://localhost:8000/token',
    })
    expect(protectedHeader.kid).toBe(k.kid)
    expect(typeof payload.jti).toBe('string')
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(300)
  })
})
