import { describe, expect, it } from 'vitest'
import { decodeJwt, decodeSegment, splitJwt } from './jwt'
import { formatDuration, formatTtl, parseTtl } from './format'
import { mapFieldErrors, absoluteUriProblem } from './serverErrors'
import { ApiError } from '../api/client'

const b64 = (o: unknown) => btoa(String.fromCharCode(...new TextEncoder().encode(JSON.stringify(o)))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
const jwt = `${b64({ alg: 'RS256', kid: 'k1', typ: 'at+jwt' })}.${b64({ sub: 'ünïcode', scope: 'a b', exp: 2 })}.c2ln`

describe('JWT segments', () => {
  it('splits a compact JWS into three segments', () => {
    const p = splitJwt(jwt)!
    expect(p.signature).toBe('c2ln')
    expect(jwt.startsWith(p.header)).toBe(true)
  })

  it('refuses opaque tokens and malformed input', () => {
    expect(splitJwt('opaque-token-value')).toBeNull()
    expect(splitJwt('a.b')).toBeNull()
    expect(splitJwt('a.b.c.d')).toBeNull()
    expect(splitJwt('a b.c.d')).toBeNull()
  })

  it('decodes header and payload, including UTF-8', () => {
    const d = decodeJwt(jwt)!
    expect(d.header).toEqual({ alg: 'RS256', kid: 'k1', typ: 'at+jwt' })
    expect(d.payload!.sub).toBe('ünïcode')
  })

  it('returns null for segments that are not base64url JSON', () => {
    expect(decodeSegment('!!!')).toBeNull()
    expect(decodeJwt(`${b64([1])}.${b64({})}.x`)!.header).toBeNull()
  })
})

describe('durations', () => {
  it('parses the config file syntax', () => {
    expect(parseTtl('90')).toBe(90)
    expect(parseTtl('15m')).toBe(900)
    expect(parseTtl('1h30m')).toBe(5400)
    expect(parseTtl('2d')).toBe(172800)
    expect(parseTtl('1x')).toBeNull()
    expect(parseTtl('m5')).toBeNull()
    expect(parseTtl('')).toBeNull()
  })
  it('formats lifetimes and countdowns', () => {
    expect(formatTtl(3600)).toBe('1h')
    expect(formatTtl(5400)).toBe('1h30m')
    expect(formatTtl(2592000)).toBe('4w2d')
    expect(formatDuration(65)).toBe('1m 05s')
    expect(formatDuration(3725)).toBe('1h 02m')
    expect(formatDuration(-12)).toBe('12s')
  })
})

describe('server field errors', () => {
  it('map array paths to their form field', () => {
    const e = new ApiError(422, 'invalid', 'x', [
      { field: 'redirect_uris[1]', message: 'bad' },
      { field: 'token_endpoint_auth_method', message: 'no' },
      { field: 'mystery', message: 'huh' },
    ])
    const m = mapFieldErrors(e, ['redirect_uris', 'token_endpoint_auth_method'])
    expect(m.fields).toEqual([
      { field: 'redirect_uris', message: 'Item 2: bad' },
      { field: 'token_endpoint_auth_method', message: 'no' },
    ])
    expect(m.rest).toEqual(['mystery: huh'])
  })
  it('check redirect URIs like the server', () => {
    expect(absoluteUriProblem('http://localhost:3000/cb')).toBeNull()
    expect(absoluteUriProblem('callback')).toMatch(/absolute/)
    expect(absoluteUriProblem('http://x/#frag')).toMatch(/fragment/)
  })
})
