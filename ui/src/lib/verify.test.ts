// @vitest-environment node
import { describe, expect, it } from 'vitest'
import { SignJWT, exportJWK, exportSPKI, generateKeyPair } from 'jose'
import { stripBearer, timeVerdict, verifySignature } from './verify'

describe('stripBearer', () => {
  it('drops the scheme and a whole header line', () => {
    expect(stripBearer('Bearer abc.def.ghi')).toBe('abc.def.ghi')
    expect(stripBearer('  bearer   abc ')).toBe('abc')
    expect(stripBearer('Authorization: Bearer abc')).toBe('abc')
    expect(stripBearer('abc')).toBe('abc')
  })
})

describe('verifySignature', () => {
  it('verifies HS256 with the secret and refuses a wrong one', async () => {
    const t = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('s3cret-s3cret-s3cret-s3cret-s3cret'))
    expect((await verifySignature(t, 'secret', 's3cret-s3cret-s3cret-s3cret-s3cret')).ok).toBe(true)
    const bad = await verifySignature(t, 'secret', 'nope')
    expect(bad.ok).toBe(false)
    expect(bad.message).toMatch(/does not match/)
  })

  it('verifies RS256 with a PEM, a JWK and a JWK Set', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true })
    const t = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).sign(privateKey)
    const pem = await exportSPKI(publicKey)
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1' }
    expect((await verifySignature(t, 'pem', pem)).ok).toBe(true)
    expect((await verifySignature(t, 'jwk', JSON.stringify(jwk))).ok).toBe(true)
    const set = await verifySignature(t, 'jwk', JSON.stringify({ keys: [jwk] }))
    expect(set).toMatchObject({ ok: true, kid: 'k1' })
    expect((await verifySignature(t, 'jwks-url', '', { jwks: { keys: [{ ...jwk, kid: 'other' }] } })).ok).toBe(false)
  })

  it('calls alg none unsigned', async () => {
    const b = (o: object) => btoa(JSON.stringify(o)).replace(/=+$/, '')
    const r = await verifySignature(`${b({ alg: 'none' })}.${b({ sub: 'x' })}.`, 'secret', 'x')
    expect(r.ok).toBe(false)
    expect(r.message).toMatch(/unsigned/)
  })
})

describe('timeVerdict', () => {
  it('judges exp and nbf against the given clock', () => {
    expect(timeVerdict({ exp: 100 }, 200)?.state).toBe('expired')
    expect(timeVerdict({ exp: 300, nbf: 250 }, 200)?.state).toBe('not-yet-valid')
    expect(timeVerdict({ exp: 300 }, 200)?.state).toBe('valid')
    expect(timeVerdict({ exp: 100 }, 200, 3600)?.message).toMatch(/shifted \+1h/)
    expect(timeVerdict({}, 200)?.state).toBe('no-exp')
  })
})
