import { describe, expect, it } from 'vitest'
import type { Resource } from '../api/types'
import { audienceList, defaultText, fromResourceForm, overrides, parseSignedDuration, toResourceForm } from './resourceForm'

describe('resource form', () => {
  it('round-trips a resource with every key', () => {
    const r: Resource = {
      name: 'books', audience: ['books-api', 'library'], required_scopes: ['read_books'],
      rules: [{ method: 'POST', path: '/books/*', scopes: ['add_books'] }, { path: '/admin/**', scopes: ['read_books'] }],
      validation: 'introspection', profile: 'rfc9068', introspection_client: 'books-api', bearer_methods: ['header'],
      expected_issuer: 'http://localhost:8000/', leeway: 30, clock_offset: -120, jwks_cache: 300,
      jwks_refetch_on_unknown_kid: false, accepted_typ: ['JWT'], algorithms: ['RS256', 'ES256'],
      response: { books: [] }, upstream: 'http://127.0.0.1:3000', mode: 'observe',
    }
    const f = toResourceForm(r)
    expect(f.clock_offset).toBe('-2m')
    expect(f.leeway).toBe('30s')
    expect(f.jwks_refetch_on_unknown_kid).toBe('false')
    expect(fromResourceForm(f)).toEqual(r)
  })

  it('sends one audience as a string, several as a list, none not at all', () => {
    const base = toResourceForm()
    expect(fromResourceForm({ ...base, name: 'a', audience: [' books-api ', ''] }).audience).toBe('books-api')
    expect(fromResourceForm({ ...base, name: 'a', audience: ['x', 'y'] }).audience).toEqual(['x', 'y'])
    expect(fromResourceForm({ ...base, name: 'a' })).not.toHaveProperty('audience')
  })

  it('leaves empty overrides out so the profile applies, and the mode out without an upstream', () => {
    const r = fromResourceForm({ ...toResourceForm(), name: 'a', mode: 'observe' })
    expect(r).toEqual({ name: 'a', required_scopes: [], rules: [], validation: 'jwt' })
    expect(overrides(r)).toEqual([])
    expect(overrides({ ...r, leeway: 0, algorithms: ['RS256'] })).toEqual(['leeway', 'algorithms'])
    // The introspection client only goes with introspection.
    expect(fromResourceForm({ ...toResourceForm(), name: 'a', introspection_client: 'c' })).not.toHaveProperty('introspection_client')
  })

  it('drops empty rules and defaults a rule to any method (no method) and every path', () => {
    const f = { ...toResourceForm(), name: 'a', rules: [{ method: '', path: '', scopes: ['x'] }, { method: 'GET', path: '', scopes: [] }] }
    expect(fromResourceForm(f).rules).toEqual([{ path: '/**', scopes: ['x'] }])
  })

  it('parses signed durations and shows profile defaults as placeholders', () => {
    expect(parseSignedDuration('-90')).toBe(-90)
    expect(parseSignedDuration('+5m')).toBe(300)
    expect(parseSignedDuration('-1h30m')).toBe(-5400)
    expect(parseSignedDuration('soon')).toBeNull()
    expect(parseSignedDuration('')).toBeNull()
    const d = { leeway: 60, accepted_typ: ['at+jwt', 'application/at+jwt'], jwks_refetch_on_unknown_kid: true, clock_offset: -30 }
    expect(defaultText('leeway', d, '0s')).toBe('1m')
    expect(defaultText('accepted_typ', d, '')).toBe('at+jwt, application/at+jwt')
    expect(defaultText('jwks_refetch_on_unknown_kid', d, '')).toBe('yes')
    expect(defaultText('clock_offset', d, '')).toBe('-30s')
    expect(defaultText('algorithms', d, 'RS256')).toBe('RS256')
    expect(defaultText('leeway', undefined, '0s')).toBe('0s')
  })

  it('lists the audience of a resource', () => {
    expect(audienceList({ audience: 'a' })).toEqual(['a'])
    expect(audienceList({ audience: ['a', 'b'] })).toEqual(['a', 'b'])
    expect(audienceList({})).toEqual([])
  })
})
