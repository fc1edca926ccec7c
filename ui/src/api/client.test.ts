import { afterEach, describe, expect, it, vi } from 'vitest'
import { api, ApiError, serverPrefix } from './client'

function mockFetch(status: number, body: unknown, contentType = 'application/json') {
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  const f = vi.fn(async (..._args: unknown[]) => new Response(status === 204 ? null : text, { status, headers: { 'Content-Type': contentType } }))
  vi.stubGlobal('fetch', f)
  return f
}

afterEach(() => vi.unstubAllGlobals())

describe('api client', () => {
  it('sends JSON to the admin API and returns the parsed body', async () => {
    const f = mockFetch(201, { client_id: 'a', redirect_uris: [] })
    const c = await api.createClient({ client_id: 'a', redirect_uris: [], post_logout_redirect_uris: [], grant_types: [], scopes: [], audiences: [], require_consent: false })
    expect(c.client_id).toBe('a')
    const [url, init] = f.mock.calls[0] as [string, RequestInit]
    expect(url).toBe('/admin/api/clients')
    expect(init.method).toBe('POST')
    expect((init.headers as Record<string, string>)['Content-Type']).toBe('application/json')
    expect(JSON.parse(init.body as string).client_id).toBe('a')
  })

  it('turns a validation error into an ApiError naming the fields', async () => {
    mockFetch(422, {
      error: 'invalid',
      message: 'redirect_uris[0]: `x` is not an absolute URI',
      fields: [{ field: 'redirect_uris[0]', message: '`x` is not an absolute URI' }],
    })
    const e = await api.createScope({ name: 'x', description: '', claims: [] }).catch((e: unknown) => e)
    expect(e).toBeInstanceOf(ApiError)
    const err = e as ApiError
    expect(err.status).toBe(422)
    expect(err.code).toBe('invalid')
    expect(err.fields[0].field).toBe('redirect_uris[0]')
  })

  it('reads OAuth-style errors and plain-text errors', async () => {
    mockFetch(404, { error: 'not_found', error_description: 'no endpoint' })
    await expect(api.status()).rejects.toMatchObject({ status: 404, message: 'no endpoint' })
    mockFetch(502, 'Bad gateway', 'text/plain')
    await expect(api.status()).rejects.toMatchObject({ status: 502, message: 'Bad gateway' })
  })

  it('explains a network failure', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => { throw new TypeError('Failed to fetch') }))
    await expect(api.clients()).rejects.toMatchObject({ status: 0, code: 'network' })
  })

  it('handles 204 and TOML bodies, and encodes path segments and filters', async () => {
    const f = mockFetch(204, '')
    await expect(api.deleteClient('a/b c')).resolves.toBeUndefined()
    expect(f.mock.calls[0][0]).toBe('/admin/api/clients/a%2Fb%20c')
    const g = mockFetch(200, { items: [], next_cursor: null })
    await api.tokens({ client_id: 'x', kind: 'access_token', limit: 5, username: '' })
    expect(g.mock.calls[0][0]).toBe('/admin/api/tokens?client_id=x&kind=access_token&limit=5')
    const h = mockFetch(200, { scopes: 1, clients: 0, users: 0, resources: 0 })
    await api.importConfig('[server]\n')
    const init = h.mock.calls[0][1] as RequestInit
    expect((init.headers as Record<string, string>)['Content-Type']).toBe('application/toml')
    mockFetch(200, '[server]\n', 'application/toml')
    await expect(api.exportConfig()).resolves.toBe('[server]\n')
  })

  it('finds the issuer path prefix in front of /admin', () => {
    expect(serverPrefix('/admin/tokens')).toBe('')
    expect(serverPrefix('/realms/dev/admin/')).toBe('/realms/dev')
  })
})
